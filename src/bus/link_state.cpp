#include "bus/link_state.hpp"

namespace dbr::bus {

LinkTransition transition(LinkState state, LinkEvent event) {
  if (event == LinkEvent::Closed) return {LinkState::Closed, state != LinkState::Closed};
  switch (state) {
    case LinkState::Connecting:
      if (event == LinkEvent::Connected) return {LinkState::Connected, true};
      if (event == LinkEvent::Disconnected) return {LinkState::Reconnecting, true};
      break;
    case LinkState::Connected:
      if (event == LinkEvent::Disconnected) return {LinkState::Reconnecting, true};
      break;
    case LinkState::Reconnecting:
      // libnats reports the end of a retried initial connect as "connected"
      // and later recoveries as "reconnected".
      if (event == LinkEvent::Connected || event == LinkEvent::Reconnected) return {LinkState::Connected, true};
      if (event == LinkEvent::Disconnected) return {LinkState::Reconnecting, true};
      break;
    case LinkState::Closed:
      break;
  }
  return {state, false};
}

std::string_view link_state_name(LinkState s) {
  switch (s) {
    case LinkState::Connecting: return "connecting";
    case LinkState::Connected: return "connected";
    case LinkState::Reconnecting: return "reconnecting";
    case LinkState::Closed: return "closed";
  }
  return "?";
}

std::string_view link_event_name(LinkEvent e) {
  switch (e) {
    case LinkEvent::Connected: return "connected";
    case LinkEvent::Disconnected: return "disconnected";
    case LinkEvent::Reconnected: return "reconnected";
    case LinkEvent::Closed: return "closed";
  }
  return "?";
}

}  // namespace dbr::bus
