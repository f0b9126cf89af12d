// The check schedule in virtual time: advance a fake `now` to next_deadline().
#include <doctest/doctest.h>

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <vector>

#include "monitor/schedule.hpp"

using namespace dbr;
using namespace dbr::monitor;
using namespace std::chrono_literals;

namespace {

const CheckSchedule::Options kOptions{60s, 300ms, 1s};

// Advances a harness's virtual `now` to `until`, running the checks due at
// each deadline on the way (its run_due()).
template <typename H>
void advance_harness(H& h, TimePoint until) {
  h.run_due();
  while (auto deadline = h.schedule.next_deadline()) {
    if (*deadline > until) break;
    h.now = std::max(h.now, *deadline);
    h.run_due();
  }
  h.now = std::max(h.now, until);
  h.run_due();
}

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
  void advance_to(TimePoint until) { advance_harness(*this, until); }
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

// ---- keepalive evidence (the data budget): which checks may skip the probes

namespace {

// Drives a schedule as the monitor does: before each check the latest sign
// of life of the hub connection (`proofs`, as the loop would post them), a
// check with evidence costs no time and is online, a probe takes
// `check_time` and gives `probe_online`.
struct EvidenceHarness {
  CheckSchedule schedule{kOptions};
  TimePoint now{};
  Duration check_time = 50ms;
  bool probe_online = true;
  std::vector<TimePoint> proofs;  // ascending
  bool connected = true;
  struct Check {
    CheckTrigger trigger;
    std::optional<Duration> evidence;  // empty: probed
    Duration at;                       // since t0
  };
  std::vector<Check> checks;

  EvidenceHarness() { schedule.start(now); }

  // A sign of life every `every` from `from` until `until`.
  void answer(Duration every, TimePoint from, TimePoint until) {
    for (TimePoint t = from; t < until; t += every) proofs.push_back(t);
  }
  std::optional<TimePoint> latest_proof() const {
    if (!connected) return std::nullopt;
    std::optional<TimePoint> latest;
    for (auto t : proofs)
      if (t <= now) latest = t;
    return latest;
  }
  void run_due() {
    schedule.connection(latest_proof());
    while (auto trigger = schedule.begin_if_due(now)) {
      auto evidence = schedule.evidence_for(*trigger, now);
      checks.push_back({*trigger, evidence, now - TimePoint{}});
      if (!evidence) now += check_time;
      schedule.check_finished(now, evidence ? true : probe_online);
      schedule.connection(latest_proof());
    }
  }
  void advance(Duration d) { advance_harness(*this, now + d); }
  std::size_t probes() const {
    return static_cast<std::size_t>(std::count_if(checks.begin(), checks.end(), [](const Check& c) { return !c.evidence; }));
  }
};

}  // namespace

TEST_CASE("evidence: while the hub connection answers, every interval check takes its answer and probes nothing") {
  EvidenceHarness h;
  h.answer(20s, TimePoint{}, TimePoint{} + 1h);  // the hub's WebSocket ping every 20 s
  h.advance(1h);
  REQUIRE(h.checks.size() == 60);  // the initial check, then one per 60 s (the first 60.05 s after it)
  CHECK(h.checks[0].trigger == CheckTrigger::Initial);
  CHECK_FALSE(h.checks[0].evidence);  // the first verdict is always a probe's
  for (std::size_t i = 1; i < h.checks.size(); ++i) {
    CAPTURE(i);
    CHECK(h.checks[i].trigger == CheckTrigger::Interval);
    REQUIRE(h.checks[i].evidence);
    CHECK(*h.checks[i].evidence <= 20s);
    // A verdict every interval still: evidence checks take no time.
    CHECK(h.checks[i].at - h.checks[i - 1].at == (i == 1 ? 60s + 50ms : 60s));
  }
  CHECK(h.probes() == 1);
}

TEST_CASE("evidence: no open connection: every check probes") {
  EvidenceHarness h;
  h.answer(20s, TimePoint{}, TimePoint{} + 1h);
  h.connected = false;
  h.advance(30min);
  CHECK(h.checks.size() == 30);
  CHECK(h.probes() == h.checks.size());
}

TEST_CASE("evidence: a connection quiet for longer than the interval is probed; its answer counts again once it "
          "speaks") {
  EvidenceHarness h;
  // Answers until 5 min, silence until 10 min, answers again after.
  h.answer(20s, TimePoint{}, TimePoint{} + 5min);
  h.answer(20s, TimePoint{} + 10min, TimePoint{} + 20min);
  h.advance(20min);
  for (const auto& c : h.checks) {
    CAPTURE(c.at.count());
    const auto last_proof_age = [&] {
      Duration best = 1h;
      for (auto t : h.proofs)
        if (t - TimePoint{} <= c.at) best = std::min(best, c.at - (t - TimePoint{}));
      return best;
    }();
    if (c.trigger != CheckTrigger::Interval) continue;
    // The rule: evidence exactly when the last sign of life is within the interval.
    CHECK(c.evidence.has_value() == (last_proof_age <= 60s));
  }
  // Quiet from 5 min (the last sign at 4:40): the interval checks from 6 min to 10 min probe.
  std::size_t quiet_probes = 0;
  for (const auto& c : h.checks)
    if (c.at > 6min && c.at < 10min) {
      CHECK_FALSE(c.evidence);
      ++quiet_probes;
    }
  CHECK(quiet_probes >= 3);
  CHECK(h.checks.back().evidence);
}

TEST_CASE("evidence: the boundary: an answer exactly one interval old counts, a moment older does not") {
  CheckSchedule s(kOptions);
  s.start(TimePoint{});
  REQUIRE(s.begin_if_due(TimePoint{}) == CheckTrigger::Initial);
  s.check_finished(TimePoint{}, true);
  const TimePoint due = TimePoint{} + 60s;
  REQUIRE(s.begin_if_due(due) == CheckTrigger::Interval);
  s.connection(due - 60s);
  CHECK(s.evidence_for(CheckTrigger::Interval, due) == 60s);
  s.connection(due - 60s - 1ns);
  CHECK_FALSE(s.evidence_for(CheckTrigger::Interval, due));
  s.connection(std::nullopt);
  CHECK_FALSE(s.evidence_for(CheckTrigger::Interval, due));
  // Only interval checks: the initial check, requests and link changes probe.
  s.connection(due - 1s);
  CHECK(s.evidence_for(CheckTrigger::Interval, due) == 1s);
  CHECK_FALSE(s.evidence_for(CheckTrigger::Initial, due));
  CHECK_FALSE(s.evidence_for(CheckTrigger::Request, due));
  CHECK_FALSE(s.evidence_for(CheckTrigger::LinkChange, due));
  // A sign of life "from the future" (clock read on another thread) is age 0.
  s.connection(due + 5ms);
  CHECK(s.evidence_for(CheckTrigger::Interval, due) == Duration::zero());
}

TEST_CASE("evidence: after a link change the probe runs, and only a sign of life newer than the change counts") {
  EvidenceHarness h;
  h.answer(20s, TimePoint{}, TimePoint{} + 3min + 10s);  // the last at 3:00
  h.advance(3min + 10s);
  const std::size_t before = h.checks.size();
  h.schedule.link_changed(h.now);  // 3:10; the connection says nothing more
  h.advance(5s);
  REQUIRE(h.checks.size() == before + 1);
  CHECK(h.checks[before].trigger == CheckTrigger::LinkChange);
  CHECK_FALSE(h.checks[before].evidence);
  // The next interval check: the last sign (3:00) is older than the change.
  h.advance(61s);
  REQUIRE(h.checks.size() == before + 2);
  CHECK(h.checks[before + 1].trigger == CheckTrigger::Interval);
  CHECK_FALSE(h.checks[before + 1].evidence);
  // The connection speaks again after the change: evidence again.
  h.answer(20s, h.now, h.now + 5min);
  h.advance(61s);
  REQUIRE(h.checks.size() == before + 3);
  CHECK(h.checks[before + 2].evidence);
}

TEST_CASE("evidence: an offline verdict is never overturned without a probe") {
  EvidenceHarness h;
  h.answer(20s, TimePoint{}, TimePoint{} + 1h);
  h.advance(2min);
  REQUIRE(h.checks.back().evidence);
  // A probe (a request, e.g.) finds DNS gone while the connection still answers.
  h.probe_online = false;
  h.schedule.request(h.now);
  h.advance(1s);
  REQUIRE_FALSE(h.checks.back().evidence);
  CHECK(h.checks.back().trigger == CheckTrigger::Request);
  // Interval checks probe until a probe says online again.
  const std::size_t offline_from = h.checks.size();
  h.advance(5min);
  for (std::size_t i = offline_from; i < h.checks.size(); ++i) CHECK_FALSE(h.checks[i].evidence);
  h.probe_online = true;
  h.advance(61s);  // one more probe, online
  CHECK_FALSE(h.checks.back().evidence);
  h.advance(61s);
  CHECK(h.checks.back().evidence);
}

TEST_CASE("evidence: a link change that an interval check absorbs (inside its debounce) still makes it probe") {
  EvidenceHarness h;
  h.answer(20s, TimePoint{} + 5s, TimePoint{} + 1h);  // 1:45, 2:05: none in the last 100 ms before 2:00.05
  h.advance(2min);
  REQUIRE(h.checks.back().evidence);
  auto due = h.schedule.next_deadline();
  REQUIRE(due);
  // 100 ms before the interval check: its debounce (300 ms) is not over when
  // the interval check begins, which consumes it.
  h.now = *due - 100ms;
  h.schedule.link_changed(h.now);
  const std::size_t before = h.checks.size();
  h.advance(1s);
  REQUIRE(h.checks.size() == before + 1);
  CHECK(h.checks[before].trigger == CheckTrigger::Interval);
  CHECK_FALSE(h.checks[before].evidence);  // the last sign of life (< 20 s old) predates the change
}
