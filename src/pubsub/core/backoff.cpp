#include "pubsub/core/backoff.hpp"

#include <algorithm>

namespace dbr::pubsub {

Duration nominal_delay(const BackoffPolicy& policy, unsigned attempt) {
  // Double step by step so a large attempt number cannot overflow.
  Duration delay = policy.initial;
  for (unsigned i = 0; i < attempt && delay < policy.max; ++i) delay *= 2;
  return std::min(delay, policy.max);
}

Duration backoff_delay(const BackoffPolicy& policy, unsigned attempt, Random& random) {
  double u = 2.0 * random.uniform01() - 1.0;  // [-1, 1)
  double factor = 1.0 + policy.jitter * u;
  auto jittered = to_duration(FloatSeconds(to_seconds(nominal_delay(policy, attempt)) * factor));
  return std::max(jittered, policy.floor);
}

}  // namespace dbr::pubsub
