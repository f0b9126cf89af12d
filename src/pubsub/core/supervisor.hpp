#pragma once
// Connection supervisor: decides when to open a new connection, when to
// recover the reliable session, how long to wait after a failure, and when
// a connection is lost. Sans-IO: inputs carry `now`, outputs are commands
// for the adapter, transition records and log lines, and one deadline.
//
// Every transition is a row of one table (supervisor.cpp, kRules): the
// states it applies to, the input, the attempt phase it needs, and its
// handler; each (state, input) rule is written once. A pair no row covers
// changes nothing and is returned as an UnexpectedInput naming both
// (common/transition_table.hpp). The table is also in docs/pubsub.md.
//
// Rules it enforces:
//   - no attempt without the should_be_connected intent (start .. stop);
//   - no attempt while the monitor says offline (or has not said anything);
//     an open connection is kept though, it is the best proof of internet;
//   - exactly one attempt pending (scheduled or in flight) at any time:
//     triggers while one is pending are absorbed;
//   - backoff from reconnectInitialDelaySecs, doubling up to
//     reconnectMaxDelaySecs, +-jitter; it resets only after a connection
//     stayed up for the stability window (30 s), so a server that accepts
//     and then drops cannot hold us in a tight loop;
//   - 429/503 with Retry-After: wait at least that long; 401/403 from the
//     hub (the upgrade): one immediate retry with fresh credentials, then
//     the max delay each time; 401/403 from Auth0 (the sign-in): the
//     backoff, since signing in again sends the same password;
//   - reliable sessions are recovered for 30 s after a drop, an attempt at
//     once and then every second ("sleeping 1 s after each failure", as the
//     SDKs), never more often than once a second.
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "common/random.hpp"
#include "common/time.hpp"
#include "common/transition_table.hpp"
#include "pubsub/core/backoff.hpp"
#include "pubsub/core/events.hpp"
#include "pubsub/core/transitions.hpp"
#include "pubsub/core/outage_log.hpp"

namespace dbr::pubsub {

enum class Input : std::uint8_t {
  Start,               // intent on
  Stop,                // intent off
  Online,              // the internet monitor says online
  Offline,             // ... offline
  AttemptDue,          // timer: the settle delay, the backoff or the recovery pause is over
  AttemptTimedOut,     // timer: an attempt in flight exceeded attempt_timeout
  RecoveryWindowOver,  // timer: the recovery window since the drop is over
  TransportOpened,     // WebSocket upgrade done
  ServiceConnected,    // the service's `connected` system message
  TransportClosed,     // close frame or abrupt end (1006)
  TransportFailed,     // the WebSocket failed (before or after opening)
  CredentialsFailed,   // the client-URL source failed (Auth0)
  KeepaliveDead,       // nothing received for keepAliveTimeout
};
std::string_view input_name(Input input);

struct SupervisorEvent {
  Input input = Input::Start;
  std::uint16_t close_code = 0;  // TransportClosed
  AttemptFailure failure{};      // TransportFailed, CredentialsFailed
  bool recoverable = false;      // drops: reliable session with connectionId and token
  std::string close_reason{};    // TransportClosed: the peer's reason text, as sent
};

enum class CommandKind {
  OpenNew,        // fetch a fresh client URL and open a new connection
  OpenRecovery,   // reopen the original URL plus the recovery query
  Close,          // close handshake with status 1000 (ends the session on the service)
  Abort,          // drop the transport without a close frame (session stays recoverable)
  CheckInternet,  // ask the monitor for an immediate check
};

struct Command {
  CommandKind kind = CommandKind::OpenNew;
  std::string reason;
};

using SupervisorOutput = std::variant<Command, TransitionRecord, LogLine>;

struct SupervisorOptions {
  BackoffPolicy backoff;
  Duration network_settle = std::chrono::seconds(3);
  Duration recovery_window = std::chrono::seconds(30);
  Duration recovery_retry_interval = std::chrono::seconds(1);
  Duration stability_window = std::chrono::seconds(30);
  // From OpenNew to the `connected` message, or from OpenRecovery to open.
  Duration attempt_timeout = std::chrono::seconds(60);
  // A Retry-After beyond this is not believed (every wait has a bound).
  Duration retry_after_cap = std::chrono::hours(1);
  bool operator==(const SupervisorOptions&) const = default;
};

class Supervisor {
 public:
  Supervisor(SupervisorOptions options, Random& random);

  // Feeds one input. Returns the pair when no rule covers it; nothing
  // changes then (the caller counts and logs it).
  std::optional<UnexpectedInput> handle(const SupervisorEvent& event, TimePoint now);
  // New options (config reload): delays computed from now on use them; a
  // wait already scheduled keeps its deadline.
  void retune(const SupervisorOptions& options) { options_ = options; }
  // Fires expired timers; a spurious call is a no-op. A timer input no rule
  // covers is returned as handle() does (and its deadline dropped).
  std::optional<UnexpectedInput> on_timeout(TimePoint now);
  std::optional<TimePoint> next_deadline() const;
  // The service answered on a recovered socket, or let it be for a grace
  // period (ClientCore decides): the recovery is real, and logged now.
  void recovery_proven(TimePoint now) { log(outage_.recovery_proven(now)); }
  // Commands, transitions and log lines, in the order they happened.
  std::optional<SupervisorOutput> poll();

  State state() const { return state_; }
  bool should_be_connected() const { return intent_; }
  // Connected, or Connecting after the upgrade (waiting for `connected`).
  bool transport_open() const;
  bool attempt_in_flight() const { return phase_ == Phase::AwaitingOpen || phase_ == Phase::AwaitingConnected; }
  unsigned consecutive_failures() const { return failures_; }
  const TransitionHistory& history() const { return history_; }

 private:
  enum class Online : std::uint8_t { Unknown, No, Yes };
  // What an attempt in Connecting/Recovering is waiting for; Idle elsewhere.
  enum class Phase : std::uint8_t { Idle, AwaitingOpen, AwaitingConnected };
  // One input as a handler sees it.
  struct Step {
    const SupervisorEvent& event;
    TimePoint now;
    bool internet_restored = false;  // Online after the monitor had said offline
  };
  // A row of the table (supervisor.cpp): states, attempt phases, input, handler.
  using Rule = TransitionRow<State, Phase, Input, void (Supervisor::*)(const Step&)>;
  static const Rule* find_rule(State state, Phase phase, Input input);

  // Handlers, one per row of the table.
  void intent_on(const Step& step);
  void intent_off(const Step& step);
  void online_while_waiting(const Step& step);
  void offline_before_attempt(const Step& step);
  void settle_over(const Step& step);
  void backoff_over(const Step& step);
  void upgraded(const Step& step);
  void service_connected(const Step& step);
  void credentials_failed(const Step& step);
  void connect_failed(const Step& step);
  void closed_before_connected(const Step& step);
  void attempt_timed_out(const Step& step);
  void connection_closed(const Step& step);
  void connection_failed(const Step& step);
  void keepalive_dead(const Step& step);
  void recovery_due(const Step& step);
  void recovered(const Step& step);
  void recovery_failed(const Step& step);
  void recovery_closed(const Step& step);
  void recovery_timed_out(const Step& step);
  void recovery_window_over(const Step& step);
  void offline_while_recovering(const Step& step);
  void online_while_recovering(const Step& step);

  void go(State to, TimePoint now, std::string reason);
  void emit(CommandKind kind, std::string reason);
  void log(std::optional<LogLine> line);

  void begin_new_attempt(TimePoint now, std::string reason);
  void begin_recovery_attempt(TimePoint now);
  void schedule_recovery_attempt(TimePoint now, TimePoint earliest);
  void schedule_new_connection(TimePoint now, std::string reason);
  void become_connected(TimePoint now, bool recovered);
  // Where a new-connection attempt failed: getting the client URL (the
  // Auth0 sign-in), or the connection itself (the hub, the upgrade).
  enum class FailedAt : std::uint8_t { ClientUrl, Connection };
  void attempt_failed(TimePoint now, const AttemptFailure& failure, FailedAt where);
  void connection_lost(TimePoint now, std::string what, bool recoverable, bool check_internet);
  void recovery_attempt_failed(TimePoint now, const AttemptFailure& failure);
  Duration at_least_retry_after(Duration delay, const AttemptFailure& failure) const;
  void to_stopped(TimePoint now);

  SupervisorOptions options_;
  Random& random_;
  State state_ = State::Stopped;
  bool intent_ = false;
  Online online_ = Online::Unknown;
  Phase phase_ = Phase::Idle;
  std::optional<TimePoint> deadline_;  // attempt due, settle end or attempt timeout
  TimePoint recovery_deadline_{};
  std::optional<TimePoint> last_recovery_attempt_;
  TimePoint connected_since_{};
  unsigned failures_ = 0;       // consecutive new-connection failures since a stable connection
  unsigned auth_refusals_ = 0;  // consecutive 401/403 answers from the hub
  OutageLog outage_;
  TransitionHistory history_;
  std::deque<SupervisorOutput> out_;
};

}  // namespace dbr::pubsub
