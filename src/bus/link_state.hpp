#pragma once
// The NATS link as the loop sees it: one transition function over
// (state, event), fed with the events libnats reports from its threads.
//
//   Connecting --connected--> Connected --disconnected--> Reconnecting
//        |                        ^                            |
//        +--disconnected--> Reconnecting --connected/reconnected+
//   any --closed--> Closed (sticky)
//
// Connecting: started, no server reached yet (libnats keeps trying every
// reconnect wait, "NATS missing at start never stops the agent").
#include <string_view>

namespace dbr::bus {

enum class LinkState { Connecting, Connected, Reconnecting, Closed };
enum class LinkEvent { Connected, Disconnected, Reconnected, Closed };

struct LinkTransition {
  LinkState next;
  bool expected;  // false: the pair is not in the table (state kept, except Closed)
};

LinkTransition transition(LinkState state, LinkEvent event);

std::string_view link_state_name(LinkState s);
std::string_view link_event_name(LinkEvent e);

}  // namespace dbr::bus
