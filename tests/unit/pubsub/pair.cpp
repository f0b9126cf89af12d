#include "unit/pubsub/pair.hpp"

#include <stdexcept>
#include <type_traits>

namespace dbr::pubsub::test {

using namespace std::chrono_literals;

ClientCoreOptions test_options(Protocol protocol) {
  ClientCoreOptions options;
  options.supervisor.backoff = BackoffPolicy{2s, 60s, 0.3, 100ms};
  options.supervisor.network_settle = 3s;
  options.session.protocol = protocol;
  // (a std::string, not a literal: GCC 12 reports a bogus -Wrestrict otherwise)
  options.session.group = std::string(1, 'g');
  options.session.outbox_max_messages = 1000;
  options.keepalive_interval = 20s;
  options.keepalive_timeout = 60s;
  return options;
}

Pair::Pair(ClientCoreOptions options, std::uint64_t seed)
    : random(seed),
      core(options, random),
      now(TimePoint{} + std::chrono::hours(1000)),
      epoch(now),
      group(options.session.group) {}

void Pair::start() {
  core.internet(true, now);
  core.start(now);
  pump();
}

MessageId Pair::send(const nlohmann::json& data) {
  MessageId id = core.send_to_group(data.dump(), now);
  pump();
  return id;
}

void Pair::schedule(Duration after, std::function<void()> task) { tasks_.emplace(now + after, std::move(task)); }

void Pair::run_until(TimePoint until) {
  int stuck = 0;
  for (;;) {
    std::optional<TimePoint> next = core.next_deadline();
    bool task_first = false;
    if (!tasks_.empty() && (!next || tasks_.begin()->first <= *next)) {
      next = tasks_.begin()->first;
      task_first = true;
    }
    if (!next || *next > until) break;
    if (*next <= now && ++stuck > 100000) throw std::runtime_error("virtual time does not advance");
    if (*next > now) stuck = 0;
    now = std::max(now, *next);
    if (task_first) {
      std::function<void()> task = std::move(tasks_.begin()->second);
      tasks_.erase(tasks_.begin());
      if (task) task();
    } else {
      core.on_timeout(now);
    }
    pump();
  }
  now = std::max(now, until);
}

void Pair::pump() {
  for (;;) {
    bool any = false;
    while (auto action = core.poll_action()) {
      any = true;
      execute(std::move(*action));
    }
    while (auto event = core.poll_event()) {
      any = true;
      if (std::holds_alternative<InternetCheckWanted>(*event)) ++check_internet;
      events.push_back({now, std::move(*event)});
    }
    if (!any) return;
  }
}

void Pair::execute(Action action) {
  std::visit(
      [this](auto&& a) {
        using T = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<T, OpenNew>) {
          open_new_at.push_back(now);
          open_link(false, "");
        } else if constexpr (std::is_same_v<T, OpenRecovery>) {
          open_recovery_at.push_back(now);
          recovery_queries.push_back(a.query);
          open_link(true, a.query);
        } else if constexpr (std::is_same_v<T, SendText>) {
          client_frames.push_back({now, nlohmann::json::parse(a.frame)});
          if (!link_ || !link_->open || link_->silent) return;
          LinkId id = link_->id;
          std::string frame = a.frame;
          schedule(latency, [this, id, frame] {
            if (!is_current(id) || link_->silent) return;  // lost on the way
            handle_reply(id, service.receive(id, frame, now), latency);
          });
        } else if constexpr (std::is_same_v<T, Close>) {
          close_codes.push_back(a.code);
          if (!link_) return;
          LinkId id = link_->id;
          if (link_->open) service.link_closed(id, a.code, now);
          link_.reset();
          std::uint16_t code = a.code;
          schedule(2 * latency, [this, code] { closed(code); });
        } else if constexpr (std::is_same_v<T, Abort>) {
          aborts_at.push_back(now);
          if (!link_) return;
          if (link_->open) service.link_lost(link_->id, now);
          link_.reset();
        }
      },
      std::move(action));
}

void Pair::open_link(bool recovery, std::string query) {
  if (link_) ++overlapping_attempts;
  LinkId id = next_link_++;
  link_ = Link{id, false, false};
  std::optional<AttemptFailure> refusal = recovery ? refuse_recovery : refuse_new;
  std::optional<AttemptFailure> credentials = recovery ? std::nullopt : refuse_credentials;
  schedule(latency, [this, id, recovery, query, refusal, credentials] {
    if (!is_current(id)) return;  // aborted meanwhile
    if (credentials || refusal) {
      link_.reset();
      failure_at.push_back(now);
      if (credentials)
        core.credentials_failed(*credentials, now);
      else
        failed(*refusal);
      return;
    }
    ServiceReply reply = recovery ? service.open_recovery(id, query, now)
                                  : service.open_new(id, core.subprotocol(), now);
    link_->open = true;
    core.on_transport(ws::Opened{subprotocol_override.value_or(core.subprotocol())}, now);
    pump();
    handle_reply(id, std::move(reply), 0s);
    if (drop_after_open) {
      schedule(*drop_after_open, [this, id] {
        if (is_current(id) && link_->open) drop_abruptly();
      });
    }
  });
}

void Pair::to_client(LinkId id, std::string frame, Duration delay) {
  schedule(delay, [this, id, frame] {
    if (!is_current(id) || !link_->open || link_->silent) return;
    core.on_transport(ws::Message{true, frame}, now);
  });
}

void Pair::handle_reply(LinkId id, ServiceReply reply, Duration delay) {
  for (auto& frame : reply.frames) to_client(id, std::move(frame), delay);
  if (reply.close_code) {
    std::uint16_t code = *reply.close_code;
    schedule(delay, [this, id, code] {
      if (!is_current(id)) return;
      service.link_lost(id, now);
      link_.reset();
      closed(code);
    });
  }
}

void Pair::drop_abruptly(bool as_failure) {
  if (!link_) return;
  bool was_open = link_->open;
  service.link_lost(link_->id, now);
  link_.reset();
  if (!was_open)
    failed(AttemptFailure{FailureKind::Tcp, 0, std::nullopt, "connection reset"});
  else if (as_failure)
    failed(AttemptFailure{FailureKind::Io, 0, std::nullopt, "connection reset"});
  else
    closed(1006);
  pump();
}

void Pair::closed(std::uint16_t code) {
  // The emulator's words for a refused recovery (webpubsub-protocol.md, Recovery).
  std::string reason = code == 1008 ? "The connection could not be recovered." : "";
  core.on_transport(ws::Closed{code, reason, true, code != 1006}, now);
}

void Pair::failed(const AttemptFailure& failure) {
  std::optional<std::chrono::seconds> retry_after;
  if (failure.retry_after) retry_after = std::chrono::duration_cast<std::chrono::seconds>(*failure.retry_after);
  core.on_transport(ws::Failure{failure.kind, failure.http_status, retry_after, 0, failure.detail}, now);
}

void Pair::go_silent() {
  if (link_) link_->silent = true;
}

void Pair::inject(const std::string& frame) {
  if (link_) to_client(link_->id, frame, latency);
}

void Pair::publish(const nlohmann::json& data) {
  for (auto& [id, frame] : service.publish(group, data)) to_client(id, frame, latency);
}

std::vector<TimedFrame> Pair::frames_of_type(const std::string& type) const {
  std::vector<TimedFrame> out;
  for (const auto& f : client_frames)
    if (f.frame.value("type", "") == type) out.push_back(f);
  return out;
}

std::vector<LogLine> Pair::logs_at_least(LogLevel level) const {
  std::vector<LogLine> out;
  for (const auto& line : events_of<LogLine>())
    if (static_cast<int>(line.level) >= static_cast<int>(level)) out.push_back(line);
  return out;
}

std::vector<nlohmann::json> Pair::delivered_data() const {
  std::vector<nlohmann::json> out;
  for (const auto& d : service.deliveries) out.push_back(d.data);
  return out;
}

std::vector<MessageId> Pair::delivered_ids() const {
  std::vector<MessageId> out;
  for (const auto& d : events_of<Delivered>()) out.push_back(d.id);
  return out;
}

std::vector<nlohmann::json> Pair::group_data() const {
  std::vector<nlohmann::json> out;
  for (const auto& m : events_of<GroupMessage>()) out.push_back(nlohmann::json::parse(m.data.text()));
  return out;
}

}  // namespace dbr::pubsub::test
