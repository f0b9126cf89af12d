#include "common/burst_log.hpp"

namespace dbr {

bool BurstLog::event(TimePoint now, std::uint64_t count) {
  if (count == 0) return false;
  if (!summary_due_) {
    summary_due_ = now + period_;
    counted_ = 0;  // the caller's line tells all `count` of them
    return true;
  }
  counted_ += count;
  return false;
}

std::uint64_t BurstLog::take_summary(TimePoint now) {
  if (!summary_due_ || now < *summary_due_) return 0;
  const std::uint64_t counted = counted_;
  counted_ = 0;
  // Events in the last period: the burst goes on; none: it is over.
  if (counted > 0)
    summary_due_ = now + period_;
  else
    summary_due_.reset();
  return counted;
}

}  // namespace dbr
