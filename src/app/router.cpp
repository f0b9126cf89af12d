#include "app/router.hpp"

#include <algorithm>

#include "app/envelope.hpp"
#include "common/enum_names.hpp"
#include "common/json_text.hpp"

namespace dbr::app {

namespace {

bool is_one_nats_token(std::string_view name) {
  if (name.empty()) return false;
  return std::none_of(name.begin(), name.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return c == '.' || c == '*' || c == '>' || u <= 0x20 || u == 0x7f;
  });
}

}  // namespace

constexpr auto kIgnoreReasons = enum_names<IgnoreReason>({
    {IgnoreReason::NotAnObject, "not a JSON object"}, {IgnoreReason::LoopGuard, "source is controller (our own message)"},
    {IgnoreReason::NoSubject, "no string subject"}, {IgnoreReason::NoDot, "subject has no recipient prefix"},
    {IgnoreReason::UnknownRecipient, "unknown recipient"}, {IgnoreReason::UnknownLocalSubject, "unknown controller subject"},
    {IgnoreReason::NotOneToken, "name is not a single NATS subject token"}});

constexpr auto kDropReasons = enum_names<DropReason>({
    {DropReason::ForeignSubject, "subject outside our subscription"}, {DropReason::NotJson, "payload is not JSON"},
    {DropReason::NotAnObject, "payload is not a JSON object"},
    {DropReason::MissingFields, "payload lacks a string subject or a body"},
    {DropReason::UnknownSubject, "unknown subject"}, {DropReason::UnknownHeartbeatSource, "heartbeat from an unknown source"}});

std::string_view describe(IgnoreReason r) { return kIgnoreReasons.name(r, "?"); }
std::string_view describe(DropReason r) { return kDropReasons.name(r, "?"); }

const std::vector<std::string_view>& forwarded_bus_subjects() {
  // dunebugger-protocol.md §2, "NATS → agent".
  static const std::vector<std::string_view> subjects = {
      "gpio_state", "sequence_state", "sequence", "playing_time", "log", "current_schedule", "next_actions",
      "last_executed_action",
      // upstream develop (§6)
      "scheduler_status", "modes_list", "analytics_metrics"};
  return subjects;
}

Router::Router(std::string subject_root, std::string client_id)
    : root_(std::move(subject_root)),
      client_id_(std::move(client_id)),
      inbound_prefix_(root_ + "." + client_id_ + ".") {}

GroupRoute Router::route_group(std::string_view data_json) const {
  namespace jt = json_text;
  auto data = jt::parse(data_json);
  if (!data || data->kind != jt::Kind::Object)
    return Ignore{IgnoreReason::NotAnObject, data ? "" : "not valid JSON"};
  const std::vector<jt::Member> members = jt::members(*data);
  if (const jt::Member* source = jt::find(members, "source"); source && jt::string_of(source->value) == kSourceController)
    return Ignore{IgnoreReason::LoopGuard, {}};
  const jt::Member* subject_member = jt::find(members, "subject");
  auto subject = subject_member ? jt::string_of(subject_member->value) : std::nullopt;
  if (!subject) return Ignore{IgnoreReason::NoSubject, {}};

  auto dot = subject->find('.');
  if (dot == std::string::npos) return Ignore{IgnoreReason::NoDot, *subject};
  std::string_view recipient = std::string_view(*subject).substr(0, dot);
  std::string_view name = std::string_view(*subject).substr(dot + 1);

  if (recipient == "controller" || recipient == "updater") {
    if (recipient == "controller" && name == "heartbeat") return HeartbeatReceived{};
    if (recipient == "controller" && name == "system_info") return SystemInfoRequested{};
    if (name == "ntp_status") return NtpStatusRequested{};
    return Ignore{IgnoreReason::UnknownLocalSubject, *subject};
  }
  if (recipient == "core" || recipient == "scheduler") {
    if (!is_one_nats_token(name)) return Ignore{IgnoreReason::NotOneToken, *subject};
    std::string bus_subject = root_;
    bus_subject.append(".").append(recipient).append(".").append(name);
    // Every byte as the front end sent it, but the subject's value.
    return ForwardToBus{std::move(bus_subject), jt::splice(data_json, subject_member->value.text, jt::quote(name))};
  }
  return Ignore{IgnoreReason::UnknownRecipient, *subject};
}

BusRoute Router::route_bus(std::string_view subject, std::string_view payload) const {
  namespace jt = json_text;
  if (subject.size() <= inbound_prefix_.size() || subject.substr(0, inbound_prefix_.size()) != inbound_prefix_)
    return Drop{DropReason::ForeignSubject, std::string(subject)};
  std::string_view x = subject.substr(inbound_prefix_.size());
  if (!is_one_nats_token(x)) return Drop{DropReason::ForeignSubject, std::string(subject)};

  auto message = jt::parse(payload);
  if (!message) return Drop{DropReason::NotJson, std::string(x)};
  if (message->kind != jt::Kind::Object) return Drop{DropReason::NotAnObject, std::string(x)};
  const std::vector<jt::Member> members = jt::members(*message);
  const jt::Member* source_member = jt::find(members, "source");
  const auto source = source_member ? jt::string_of(source_member->value) : std::nullopt;

  if (x == kHeartbeatSubject) {
    if (!source) return Drop{DropReason::UnknownHeartbeatSource, "(no source)"};
    if (auto component = component_from_source(*source)) return ComponentHeartbeat{*component};
    return Drop{DropReason::UnknownHeartbeatSource, *source};
  }
  if (x == "get_ntp_status" && source == "scheduler") return NtpStatusAsked{};

  const auto& listed = forwarded_bus_subjects();
  if (std::find(listed.begin(), listed.end(), x) == listed.end())
    return Drop{DropReason::UnknownSubject, std::string(x)};

  const jt::Member* payload_subject = jt::find(members, "subject");
  const jt::Member* body = jt::find(members, "body");
  if (payload_subject == nullptr || payload_subject->value.kind != jt::Kind::String || body == nullptr)
    return Drop{DropReason::MissingFields, std::string(x)};
  // §2: re-broadcast as {body, subject (from payload), source, destination};
  // both taken as the bytes they came as.
  return Broadcast{make_envelope(payload_subject->value.text, body->value.text)};
}

std::string Router::subscription() const { return inbound_prefix_ + "*"; }

std::string Router::scheduler_subject(std::string_view name) const {
  return root_ + "." + std::string(component_source(Component::Scheduler)) + "." + std::string(name);
}

std::vector<std::string> Router::probe_subjects() const {
  std::vector<std::string> subjects;
  for (Component c : {Component::Core, Component::Scheduler})
    subjects.push_back(root_ + "." + std::string(component_source(c)) + "." + std::string(kHeartbeatSubject));
  return subjects;
}

}  // namespace dbr::app
