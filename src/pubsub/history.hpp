#pragma once
// The supervisor's last transitions, for status output and logs.
// Bound: the newest kCapacity records; each new one beyond that replaces the
// oldest (total() still counts every transition).
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/time.hpp"
#include "pubsub/state.hpp"

namespace dbr::pubsub {

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
