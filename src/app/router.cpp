#include "app/router.hpp"

#include <algorithm>

#include "app/envelope.hpp"

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

std::string_view describe(IgnoreReason r) {
  switch (r) {
    case IgnoreReason::NotAnObject: return "not a JSON object";
    case IgnoreReason::LoopGuard: return "source is controller (our own message)";
    case IgnoreReason::NoSubject: return "no string subject";
    case IgnoreReason::NoDot: return "subject has no recipient prefix";
    case IgnoreReason::UnknownRecipient: return "unknown recipient";
    case IgnoreReason::UnknownControllerSubject: return "unknown controller subject";
    case IgnoreReason::NotOneToken: return "name is not a single NATS subject token";
  }
  return "?";
}

std::string_view describe(DropReason r) {
  switch (r) {
    case DropReason::ForeignSubject: return "subject outside our subscription";
    case DropReason::NotJson: return "payload is not JSON";
    case DropReason::NotAnObject: return "payload is not a JSON object";
    case DropReason::MissingFields: return "payload lacks a string subject or a body";
    case DropReason::UnknownSubject: return "unknown subject";
    case DropReason::UnknownHeartbeatSource: return "heartbeat from an unknown source";
  }
  return "?";
}

const std::vector<std::string_view>& forwarded_bus_subjects() {
  // dunebugger-protocol.md §2, "NATS → agent".
  static const std::vector<std::string_view> subjects = {
      "gpio_state", "sequence_state", "sequence",     "playing_time",
      "log",        "current_schedule", "next_actions", "last_executed_action"};
  return subjects;
}

Router::Router(std::string subject_root, std::string client_id)
    : root_(std::move(subject_root)),
      client_id_(std::move(client_id)),
      inbound_prefix_(root_ + "." + client_id_ + ".") {}

GroupRoute Router::route_group(const nlohmann::json& data) const {
  if (!data.is_object()) return Ignore{IgnoreReason::NotAnObject, std::string(data.type_name())};
  auto source = data.find("source");
  if (source != data.end() && source->is_string() && source->get_ref<const std::string&>() == kSourceController)
    return Ignore{IgnoreReason::LoopGuard, {}};
  auto subject_it = data.find("subject");
  if (subject_it == data.end() || !subject_it->is_string()) return Ignore{IgnoreReason::NoSubject, {}};
  const std::string& subject = subject_it->get_ref<const std::string&>();

  auto dot = subject.find('.');
  if (dot == std::string::npos) return Ignore{IgnoreReason::NoDot, subject};
  std::string_view recipient = std::string_view(subject).substr(0, dot);
  std::string_view name = std::string_view(subject).substr(dot + 1);

  if (recipient == "controller") {
    if (name == "heartbeat") return HeartbeatReceived{};
    if (name == "system_info") return SystemInfoRequested{};
    return Ignore{IgnoreReason::UnknownControllerSubject, subject};
  }
  if (recipient == "core" || recipient == "scheduler") {
    if (!is_one_nats_token(name)) return Ignore{IgnoreReason::NotOneToken, subject};
    nlohmann::json payload = data;
    payload["subject"] = name;
    std::string bus_subject = root_;
    bus_subject.append(".").append(recipient).append(".").append(name);
    return ForwardToBus{std::move(bus_subject), std::move(payload)};
  }
  return Ignore{IgnoreReason::UnknownRecipient, subject};
}

BusRoute Router::route_bus(std::string_view subject, std::string_view payload) const {
  if (subject.size() <= inbound_prefix_.size() || subject.substr(0, inbound_prefix_.size()) != inbound_prefix_)
    return Drop{DropReason::ForeignSubject, std::string(subject)};
  std::string_view x = subject.substr(inbound_prefix_.size());
  if (!is_one_nats_token(x)) return Drop{DropReason::ForeignSubject, std::string(subject)};

  nlohmann::json message = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (message.is_discarded()) return Drop{DropReason::NotJson, std::string(x)};
  if (!message.is_object()) return Drop{DropReason::NotAnObject, std::string(x)};

  if (x == kHeartbeatSubject) {
    auto source = message.find("source");
    if (source != message.end() && source->is_string()) {
      if (auto component = component_from_source(source->get_ref<const std::string&>()))
        return ComponentHeartbeat{*component};
      return Drop{DropReason::UnknownHeartbeatSource, source->get<std::string>()};
    }
    return Drop{DropReason::UnknownHeartbeatSource, "(no source)"};
  }

  const auto& listed = forwarded_bus_subjects();
  if (std::find(listed.begin(), listed.end(), x) == listed.end())
    return Drop{DropReason::UnknownSubject, std::string(x)};

  auto payload_subject = message.find("subject");
  auto body = message.find("body");
  if (payload_subject == message.end() || !payload_subject->is_string() || body == message.end())
    return Drop{DropReason::MissingFields, std::string(x)};
  // §2: re-broadcast as {body, subject (from payload), source, destination}.
  return Broadcast{make_envelope(payload_subject->get_ref<const std::string&>(), std::move(*body))};
}

std::string Router::subscription() const { return inbound_prefix_ + "*"; }

std::vector<std::string> Router::probe_subjects() const {
  std::vector<std::string> subjects;
  for (Component c : {Component::Core, Component::Scheduler})
    subjects.push_back(root_ + "." + std::string(component_source(c)) + "." + std::string(kHeartbeatSubject));
  return subjects;
}

}  // namespace dbr::app
