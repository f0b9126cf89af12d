#pragma once
// Time as the cores see it: a monotonic time point passed in by the caller.
// Cores never read a clock; adapters sample one `now` per dispatch and pass
// it down, tests pass virtual time.
#include <chrono>

namespace dbr {

using Clock = std::chrono::steady_clock;  // CLOCK_MONOTONIC on Linux
using TimePoint = Clock::time_point;
using Duration = Clock::duration;
using std::chrono::milliseconds;
using std::chrono::seconds;
// Config keys such as reconnectJitter-scaled delays are fractional seconds.
using FloatSeconds = std::chrono::duration<double>;

inline Duration to_duration(FloatSeconds s) {
  return std::chrono::duration_cast<Duration>(s);
}

inline double to_seconds(Duration d) {
  return std::chrono::duration_cast<FloatSeconds>(d).count();
}

}  // namespace dbr
