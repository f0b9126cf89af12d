// libFuzzer target for the app router: what the front end sends through
// the group (route_group) and what the core and the scheduler publish on
// NATS (route_bus), dunebugger-protocol.md §1.1 and §2.
//
// Input: the first line is a NATS subject, the rest its payload; the whole
// input is also a group message's data. Checked besides the sanitizers,
// with nlohmann as an independent reader of the same JSON (when it accepts
// it; json_text_fuzz compares the two readers):
//   group → bus:
//   - the route follows from the data's "source" and "subject" as §1.1 says
//     (loop guard, recipient, controller subjects, one NATS token);
//   - a forwarded payload is the data with only the subject's value
//     replaced by the name: still a JSON object, with the same members;
//   bus → group:
//   - only <root>.<clientId>.<one token> is taken;
//   - a broadcast is {body, subject, source: controller, destination:
//     broadcast} with the payload's body and subject as their exact bytes,
//     and the router's own group side ignores it (loop guard).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "app/router.hpp"
#include "common/json_text.hpp"
#include "fuzz/json_members.hpp"
#include "fuzz/require.hpp"

namespace {

using dbr::fuzz::require;
using dbr::fuzz::string_member;

using namespace dbr::app;
using nlohmann::json;
namespace jt = dbr::json_text;

const Router& router() {
  static const Router r("dunebugger", "remote");
  return r;
}

bool one_nats_token(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '.' || c == '*' || c == '>' || u <= 0x20 || u == 0x7f) return false;
  }
  return true;
}

void check_group(std::string_view data) {
  const GroupRoute route = router().route_group(data);
  const auto value = jt::parse(data);
  if (!value || value->kind != jt::Kind::Object) {
    require(std::get<Ignore>(route).reason == IgnoreReason::NotAnObject);
    return;
  }
  if (const auto* forward = std::get_if<ForwardToBus>(&route)) {
    const auto payload = jt::parse(forward->payload);
    require(payload && payload->kind == jt::Kind::Object);
    require(jt::members(*payload).size() == jt::members(*value).size());
    // <root>.<recipient>.<name>, the name one token.
    const std::string_view subject = forward->subject;
    const std::string_view name = subject.substr(subject.rfind('.') + 1);
    require(subject == "dunebugger.core." + std::string(name) || subject == "dunebugger.scheduler." + std::string(name));
    require(one_nats_token(name));
    const auto members = jt::members(*payload);
    require(jt::string_of(jt::find(members, "subject")->value) == name);
  }

  const json tree = json::parse(data, nullptr, false);
  if (tree.is_discarded()) return;  // a number beyond a double
  if (string_member(tree, "source") == "controller") {
    require(std::get<Ignore>(route).reason == IgnoreReason::LoopGuard);
    return;
  }
  const auto subject = string_member(tree, "subject");
  if (!subject) {
    require(std::get<Ignore>(route).reason == IgnoreReason::NoSubject);
    return;
  }
  const auto dot = subject->find('.');
  if (dot == std::string::npos) {
    require(std::get<Ignore>(route).reason == IgnoreReason::NoDot);
    return;
  }
  const std::string recipient = subject->substr(0, dot), name = subject->substr(dot + 1);
  if (recipient == "controller" && name == "heartbeat")
    require(std::holds_alternative<HeartbeatReceived>(route));
  else if (recipient == "controller" && name == "system_info")
    require(std::holds_alternative<SystemInfoRequested>(route));
  else if ((recipient == "controller" || recipient == "updater") && name == "ntp_status")
    require(std::holds_alternative<NtpStatusRequested>(route));
  else if (recipient == "controller" || recipient == "updater")
    require(std::get<Ignore>(route).reason == IgnoreReason::UnknownLocalSubject);
  else if ((recipient == "core" || recipient == "scheduler") && !one_nats_token(name))
    require(std::get<Ignore>(route).reason == IgnoreReason::NotOneToken);
  else if (recipient == "core" || recipient == "scheduler")
    require(std::get<ForwardToBus>(route).subject == "dunebugger." + recipient + "." + name);
  else
    require(std::get<Ignore>(route).reason == IgnoreReason::UnknownRecipient);
}

void check_bus(std::string_view subject, std::string_view payload) {
  const BusRoute route = router().route_bus(subject, payload);
  constexpr std::string_view kPrefix = "dunebugger.remote.";
  const bool ours = subject.starts_with(kPrefix) && one_nats_token(subject.substr(kPrefix.size()));
  require(ours != (std::holds_alternative<Drop>(route) &&
                   std::get<Drop>(route).reason == DropReason::ForeignSubject));
  if (!ours) return;
  const std::string_view x = subject.substr(kPrefix.size());
  const auto value = jt::parse(payload);
  if (!value) {
    require(std::get<Drop>(route).reason == DropReason::NotJson);
    return;
  }
  if (std::holds_alternative<ComponentHeartbeat>(route)) require(x == "heartbeat");
  if (std::holds_alternative<NtpStatusAsked>(route)) require(x == "get_ntp_status");
  if (const auto* broadcast = std::get_if<Broadcast>(&route)) {
    const auto envelope = jt::parse(broadcast->envelope);
    require(envelope && envelope->kind == jt::Kind::Object);
    const auto sent = jt::members(*envelope);
    const auto got = jt::members(*value);
    require(sent.size() == 4);
    require(jt::find(sent, "body")->value.text == jt::find(got, "body")->value.text);
    require(jt::find(sent, "subject")->value.text == jt::find(got, "subject")->value.text);
    require(jt::string_of(jt::find(sent, "source")->value) == "controller");
    require(jt::string_of(jt::find(sent, "destination")->value) == "broadcast");
    require(std::get<Ignore>(router().route_group(broadcast->envelope)).reason == IgnoreReason::LoopGuard);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check_group(input);
  const std::size_t newline = input.find('\n');
  if (newline != std::string_view::npos) check_bus(input.substr(0, newline), input.substr(newline + 1));
  return 0;
}
