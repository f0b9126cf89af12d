#include "pubsub/core/sequence.hpp"

#include <algorithm>

namespace dbr::pubsub {

SequenceTracker::Verdict SequenceTracker::on_message(std::uint64_t sequence_id, TimePoint now) {
  if (!owed_) owed_since_ = now;
  owed_ = true;
  if (sequence_id <= largest_) return Verdict::Duplicate;
  if (sequence_id - largest_ > kJumpForImmediateAck) immediate_ = true;
  largest_ = sequence_id;
  return Verdict::New;
}

std::optional<TimePoint> SequenceTracker::ack_due() const {
  if (!owed_ || largest_ == 0) return std::nullopt;
  if (immediate_ || !last_sent_) return *owed_since_;
  return std::max(*owed_since_, *last_sent_ + kAckInterval);
}

std::optional<std::uint64_t> SequenceTracker::take_ack(TimePoint now) {
  auto due = ack_due();
  if (!due || *due > now) return std::nullopt;
  owed_ = false;
  immediate_ = false;
  owed_since_.reset();
  last_sent_ = now;
  return largest_;
}

void SequenceTracker::resume(TimePoint now) {
  if (largest_ == 0) return;
  if (!owed_) owed_since_ = now;
  owed_ = true;
}

void SequenceTracker::reset() { *this = SequenceTracker{}; }

}  // namespace dbr::pubsub
