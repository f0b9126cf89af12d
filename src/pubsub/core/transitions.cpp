#include "pubsub/core/transitions.hpp"

#include "common/enum_names.hpp"

namespace dbr::pubsub {

constexpr auto kStateNames = enum_names<State>({
    {State::Stopped, "Stopped"}, {State::WaitingForInternet, "WaitingForInternet"}, {State::Settling, "Settling"},
    {State::Connecting, "Connecting"}, {State::Connected, "Connected"}, {State::Recovering, "Recovering"},
    {State::BackingOff, "BackingOff"}});
std::string_view state_name(State state) { return kStateNames.name(state, "?"); }

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
