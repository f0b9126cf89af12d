#include <doctest/doctest.h>

#include "common/burst_log.hpp"

using namespace std::chrono_literals;
using dbr::BurstLog;
using dbr::TimePoint;

namespace {
const TimePoint t0{};
}

TEST_CASE("burst log: the first event is told at once, the rest summed up once per period") {
  BurstLog log(60s);
  CHECK_FALSE(log.deadline());
  CHECK(log.event(t0));
  REQUIRE(log.deadline() == t0 + 60s);
  // A flood: 100 000 more in the first period, none told.
  for (int i = 0; i < 100000; ++i) CHECK_FALSE(log.event(t0 + 1s));
  CHECK(log.take_summary(t0 + 60s) == 100000);
  // Still coming: the next summary a period later.
  CHECK(log.deadline() == t0 + 120s);
  CHECK_FALSE(log.event(t0 + 61s, 7));
  CHECK(log.take_summary(t0 + 120s) == 7);
  // A period without events ends the burst quietly...
  CHECK(log.take_summary(t0 + 180s) == 0);
  CHECK_FALSE(log.deadline());
  // ...and the next event is told at once again.
  CHECK(log.event(t0 + 500s));
  CHECK(log.deadline() == t0 + 560s);
}

TEST_CASE("burst log: a batch that starts a burst is told whole; later batches are summed") {
  BurstLog log(10s);
  CHECK(log.event(t0, 5));  // the caller's line says 5
  CHECK_FALSE(log.event(t0 + 1s, 3));
  CHECK(log.take_summary(t0 + 10s) == 3);
  CHECK_FALSE(log.event(t0 + 11s, 0));  // nothing happened
  CHECK(log.take_summary(t0 + 20s) == 0);
  CHECK_FALSE(log.deadline());
}

TEST_CASE("burst log: a summary asked for early says nothing and keeps the count") {
  BurstLog log(10s);
  CHECK(log.event(t0));
  CHECK_FALSE(log.event(t0 + 1s));
  CHECK(log.take_summary(t0 + 5s) == 0);
  CHECK(log.deadline() == t0 + 10s);
  CHECK(log.take_summary(t0 + 10s) == 1);
}
