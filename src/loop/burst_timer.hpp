#pragma once
// common/burst_log.hpp on the loop: a BurstLog with the timer that asks for
// its summaries. The owner writes the lines (it knows their words).
#include <cstdint>
#include <functional>

#include "common/burst_log.hpp"
#include "loop/timer.hpp"

namespace dbr::loop {

class EventLoop;

class BurstTimer {
 public:
  // `write_summary(n)`: n more events came in the last period.
  BurstTimer(EventLoop& loop, Duration period, std::function<void(std::uint64_t)> write_summary);

  // `count` events now. True: the caller writes this one's line now.
  bool event(std::uint64_t count = 1);
  Duration period() const { return log_.period(); }

 private:
  void on_timer();
  EventLoop& loop_;
  BurstLog log_;
  std::function<void(std::uint64_t)> write_summary_;
  Timer timer_;
};

}  // namespace dbr::loop
