#pragma once
// Reconnect backoff, a pure function of the attempt number and an injected
// random draw:
//
//   delay(n) = min(initial * 2^n, max) * (1 + jitter * u),  u uniform in [-1, 1)
//
// never below `floor`. n counts consecutive failures from 0. Jitter spreads
// a fleet of devices that lost the service at the same moment.
#include "common/random.hpp"
#include "common/time.hpp"

namespace dbr::pubsub {

struct BackoffPolicy {
  Duration initial = std::chrono::seconds(2);
  Duration max = std::chrono::seconds(60);
  double jitter = 0.3;                               // fraction, 0..1
  Duration floor = std::chrono::milliseconds(100);  // jitter 1.0 could otherwise give 0
  bool operator==(const BackoffPolicy&) const = default;
};

// min(initial * 2^attempt, max), without jitter.
Duration nominal_delay(const BackoffPolicy& policy, unsigned attempt);

// The jittered delay before retry number `attempt` (0 for the first retry).
Duration backoff_delay(const BackoffPolicy& policy, unsigned attempt, Random& random);

}  // namespace dbr::pubsub
