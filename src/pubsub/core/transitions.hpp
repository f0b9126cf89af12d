#pragma once
// The connection supervisor's states (see docs/pubsub.md for the table) and
// its last transitions, for status output and logs.
// History bound: the newest kCapacity records; each new one beyond that
// replaces the oldest (total() still counts every transition).
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.hpp"

namespace dbr::pubsub {

enum class State : std::uint8_t {
  Stopped,             // no intent to be connected
  WaitingForInternet,  // intent, but the monitor says offline (or has not reported yet)
  Settling,            // internet is back; waiting networkSettle before attempting
  Connecting,          // a new connection attempt is in flight
  Connected,           // transport open and the `connected` message received (or recovered)
  Recovering,          // reliable session dropped; reattaching to it for up to 30 s
  BackingOff,          // waiting before the next new connection attempt
};

std::string_view state_name(State state);

struct TransitionRecord {
  TimePoint at{};
  State from = State::Stopped;
  State to = State::Stopped;
  std::string reason;
};

class TransitionHistory {
 public:
  static constexpr std::size_t kCapacity = 100;

  void push(TransitionRecord record);
  std::vector<TransitionRecord> records() const;  // oldest first
  std::size_t size() const { return size_; }
  std::uint64_t total() const { return total_; }

 private:
  std::array<TransitionRecord, kCapacity> ring_{};
  std::size_t next_ = 0;
  std::size_t size_ = 0;
  std::uint64_t total_ = 0;
};

}  // namespace dbr::pubsub
