#include <doctest/doctest.h>

#include <vector>

#include "pubsub/core/outbox.hpp"

using namespace dbr;
using namespace dbr::pubsub;
using namespace std::chrono_literals;

TEST_CASE("outbox: at the bound the oldest entry goes, whatever its phase") {
  Outbox box(3);
  using Ids = std::vector<MessageId>;
  CHECK(box.push(1, std::to_string(1)).empty());
  CHECK(box.push(2, std::to_string(2)).empty());
  box.mark_in_flight(*box.next_waiting(), 100, TimePoint{} + 30s);
  CHECK(box.push(3, std::to_string(3)).empty());
  CHECK(box.size() == 3);
  CHECK(box.push(4, std::to_string(4)) == Ids{1});  // in flight, but the oldest
  CHECK(box.push(5, std::to_string(5)) == Ids{2});
  CHECK(box.size() == 3);
  CHECK(box.find_by_ack(100) == nullptr);
}

TEST_CASE("outbox: the byte bound drops as many of the oldest as it takes, and keeps its count true") {
  using Ids = std::vector<MessageId>;
  Outbox box(1000, 100);  // bytes of data
  CHECK(box.push(1, std::string(40, 'a')).empty());
  CHECK(box.push(2, std::string(40, 'b')).empty());
  CHECK(box.bytes() == 80);
  // 80 + 30 > 100: the oldest goes, though the count is far from its bound.
  CHECK(box.push(3, std::string(30, 'c')) == Ids{1});
  CHECK(box.bytes() == 70);
  // A large one pushes out every older entry it must.
  CHECK(box.push(4, std::string(95, 'd')) == Ids{2, 3});
  CHECK(box.bytes() == 95);
  // One alone over the bound is kept (the message size has its own limit).
  CHECK(box.push(5, std::string(150, 'e')) == Ids{4});
  CHECK(box.size() == 1);
  CHECK(box.bytes() == 150);
  // Acks, a cleared session and a lowered count give their bytes back.
  box.mark_in_flight(*box.next_waiting(), 7, TimePoint{} + 30s);
  box.erase(box.find_by_ack(7)->id);
  CHECK(box.bytes() == 0);
  box.push(6, "xy");
  box.push(7, "xyz");
  CHECK(box.set_capacity(1) == Ids{6});
  CHECK(box.bytes() == 3);
  box.clear();
  CHECK(box.bytes() == 0);
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
