#include "loop/burst_timer.hpp"

#include "loop/event_loop.hpp"

namespace dbr::loop {

BurstTimer::BurstTimer(EventLoop& loop, Duration period, std::function<void(std::uint64_t)> write_summary)
    : loop_(loop),
      log_(period),
      write_summary_(std::move(write_summary)),
      // A summary needs no precision: let it share another wakeup.
      timer_(loop, [this] { on_timer(); }, std::chrono::seconds(1)) {}

bool BurstTimer::event(std::uint64_t count) {
  const bool tell = log_.event(loop_.now(), count);
  if (!timer_.armed()) timer_.arm_at(log_.deadline());
  return tell;
}

void BurstTimer::on_timer() {
  if (std::uint64_t more = log_.take_summary(loop_.now()); more > 0) write_summary_(more);
  timer_.arm_at(log_.deadline());
}

}  // namespace dbr::loop
