#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <vector>

#include "loop/event_loop.hpp"
#include "loop/timer.hpp"

using namespace dbr;
using namespace std::chrono_literals;

TEST_CASE("shutdown waits for every step, then run() returns 0") {
  loop::EventLoop ev;
  std::vector<std::string> finished;
  loop::Timer slow(ev, [] {});
  loop::EventLoop::Done slow_done;
  ev.add_shutdown_step("instant", [&](loop::EventLoop::Done done) {
    finished.push_back("instant");
    done();
  });
  ev.add_shutdown_step("slow", [&](loop::EventLoop::Done done) { slow_done = std::move(done); });
  loop::Timer finish_slow(ev, [&] {
    finished.push_back("slow");
    slow_done();
  });
  loop::Timer kick(ev, [&] {
    ev.request_shutdown("test");
    ev.request_shutdown("again");  // idempotent
    finish_slow.arm_in(30ms);
  });
  kick.arm_in(1ms);
  TimePoint start = Clock::now();
  CHECK(ev.run() == 0);
  CHECK(finished == std::vector<std::string>{"instant", "slow"});
  CHECK(Clock::now() - start >= 30ms);
  CHECK(Clock::now() - start < 1s);
}

TEST_CASE("a step that never finishes is cut off by the grace period") {
  loop::EventLoop ev;
  ev.set_shutdown_grace(100ms);
  ev.add_shutdown_step("stuck", [](loop::EventLoop::Done) {});
  loop::Timer kick(ev, [&] { ev.request_shutdown("test"); });
  kick.arm_in(1ms);
  TimePoint start = Clock::now();
  CHECK(ev.run() == 0);
  auto took = Clock::now() - start;
  CHECK(took >= 100ms);
  CHECK(took < 1s);
}

TEST_CASE("SIGTERM starts a graceful shutdown; SIGHUP calls the reload handler") {
  loop::EventLoop::block_handled_signals();
  loop::EventLoop ev;
  int reloads = 0;
  bool step_ran = false;
  ev.on_reload([&] { ++reloads; });
  ev.add_shutdown_step("close", [&](loop::EventLoop::Done done) {
    step_ran = true;
    done();
  });
  loop::Timer hup(ev, [&] { ::kill(::getpid(), SIGHUP); });
  loop::Timer term(ev, [&] { ::kill(::getpid(), SIGTERM); });
  hup.arm_in(5ms);
  term.arm_in(50ms);
  CHECK(ev.run() == 0);
  CHECK(reloads == 1);
  CHECK(step_ran);
  CHECK(ev.shutting_down());
}
