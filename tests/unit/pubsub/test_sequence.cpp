#include <doctest/doctest.h>

#include "pubsub/core/sequence.hpp"

using namespace dbr;
using namespace dbr::pubsub;
using namespace std::chrono_literals;

TEST_CASE("sequence ids at or below the largest are duplicates") {
  SequenceTracker s;
  const TimePoint t = TimePoint{} + 10s;
  CHECK(s.on_message(1, t) == SequenceTracker::Verdict::New);
  CHECK(s.on_message(2, t) == SequenceTracker::Verdict::New);
  CHECK(s.on_message(2, t) == SequenceTracker::Verdict::Duplicate);
  CHECK(s.on_message(1, t) == SequenceTracker::Verdict::Duplicate);
  CHECK(s.on_message(5, t) == SequenceTracker::Verdict::New);  // a gap is fine: ids may be skipped
  CHECK(s.on_message(4, t) == SequenceTracker::Verdict::Duplicate);
  CHECK(s.largest() == 5);
}

TEST_CASE("sequenceAck: first one at once, then at most once a second, cumulative") {
  SequenceTracker s;
  const TimePoint t = TimePoint{} + 10s;
  CHECK_FALSE(s.ack_due());
  s.on_message(1, t);
  CHECK(s.take_ack(t) == 1u);
  CHECK_FALSE(s.ack_due());
  s.on_message(2, t + 100ms);
  s.on_message(3, t + 200ms);
  CHECK(*s.ack_due() == t + 1s);
  CHECK_FALSE(s.take_ack(t + 999ms));
  CHECK(s.take_ack(t + 1s) == 3u);
  // A quiet period: the next message is acknowledged when it arrives.
  s.on_message(4, t + 5s);
  CHECK(*s.ack_due() == t + 5s);
}

TEST_CASE("sequenceAck: a jump of more than 300 is acknowledged at once") {
  SequenceTracker s;
  const TimePoint t = TimePoint{} + 10s;
  s.on_message(1, t);
  REQUIRE(s.take_ack(t));
  s.on_message(301, t + 10ms);  // a jump of exactly 300 waits for the second
  CHECK(*s.ack_due() == t + 1s);
  s.on_message(602, t + 20ms);  // 301 more
  CHECK(*s.ack_due() <= t + 20ms);
  CHECK(s.take_ack(t + 20ms) == 602u);
}

TEST_CASE("duplicates make an ack due; resume re-sends; reset starts over") {
  SequenceTracker s;
  const TimePoint t = TimePoint{} + 10s;
  s.on_message(3, t);
  REQUIRE(s.take_ack(t) == 3u);
  s.on_message(2, t + 2s);  // a replay
  CHECK(s.take_ack(t + 2s) == 3u);
  s.resume(t + 2500ms);
  CHECK(s.take_ack(t + 3s) == 3u);
  s.reset();
  CHECK(s.largest() == 0);
  CHECK_FALSE(s.ack_due());
  CHECK(s.on_message(1, t + 4s) == SequenceTracker::Verdict::New);
}
