#include "bus/link_state.hpp"

#include "common/enum_names.hpp"

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

constexpr auto kLinkStateNames = enum_names<LinkState>({
    {LinkState::Connecting, "connecting"}, {LinkState::Connected, "connected"},
    {LinkState::Reconnecting, "reconnecting"}, {LinkState::Closed, "closed"}});
std::string_view link_state_name(LinkState s) { return kLinkStateNames.name(s, "?"); }

constexpr auto kLinkEventNames = enum_names<LinkEvent>({
    {LinkEvent::Connected, "connected"}, {LinkEvent::Disconnected, "disconnected"},
    {LinkEvent::Reconnected, "reconnected"}, {LinkEvent::Closed, "closed"}});
std::string_view link_event_name(LinkEvent e) { return kLinkEventNames.name(e, "?"); }

}  // namespace dbr::bus
