#pragma once
// One line for a burst of like events, not one per event.
//
// A flood (a full outbox, a NATS inbox overrun) can drop thousands of
// messages a second; a line for each would fill the journal on the SD card.
// The first event after a quiet spell is told at once (the caller writes it
// in full); the rest are counted and summed up once per `period` while they
// keep coming. A period without events ends the burst, so the next event is
// told at once again. Sans-IO: the caller passes `now` and arms a timer at
// deadline().
#include <cstdint>
#include <optional>

#include "common/time.hpp"

namespace dbr {

class BurstLog {
 public:
  explicit BurstLog(Duration period) : period_(period) {}

  // `count` events at `now`. True: write their line now (the first of a
  // burst; the line tells all `count`); false: counted for the next summary.
  bool event(TimePoint now, std::uint64_t count = 1);
  // At or after deadline(): the events counted since the last line. 0 means
  // the burst is over (nothing to write, no deadline until the next event).
  std::uint64_t take_summary(TimePoint now);
  // When take_summary() is due; empty outside a burst.
  std::optional<TimePoint> deadline() const { return summary_due_; }
  Duration period() const { return period_; }

 private:
  Duration period_;
  std::optional<TimePoint> summary_due_;
  std::uint64_t counted_ = 0;
};

}  // namespace dbr
