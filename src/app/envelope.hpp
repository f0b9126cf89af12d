#pragma once
// The JSON the agent writes itself: group envelopes and NATS probes, as
// text, keys in upstream's order (dunebugger-protocol.md §6: "NATS payloads
// are Python json.dumps output: keys in insertion order").
//
// §1.1: "Agent → group: {"body": <any>, "subject": <str>, "source":
// "controller", "destination": "broadcast"}. The agent always broadcasts and
// never targets a single connection. destination is required."
#include <string>
#include <string_view>

namespace dbr::app {

inline constexpr std::string_view kSourceController = "controller";
inline constexpr std::string_view kDestinationBroadcast = "broadcast";

// Heartbeat bodies (§1.3, §1.4).
inline constexpr std::string_view kHeartbeatSubject = "heartbeat";
inline constexpr std::string_view kIAmAlive = "I am alive";
inline constexpr std::string_view kIsAnyoneThere = "Is anyone there?";
inline constexpr std::string_view kSystemInfoSubject = "system_info";

// {"body":<body_json>,"subject":<subject_json>,"source":"controller",
// "destination":"broadcast"}. Both arguments are JSON text (a string
// literal and one value), put in as they are: a relayed body keeps its
// bytes. For the agent's own messages: make_envelope(quote(subject), ...).
std::string make_envelope(std::string_view subject_json, std::string_view body_json);

// The liveness probe sent to <root>.core.heartbeat and
// <root>.scheduler.heartbeat (§2): {"body":"are you there?",
// "subject":"heartbeat","source":"controller"}.
std::string component_probe_payload();

}  // namespace dbr::app
