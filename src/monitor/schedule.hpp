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
// Keepalive evidence (the data budget, docs/monitor.md): an interval check
// need not probe while the hub connection answers. evidence_for() says when
// the connection's last sign of life (the loop's ProofOfLife, given to
// connection()) may stand in for the DNS + HTTPS probe: only for an Interval
// check, only to continue an online verdict (a probe's offline verdict is
// never overturned without a probe), only if the sign of life came within
// the interval and after the last link change. So the full probe runs at
// start, on a request (the connection failed), after a link change, when
// the connection is down or has been quiet for an interval, and until a
// probe finds the internet again.
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
  // The same, with the check's verdict (what evidence_for() continues).
  void check_finished(TimePoint now, bool online);

  // The hub connection's last sign of life, as the loop last reported it;
  // empty: no open connection. A value, not an event: the latest wins.
  void connection(std::optional<TimePoint> alive_at);
  // For the check begin_if_due() just began with `trigger`: how long ago the
  // connection answered, if that answer is the evidence for this interval
  // (see above); empty: probe.
  std::optional<Duration> evidence_for(CheckTrigger trigger, TimePoint now) const;

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
  std::optional<bool> last_online_;          // the last finished check's verdict
  std::optional<TimePoint> alive_at_;        // the connection's last sign of life
  std::optional<TimePoint> last_link_change_;
};

}  // namespace dbr::monitor
