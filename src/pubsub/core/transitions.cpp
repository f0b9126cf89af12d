#include "pubsub/core/transitions.hpp"

namespace dbr::pubsub {

std::string_view state_name(State state) {
  switch (state) {
    case State::Stopped: return "Stopped";
    case State::WaitingForInternet: return "WaitingForInternet";
    case State::Settling: return "Settling";
    case State::Connecting: return "Connecting";
    case State::Connected: return "Connected";
    case State::Recovering: return "Recovering";
    case State::BackingOff: return "BackingOff";
  }
  return "?";
}

void TransitionHistory::push(TransitionRecord record) {
  ring_[next_] = std::move(record);
  next_ = (next_ + 1) % kCapacity;
  if (size_ < kCapacity) ++size_;
  ++total_;
}

std::vector<TransitionRecord> TransitionHistory::records() const {
  std::vector<TransitionRecord> out;
  out.reserve(size_);
  std::size_t first = (next_ + kCapacity - size_) % kCapacity;
  for (std::size_t i = 0; i < size_; ++i) out.push_back(ring_[(first + i) % kCapacity]);
  return out;
}

}  // namespace dbr::pubsub
