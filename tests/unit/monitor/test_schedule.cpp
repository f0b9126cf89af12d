// The check schedule in virtual time: advance a fake `now` to next_deadline().
#include <doctest/doctest.h>

#include <stdexcept>
#include <vector>

#include "monitor/schedule.hpp"

using namespace dbr;
using namespace dbr::monitor;
using namespace std::chrono_literals;

namespace {

const CheckSchedule::Options kOptions{60s, 300ms, 1s};

// Drives a schedule; each check takes `check_time` of virtual time.
struct Harness {
  CheckSchedule schedule{kOptions};
  TimePoint now{};  // virtual
  Duration check_time = 50ms;
  struct Check {
    CheckTrigger trigger;
    Duration started_at;  // since t0
  };
  std::vector<Check> checks;

  Harness() { schedule.start(now); }

  // Runs every check due at `now`.
  void run_due() {
    while (auto trigger = schedule.begin_if_due(now)) {
      checks.push_back({*trigger, now - TimePoint{}});
      now += check_time;
      schedule.check_finished(now);
    }
  }
  // Advances to `until`, running checks at each deadline on the way.
  void advance_to(TimePoint until) {
    run_due();
    while (auto deadline = schedule.next_deadline()) {
      if (*deadline > until) break;
      now = std::max(now, *deadline);
      run_due();
    }
    now = std::max(now, until);
    run_due();
  }
  void advance(Duration d) { advance_to(now + d); }
};

}  // namespace

TEST_CASE("schedule: the initial check is due at once, then one per interval after each check ends") {
  Harness h;
  CHECK(h.schedule.next_deadline() == TimePoint{});
  h.advance(10min);
  REQUIRE(h.checks.size() == 10);  // t=0, then every 60.05 s: the 10th at 540.45 s
  CHECK(h.checks[0].trigger == CheckTrigger::Initial);
  CHECK(h.checks[0].started_at == 0s);
  for (std::size_t i = 1; i < h.checks.size(); ++i) {
    CHECK(h.checks[i].trigger == CheckTrigger::Interval);
    // The interval counts from the end of the previous check.
    CHECK(h.checks[i].started_at - h.checks[i - 1].started_at == 60s + 50ms);
  }
}

TEST_CASE("schedule: nothing is due before start, and requests before start are absorbed by the initial check") {
  CheckSchedule s(kOptions);
  CHECK_FALSE(s.next_deadline().has_value());
  s.request(TimePoint{});
  s.link_changed(TimePoint{});
  s.start(TimePoint{} + 1s);
  CHECK(s.begin_if_due(TimePoint{} + 1s) == CheckTrigger::Initial);
  s.check_finished(TimePoint{} + 2s);
  CHECK(s.next_deadline() == TimePoint{} + 62s);
}

TEST_CASE("schedule: a request runs a check at once and restarts the interval") {
  Harness h;
  h.advance(10s);
  h.schedule.request(h.now);
  CHECK(h.schedule.next_deadline() == h.now);
  h.run_due();
  REQUIRE(h.checks.size() == 2);
  CHECK(h.checks[1].trigger == CheckTrigger::Request);
  CHECK(h.checks[1].started_at == 10s);
  CHECK(h.schedule.next_deadline() == TimePoint{} + 10s + 50ms + 60s);
}

TEST_CASE("schedule: many requests while idle coalesce into one check") {
  Harness h;
  h.advance(5s);
  for (int i = 0; i < 1000; ++i) h.schedule.request(h.now);
  h.advance(1s);
  CHECK(h.checks.size() == 2);
}

TEST_CASE("schedule: a request during a check makes one more check right after it") {
  CheckSchedule s(kOptions);
  TimePoint t{};
  s.start(t);
  REQUIRE(s.begin_if_due(t) == CheckTrigger::Initial);
  CHECK(s.checking());
  CHECK_FALSE(s.next_deadline().has_value());  // the probes bound a running check
  s.request(t + 100ms);
  s.request(t + 200ms);
  s.check_finished(t + 1s);
  CHECK(s.next_deadline() == t + 100ms);  // overdue: at once
  CHECK(s.begin_if_due(t + 1s) == CheckTrigger::Request);
  s.check_finished(t + 2s);
  CHECK_FALSE(s.begin_if_due(t + 2s).has_value());
  CHECK(s.next_deadline() == t + 62s);
}

TEST_CASE("schedule: a link change is checked after the debounce, well before the interval") {
  Harness h;
  h.advance(20s);
  auto changed_at = h.now;
  h.schedule.link_changed(h.now);
  CHECK(h.schedule.next_deadline() == changed_at + 300ms);
  h.advance(299ms);
  CHECK(h.checks.size() == 1);
  h.advance(1ms);
  REQUIRE(h.checks.size() == 2);
  CHECK(h.checks[1].trigger == CheckTrigger::LinkChange);
  CHECK(h.checks[1].started_at == 20s + 300ms);
}

TEST_CASE("schedule: a burst of link changes gives one check after the burst goes quiet") {
  Harness h;
  h.advance(20s);
  auto first = h.now;
  for (int i = 0; i < 5; ++i) {  // link up, carrier, address, route... 100 ms apart
    h.schedule.link_changed(h.now);
    h.advance(100ms);
  }
  h.advance(2s);
  REQUIRE(h.checks.size() == 2);
  CHECK(h.checks[1].trigger == CheckTrigger::LinkChange);
  CHECK(h.checks[1].started_at == (first - TimePoint{}) + 400ms + 300ms);
}

TEST_CASE("schedule: a flapping link is still checked within link_max_delay of its first change") {
  Harness h;
  h.advance(20s);
  auto first = h.now;
  // A change every 200 ms for 5 s never leaves 300 ms of quiet.
  std::vector<Duration> starts;
  for (int i = 0; i < 25; ++i) {
    h.schedule.link_changed(h.now);
    h.advance(200ms);
  }
  REQUIRE(h.checks.size() >= 2);
  CHECK(h.checks[1].trigger == CheckTrigger::LinkChange);
  CHECK(h.checks[1].started_at <= (first - TimePoint{}) + 1s);
  // ...and at most one check per link_max_delay (plus the check time) after that.
  CHECK(h.checks.size() <= 1 + 6);
}

TEST_CASE("schedule: a link change during a check makes another check after it") {
  CheckSchedule s(kOptions);
  TimePoint t{};
  s.start(t);
  REQUIRE(s.begin_if_due(t).has_value());
  s.link_changed(t + 100ms);
  s.check_finished(t + 2s);  // a slow check: the debounce already ran out
  CHECK(s.next_deadline() == t + 400ms);
  CHECK(s.begin_if_due(t + 2s) == CheckTrigger::LinkChange);
}

TEST_CASE("schedule: a check consumes every pending source, including a debounce not yet over") {
  CheckSchedule s(kOptions);
  TimePoint t{};
  s.start(t);
  s.begin_if_due(t);
  s.check_finished(t + 1s);
  s.link_changed(t + 5s);
  s.request(t + 5s + 100ms);
  CHECK(s.begin_if_due(t + 5s + 100ms) == CheckTrigger::Request);
  s.check_finished(t + 5s + 200ms);
  CHECK(s.next_deadline() == t + 65s + 200ms);
}

TEST_CASE("schedule: unexpected events name the state") {
  CheckSchedule s(kOptions);
  TimePoint t{};
  CHECK_THROWS_WITH_AS(s.begin_if_due(t), "check schedule: unexpected event 'begin check' in state 'not started'",
                       std::logic_error);
  CHECK_THROWS_AS(s.check_finished(t), std::logic_error);
  s.start(t);
  CHECK_THROWS_WITH_AS(s.start(t), "check schedule: unexpected event 'start' in state 'idle'", std::logic_error);
  CHECK_THROWS_AS(s.check_finished(t), std::logic_error);
  REQUIRE(s.begin_if_due(t).has_value());
  CHECK_THROWS_WITH_AS(s.begin_if_due(t), "check schedule: unexpected event 'begin check' in state 'checking'",
                       std::logic_error);
}
