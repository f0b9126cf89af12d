#include <doctest/doctest.h>

#include <vector>

#include "pubsub/core/outbox.hpp"

using namespace dbr;
using namespace dbr::pubsub;
using namespace std::chrono_literals;

TEST_CASE("outbox: at the bound the oldest entry goes, whatever its phase") {
  Outbox box(3);
  CHECK_FALSE(box.push(1, std::to_string(1)));
  CHECK_FALSE(box.push(2, std::to_string(2)));
  box.mark_in_flight(*box.next_waiting(), 100, TimePoint{} + 30s);
  CHECK_FALSE(box.push(3, std::to_string(3)));
  CHECK(box.size() == 3);
  CHECK(box.push(4, std::to_string(4)) == 1u);  // in flight, but the oldest
  CHECK(box.push(5, std::to_string(5)) == 2u);
  CHECK(box.size() == 3);
  CHECK(box.find_by_ack(100) == nullptr);
}

TEST_CASE("outbox: waiting entries come out oldest first; acks remove from anywhere") {
  Outbox box(10);
  for (MessageId id = 1; id <= 4; ++id) box.push(id, std::to_string(id));
  std::uint64_t ack = 10;
  while (auto* e = box.next_waiting()) box.mark_in_flight(*e, ack++, TimePoint{} + 30s);
  CHECK(box.in_flight() == 4);
  Outbox::Entry* third = box.find_by_ack(12);
  REQUIRE(third);
  CHECK(third->id == 3);
  box.erase(third->id);
  auto rest = box.unacknowledged();
  REQUIRE(rest.size() == 3);
  CHECK(rest[0]->id == 1);
  CHECK(rest[1]->id == 2);
  CHECK(rest[2]->id == 4);
}

TEST_CASE("outbox: requeue_all turns in-flight entries back to waiting in order, without ackIds") {
  Outbox box(10);
  for (MessageId id = 1; id <= 3; ++id) box.push(id, std::to_string(id));
  box.mark_in_flight(*box.next_waiting(), 50, TimePoint{} + 30s);
  box.mark_in_flight(*box.next_waiting(), 51, TimePoint{} + 30s);
  box.push(4, std::to_string(4));
  box.requeue_all();
  CHECK(box.in_flight() == 0);
  std::vector<MessageId> order;
  while (auto* e = box.next_waiting()) {
    CHECK_FALSE(e->ack_id);
    order.push_back(e->id);
    box.mark_in_flight(*e, 60 + e->id, TimePoint{});
  }
  CHECK(order == std::vector<MessageId>{1, 2, 3, 4});
}

TEST_CASE("outbox: due entries and the earliest deadline") {
  Outbox box(10);
  const TimePoint t = TimePoint{} + 100s;
  for (MessageId id = 1; id <= 3; ++id) box.push(id, std::to_string(id));
  box.mark_in_flight(*box.next_waiting(), 1, t + 30s);
  box.mark_in_flight(*box.next_waiting(), 2, t + 10s);
  CHECK(*box.earliest_due() == t + 10s);
  CHECK(box.due(t + 9s).empty());
  auto due = box.due(t + 10s);
  REQUIRE(due.size() == 1);
  CHECK(due[0]->id == 2);
  box.mark_retry(*due[0], t + 11s);
  CHECK(*box.earliest_due() == t + 11s);
  CHECK(box.clear() == std::vector<MessageId>{1, 2, 3});
  CHECK_FALSE(box.earliest_due());
}
