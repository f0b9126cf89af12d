#include <doctest/doctest.h>

#include <memory>
#include <vector>

#include "loop/event_loop.hpp"
#include "loop/timer.hpp"

using namespace dbr;
using namespace std::chrono_literals;

TEST_CASE("timers fire in deadline order, whatever the order they were armed in") {
  loop::EventLoop ev;
  std::vector<int> order;
  std::vector<std::unique_ptr<loop::Timer>> timers;
  const int delays_ms[] = {50, 10, 40, 20, 30};
  for (int d : delays_ms)
    timers.push_back(std::make_unique<loop::Timer>(ev, [&order, &ev, d] {
      order.push_back(d);
      if (order.size() == 5) ev.request_shutdown("done");
    }));
  TimePoint start = ev.now();
  for (std::size_t i = 0; i < timers.size(); ++i) timers[i]->arm_at(start + std::chrono::milliseconds(delays_ms[i]));
  CHECK(ev.run() == 0);
  CHECK(order == std::vector<int>{10, 20, 30, 40, 50});
}

TEST_CASE("a timer is one-shot, re-armable from its own callback, and cancellable") {
  loop::EventLoop ev;
  int fired = 0;
  loop::Timer* self = nullptr;
  loop::Timer repeating(ev, [&] {
    ++fired;
    if (fired < 3)
      self->arm_in(5ms);
    else
      ev.request_shutdown("done");
  });
  self = &repeating;
  bool cancelled_fired = false;
  loop::Timer cancelled(ev, [&] { cancelled_fired = true; });
  cancelled.arm_in(10ms);
  CHECK(cancelled.armed());
  cancelled.cancel();
  CHECK_FALSE(cancelled.armed());
  CHECK_FALSE(cancelled.deadline());
  repeating.arm_in(5ms);
  TimePoint start = Clock::now();
  CHECK(ev.run() == 0);
  CHECK(fired == 3);
  CHECK_FALSE(cancelled_fired);
  CHECK(Clock::now() - start >= 15ms);
}

TEST_CASE("re-arming moves the deadline; arm_at(nullopt) cancels") {
  loop::EventLoop ev;
  TimePoint fired_at{};
  loop::Timer t(ev, [&] {
    fired_at = Clock::now();
    ev.request_shutdown("done");
  });
  TimePoint start = Clock::now();
  t.arm_in(5ms);
  t.arm_in(40ms);
  REQUIRE(t.deadline());
  t.arm_at(std::optional<TimePoint>{});
  CHECK_FALSE(t.armed());
  t.arm_in(40ms);
  ev.run();
  CHECK(fired_at - start >= 40ms);
}
