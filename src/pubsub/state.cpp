#include "pubsub/state.hpp"

namespace dbr::pubsub {

std::string_view state_name(State state) {
  switch (state) {
    case State::Stopped: return "Stopped";
    case State::WaitingForInternet: return "WaitingForInternet";
    case State::Settling: return "Settling";
    case State::Connecting: return "Connecting";
    case State::Connected: return "Connected";
    case State::Recovering: return "Recovering";
    case State::BackingOff: return "BackingOff";
  }
  return "?";
}

}  // namespace dbr::pubsub
