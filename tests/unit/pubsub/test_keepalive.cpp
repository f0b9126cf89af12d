#include <doctest/doctest.h>

#include "pubsub/core/keepalive.hpp"

using namespace dbr;
using namespace dbr::pubsub;
using namespace std::chrono_literals;

TEST_CASE("keepalive: no deadlines until started, none after stop") {
  Keepalive k(20s, 60s);
  CHECK_FALSE(k.next_deadline());
  CHECK(k.on_timeout(TimePoint{} + 1000s) == Keepalive::Due::Nothing);
  k.start(TimePoint{});
  CHECK(k.next_deadline());
  k.stop();
  CHECK_FALSE(k.next_deadline());
}

TEST_CASE("keepalive: a ping is due an interval after the last sign of life or ping") {
  const TimePoint t0 = TimePoint{} + 100s;
  Keepalive k(20s, 60s);
  k.start(t0);
  CHECK(*k.ping_due() == t0 + 20s);
  CHECK(k.on_timeout(t0 + 19s) == Keepalive::Due::Nothing);
  CHECK(k.on_timeout(t0 + 20s) == Keepalive::Due::SendPing);
  k.ping_sent(t0 + 20s);
  CHECK(*k.ping_due() == t0 + 40s);
  // A frame received later pushes the next ping.
  k.received(t0 + 35s);
  CHECK(*k.ping_due() == t0 + 55s);
  CHECK(*k.dead_at() == t0 + 95s);
}

TEST_CASE("keepalive: dead once nothing arrived for the timeout, pings do not count") {
  const TimePoint t0 = TimePoint{} + 100s;
  Keepalive k(20s, 60s);
  k.start(t0);
  for (int i = 1; i <= 2; ++i) {
    CHECK(k.on_timeout(t0 + i * 20s) == Keepalive::Due::SendPing);
    k.ping_sent(t0 + i * 20s);
  }
  CHECK(k.on_timeout(t0 + 59s) == Keepalive::Due::Nothing);
  CHECK(k.on_timeout(t0 + 60s) == Keepalive::Due::Dead);
  // Dead wins over a ping that is also due.
  CHECK(*k.next_deadline() == t0 + 60s);
  // An old timestamp never moves the deadline back.
  k.received(t0 - 10s);
  CHECK(*k.dead_at() == t0 + 60s);
}
