#pragma once
// Where each message goes: pure functions of the message, no state.
//
// Group → bus (dunebugger-protocol.md §1.1): "drop anything with source ==
// "controller" (loop guard), then split subject on the first ".". Recipient
// core or scheduler is forwarded to NATS (§2) and controller is handled
// locally. Anything else, including a subject with no dot, is ignored with
// only a debug log."
//
// Bus → group (§2): the agent reads x from the third token of
// <root>.<clientId>.<x>; the listed subjects are re-broadcast with the
// payload's subject and body, component heartbeats are recorded, "anything
// else is logged as a warning and dropped".
//
// Decisions the spec leaves open:
// - A front-end name that is not one NATS token (empty, or containing '.',
//   '*', '>' or white space) is ignored: "A name containing a dot would not
//   match the one-token subscriptions", so no component would ever get it.
// - The forwarded payload is the front-end object with "subject" replaced by
//   the name; every other key (body, connectionId, ...) passes unchanged.
// - A bus payload that is not a JSON object with a string "subject" and a
//   "body" is dropped (the Python agent raised KeyError and dropped it).
// - broadcastInitialState is not the router's business: AppCore::send_to_group
//   is the one place that honours it.
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "app/components.hpp"

namespace dbr::app {

// ---- group → bus / controller ---------------------------------------------
struct ForwardToBus {
  std::string subject;      // <root>.<recipient>.<name>
  nlohmann::json payload;   // {subject: name, body, connectionId, ...}
};
struct HeartbeatReceived {};
struct SystemInfoRequested {};
enum class IgnoreReason {
  NotAnObject,               // data is not a JSON object
  LoopGuard,                 // source == "controller"
  NoSubject,                 // no string "subject"
  NoDot,                     // subject without a '.'
  UnknownRecipient,          // recipient not core/scheduler/controller
  UnknownControllerSubject,  // controller.<something we do not handle>
  NotOneToken,               // name empty or not a single NATS token
};
struct Ignore {
  IgnoreReason reason;
  std::string detail;  // for the DEBUG line
};
using GroupRoute = std::variant<ForwardToBus, HeartbeatReceived, SystemInfoRequested, Ignore>;

// ---- bus → group -----------------------------------------------------------
struct Broadcast {
  nlohmann::json envelope;  // make_envelope(payload.subject, payload.body)
};
struct ComponentHeartbeat {
  Component component;
};
enum class DropReason {
  ForeignSubject,   // not <root>.<clientId>.<one token>
  NotJson,          // payload does not parse
  NotAnObject,      // payload is not an object
  MissingFields,    // no string "subject" or no "body"
  UnknownSubject,   // x not in the forwarded list and not heartbeat
  UnknownHeartbeatSource,  // heartbeat whose source is not core/scheduler
};
struct Drop {
  DropReason reason;
  std::string detail;  // for the WARNING line
};
using BusRoute = std::variant<Broadcast, ComponentHeartbeat, Drop>;

std::string_view describe(IgnoreReason r);
std::string_view describe(DropReason r);

// The NATS subjects x (in <root>.<clientId>.x) re-broadcast to the group.
const std::vector<std::string_view>& forwarded_bus_subjects();

class Router {
 public:
  // `subject_root`: mQueueSubjectRoot ("dunebugger"); `client_id`:
  // mQueueClientID ("remote"). Both are single NATS tokens (config checks).
  Router(std::string subject_root, std::string client_id);

  GroupRoute route_group(const nlohmann::json& data) const;
  BusRoute route_bus(std::string_view subject, std::string_view payload) const;

  // "<root>.<clientId>.*": the one subscription the agent needs.
  std::string subscription() const;
  // "<root>.core.heartbeat" and "<root>.scheduler.heartbeat".
  std::vector<std::string> probe_subjects() const;

 private:
  std::string root_;
  std::string client_id_;
  std::string inbound_prefix_;  // "<root>.<clientId>."
};

}  // namespace dbr::app
