#include "pubsub/core/keepalive.hpp"

#include <algorithm>

namespace dbr::pubsub {

void Keepalive::start(TimePoint now) {
  running_ = true;
  last_received_ = now;
  last_ping_ = now;
}

void Keepalive::stop() { running_ = false; }

void Keepalive::received(TimePoint now) { last_received_ = std::max(last_received_, now); }

void Keepalive::ping_sent(TimePoint now) { last_ping_ = std::max(last_ping_, now); }

std::optional<TimePoint> Keepalive::ping_due() const {
  if (!running_) return std::nullopt;
  return std::max(last_received_, last_ping_) + interval_;
}

std::optional<TimePoint> Keepalive::dead_at() const {
  if (!running_) return std::nullopt;
  return last_received_ + timeout_;
}

std::optional<TimePoint> Keepalive::next_deadline() const {
  if (!running_) return std::nullopt;
  return std::min(*ping_due(), *dead_at());
}

Keepalive::Due Keepalive::on_timeout(TimePoint now) const {
  if (!running_) return Due::Nothing;
  if (now >= *dead_at()) return Due::Dead;
  if (now >= *ping_due()) return Due::SendPing;
  return Due::Nothing;
}

}  // namespace dbr::pubsub
