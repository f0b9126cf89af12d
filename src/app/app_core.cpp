#include "app/app_core.hpp"

#include "app/envelope.hpp"
#include "log/log.hpp"

namespace dbr::app {

namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace

AppCore::AppCore(AppCoreOptions config, SystemInfoSource& system_info)
    : config_(std::move(config)),
      system_info_(system_info),
      router_(config_.subject_root, config_.client_id),
      heartbeat_(config_.heartbeat),
      components_(config_.component_ttl, config_.version) {}

void AppCore::joined(TimePoint now) {
  heartbeat_.joined(now);
  drain_heartbeat();
  send_system_info(now);
}

void AppCore::group_message(const nlohmann::json& data, TimePoint now) {
  GroupRoute route = router_.route_group(data);
  std::visit(Overloaded{
                 [&](ForwardToBus& f) {
                   log::debug("group -> bus {}", f.subject);
                   emit(PublishToBus{std::move(f.subject), std::move(f.payload)});
                 },
                 [&](HeartbeatReceived&) {
                   heartbeat_.controller_heartbeat(now);
                   drain_heartbeat();
                 },
                 [&](SystemInfoRequested&) { send_system_info(now); },
                 [&](Ignore& i) {
                   log::debug("group message ignored: {}{}{}", describe(i.reason), i.detail.empty() ? "" : ": ",
                              i.detail);
                 },
             },
             route);
}

void AppCore::bus_message(std::string_view subject, std::string_view payload, TimePoint now) {
  auto route = router_.route_bus(subject, payload);
  if (auto* b = std::get_if<Broadcast>(&route)) {
    send_to_group(std::move(b->envelope));
  } else if (auto* h = std::get_if<ComponentHeartbeat>(&route)) {
    log::debug("component {} is alive", component_source(h->component));
    components_.heartbeat(h->component, now);
  } else if (auto* d = std::get_if<Drop>(&route)) {
    emit(BusMessageDropped{std::string(subject), d->reason, std::move(d->detail)});
  }
}

void AppCore::on_timeout(TimePoint now) {
  heartbeat_.on_timeout(now);
  drain_heartbeat();
}

std::optional<TimePoint> AppCore::next_deadline() const { return heartbeat_.next_deadline(); }

std::optional<AppOutput> AppCore::poll() {
  if (out_.empty()) return std::nullopt;
  AppOutput o = std::move(out_.front());
  out_.pop_front();
  return o;
}

void AppCore::send_to_group(nlohmann::json data) {
  // §3: "broadcastInitialState (bool) = True; False means nothing is ever sent".
  if (!config_.broadcast_enabled) {
    ++suppressed_;
    return;
  }
  emit(SendToGroup{std::move(data)});
}

void AppCore::send_system_info(TimePoint now) {
  send_to_group(make_envelope(kSystemInfoSubject, system_info_.system_info(components_.to_json(now))));
}

void AppCore::drain_heartbeat() {
  while (auto body = heartbeat_.poll()) send_to_group(make_envelope(kHeartbeatSubject, std::string(*body)));
}

void AppCore::emit(AppOutput output) {
  if (out_.size() >= kMaxQueuedOutputs) {
    out_.pop_front();
    ++outputs_dropped_;
  }
  out_.push_back(std::move(output));
}

}  // namespace dbr::app
