#include "app/heartbeat.hpp"

#include <algorithm>

#include "app/envelope.hpp"

namespace dbr::app {

Heartbeat::Heartbeat(HeartbeatConfig config) : config_(config) {
  // Guard against a zero period (config allows >= 1 s): a zero would spin.
  config_.every = std::max(config_.every, Duration(std::chrono::milliseconds(1)));
}

void Heartbeat::joined(TimePoint) { queue(kIsAnyoneThere); }

void Heartbeat::controller_heartbeat(TimePoint now) {
  queue(kIAmAlive);
  countdown_end_ = now + config_.loop_duration;
  if (!running_) {
    running_ = true;
    next_alive_ = now + config_.every;
  }
}

void Heartbeat::on_timeout(TimePoint now) {
  if (!running_) return;
  if (countdown_end_ <= now && countdown_end_ <= next_alive_) {
    queue(kIsAnyoneThere);
    running_ = false;
    return;
  }
  if (next_alive_ <= now) {
    queue(kIAmAlive);
    // Keep the phase; skip ticks already in the past so a stall sends one.
    auto missed = (now - next_alive_) / config_.every;
    next_alive_ += (missed + 1) * config_.every;
    // The countdown may have ended during the stall, after the tick we just
    // sent: handle it now rather than waiting for another wakeup.
    if (countdown_end_ <= now) {
      queue(kIsAnyoneThere);
      running_ = false;
    }
  }
}

std::optional<TimePoint> Heartbeat::next_deadline() const {
  if (!running_) return std::nullopt;
  return std::min(next_alive_, countdown_end_);
}

void Heartbeat::queue(std::string_view body) {
  if (out_.size() >= kMaxQueued) out_.pop_front();
  out_.push_back(body);
}

std::optional<std::string_view> Heartbeat::poll() {
  if (out_.empty()) return std::nullopt;
  auto body = out_.front();
  out_.pop_front();
  return body;
}

}  // namespace dbr::app
