#pragma once
// The loop adapter around AppCore: samples `now`, keeps the core's one
// timer, owns the slow-facts probe and its last facts, and executes the core's
// outputs through the sinks the agent wires in (the Web PubSub client's
// send_to_group and the NATS bridge's publish). Loop thread only.
//
// Wiring (src/agent/agent.cpp does this; tests/integration/bus/bridge_driver.cpp
// shows it end to end):
//   AppService app(loop, agent::app_options(config),
//                  {.send_to_group = [&](std::string d) { client.send_to_group(std::move(d)); },
//                   .publish_to_bus = [&](auto& s, auto& p) {
//                     return bridge.publish(s, p) == bus::PublishResult::Sent; }});
//   client Joined            -> app.on_joined()
//   client GroupMessage      -> app.on_group_message(data text)
//   bridge message           -> app.on_bus_message(subject, payload)
//   bridge link up           -> app.on_bus_connected()
//   monitor NTP report       -> app.on_ntp_status(available)
//   monitor internet verdict -> app.on_internet(online)
//   app.start() once the loop exists (the first slow-facts collection).
#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "app/app_core.hpp"
#include "sysinfo/facts.hpp"
#include "sysinfo/system_info.hpp"
#include "sysinfo/slow_facts_probe.hpp"
#include "loop/timer.hpp"

namespace dbr::loop {
class EventLoop;
}

namespace dbr::app {

struct AppSinks {
  std::function<void(std::string data_json)> send_to_group;
  // Returns false when the message could not be handed to NATS (not
  // connected); AppService then logs the drop as a warning.
  std::function<bool(const std::string& subject, const std::string& payload)> publish_to_bus;
};

// What the app reads from the config (the agent builds it).
struct AppOptions {
  AppCoreOptions core;          // subjects, broadcast, heartbeat, component TTL, version
  sysinfo::SystemInfoIdentity identity;  // deviceId, locationDescription
  bool operator==(const AppOptions&) const = default;
};

class AppService final : private SystemInfoSource {
 public:
  AppService(loop::EventLoop& loop, AppOptions options, AppSinks sinks, sysinfo::SlowFactsOptions slow_options = {});
  ~AppService() override;
  AppService(const AppService&) = delete;
  AppService& operator=(const AppService&) = delete;

  void start();  // the first slow-facts collection

  void on_joined();
  void on_group_message(std::string_view data_json);
  void on_bus_message(std::string_view subject, std::string_view payload);
  void on_bus_connected();
  void on_ntp_status(bool available);
  // The internet monitor's verdict: system_info's internet_reachable.
  void on_internet(bool online);


 private:
  std::string system_info(bool ntp_available, const nlohmann::ordered_json& components) override;
  void after_input();

  loop::EventLoop& loop_;
  AppSinks sinks_;
  sysinfo::SystemInfoIdentity identity_;
  std::filesystem::path root_;
  AppCore core_;
  loop::Timer timer_;
  std::optional<sysinfo::SlowFacts> slow_;
  std::optional<bool> internet_online_;
  sysinfo::SlowFactsProbe slow_probe_;
};

}  // namespace dbr::app
