#pragma once
// Reliable protocol, service -> client sequencing (webpubsub-protocol.md §4):
// "The client tracks the largest id seen and drops any message with an id
// less than or equal to it", and acknowledges cumulatively with
// sequenceAck. We send that ack at most once a second, except at once when
// a single message jumps the largest id by more than 300 (as the JS SDK).
// Duplicates also make an ack due: a replay means the service still holds
// messages we already have.
#include <cstdint>
#include <optional>

#include "common/time.hpp"

namespace dbr::pubsub {

class SequenceTracker {
 public:
  static constexpr std::uint64_t kJumpForImmediateAck = 300;
  static constexpr Duration kAckInterval = std::chrono::seconds(1);

  enum class Verdict { New, Duplicate };

  Verdict on_message(std::uint64_t sequence_id, TimePoint now);

  // When the next sequenceAck should go out; nullopt when none is owed.
  std::optional<TimePoint> ack_due() const;
  // The id to acknowledge if an ack is due at `now` (and records it as sent).
  std::optional<std::uint64_t> take_ack(TimePoint now);

  // A recovered connection: re-send the ack, the last one may have been lost.
  void resume(TimePoint now);
  // A new connection: "reset the local sequenceId to 0".
  void reset();

  std::uint64_t largest() const { return largest_; }

 private:
  std::uint64_t largest_ = 0;
  bool owed_ = false;
  std::optional<TimePoint> owed_since_;
  bool immediate_ = false;
  std::optional<TimePoint> last_sent_;
};

}  // namespace dbr::pubsub
