#pragma once
// Drives a real event loop from a test: runs it in 20 ms slices until a
// condition holds or a timeout passes, so no test waits without a bound.
#include <systemd/sd-event.h>

#include <functional>

#include "common/time.hpp"
#include "loop/event_loop.hpp"

namespace dbr::test {

// Runs the loop until `done` or the timeout; false on timeout.
inline bool run_until(loop::EventLoop& ev, const std::function<bool()>& done,
                      Duration timeout = std::chrono::seconds(15)) {
  const auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() > deadline) return false;
    (void)sd_event_run(ev.raw(), 20'000);
  }
  return true;
}

// Runs the loop for `period`, whatever happens.
inline void run_for(loop::EventLoop& ev, Duration period) {
  const auto until = Clock::now() + period;
  while (Clock::now() < until) (void)sd_event_run(ev.raw(), 20'000);
}

}  // namespace dbr::test
