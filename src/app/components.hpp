#pragma once
// Liveness of the local DuneBugger components, from their NATS heartbeats.
//
// dunebugger-protocol.md §2: "heartbeat with source core or scheduler (body
// "alive") marks that component alive. The TTL is 45 s: within the TTL the
// component shows "running", otherwise "not_responding", and it starts as
// not_responding." dunebugger-remote itself is always running and carries its
// version (§1.3: "The front end also shows version").
#include <nlohmann/json.hpp>

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "common/time.hpp"

namespace dbr::app {

enum class Component { Core, Scheduler };

// The NATS client id (payload "source") of a component: "core", "scheduler".
std::string_view component_source(Component c);
// The name the front end shows: "dunebugger", "scheduler".
std::string_view component_display_name(Component c);
// "core" -> Core, "scheduler" -> Scheduler, anything else -> nullopt.
std::optional<Component> component_from_source(std::string_view source);

class Components {
 public:
  // `ttl`: how long after its last heartbeat a component still counts as
  // running (componentTtlSecs). `self_version`: dunebugger-remote's version.
  Components(Duration ttl, std::string self_version);

  void heartbeat(Component c, TimePoint now);
  // Running while now - last heartbeat <= ttl; never seen: not running.
  bool running(Component c, TimePoint now) const;
  std::optional<TimePoint> last_heartbeat(Component c) const;

  // The system_info "dunebugger_components" list, in the Python agent's
  // order: [{name:"dunebugger",state}, {name:"scheduler",state},
  //         {name:"dunebugger-remote",state:"running",version}].
  nlohmann::ordered_json to_json(TimePoint now) const;

 private:
  Duration ttl_;
  std::string self_version_;
  std::array<std::optional<TimePoint>, 2> last_{};
};

}  // namespace dbr::app
