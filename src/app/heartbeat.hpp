#pragma once
// The agent's half of the front end's liveness protocol (sans-IO).
//
// dunebugger-protocol.md §1.4:
// - "Each controller.heartbeat gets an immediate "I am alive", resets a 300 s
//   countdown and starts (or keeps) a loop sending "I am alive" every 60 s."
// - "When the countdown hits 0 it broadcasts "Is anyone there?" and pauses
//   the loop. An open front end answers and re-arms it; with none, the agent
//   goes quiet."
// - "After every successful connect and group join it also broadcasts "Is
//   anyone there?"" (the caller also pushes system_info then).
//
// Timing choices:
// - A controller.heartbeat while the loop runs keeps the loop's cadence (the
//   Python agent's loop thread did the same); only the countdown restarts.
// - When an "I am alive" tick and the end of the countdown fall on the same
//   instant, only "Is anyone there?" goes out (either body restarts the
//   front end's 65 s timer, so the tick would add nothing).
// - A late on_timeout (the loop was busy) sends one "I am alive" for all the
//   ticks it missed and keeps the original phase.
// - Joining does not touch the loop: a running loop keeps running.
//
// Outputs are queued bodies for a "heartbeat" envelope. The caller drains the
// queue after every input, so it holds one or two entries; its bound is
// kMaxQueued, and at the bound the OLDEST body is dropped (the newest one
// says the most about the loop's state).
#include <cstddef>
#include <deque>
#include <optional>
#include <string_view>

#include "common/time.hpp"

namespace dbr::app {

struct HeartbeatConfig {
  Duration every;          // heartBeatEverySecs
  Duration loop_duration;  // heartBeatLoopDurationSecs
  bool operator==(const HeartbeatConfig&) const = default;
};

class Heartbeat {
 public:
  static constexpr std::size_t kMaxQueued = 16;
  explicit Heartbeat(HeartbeatConfig config);

  // Joined the group (a new connection or a recovered one).
  void joined(TimePoint now);
  // A controller.heartbeat arrived from a front end.
  void controller_heartbeat(TimePoint now);
  // Call at (or after) next_deadline(); a call with nothing due is a no-op.
  void on_timeout(TimePoint now);

  std::optional<TimePoint> next_deadline() const;
  // The next body to broadcast as subject "heartbeat", oldest first.
  std::optional<std::string_view> poll();

  bool loop_running() const { return running_; }

 private:
  HeartbeatConfig config_;
  bool running_ = false;
  TimePoint next_alive_{};
  TimePoint countdown_end_{};
  void queue(std::string_view body);
  std::deque<std::string_view> out_;
};

}  // namespace dbr::app
