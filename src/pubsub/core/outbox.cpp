#include "pubsub/core/outbox.hpp"

#include <algorithm>

namespace dbr::pubsub {

std::vector<MessageId> Outbox::push(MessageId id, std::string data_json) {
  std::vector<MessageId> dropped;
  while (!entries_.empty() &&
         (entries_.size() >= capacity_ || bytes_ + data_json.size() > capacity_bytes_)) {
    dropped.push_back(entries_.front().id);
    pop_oldest();
  }
  Entry entry;
  entry.id = id;
  entry.data_json = std::move(data_json);
  bytes_ += entry.data_json.size();
  entries_.push_back(std::move(entry));
  return dropped;
}

std::vector<MessageId> Outbox::set_capacity(std::size_t capacity) {
  capacity_ = capacity == 0 ? 1 : capacity;
  std::vector<MessageId> dropped;
  while (entries_.size() > capacity_) {
    dropped.push_back(entries_.front().id);
    pop_oldest();
  }
  return dropped;
}

void Outbox::pop_oldest() {
  bytes_ -= entries_.front().data_json.size();
  entries_.pop_front();
}

Outbox::Entry* Outbox::next_waiting() {
  for (auto& entry : entries_)
    if (entry.phase == Phase::Waiting) return &entry;
  return nullptr;
}

void Outbox::mark_in_flight(Entry& entry, std::uint64_t ack_id, TimePoint ack_deadline) {
  entry.phase = Phase::InFlight;
  entry.ack_id = ack_id;
  entry.due = ack_deadline;
}

void Outbox::mark_retry(Entry& entry, TimePoint resend_at) {
  entry.phase = Phase::RetryWait;
  entry.due = resend_at;
}

Outbox::Entry* Outbox::find_by_ack(std::uint64_t ack_id) {
  for (auto& entry : entries_)
    if (entry.ack_id == ack_id) return &entry;
  return nullptr;
}

void Outbox::erase(MessageId id) {
  auto it = std::find_if(entries_.begin(), entries_.end(), [id](const Entry& e) { return e.id == id; });
  if (it == entries_.end()) return;
  bytes_ -= it->data_json.size();
  entries_.erase(it);
}

std::vector<Outbox::Entry*> Outbox::due(TimePoint now) {
  std::vector<Entry*> result;
  for (auto& entry : entries_)
    if (entry.phase != Phase::Waiting && entry.due <= now) result.push_back(&entry);
  return result;
}

std::vector<Outbox::Entry*> Outbox::unacknowledged() {
  std::vector<Entry*> result;
  for (auto& entry : entries_)
    if (entry.phase != Phase::Waiting) result.push_back(&entry);
  return result;
}

std::optional<TimePoint> Outbox::earliest_due() const {
  std::optional<TimePoint> earliest;
  for (const auto& entry : entries_) {
    if (entry.phase == Phase::Waiting) continue;
    if (!earliest || entry.due < *earliest) earliest = entry.due;
  }
  return earliest;
}

void Outbox::requeue_all() {
  for (auto& entry : entries_) {
    entry.phase = Phase::Waiting;
    entry.ack_id.reset();
    entry.errors = 0;
  }
}

std::vector<MessageId> Outbox::clear() {
  std::vector<MessageId> ids;
  ids.reserve(entries_.size());
  for (const auto& entry : entries_) ids.push_back(entry.id);
  entries_.clear();
  bytes_ = 0;
  return ids;
}

std::size_t Outbox::in_flight() const {
  return static_cast<std::size_t>(
      std::count_if(entries_.begin(), entries_.end(), [](const Entry& e) { return e.phase != Phase::Waiting; }));
}

}  // namespace dbr::pubsub
