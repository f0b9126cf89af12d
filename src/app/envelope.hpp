#pragma once
// The JSON payloads the agent sends: group envelopes and NATS probes.
//
// dunebugger-protocol.md §1.1: "Agent → group: {"body": <any>, "subject":
// <str>, "source": "controller", "destination": "broadcast"}. The agent always
// broadcasts and never targets a single connection. destination is required."
#include <nlohmann/json.hpp>

#include <string_view>

namespace dbr::app {

inline constexpr std::string_view kSourceController = "controller";
inline constexpr std::string_view kDestinationBroadcast = "broadcast";

// Heartbeat bodies (§1.3, §1.4).
inline constexpr std::string_view kHeartbeatSubject = "heartbeat";
inline constexpr std::string_view kIAmAlive = "I am alive";
inline constexpr std::string_view kIsAnyoneThere = "Is anyone there?";
inline constexpr std::string_view kSystemInfoSubject = "system_info";

// {"body", "subject", "source": "controller", "destination": "broadcast"}.
nlohmann::json make_envelope(std::string_view subject, nlohmann::json body);

// The liveness probe sent to <root>.core.heartbeat and
// <root>.scheduler.heartbeat (§2): {"body":"are you there?",
// "subject":"heartbeat","source":"controller"}.
nlohmann::json component_probe_payload();

}  // namespace dbr::app
