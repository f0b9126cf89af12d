#pragma once
// Where each message goes: pure functions of the message's JSON text, no
// state. Only what routing needs is read (source, subject); what is relayed
// keeps its bytes: a body passes as the exact text it arrived as, and a
// forwarded request is the front end's object with only the value of
// "subject" replaced (json_text::splice).
//
// Group → bus (dunebugger-protocol.md §1.1): "drop anything with source ==
// "controller" (loop guard), then split subject on the first ".". Recipient
// core or scheduler is forwarded to NATS (§2) and controller is handled
// locally. Anything else, including a subject with no dot, is ignored with
// only a debug log." Upstream develop (§6) adds controller.ntp_status, also
// reachable as updater.ntp_status.
//
// Bus → group (§2, §6): the agent reads x from the third token of
// <root>.<clientId>.<x>; the listed subjects are re-broadcast with the
// payload's subject and body, component heartbeats are credited to the
// component the payload's `source` names (never the NATS connection),
// get_ntp_status is answered when the scheduler asks, "anything else is
// logged as a warning and dropped".
//
// Decisions the spec leaves open:
// - A front-end name that is not one NATS token (empty, or containing '.',
//   '*', '>' or white space) is ignored: "A name containing a dot would not
//   match the one-token subscriptions", so no component would ever get it.
// - A bus payload that is not a JSON object with a string "subject" and a
//   "body" is dropped (the Python agent raised KeyError and dropped it).
// - get_ntp_status from another source than the scheduler is dropped as an
//   unknown subject, as upstream does.
// - broadcastInitialState is not the router's business: AppCore::send_to_group
//   is the one place that honours it.
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "app/components.hpp"

namespace dbr::app {

// ---- group → bus / controller ---------------------------------------------
struct ForwardToBus {
  std::string subject;  // <root>.<recipient>.<name>
  std::string payload;  // the front end's object, "subject" now the name, every other byte as it came
};
struct HeartbeatReceived {};
struct SystemInfoRequested {};
struct NtpStatusRequested {};
enum class IgnoreReason {
  NotAnObject,          // data is not a JSON object
  LoopGuard,            // source == "controller"
  NoSubject,            // no string "subject"
  NoDot,                // subject without a '.'
  UnknownRecipient,     // recipient not core/scheduler/controller/updater
  UnknownLocalSubject,  // controller.<something we do not handle> (or updater.)
  NotOneToken,          // name empty or not a single NATS token
};
struct Ignore {
  IgnoreReason reason;
  std::string detail;  // for the DEBUG line
};
using GroupRoute = std::variant<ForwardToBus, HeartbeatReceived, SystemInfoRequested, NtpStatusRequested, Ignore>;

// ---- bus → group -----------------------------------------------------------
struct Broadcast {
  std::string envelope;  // make_envelope(payload's subject, payload's body bytes)
};
struct ComponentHeartbeat {
  Component component;
};
struct NtpStatusAsked {};  // the scheduler's get_ntp_status
enum class DropReason {
  ForeignSubject,          // not <root>.<clientId>.<one token>
  NotJson,                 // payload does not parse
  NotAnObject,             // payload is not an object
  MissingFields,           // no string "subject" or no "body"
  UnknownSubject,          // x not handled (get_ntp_status from another source than the scheduler too)
  UnknownHeartbeatSource,  // heartbeat whose source is not core/scheduler
};
struct Drop {
  DropReason reason;
  std::string detail;  // for the WARNING line
};
using BusRoute = std::variant<Broadcast, ComponentHeartbeat, NtpStatusAsked, Drop>;

std::string_view describe(IgnoreReason r);
std::string_view describe(DropReason r);

// The NATS subjects x (in <root>.<clientId>.x) re-broadcast to the group.
const std::vector<std::string_view>& forwarded_bus_subjects();

class Router {
 public:
  // `subject_root`: mQueueSubjectRoot ("dunebugger"); `client_id`:
  // mQueueClientID ("remote"). Both are single NATS tokens (config checks).
  Router(std::string subject_root, std::string client_id);

  // `data_json`: a group message's data, as the service sent it.
  GroupRoute route_group(std::string_view data_json) const;
  BusRoute route_bus(std::string_view subject, std::string_view payload) const;

  // "<root>.<clientId>.*": the one subscription the agent needs.
  std::string subscription() const;
  // "<root>.core.heartbeat" and "<root>.scheduler.heartbeat".
  std::vector<std::string> probe_subjects() const;
  // "<root>.scheduler.<name>": where the agent tells the scheduler.
  std::string scheduler_subject(std::string_view name) const;

 private:
  std::string root_;
  std::string client_id_;
  std::string inbound_prefix_;  // "<root>.<clientId>."
};

}  // namespace dbr::app
