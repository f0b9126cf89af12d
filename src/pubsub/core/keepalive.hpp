#pragma once
// Application-level keepalive for an open connection. Any frame received
// proves the connection alive (webpubsub-protocol.md §5: "Any inbound message
// counts as proof of life"). A `ping` is due `interval` after the later of the
// last frame received and the last ping sent; the connection is dead once
// nothing at all has arrived for `timeout`, so a silent (half-open)
// connection is noticed at most `timeout` after the last sign of life.
#include <optional>

#include "common/time.hpp"

namespace dbr::pubsub {

class Keepalive {
 public:
  enum class Due { Nothing, SendPing, Dead };

  Keepalive(Duration interval, Duration timeout) : interval_(interval), timeout_(timeout) {}

  // New interval and timeout (config reload); deadlines move at once.
  void retune(Duration interval, Duration timeout) {
    interval_ = interval;
    timeout_ = timeout;
  }

  void start(TimePoint now);  // the connection is up: counts as a sign of life
  void stop();                // no deadlines until the next start
  bool running() const { return running_; }

  void received(TimePoint now);  // any frame, WebSocket control frames too
  void ping_sent(TimePoint now);

  std::optional<TimePoint> ping_due() const;
  std::optional<TimePoint> dead_at() const;
  std::optional<TimePoint> next_deadline() const;

  // Dead wins over SendPing. The caller sends the ping and calls ping_sent().
  Due on_timeout(TimePoint now) const;

 private:
  Duration interval_;
  Duration timeout_;
  bool running_ = false;
  TimePoint last_received_{};
  TimePoint last_ping_{};
};

}  // namespace dbr::pubsub
