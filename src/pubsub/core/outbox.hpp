#pragma once
// The application's group messages that the service has not acknowledged
// yet: waiting to be sent (no connection, group not joined yet) or in flight
// (sent with an ackId, ack not received).
//
// Bound: at most `capacity` entries and `capacity_bytes` of data, waiting
// and in flight together (a count alone would let 1000 messages of NATS's
// 1 MiB maximum hold a gigabyte). At either bound, push() first removes the
// OLDEST entries (in flight or waiting) and returns their ids so the caller
// can report and count the drops: the newest state matters most to the
// front end. A message alone larger than `capacity_bytes` is still kept (the
// message size has its own limit before it gets here).
//
// Order: entries keep submission order; in-flight entries always precede
// waiting ones (the oldest waiting entry is sent first, and a new connection
// turns every in-flight entry back into a waiting one at once).
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>


#include "common/time.hpp"
#include "pubsub/core/events.hpp"

namespace dbr::pubsub {

class Outbox {
 public:
  enum class Phase {
    Waiting,    // not sent on this session; gets a new ackId when sent
    InFlight,   // sent with ack_id; `due` is its ack deadline
    RetryWait,  // the service answered a transient error; resend with the same ack_id at `due`
  };

  struct Entry {
    MessageId id = 0;
    std::string data_json;
    Phase phase = Phase::Waiting;
    std::optional<std::uint64_t> ack_id;
    TimePoint due{};
    unsigned errors = 0;  // transient error acks received for this entry
  };

  static constexpr std::size_t kDefaultCapacityBytes = 4 * 1024 * 1024;

  explicit Outbox(std::size_t capacity, std::size_t capacity_bytes = kDefaultCapacityBytes)
      : capacity_(capacity == 0 ? 1 : capacity), capacity_bytes_(capacity_bytes) {}

  // Appends; returns the ids of the oldest entries the bounds made go,
  // oldest first.
  std::vector<MessageId> push(MessageId id, std::string data_json);

  // The oldest waiting entry, or nullptr.
  Entry* next_waiting();
  void mark_in_flight(Entry& entry, std::uint64_t ack_id, TimePoint ack_deadline);
  void mark_retry(Entry& entry, TimePoint resend_at);

  Entry* find_by_ack(std::uint64_t ack_id);
  // Removes an entry found by find_by_ack (or by id).
  void erase(MessageId id);

  // Entries holding an ackId whose deadline (ack timeout or retry time) has
  // passed, oldest first.
  std::vector<Entry*> due(TimePoint now);
  // Every entry holding an ackId, oldest first (for resending after recovery).
  std::vector<Entry*> unacknowledged();
  std::optional<TimePoint> earliest_due() const;

  // The session is gone: "fail every request still waiting for an ack". The
  // entries go back to waiting, in order, and will get new ackIds.
  void requeue_all();
  // Removes everything; returns the ids, oldest first.
  std::vector<MessageId> clear();

  // A new bound (config reload); returns the ids of the oldest entries it
  // pushed out, oldest first.
  std::vector<MessageId> set_capacity(std::size_t capacity);

  std::size_t size() const { return entries_.size(); }
  std::size_t bytes() const { return bytes_; }  // data held, waiting and in flight
  std::size_t in_flight() const;
  bool empty() const { return entries_.empty(); }

 private:
  void pop_oldest();

  std::size_t capacity_;
  std::size_t capacity_bytes_;
  std::size_t bytes_ = 0;
  std::deque<Entry> entries_;
};

}  // namespace dbr::pubsub
