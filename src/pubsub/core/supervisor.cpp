#include "pubsub/core/supervisor.hpp"

#include <algorithm>

#include "pubsub/core/clock_skew.hpp"

namespace dbr::pubsub {

namespace {

std::string seconds_text(Duration d) {
  auto tenths = std::chrono::duration_cast<std::chrono::milliseconds>(d).count() / 100;
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " s";
}

// "close 1008: The connection could not be recovered": the service's reason
// (at most 123 bytes, RFC 6455 §5.5), printable ASCII only.
std::string close_text(std::uint16_t code, std::string_view reason) {
  std::string text = "close " + std::to_string(code);
  if (reason.empty()) return text;
  text += ": ";
  for (char c : reason.substr(0, 123)) text.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  return text;
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

// The transition table. A row: the input, the states and the attempt phases
// it applies to, and its handler (none: the input is absorbed and nothing
// changes). Rows never overlap (checked below), so each (state, phase,
// input) rule is written once; a pair no row covers is unexpected.
const Supervisor::Rule* Supervisor::find_rule(State state, Phase phase, Input input) {
  using enum State;
  using S = Supervisor;
  constexpr EnumSet<State> kAnyState{Stopped, WaitingForInternet, Settling, Connecting, Connected, Recovering,
                                     BackingOff};
  constexpr EnumSet<Phase> kAnyPhase{Phase::Idle, Phase::AwaitingOpen, Phase::AwaitingConnected};
  constexpr auto kAbsorbed = nullptr;
  static constexpr Rule kRules[] = {
      // Intent. One attempt pending at most: a Start while one is scheduled
      // or in flight is absorbed.
      {Input::Start, {Stopped}, kAnyPhase, &S::intent_on},
      {Input::Start, kAnyState.without(Stopped), kAnyPhase, kAbsorbed},
      {Input::Stop, {Stopped}, kAnyPhase, kAbsorbed},
      {Input::Stop, kAnyState.without(Stopped), kAnyPhase, &S::intent_off},
      // The monitor. An open connection is kept while it says offline; an
      // attempt in flight may finish.
      {Input::Online, {Stopped, Settling, BackingOff, Connecting, Connected}, kAnyPhase, kAbsorbed},
      {Input::Online, {WaitingForInternet}, kAnyPhase, &S::online_while_waiting},
      {Input::Online, {Recovering}, {Phase::Idle}, &S::online_while_recovering},
      {Input::Online, {Recovering}, {Phase::AwaitingOpen}, kAbsorbed},
      {Input::Offline, {Stopped, WaitingForInternet, Connecting, Connected}, kAnyPhase, kAbsorbed},
      {Input::Offline, {Settling, BackingOff}, kAnyPhase, &S::offline_before_attempt},
      {Input::Offline, {Recovering}, {Phase::Idle}, &S::offline_while_recovering},
      {Input::Offline, {Recovering}, {Phase::AwaitingOpen}, kAbsorbed},
      // Timers.
      {Input::AttemptDue, {Settling}, kAnyPhase, &S::settle_over},
      {Input::AttemptDue, {BackingOff}, kAnyPhase, &S::backoff_over},
      {Input::AttemptDue, {Recovering}, {Phase::Idle}, &S::recovery_due},
      {Input::AttemptTimedOut, {Connecting}, kAnyPhase, &S::attempt_timed_out},
      {Input::AttemptTimedOut, {Recovering}, {Phase::AwaitingOpen}, &S::recovery_timed_out},
      {Input::RecoveryWindowOver, {Recovering}, kAnyPhase, &S::recovery_window_over},
      // The transport and the URL source. In Stopped: the close handshake we
      // started on stop finishing (or failing), and frames that crossed our
      // close frame. In Connected: a `connected` after a recovery only
      // refreshes the token.
      {Input::TransportOpened, {Connecting}, {Phase::AwaitingOpen}, &S::upgraded},
      {Input::TransportOpened, {Recovering}, {Phase::AwaitingOpen}, &S::recovered},
      {Input::ServiceConnected, {Stopped, Connected}, kAnyPhase, kAbsorbed},
      {Input::ServiceConnected, {Connecting}, {Phase::AwaitingConnected}, &S::service_connected},
      {Input::TransportClosed, {Stopped}, kAnyPhase, kAbsorbed},
      {Input::TransportClosed, {Connecting}, {Phase::AwaitingConnected}, &S::closed_before_connected},
      {Input::TransportClosed, {Connected}, kAnyPhase, &S::connection_closed},
      {Input::TransportClosed, {Recovering}, {Phase::AwaitingOpen}, &S::recovery_closed},
      {Input::TransportFailed, {Stopped}, kAnyPhase, kAbsorbed},
      {Input::TransportFailed, {Connecting}, kAnyPhase, &S::connect_failed},
      {Input::TransportFailed, {Connected}, kAnyPhase, &S::connection_failed},
      {Input::TransportFailed, {Recovering}, {Phase::AwaitingOpen}, &S::recovery_failed},
      {Input::CredentialsFailed, {Connecting}, {Phase::AwaitingOpen}, &S::credentials_failed},
      {Input::KeepaliveDead, {Connected}, kAnyPhase, &S::keepalive_dead},
  };
  static_assert(rows_are_disjoint<BackingOff, Phase::AwaitingConnected, Input::KeepaliveDead>(kRules),
                "two rows of the supervisor's table cover the same (state, phase, input)");
  return find_row(kRules, state, phase, input);
}

std::optional<UnexpectedInput> Supervisor::handle(const SupervisorEvent& ev, TimePoint now) {
  const Rule* rule = find_rule(state_, phase_, ev.input);
  if (rule == nullptr) return UnexpectedInput{"supervisor", state_name(state_), input_name(ev.input)};
  // The monitor's opinion is bookkeeping every state shares; what it causes
  // is the rule's business.
  const Step step{ev, now, ev.input == Input::Online && online_ == Online::No};
  if (ev.input == Input::Online) online_ = Online::Yes;
  if (ev.input == Input::Offline) online_ = Online::No;
  if (rule->handler != nullptr) (this->*rule->handler)(step);
  return std::nullopt;
}

// ---- handlers ----------------------------------------------------------------

void Supervisor::intent_on(const Step& step) {
  intent_ = true;
  failures_ = 0;
  auth_refusals_ = 0;
  if (online_ == Online::Yes)
    begin_new_attempt(step.now, "start");
  else
    go(State::WaitingForInternet, step.now, "start; waiting for the internet monitor");
}

// Close an open transport (ends the session on the service), abort an
// attempt in flight.
void Supervisor::intent_off(const Step& step) {
  if (transport_open())
    emit(CommandKind::Close, "stop");
  else if (phase_ == Phase::AwaitingOpen)
    emit(CommandKind::Abort, "stop");
  to_stopped(step.now);
}

void Supervisor::online_while_waiting(const Step& step) {
  if (!step.internet_restored) {
    begin_new_attempt(step.now, "internet online");
    return;
  }
  deadline_ = step.now + options_.network_settle;
  go(State::Settling, step.now, "internet restored; settling for " + seconds_text(options_.network_settle));
}

// Settling and BackingOff wait for one deadline before a new attempt.
void Supervisor::offline_before_attempt(const Step& step) {
  deadline_.reset();
  go(State::WaitingForInternet, step.now, "internet lost");
}

void Supervisor::settle_over(const Step& step) {
  failures_ = 0;  // "then attempt at once with backoff reset"
  begin_new_attempt(step.now, "network settled");
}

void Supervisor::backoff_over(const Step& step) { begin_new_attempt(step.now, "backoff over"); }

void Supervisor::upgraded(const Step&) {
  phase_ = Phase::AwaitingConnected;
  auth_refusals_ = 0;
}

void Supervisor::service_connected(const Step& step) { become_connected(step.now, false); }

void Supervisor::credentials_failed(const Step& step) {
  attempt_failed(step.now, step.event.failure, FailedAt::ClientUrl);
}

void Supervisor::connect_failed(const Step& step) {
  attempt_failed(step.now, step.event.failure, FailedAt::Connection);
}

void Supervisor::closed_before_connected(const Step& step) {
  attempt_failed(step.now,
                 AttemptFailure{FailureKind::Protocol, 0, std::nullopt,
                                "closed with code " + std::to_string(step.event.close_code) +
                                    " before the connected message"},
                 FailedAt::Connection);
}

void Supervisor::attempt_timed_out(const Step& step) {
  emit(CommandKind::Abort, "attempt timed out");
  attempt_failed(step.now,
                 AttemptFailure{FailureKind::Timeout, 0, std::nullopt,
                                "not connected within " + seconds_text(options_.attempt_timeout)},
                 FailedAt::Connection);
}

void Supervisor::connection_closed(const Step& step) {
  const std::uint16_t code = step.event.close_code;
  std::string what = close_text(code, step.event.close_reason);
  if (code == kClosePolicyViolation) outage_.session_lost("the service ended the session (" + what + ")");
  connection_lost(step.now, what, step.event.recoverable && code != kClosePolicyViolation, code == kCloseAbnormal);
}

void Supervisor::connection_failed(const Step& step) {
  connection_lost(step.now, describe(step.event.failure), step.event.recoverable, true);
}

void Supervisor::keepalive_dead(const Step& step) {
  emit(CommandKind::Abort, "keepalive timeout");
  connection_lost(step.now, "nothing received for too long (half-open?)", step.event.recoverable, true);
}

void Supervisor::recovery_due(const Step& step) { begin_recovery_attempt(step.now); }

// "The socket opens: recovered."
void Supervisor::recovered(const Step& step) { become_connected(step.now, true); }

void Supervisor::recovery_failed(const Step& step) { recovery_attempt_failed(step.now, step.event.failure); }

void Supervisor::recovery_closed(const Step& step) {
  if (step.event.close_code == kClosePolicyViolation) {
    std::string what = close_text(step.event.close_code, step.event.close_reason);
    outage_.session_lost("the session could not be recovered (" + what + ")");
    schedule_new_connection(step.now, "session gone (" + what + ")");
    return;
  }
  recovery_attempt_failed(step.now, AttemptFailure{FailureKind::Protocol, 0, std::nullopt,
                                                   "closed with code " + std::to_string(step.event.close_code)});
}

void Supervisor::recovery_timed_out(const Step& step) {
  emit(CommandKind::Abort, "recovery attempt timed out");
  recovery_attempt_failed(step.now, AttemptFailure{FailureKind::Timeout, 0, std::nullopt, "no answer"});
}

void Supervisor::recovery_window_over(const Step& step) {
  if (phase_ == Phase::AwaitingOpen) emit(CommandKind::Abort, "recovery window over");
  schedule_new_connection(step.now, "not recovered within " + seconds_text(options_.recovery_window));
}

// Gates the next recovery attempt; the window keeps running.
void Supervisor::offline_while_recovering(const Step&) { deadline_.reset(); }

void Supervisor::online_while_recovering(const Step& step) {
  if (deadline_) return;  // an attempt is already scheduled
  schedule_recovery_attempt(step.now, step.internet_restored ? step.now + options_.network_settle : step.now);
}

// ---- timers and outputs --------------------------------------------------------

std::optional<UnexpectedInput> Supervisor::on_timeout(TimePoint now) {
  // Each handled timer moves or clears its deadline; the bound is a guard.
  for (int round = 0; round < 8; ++round) {
    SupervisorEvent ev;
    if (state_ == State::Recovering && now >= recovery_deadline_) {
      ev.input = Input::RecoveryWindowOver;
    } else if (deadline_ && now >= *deadline_) {
      ev.input = phase_ == Phase::Idle ? Input::AttemptDue : Input::AttemptTimedOut;
    } else {
      return std::nullopt;
    }
    if (auto unexpected = handle(ev, now)) {
      deadline_.reset();  // or it would fire again at once
      return unexpected;
    }
  }
  return std::nullopt;
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

void Supervisor::attempt_failed(TimePoint now, const AttemptFailure& failure, FailedAt where) {
  ++failures_;
  phase_ = Phase::Idle;
  deadline_.reset();
  // 401/403 from the hub: it refused the client URL's token, and a fresh one
  // may do. From the URL source: Auth0 refused the sign-in, and signing in
  // again sends the same password, so only the backoff.
  const FailureClass cls = classify(failure);
  const bool hub_refused = cls == FailureClass::AuthRefused && where == FailedAt::Connection;
  const bool sign_in_refused = cls == FailureClass::AuthRefused && where == FailedAt::ClientUrl;
  if (hub_refused) ++auth_refusals_;
  // An HTTP answer proves the path to the service works; anything else may
  // be our internet going away.
  if (online_ == Online::Yes && failure.kind != FailureKind::HttpStatus)
    emit(CommandKind::CheckInternet, "connection attempt failed");
  std::string what =
      std::string(where == FailedAt::ClientUrl ? "getting the client URL failed: " : "connecting failed: ") +
      describe(failure);

  if (online_ != Online::Yes) {
    log(outage_.failure(now, what + "; waiting for the internet", false));
    go(State::WaitingForInternet, now, what);
    return;
  }
  // A refusal may be the clock's doing: a Pi without a real-time clock
  // signs with a time hours behind until NTP sets it.
  const std::optional<std::string> clock_words = failure.clock ? clock_suspicion(*failure.clock) : std::nullopt;
  if (hub_refused && auth_refusals_ == 1) {
    log(outage_.failure(now, what + "; retrying at once with fresh credentials" + (clock_words ? "; " + *clock_words : ""),
                        false));
    begin_new_attempt(now, what + "; retrying with fresh credentials");
    return;
  }
  Duration delay = hub_refused ? options_.backoff.max : backoff_delay(options_.backoff, failures_ - 1, random_);
  if (cls == FailureClass::RetryAfter) delay = at_least_retry_after(delay, failure);
  std::string text = what + "; retrying in " + seconds_text(delay);
  if (hub_refused)
    text = "credentials refused (HTTP " + std::to_string(failure.http_status) + ")" +
           (failure.service_reason.empty() ? "" : ", the service says \"" + failure.service_reason + "\"") + ": " +
           clock_words.value_or(
               "the service does not accept this client URL or token; check the access key or the Auth0 account") +
           ". Retrying every " + seconds_text(delay);
  else if (sign_in_refused)
    text = "sign-in refused by Auth0 (HTTP " + std::to_string(failure.http_status) +
           "): check the Auth0 credentials in remote.env (AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET, AUTH0_USERNAME, "
           "AUTH0_PASSWORD). Retrying in " +
           seconds_text(delay);
  log(outage_.failure(now, text, hub_refused || sign_in_refused));
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
