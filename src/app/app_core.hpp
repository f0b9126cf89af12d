#pragma once
// The DuneBugger application layer as one sans-IO core: routes group and
// bus messages, runs the heartbeat, tracks component liveness, asks for
// system_info and tells the NTP state. It takes messages (as JSON text) and
// `now`, and returns what to send, log lines and its next deadline; it reads
// no clock, touches no socket and writes no log.
//
// broadcastInitialState = False ("nothing is ever sent to the group",
// dunebugger-protocol.md §3) is honoured in exactly one place,
// send_to_group(): every group-bound message passes through it.
//
// Output queue bound: kMaxQueuedOutputs; at the bound the OLDEST output is
// dropped and counted (outputs_dropped()). The adapter drains the queue
// after every input, so the bound is only reached if it does not.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "app/components.hpp"
#include "app/heartbeat.hpp"
#include "app/router.hpp"
#include "common/log_level.hpp"
#include "common/time.hpp"

namespace dbr::app {

struct AppCoreOptions {
  std::string subject_root = "dunebugger";
  std::string client_id = "remote";
  bool broadcast_enabled = true;  // broadcastInitialState
  HeartbeatConfig heartbeat{std::chrono::seconds(60), std::chrono::seconds(300)};
  Duration component_ttl = std::chrono::seconds(45);
  std::string version;  // dunebugger-remote's own, for system_info
  bool operator==(const AppCoreOptions&) const = default;
};

// What composes the system_info body. The agent's implementation reads the
// host facts and the worker's cache (AppService); tests pass a fake.
class SystemInfoSource {
 public:
  virtual ~SystemInfoSource() = default;
  // The body's JSON text: {"system_info": {...}}. `components` is the
  // dunebugger_components list at this moment. Must not throw (return the
  // fallback instead).
  virtual std::string system_info(bool ntp_available, const nlohmann::ordered_json& components) = 0;
};

// ---- outputs ----
struct SendToGroup {
  std::string data_json;  // an envelope for sendToGroup (dataType json, noEcho)
};
struct PublishToBus {
  std::string subject;
  std::string payload;
  std::string_view what;  // for a log line: "front-end request", "NTP status"
};
using AppOutput = std::variant<SendToGroup, PublishToBus, log::LogLine>;

class AppCore {
 public:
  static constexpr std::size_t kMaxQueuedOutputs = 1024;

  AppCore(AppCoreOptions config, SystemInfoSource& system_info);

  // Joined the group (after a new connection): "Is anyone there?" and
  // system_info (§1.4: on every connect and join, and §4.6: system_info on
  // every CONNECTED event).
  void joined(TimePoint now);
  // A group message's data, as the service sent it.
  void group_message(std::string_view data_json, TimePoint now);
  // A NATS message on our subscription.
  void bus_message(std::string_view subject, std::string_view payload, TimePoint now);
  // The NATS link is up (again): the scheduler hears the NTP state, so a
  // push lost while NATS was down is made good.
  void bus_connected(TimePoint now);
  // The NTP check's verdict (every check; only the first and changes are told).
  void ntp_status(bool available, TimePoint now);
  // Call at next_deadline(); early or spurious calls are no-ops.
  void on_timeout(TimePoint now);

  std::optional<TimePoint> next_deadline() const;
  std::optional<AppOutput> poll();

  // Group sends suppressed by broadcastInitialState = False.
  std::uint64_t suppressed_group_sends() const { return suppressed_; }
  std::uint64_t outputs_dropped() const { return outputs_dropped_; }
  bool ntp_available() const { return ntp_.value_or(false); }

 private:
  void route(GroupRoute&& route, TimePoint now);
  void send_to_group(std::string data_json);
  void send_system_info(TimePoint now);
  void send_ntp_status();
  void tell_scheduler_ntp();
  void drain_heartbeat();
  void note(log::Level level, std::string text);
  void emit(AppOutput output);

  AppCoreOptions config_;
  SystemInfoSource& system_info_;
  Router router_;
  Heartbeat heartbeat_;
  Components components_;
  std::optional<bool> ntp_;  // nullopt until the first check
  std::deque<AppOutput> out_;
  std::uint64_t suppressed_ = 0;
  std::uint64_t outputs_dropped_ = 0;
};

}  // namespace dbr::app
