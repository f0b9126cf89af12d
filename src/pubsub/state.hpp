#pragma once
// The connection supervisor's states (see docs/pubsub.md for the table).
#include <cstdint>
#include <string_view>

namespace dbr::pubsub {

enum class State : std::uint8_t {
  Stopped,             // no intent to be connected
  WaitingForInternet,  // intent, but the monitor says offline (or has not reported yet)
  Settling,            // internet is back; waiting networkSettle before attempting
  Connecting,          // a new connection attempt is in flight
  Connected,           // transport open and the `connected` message received (or recovered)
  Recovering,          // reliable session dropped; reattaching to it for up to 30 s
  BackingOff,          // waiting before the next new connection attempt
};

std::string_view state_name(State state);

}  // namespace dbr::pubsub
