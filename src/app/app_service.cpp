#include "app/app_service.hpp"

#include "sysinfo/host_readers.hpp"
#include "log/log.hpp"
#include "loop/event_loop.hpp"

namespace dbr::app {

AppService::AppService(loop::EventLoop& loop, AppOptions options, AppSinks sinks,
                       sysinfo::SlowFactsOptions slow_options)
    : loop_(loop),
      sinks_(std::move(sinks)),
      identity_(std::move(options.identity)),
      root_(slow_options.root),
      core_(std::move(options.core), *this),
      timer_(loop, [this] {
        core_.on_timeout(loop_.now());
        after_input();
      }),
      slow_probe_(loop, std::move(slow_options), [this](sysinfo::SlowFacts&& facts) { slow_ = std::move(facts); }) {}

AppService::~AppService() = default;

void AppService::start() { slow_probe_.start(); }

void AppService::on_joined() {
  core_.joined(loop_.now());
  after_input();
}

void AppService::on_group_message(std::string_view data_json) {
  core_.group_message(data_json, loop_.now());
  after_input();
}

void AppService::on_bus_message(std::string_view subject, std::string_view payload) {
  core_.bus_message(subject, payload, loop_.now());
  after_input();
}

void AppService::on_bus_connected() {
  core_.bus_connected(loop_.now());
  after_input();
}

void AppService::on_ntp_status(bool available) {
  core_.ntp_status(available, loop_.now());
  after_input();
}

void AppService::on_internet(bool online) { internet_online_ = online; }

std::string AppService::system_info(bool ntp_available, const nlohmann::ordered_json& components) {
  auto wall_now = sysinfo::WallClock::now();
  // The front end asks on page changes: refresh the slow facts for the next
  // request while this one is answered from the last ones at once.
  slow_probe_.refresh();
  std::string error;
  auto info = sysinfo::system_info_or_fallback(
      identity_, wall_now,
      [&] {
        sysinfo::HostFacts host = sysinfo::read_host_facts(root_);
        sysinfo::SlowFacts slow = slow_.value_or(sysinfo::SlowFacts{});
        slow.internet_reachable = internet_online_;
        return sysinfo::compose_system_info(identity_, wall_now, host, &slow, {ntp_available, components});
      },
      &error);
  if (!error.empty()) log::error("system_info: collecting failed ({}); sending the fallback", error);
  return info;
}

void AppService::after_input() {
  while (auto output = core_.poll()) {
    if (auto* g = std::get_if<SendToGroup>(&*output)) {
      if (sinks_.send_to_group) sinks_.send_to_group(std::move(g->data_json));
    } else if (auto* p = std::get_if<PublishToBus>(&*output)) {
      if (!sinks_.publish_to_bus || !sinks_.publish_to_bus(p->subject, p->payload))
        log::warn("NATS is not connected: {} for {} dropped", p->what, p->subject);
    } else if (auto* line = std::get_if<log::LogLine>(&*output)) {
      log::write(*line);
    }
  }
  timer_.arm_at(core_.next_deadline());
}

}  // namespace dbr::app
