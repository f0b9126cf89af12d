// The NATS link's transition table.
#include <doctest/doctest.h>

#include "bus/link_state.hpp"

using namespace dbr::bus;

TEST_CASE("every (state, event) pair: the table and what is outside it") {
  struct Row {
    LinkState from;
    LinkEvent event;
    LinkState to;
    bool expected;
  };
  const Row rows[] = {
      {LinkState::Connecting, LinkEvent::Connected, LinkState::Connected, true},
      {LinkState::Connecting, LinkEvent::Disconnected, LinkState::Reconnecting, true},
      {LinkState::Connecting, LinkEvent::Reconnected, LinkState::Connecting, false},
      {LinkState::Connecting, LinkEvent::Closed, LinkState::Closed, true},
      {LinkState::Connected, LinkEvent::Connected, LinkState::Connected, false},
      {LinkState::Connected, LinkEvent::Disconnected, LinkState::Reconnecting, true},
      {LinkState::Connected, LinkEvent::Reconnected, LinkState::Connected, false},
      {LinkState::Connected, LinkEvent::Closed, LinkState::Closed, true},
      {LinkState::Reconnecting, LinkEvent::Connected, LinkState::Connected, true},
      {LinkState::Reconnecting, LinkEvent::Disconnected, LinkState::Reconnecting, true},
      {LinkState::Reconnecting, LinkEvent::Reconnected, LinkState::Connected, true},
      {LinkState::Reconnecting, LinkEvent::Closed, LinkState::Closed, true},
      {LinkState::Closed, LinkEvent::Connected, LinkState::Closed, false},
      {LinkState::Closed, LinkEvent::Disconnected, LinkState::Closed, false},
      {LinkState::Closed, LinkEvent::Reconnected, LinkState::Closed, false},
      {LinkState::Closed, LinkEvent::Closed, LinkState::Closed, false},
  };
  for (const auto& r : rows) {
    CAPTURE(link_state_name(r.from));
    CAPTURE(link_event_name(r.event));
    auto t = transition(r.from, r.event);
    CHECK(t.next == r.to);
    CHECK(t.expected == r.expected);
  }
}
