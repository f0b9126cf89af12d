#include "loop/timer.hpp"

#include <systemd/sd-event.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "loop/event_loop.hpp"
#include "loop/usec.hpp"

namespace dbr::loop {

Timer::Timer(EventLoop& loop, std::function<void()> on_fire, Duration slack)
    : loop_(loop), on_fire_(std::move(on_fire)) {
  // sd-event's default accuracy (0 means 250 ms): never ours.
  std::uint64_t accuracy = std::max<std::uint64_t>(1, to_usec(slack));
  int r = sd_event_add_time(loop_.raw(), &source_, CLOCK_MONOTONIC, 0, accuracy, &Timer::on_time, this);
  if (r < 0) throw std::runtime_error(std::string("sd_event_add_time: ") + std::strerror(-r));
  (void)sd_event_source_set_enabled(source_, SD_EVENT_OFF);
}

Timer::~Timer() { sd_event_source_disable_unref(source_); }

void Timer::arm_at(TimePoint deadline) {
  (void)sd_event_source_set_time(source_, to_usec(deadline));
  (void)sd_event_source_set_enabled(source_, SD_EVENT_ONESHOT);
}

void Timer::arm_in(Duration delay) { arm_at(loop_.now() + delay); }

void Timer::arm_at(std::optional<TimePoint> deadline) {
  if (deadline)
    arm_at(*deadline);
  else
    cancel();
}

void Timer::cancel() { (void)sd_event_source_set_enabled(source_, SD_EVENT_OFF); }

bool Timer::armed() const {
  int enabled = SD_EVENT_OFF;
  (void)sd_event_source_get_enabled(source_, &enabled);
  return enabled != SD_EVENT_OFF;
}

std::optional<TimePoint> Timer::deadline() const {
  if (!armed()) return std::nullopt;
  std::uint64_t usec = 0;
  if (sd_event_source_get_time(source_, &usec) < 0) return std::nullopt;
  return from_usec(usec);
}

int Timer::on_time(sd_event_source*, std::uint64_t, void* userdata) {
  auto* self = static_cast<Timer*>(userdata);
  // ONESHOT already disabled the source, so the callback may re-arm it.
  self->on_fire_();
  return 0;
}

}  // namespace dbr::loop
