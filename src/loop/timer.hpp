#pragma once
// A one-shot, re-armable timer on the loop's monotonic clock.
//
// Cores return a next deadline; the adapter keeps one Timer per core and
// re-arms it after every input (arm_at), or cancels it when the core has none.
#include <cstdint>
#include <functional>
#include <optional>

#include "common/time.hpp"

struct sd_event_source;

namespace dbr::loop {

class EventLoop;

class Timer {
 public:
  // `slack`: how late the loop may fire it, so it can fire with another
  // wakeup instead of one of its own (sd-event's accuracy). 1 ms by default:
  // backoff and keepalive timings are measured by the tests; a timer that
  // needs no precision (a heartbeat) can allow seconds.
  Timer(EventLoop& loop, std::function<void()> on_fire, Duration slack = std::chrono::milliseconds(1));
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  void arm_at(TimePoint deadline);
  void arm_in(Duration delay);
  // Arms at `deadline` if set, cancels otherwise.
  void arm_at(std::optional<TimePoint> deadline);
  void cancel();
  bool armed() const;
  std::optional<TimePoint> deadline() const;

 private:
  static int on_time(sd_event_source*, std::uint64_t, void*);
  EventLoop& loop_;
  std::function<void()> on_fire_;
  sd_event_source* source_ = nullptr;
};

}  // namespace dbr::loop
