// The heartbeat loop in virtual time (dunebugger-protocol.md §1.4).
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "app/heartbeat.hpp"

using namespace dbr;
using namespace dbr::app;
using namespace std::chrono_literals;

namespace {

struct Sent {
  Duration at;
  std::string body;
  bool operator==(const Sent&) const = default;
};

// Drives a Heartbeat in virtual time and records (time since start, body).
struct Harness {
  explicit Harness(HeartbeatConfig c = {60s, 300s}) : hb(c) {}
  Heartbeat hb;
  TimePoint start = TimePoint(1000h);
  TimePoint now = start;
  std::vector<Sent> sent;

  void drain() {
    while (auto body = hb.poll()) sent.push_back({now - start, std::string(*body)});
  }
  void heartbeat_at(Duration t) {
    run_until(t);
    hb.controller_heartbeat(now);
    drain();
  }
  void joined_at(Duration t) {
    run_until(t);
    hb.joined(now);
    drain();
  }
  // Fires every deadline up to start + t, jumping time to each one.
  void run_until(Duration t) {
    int stuck = 0;
    for (;;) {
      auto deadline = hb.next_deadline();
      if (!deadline || *deadline > start + t) break;
      REQUIRE(*deadline >= now);
      if (*deadline == now && ++stuck > 100000) throw std::runtime_error("virtual time does not advance");
      if (*deadline > now) stuck = 0;
      now = *deadline;
      hb.on_timeout(now);
      drain();
    }
    now = start + t;
  }
};

const std::string kAlive = "I am alive";
const std::string kAnyone = "Is anyone there?";

}  // namespace

TEST_CASE("joining broadcasts Is anyone there? and does not start the loop") {
  Harness h;
  h.joined_at(0s);
  CHECK(h.sent == std::vector<Sent>{{0s, kAnyone}});
  CHECK_FALSE(h.hb.loop_running());
  CHECK_FALSE(h.hb.next_deadline());
  h.run_until(3600s);
  CHECK(h.sent.size() == 1);
}

TEST_CASE("a heartbeat is answered at once, then every 60 s, until 300 s pass; then one question and quiet") {
  Harness h;
  h.heartbeat_at(10s);
  CHECK(h.sent == std::vector<Sent>{{10s, kAlive}});
  CHECK(h.hb.next_deadline() == h.start + 70s);
  h.run_until(3600s);
  CHECK(h.sent == std::vector<Sent>{{10s, kAlive},
                                    {70s, kAlive},
                                    {130s, kAlive},
                                    {190s, kAlive},
                                    {250s, kAlive},
                                    // The tick at 310 s coincides with the countdown's end:
                                    // only the question goes out.
                                    {310s, kAnyone}});
  CHECK_FALSE(h.hb.loop_running());
  CHECK_FALSE(h.hb.next_deadline());
}

TEST_CASE("each heartbeat restarts the 300 s countdown and keeps the cadence") {
  Harness h;
  h.heartbeat_at(0s);
  h.heartbeat_at(200s);  // countdown now ends at 500 s
  h.heartbeat_at(450s);  // ... and now at 750 s
  h.run_until(2000s);
  std::vector<Sent> expected = {{0s, kAlive}};
  for (auto t : {60s, 120s, 180s}) expected.push_back({t, kAlive});
  expected.push_back({200s, kAlive});  // the immediate reply
  for (auto t : {240s, 300s, 360s, 420s}) expected.push_back({t, kAlive});
  expected.push_back({450s, kAlive});
  for (auto t : {480s, 540s, 600s, 660s, 720s}) expected.push_back({t, kAlive});
  expected.push_back({750s, kAnyone});
  CHECK(h.sent == expected);
  // No gap between two heartbeat messages exceeds the front end's 65 s.
  for (std::size_t i = 1; i < h.sent.size(); ++i) CHECK(h.sent[i].at - h.sent[i - 1].at <= 60s);
}

TEST_CASE("after the question a front end's answer restarts the loop") {
  Harness h;
  h.heartbeat_at(0s);
  h.run_until(300s);
  REQUIRE(h.sent.back() == Sent{300s, kAnyone});
  h.heartbeat_at(301s);  // the front end's "I am here"
  CHECK(h.sent.back() == Sent{301s, kAlive});
  CHECK(h.hb.loop_running());
  CHECK(h.hb.next_deadline() == h.start + 361s);
}

TEST_CASE("a join while the loop runs adds the question but leaves the loop alone") {
  Harness h;
  h.heartbeat_at(0s);
  h.joined_at(90s);
  CHECK(h.sent.back() == Sent{90s, kAnyone});
  CHECK(h.hb.loop_running());
  CHECK(h.hb.next_deadline() == h.start + 120s);
}

TEST_CASE("a shorter interval works the same way (heartBeatEverySecs = 20, duration 50)") {
  Harness h({20s, 50s});
  h.heartbeat_at(0s);
  h.run_until(500s);
  CHECK(h.sent == std::vector<Sent>{{0s, kAlive}, {20s, kAlive}, {40s, kAlive}, {50s, kAnyone}});
}

TEST_CASE("spurious and late timeouts: early calls do nothing, a stall sends one alive and keeps the phase") {
  Harness h;
  h.heartbeat_at(0s);
  h.now = h.start + 30s;
  h.hb.on_timeout(h.now);  // early: nothing due
  h.drain();
  CHECK(h.sent.size() == 1);
  // The loop was stuck until 185 s: one "I am alive" for the ticks at 60,
  // 120 and 180 s, and the next tick stays on the 60 s grid.
  h.now = h.start + 185s;
  h.hb.on_timeout(h.now);
  h.drain();
  CHECK(h.sent == std::vector<Sent>{{0s, kAlive}, {185s, kAlive}});
  CHECK(h.hb.next_deadline() == h.start + 240s);
}

TEST_CASE("a stall past the countdown's end sends the question at once") {
  Harness h;
  h.heartbeat_at(0s);
  h.now = h.start + 1000s;
  h.hb.on_timeout(h.now);
  h.drain();
  // The tick at 60 s was before the end (300 s), so it is sent, then the question.
  CHECK(h.sent == std::vector<Sent>{{0s, kAlive}, {1000s, kAlive}, {1000s, kAnyone}});
  CHECK_FALSE(h.hb.loop_running());
}

TEST_CASE("the output queue is bounded and drops the oldest") {
  Heartbeat hb({60s, 300s});
  TimePoint now(1h);
  hb.joined(now);  // the oldest, to be dropped
  for (std::size_t i = 0; i < Heartbeat::kMaxQueued; ++i) hb.controller_heartbeat(now);
  std::size_t n = 0;
  while (auto body = hb.poll()) {
    CHECK(*body == kAlive);
    ++n;
  }
  CHECK(n == Heartbeat::kMaxQueued);
}
