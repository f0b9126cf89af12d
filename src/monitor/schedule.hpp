#pragma once
// When the next connectivity check is due (sans-IO, tested in virtual time).
//
// Sources of checks, all coalesced into at most one pending check:
//   - Initial: at start().
//   - Interval: `interval` after the previous check finished (the safety net).
//   - Request: at once (e.g. the loop saw the WebSocket fail).
//   - LinkChange: netlink saw a link/address/default-route change. Changes
//     come in bursts (link up, carrier, address, route), so the check waits
//     until the link has been quiet for `link_debounce`, but never longer than
//     `link_max_delay` after the first change of a burst, so a flapping link
//     still gets checked.
// Only one check runs at a time. A request or link change that arrives while
// a check runs makes another check due once it finishes: the running check
// may have started before the change. When a check begins it consumes every
// pending source, since it observes everything that happened before it.
//
// Bounds: the pending state is four fields, whatever the number of requests
// or link events; a storm of either costs at most one check per check time.
#include <optional>

#include "common/time.hpp"
#include "monitor/report.hpp"

namespace dbr::monitor {

class CheckSchedule {
 public:
  struct Options {
    Duration interval;
    Duration link_debounce;
    Duration link_max_delay;
  };

  explicit CheckSchedule(Options options);

  // Inputs. Each takes the caller's `now`; none reads a clock.
  void start(TimePoint now);
  void request(TimePoint now);
  void link_changed(TimePoint now);
  // If a check is due at `now`, marks it running and returns why it runs.
  // Throws std::logic_error when a check is already running or before start.
  std::optional<CheckTrigger> begin_if_due(TimePoint now);
  void check_finished(TimePoint now);

  // Earliest moment a check becomes due. Empty before start() and while a
  // check runs (the probes' own timeouts bound that wait).
  std::optional<TimePoint> next_deadline() const;
  bool checking() const { return state_ == State::Checking; }

 private:
  enum class State { NotStarted, Idle, Checking };
  enum class Event { Start, Request, LinkChange, Begin, Finish };
  void apply(Event event, TimePoint now);
  std::optional<TimePoint> link_due() const;
  std::optional<CheckTrigger> due_trigger(TimePoint now) const;

  Options options_;
  State state_ = State::NotStarted;
  bool initial_pending_ = false;
  bool request_pending_ = false;
  std::optional<TimePoint> link_first_;
  std::optional<TimePoint> link_last_;
  std::optional<TimePoint> interval_due_;
  TimePoint request_at_{};
  TimePoint start_at_{};
};

}  // namespace dbr::monitor
