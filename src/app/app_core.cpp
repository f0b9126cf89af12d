#include "app/app_core.hpp"

#include "app/envelope.hpp"
#include "common/json_text.hpp"

namespace dbr::app {

namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

constexpr std::string_view kNtpStatusSubject = "ntp_status";

// §6: body {"ntp_available": <bool>}.
std::string ntp_body(bool available) { return available ? R"({"ntp_available":true})" : R"({"ntp_available":false})"; }

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

void AppCore::group_message(std::string_view data_json, TimePoint now) { route(router_.route_group(data_json), now); }

void AppCore::route(GroupRoute&& route, TimePoint now) {
  std::visit(Overloaded{
                 [&](ForwardToBus& f) {
                   note(log::Level::Debug, "group -> bus " + f.subject);
                   emit(PublishToBus{std::move(f.subject), std::move(f.payload), "front-end request"});
                 },
                 [&](HeartbeatReceived&) {
                   heartbeat_.controller_heartbeat(now);
                   drain_heartbeat();
                 },
                 [&](SystemInfoRequested&) { send_system_info(now); },
                 [&](NtpStatusRequested&) { send_ntp_status(); },
                 [&](Ignore& i) {
                   note(log::Level::Debug, "group message ignored: " + std::string(describe(i.reason)) +
                                               (i.detail.empty() ? "" : ": ") + i.detail);
                 },
             },
             route);
}

void AppCore::bus_message(std::string_view subject, std::string_view payload, TimePoint now) {
  BusRoute route = router_.route_bus(subject, payload);
  std::visit(Overloaded{
                 [&](Broadcast& b) { send_to_group(std::move(b.envelope)); },
                 [&](ComponentHeartbeat& h) {
                   note(log::Level::Debug, "component " + std::string(component_source(h.component)) + " is alive");
                   components_.heartbeat(h.component, now);
                 },
                 [&](NtpStatusAsked&) { tell_scheduler_ntp(); },
                 [&](Drop& d) {
                   note(log::Level::Warning, "NATS message on " + std::string(subject) + " dropped: " +
                                                 std::string(describe(d.reason)) + (d.detail.empty() ? "" : ": ") +
                                                 d.detail);
                 },
             },
             route);
}

void AppCore::bus_connected(TimePoint) {
  if (ntp_) tell_scheduler_ntp();
}

void AppCore::ntp_status(bool available, TimePoint) {
  const bool first = !ntp_;
  const bool changed = !first && *ntp_ != available;
  ntp_ = available;
  // §6: "At start: one check, then the result is pushed to the scheduler
  // unasked. Then ... on a change only, it is pushed to the front end and to
  // the scheduler."
  if (first || changed) tell_scheduler_ntp();
  if (changed) send_ntp_status();
}

void AppCore::on_timeout(TimePoint now) {
  const bool was_running = heartbeat_.loop_running();
  heartbeat_.on_timeout(now);
  if (was_running && !heartbeat_.loop_running())
    note(log::Level::Debug,
         "heartbeat: no controller.heartbeat for " +
             std::to_string(std::chrono::duration_cast<std::chrono::seconds>(config_.heartbeat.loop_duration).count()) +
             " s; asking who is there");
  drain_heartbeat();
}

std::optional<TimePoint> AppCore::next_deadline() const { return heartbeat_.next_deadline(); }

std::optional<AppOutput> AppCore::poll() {
  if (out_.empty()) return std::nullopt;
  AppOutput o = std::move(out_.front());
  out_.pop_front();
  return o;
}

void AppCore::send_to_group(std::string data_json) {
  // §3: "broadcastInitialState (bool) = True; False means nothing is ever sent".
  if (!config_.broadcast_enabled) {
    ++suppressed_;
    return;
  }
  emit(SendToGroup{std::move(data_json)});
}

void AppCore::send_system_info(TimePoint now) {
  send_to_group(make_envelope(json_text::quote(kSystemInfoSubject),
                              system_info_.system_info(ntp_available(), components_.to_json(now))));
}

void AppCore::send_ntp_status() {
  send_to_group(make_envelope(json_text::quote(kNtpStatusSubject), ntp_body(ntp_available())));
}

void AppCore::tell_scheduler_ntp() {
  // §6: {"body": {"ntp_available": <bool>}, "subject": "ntp_status", "source": "remote"}.
  emit(PublishToBus{router_.scheduler_subject(kNtpStatusSubject),
                    R"({"body":)" + ntp_body(ntp_available()) + R"(,"subject":)" + json_text::quote(kNtpStatusSubject) +
                        R"(,"source":)" + json_text::quote(config_.client_id) + "}",
                    "NTP status"});
}

void AppCore::drain_heartbeat() {
  while (auto body = heartbeat_.poll())
    send_to_group(make_envelope(json_text::quote(kHeartbeatSubject), json_text::quote(*body)));
}

void AppCore::note(log::Level level, std::string text) { emit(log::LogLine{level, std::move(text)}); }

void AppCore::emit(AppOutput output) {
  if (out_.size() >= kMaxQueuedOutputs) {
    out_.pop_front();
    ++outputs_dropped_;
  }
  out_.push_back(std::move(output));
}

}  // namespace dbr::app
