#include <doctest/doctest.h>

#include <vector>

#include "loop/deferred.hpp"
#include "loop/event_loop.hpp"
#include "loop/timer.hpp"

using namespace dbr;
using namespace std::chrono_literals;

TEST_CASE("a deferred call runs once per arm, after the handler that armed it returns") {
  loop::EventLoop ev;
  std::vector<const char*> order;
  loop::Deferred later(ev, [&] { order.push_back("deferred"); });
  loop::Timer starter(ev, [&] {
    later.arm();
    later.arm();  // armed twice before it runs: still once
    CHECK(later.armed());
    order.push_back("handler end");
  });
  loop::Timer stop(ev, [&] { ev.request_shutdown("done"); });
  starter.arm_in(1ms);
  stop.arm_in(50ms);
  CHECK(ev.run() == 0);
  CHECK(order == std::vector<const char*>{"handler end", "deferred"});
  CHECK_FALSE(later.armed());
}

TEST_CASE("a deferred call can re-arm itself, and a cancelled one does not run") {
  loop::EventLoop ev;
  int runs = 0;
  loop::Deferred* self = nullptr;
  loop::Deferred again(ev, [&] {
    if (++runs < 3) self->arm();
  });
  self = &again;
  bool cancelled_ran = false;
  loop::Deferred cancelled(ev, [&] { cancelled_ran = true; });
  loop::Timer starter(ev, [&] {
    again.arm();
    cancelled.arm();
    cancelled.cancel();
  });
  loop::Timer stop(ev, [&] { ev.request_shutdown("done"); });
  starter.arm_in(1ms);
  stop.arm_in(50ms);
  CHECK(ev.run() == 0);
  CHECK(runs == 3);
  CHECK_FALSE(cancelled_ran);
}
