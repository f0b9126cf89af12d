#pragma once
// Decides which connection failures are worth a log line, so an outage of
// hours leaves a handful of lines instead of thousands:
//   - the first failure of an outage: WARNING;
//   - then every 10th attempt, or once per 5 minutes, whichever comes first;
//   - credentials refused (401/403 twice in a row): ERROR at once, and the
//     following lines of the outage at ERROR too;
//   - one INFO when connected again, with the outage's length and attempts,
//     if anything about the outage was logged since the last INFO. A
//     recovered session counts only once the service has proved it
//     (recovery_proven): the socket may open and then close with 1008 "The
//     connection could not be recovered" (webpubsub-protocol.md, Recovery),
//     and a recovery logged before that refusal would be false.
// A failure less than `flap_window` after a reconnect continues the outage
// it ended, so a service that accepts and then drops gets the cadence, not
// a WARNING/INFO pair per cycle. It returns the lines; the adapter logs them.
#include <optional>
#include <string>
#include <string_view>

#include "common/time.hpp"
#include "pubsub/core/events.hpp"

namespace dbr::pubsub {

class OutageLog {
 public:
  static constexpr unsigned kEveryNthAttempt = 10;
  static constexpr Duration kAtLeastEvery = std::chrono::minutes(5);

  explicit OutageLog(Duration flap_window = std::chrono::seconds(30)) : flap_window_(flap_window) {}

  // A connection attempt (new or recovery) started.
  void attempt_started();
  // An attempt failed or the connection was lost. `what` describes it.
  std::optional<LogLine> failure(TimePoint now, std::string_view what, bool credentials_refused);
  // Connected, or a recovery's socket opened (the outage goes on until
  // recovery_proven).
  std::optional<LogLine> connected(TimePoint now, bool recovered);
  // The service answered on the recovered socket (or did not refuse it).
  std::optional<LogLine> recovery_proven(TimePoint now);
  // The service ended the session (a recovery refused with 1008): said in
  // the INFO line that ends the outage.
  void session_lost(std::string reason) { session_lost_ = std::move(reason); }

  bool in_outage() const { return in_outage_; }

 private:
  std::optional<LogLine> end_outage(TimePoint now, bool recovered);
  Duration flap_window_;
  bool in_outage_ = false;
  TimePoint started_{};
  std::optional<TimePoint> ended_at_;  // the last outage's end, by a connection
  TimePoint last_logged_{};
  unsigned attempts_ = 0;                // in this outage
  unsigned attempts_since_connect_ = 0;  // before an outage begins (a failing first attempt)
  unsigned last_logged_attempt_ = 0;
  bool refusal_logged_ = false;
  bool logged_since_info_ = false;
  bool awaiting_proof_ = false;  // a recovery's socket opened, the service has not answered yet
  std::optional<std::string> session_lost_;
};

// "12.3 s", "4 min 05 s", "2 h 01 min"
std::string format_duration(Duration d);

}  // namespace dbr::pubsub
