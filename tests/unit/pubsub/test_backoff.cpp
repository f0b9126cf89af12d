#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include "pubsub/core/backoff.hpp"

using namespace dbr;
using namespace dbr::pubsub;
using namespace std::chrono_literals;

TEST_CASE("nominal backoff doubles from the initial delay and stops at the cap") {
  BackoffPolicy policy{2s, 60s, 0.3, 100ms};
  std::vector<Duration> got;
  for (unsigned n = 0; n < 8; ++n) got.push_back(nominal_delay(policy, n));
  std::vector<Duration> want{2s, 4s, 8s, 16s, 32s, 60s, 60s, 60s};
  CHECK(got == want);
  // A huge attempt number neither overflows nor passes the cap.
  CHECK(nominal_delay(policy, 100000) == 60s);
  CHECK(nominal_delay(BackoffPolicy{1500ms, 5s, 0, 100ms}, 1) == 3s);
  CHECK(nominal_delay(BackoffPolicy{1500ms, 5s, 0, 100ms}, 2) == 5s);
}

TEST_CASE("without jitter the delay is the nominal one") {
  SeededRandom random(7);
  BackoffPolicy policy{2s, 60s, 0.0, 100ms};
  for (unsigned n = 0; n < 10; ++n) CHECK(backoff_delay(policy, n, random) == nominal_delay(policy, n));
}

TEST_CASE("jitter stays within +-jitter of the nominal delay and covers the range") {
  SeededRandom random(42);
  BackoffPolicy policy{2s, 60s, 0.3, 100ms};
  for (unsigned n : {0u, 3u, 9u}) {
    double nominal = to_seconds(nominal_delay(policy, n));
    double lo = 1e9, hi = 0;
    for (int i = 0; i < 20000; ++i) {
      double d = to_seconds(backoff_delay(policy, n, random));
      lo = std::min(lo, d);
      hi = std::max(hi, d);
    }
    CAPTURE(n);
    CHECK(lo >= nominal * 0.7 - 1e-9);
    CHECK(hi < nominal * 1.3);
    // 20000 uniform draws come within 0.5% of both ends.
    CHECK(lo <= nominal * 0.705);
    CHECK(hi >= nominal * 1.295);
  }
}

TEST_CASE("jitter of 1.0 never goes below the floor") {
  SeededRandom random(3);
  BackoffPolicy policy{200ms, 1s, 1.0, 100ms};
  Duration lo = 1h;
  for (int i = 0; i < 20000; ++i) lo = std::min(lo, backoff_delay(policy, 0, random));
  CHECK(lo == 100ms);
}
