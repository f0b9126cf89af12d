#include "pubsub/core/supervisor.hpp"

#include <algorithm>

namespace dbr::pubsub {

namespace {

std::string seconds_text(Duration d) {
  auto tenths = std::chrono::duration_cast<std::chrono::milliseconds>(d).count() / 100;
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " s";
}

constexpr std::uint16_t kCloseAbnormal = 1006;
// "Close 1008: the session is gone ... do not recover" (reliable protocol).
constexpr std::uint16_t kClosePolicyViolation = 1008;

}  // namespace

std::string_view input_name(Input input) {
  switch (input) {
    case Input::Start: return "Start";
    case Input::Stop: return "Stop";
    case Input::Online: return "Online";
    case Input::Offline: return "Offline";
    case Input::AttemptDue: return "AttemptDue";
    case Input::AttemptTimedOut: return "AttemptTimedOut";
    case Input::RecoveryWindowOver: return "RecoveryWindowOver";
    case Input::TransportOpened: return "TransportOpened";
    case Input::ServiceConnected: return "ServiceConnected";
    case Input::TransportClosed: return "TransportClosed";
    case Input::TransportFailed: return "TransportFailed";
    case Input::CredentialsFailed: return "CredentialsFailed";
    case Input::KeepaliveDead: return "KeepaliveDead";
  }
  return "?";
}

Supervisor::Supervisor(SupervisorOptions options, Random& random) : options_(options), random_(random) {}

bool Supervisor::transport_open() const {
  return state_ == State::Connected || (state_ == State::Connecting && phase_ == Phase::AwaitingConnected);
}

std::optional<std::string> Supervisor::handle(const SupervisorEvent& ev, TimePoint now) {
  // The monitor's opinion is bookkeeping every state shares; what it causes
  // is decided below.
  const Online before = online_;
  if (ev.input == Input::Online) online_ = Online::Yes;
  if (ev.input == Input::Offline) online_ = Online::No;
  const bool restored = ev.input == Input::Online && before == Online::No;

  switch (state_) {
    case State::Stopped:
      switch (ev.input) {
        case Input::Start:
          intent_ = true;
          failures_ = 0;
          auth_refusals_ = 0;
          if (online_ == Online::Yes)
            begin_new_attempt(now, "start");
          else
            go(State::WaitingForInternet, now, "start; waiting for the internet monitor");
          return std::nullopt;
        case Input::Stop:
        case Input::Online:
        case Input::Offline:
        // The close handshake we started on stop finishing (or failing), and
        // frames that crossed our close frame.
        case Input::TransportClosed:
        case Input::TransportFailed:
        case Input::ServiceConnected:
          return std::nullopt;
        default:
          break;
      }
      break;

    case State::WaitingForInternet:
      switch (ev.input) {
        case Input::Online:
          if (restored) {
            deadline_ = now + options_.network_settle;
            go(State::Settling, now, "internet restored; settling for " + seconds_text(options_.network_settle));
          } else {
            begin_new_attempt(now, "internet online");
          }
          return std::nullopt;
        case Input::Offline:
        case Input::Start:
          return std::nullopt;
        case Input::Stop:
          to_stopped(now);
          return std::nullopt;
        default:
          break;
      }
      break;

    // Both wait for one deadline before a new attempt; they differ only in
    // what the attempt starts from.
    case State::Settling:
    case State::BackingOff:
      switch (ev.input) {
        case Input::AttemptDue:
          if (state_ == State::Settling) {
            failures_ = 0;  // "then attempt at once with backoff reset"
            begin_new_attempt(now, "network settled");
          } else {
            begin_new_attempt(now, "backoff over");
          }
          return std::nullopt;
        case Input::Offline:
          deadline_.reset();
          go(State::WaitingForInternet, now, "internet lost");
          return std::nullopt;
        case Input::Online:
        case Input::Start:
          return std::nullopt;  // absorbed: an attempt is already scheduled
        case Input::Stop:
          to_stopped(now);
          return std::nullopt;
        default:
          break;
      }
      break;

    case State::Connecting:
      switch (ev.input) {
        case Input::TransportOpened:
          if (phase_ != Phase::AwaitingOpen) break;
          phase_ = Phase::AwaitingConnected;
          auth_refusals_ = 0;
          return std::nullopt;
        case Input::ServiceConnected:
          if (phase_ != Phase::AwaitingConnected) break;
          become_connected(now, false);
          return std::nullopt;
        case Input::CredentialsFailed:
          if (phase_ != Phase::AwaitingOpen) break;
          attempt_failed(now, ev.failure, "getting the client URL failed: ");
          return std::nullopt;
        case Input::TransportFailed:
          attempt_failed(now, ev.failure, "connecting failed: ");
          return std::nullopt;
        case Input::TransportClosed:
          if (phase_ != Phase::AwaitingConnected) break;
          attempt_failed(now,
                         AttemptFailure{FailureKind::Protocol, 0, std::nullopt,
                                        "closed with code " + std::to_string(ev.close_code) +
                                            " before the connected message"},
                         "connecting failed: ");
          return std::nullopt;
        case Input::AttemptTimedOut:
          emit(CommandKind::Abort, "attempt timed out");
          attempt_failed(now,
                         AttemptFailure{FailureKind::Timeout, 0, std::nullopt,
                                        "not connected within " + seconds_text(options_.attempt_timeout)},
                         "connecting failed: ");
          return std::nullopt;
        case Input::Online:
        case Input::Offline:  // an attempt in flight may finish
        case Input::Start:
          return std::nullopt;
        case Input::Stop:
          emit(phase_ == Phase::AwaitingConnected ? CommandKind::Close : CommandKind::Abort, "stop");
          to_stopped(now);
          return std::nullopt;
        default:
          break;
      }
      break;

    case State::Connected:
      switch (ev.input) {
        case Input::TransportClosed:
          connection_lost(now, "close " + std::to_string(ev.close_code),
                          ev.recoverable && ev.close_code != kClosePolicyViolation, ev.close_code == kCloseAbnormal);
          return std::nullopt;
        case Input::TransportFailed:
          connection_lost(now, describe(ev.failure), ev.recoverable, true);
          return std::nullopt;
        case Input::KeepaliveDead:
          emit(CommandKind::Abort, "keepalive timeout");
          connection_lost(now, "nothing received for too long (half-open?)", ev.recoverable, true);
          return std::nullopt;
        case Input::ServiceConnected:  // after a recovery: only the token is refreshed
        case Input::Online:
        case Input::Offline:  // keep the connection: it is the best proof of internet
        case Input::Start:
          return std::nullopt;
        case Input::Stop:
          emit(CommandKind::Close, "stop");
          to_stopped(now);
          return std::nullopt;
        default:
          break;
      }
      break;

    case State::Recovering:
      switch (ev.input) {
        case Input::AttemptDue:
          if (phase_ != Phase::Idle) break;
          begin_recovery_attempt(now);
          return std::nullopt;
        case Input::TransportOpened:
          // "The socket opens: recovered."
          if (phase_ != Phase::AwaitingOpen) break;
          become_connected(now, true);
          return std::nullopt;
        case Input::TransportFailed:
          if (phase_ != Phase::AwaitingOpen) break;
          recovery_attempt_failed(now, ev.failure);
          return std::nullopt;
        case Input::TransportClosed:
          if (phase_ != Phase::AwaitingOpen) break;
          if (ev.close_code == kClosePolicyViolation) {
            schedule_new_connection(now, "session gone (close 1008)");
          } else {
            recovery_attempt_failed(now, AttemptFailure{FailureKind::Protocol, 0, std::nullopt,
                                                        "closed with code " + std::to_string(ev.close_code)});
          }
          return std::nullopt;
        case Input::AttemptTimedOut:
          if (phase_ != Phase::AwaitingOpen) break;
          emit(CommandKind::Abort, "recovery attempt timed out");
          recovery_attempt_failed(now, AttemptFailure{FailureKind::Timeout, 0, std::nullopt, "no answer"});
          return std::nullopt;
        case Input::RecoveryWindowOver:
          if (phase_ == Phase::AwaitingOpen) emit(CommandKind::Abort, "recovery window over");
          schedule_new_connection(now, "not recovered within " + seconds_text(options_.recovery_window));
          return std::nullopt;
        case Input::Offline:
          if (phase_ == Phase::Idle) deadline_.reset();  // gate; the window keeps running
          return std::nullopt;
        case Input::Online:
          if (phase_ == Phase::Idle && !deadline_)
            schedule_recovery_attempt(now, restored ? now + options_.network_settle : now);
          return std::nullopt;
        case Input::Start:
          return std::nullopt;
        case Input::Stop:
          if (phase_ == Phase::AwaitingOpen) emit(CommandKind::Abort, "stop");
          to_stopped(now);
          return std::nullopt;
        default:
          break;
      }
      break;
  }
  online_ = before;
  return "unexpected input " + std::string(input_name(ev.input)) + " in state " + std::string(state_name(state_));
}

void Supervisor::on_timeout(TimePoint now) {
  // Each handled timer moves or clears its deadline; the bound is a guard.
  for (int round = 0; round < 8; ++round) {
    SupervisorEvent ev;
    if (state_ == State::Recovering && now >= recovery_deadline_) {
      ev.input = Input::RecoveryWindowOver;
    } else if (deadline_ && now >= *deadline_) {
      ev.input = phase_ == Phase::Idle ? Input::AttemptDue : Input::AttemptTimedOut;
    } else {
      return;
    }
    if (auto error = handle(ev, now)) {
      deadline_.reset();
      log(LogLine{LogLevel::Warning, "supervisor: " + *error + ", ignoring"});
    }
  }
}

std::optional<TimePoint> Supervisor::next_deadline() const {
  std::optional<TimePoint> next = deadline_;
  if (state_ == State::Recovering && (!next || recovery_deadline_ < *next)) next = recovery_deadline_;
  return next;
}

std::optional<SupervisorOutput> Supervisor::poll() {
  if (out_.empty()) return std::nullopt;
  SupervisorOutput next = std::move(out_.front());
  out_.pop_front();
  return next;
}

void Supervisor::go(State to, TimePoint now, std::string reason) {
  TransitionRecord record{now, state_, to, std::move(reason)};
  state_ = to;
  history_.push(record);
  out_.emplace_back(std::move(record));
}

void Supervisor::emit(CommandKind kind, std::string reason) { out_.emplace_back(Command{kind, std::move(reason)}); }

void Supervisor::log(std::optional<LogLine> line) {
  if (line) out_.emplace_back(std::move(*line));
}

void Supervisor::begin_new_attempt(TimePoint now, std::string reason) {
  phase_ = Phase::AwaitingOpen;
  deadline_ = now + options_.attempt_timeout;
  outage_.attempt_started();
  go(State::Connecting, now, reason);
  emit(CommandKind::OpenNew, std::move(reason));
}

void Supervisor::begin_recovery_attempt(TimePoint now) {
  phase_ = Phase::AwaitingOpen;
  deadline_ = now + options_.attempt_timeout;
  last_recovery_attempt_ = now;
  outage_.attempt_started();
  emit(CommandKind::OpenRecovery, "recovering the session");
}

// In Recovering and idle: the next attempt no earlier than `earliest` nor
// than one retry interval after the previous attempt began, and only online.
void Supervisor::schedule_recovery_attempt(TimePoint now, TimePoint earliest) {
  phase_ = Phase::Idle;
  deadline_.reset();
  if (online_ != Online::Yes) return;
  TimePoint at = earliest;
  if (last_recovery_attempt_) at = std::max(at, *last_recovery_attempt_ + options_.recovery_retry_interval);
  if (at <= now)
    begin_recovery_attempt(now);
  else
    deadline_ = at;
}

void Supervisor::schedule_new_connection(TimePoint now, std::string reason) {
  phase_ = Phase::Idle;
  deadline_.reset();
  if (online_ != Online::Yes) {
    go(State::WaitingForInternet, now, reason + "; waiting for the internet");
    return;
  }
  if (failures_ == 0) {
    begin_new_attempt(now, std::move(reason));
    return;
  }
  Duration delay = backoff_delay(options_.backoff, failures_ - 1, random_);
  deadline_ = now + delay;
  go(State::BackingOff, now, reason + "; new connection in " + seconds_text(delay));
}

void Supervisor::become_connected(TimePoint now, bool recovered) {
  phase_ = Phase::Idle;
  deadline_.reset();
  // Stability counts from the new connection; a recovery continues it, so
  // a recovered session that drops again is not held against the backoff.
  if (!recovered) connected_since_ = now;
  log(outage_.connected(now, recovered));
  go(State::Connected, now, recovered ? "session recovered" : "connected");
}

void Supervisor::attempt_failed(TimePoint now, const AttemptFailure& failure, std::string_view context) {
  ++failures_;
  phase_ = Phase::Idle;
  deadline_.reset();
  const FailureClass cls = classify(failure);
  if (cls == FailureClass::AuthRefused) ++auth_refusals_;
  // An HTTP answer proves the path to the service works; anything else may
  // be our internet going away.
  if (online_ == Online::Yes && failure.kind != FailureKind::HttpStatus)
    emit(CommandKind::CheckInternet, "connection attempt failed");
  std::string what = std::string(context) + describe(failure);

  if (online_ != Online::Yes) {
    log(outage_.failure(now, what + "; waiting for the internet", false));
    go(State::WaitingForInternet, now, what);
    return;
  }
  if (cls == FailureClass::AuthRefused && auth_refusals_ == 1) {
    log(outage_.failure(now, what + "; retrying at once with fresh credentials", false));
    begin_new_attempt(now, what + "; retrying with fresh credentials");
    return;
  }
  Duration delay{};
  bool refused = false;
  std::string text;
  if (cls == FailureClass::AuthRefused) {
    refused = true;
    delay = options_.backoff.max;
    text = "credentials refused (HTTP " + std::to_string(failure.http_status) +
           "): the service does not accept this client URL or token; check the access key or the Auth0 account. "
           "Retrying every " +
           seconds_text(delay);
  } else {
    delay = backoff_delay(options_.backoff, failures_ - 1, random_);
    if (cls == FailureClass::RetryAfter) delay = at_least_retry_after(delay, failure);
    text = what + "; retrying in " + seconds_text(delay);
  }
  log(outage_.failure(now, text, refused));
  deadline_ = now + delay;
  go(State::BackingOff, now, what + "; retrying in " + seconds_text(delay));
}

void Supervisor::connection_lost(TimePoint now, std::string what, bool recoverable, bool check_internet) {
  if (check_internet && online_ == Online::Yes) emit(CommandKind::CheckInternet, "connection lost");
  // Only a connection that stayed up for the stability window proves the
  // service works again; an accept-then-drop counts as one more failure.
  if (now - connected_since_ >= options_.stability_window)
    failures_ = 0;
  else
    ++failures_;
  phase_ = Phase::Idle;
  deadline_.reset();
  if (recoverable) {
    log(outage_.failure(now, "Web PubSub connection lost (" + what + "); recovering the session", false));
    recovery_deadline_ = now + options_.recovery_window;
    go(State::Recovering, now, what);
    schedule_recovery_attempt(now, now);
    return;
  }
  log(outage_.failure(now, "Web PubSub connection lost (" + what + ")", false));
  schedule_new_connection(now, what);
}

void Supervisor::recovery_attempt_failed(TimePoint now, const AttemptFailure& failure) {
  if (online_ == Online::Yes && failure.kind != FailureKind::HttpStatus)
    emit(CommandKind::CheckInternet, "recovery attempt failed");
  log(outage_.failure(now, "recovering the session failed: " + describe(failure), false));
  // "keep dialing the recovery URL, sleeping 1 s after each failure"
  Duration pause = options_.recovery_retry_interval;
  if (classify(failure) == FailureClass::RetryAfter) pause = at_least_retry_after(pause, failure);
  schedule_recovery_attempt(now, now + pause);
}

Duration Supervisor::at_least_retry_after(Duration delay, const AttemptFailure& failure) const {
  // The service's Retry-After, capped so a bad header cannot park the device.
  return std::max(delay, std::min(failure.retry_after.value_or(Duration::zero()), options_.retry_after_cap));
}

void Supervisor::to_stopped(TimePoint now) {
  intent_ = false;
  phase_ = Phase::Idle;
  deadline_.reset();
  go(State::Stopped, now, "stop");
}

}  // namespace dbr::pubsub
