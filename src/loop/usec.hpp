#pragma once
// Conversions between sd-event's CLOCK_MONOTONIC microseconds and dbr::Clock.
#include <cstdint>

#include "common/time.hpp"

namespace dbr::loop {

inline std::uint64_t to_usec(Duration d) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  return us < 0 ? 0 : static_cast<std::uint64_t>(us);
}

inline std::uint64_t to_usec(TimePoint t) { return to_usec(t.time_since_epoch()); }

inline TimePoint from_usec(std::uint64_t usec) {
  return TimePoint(std::chrono::duration_cast<Duration>(std::chrono::microseconds(usec)));
}

}  // namespace dbr::loop
