#include "pubsub/core/messages.hpp"

#include <atomic>

namespace dbr::pubsub {

std::uint64_t allocate_ack_id() {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

using nlohmann::json;

namespace {

// Invalid UTF-8 from the application must not throw out of dump().
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

DecodeError bad_field(std::string_view name) {
  return {DecodeErrorKind::BadField, "field '" + std::string(name) + "' is missing or has the wrong type"};
}

// Reads an unsigned 64-bit integer field; nlohmann stores non-negative
// integers as number_unsigned, negative ones as number_integer.
std::optional<std::uint64_t> get_u64(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end()) return std::nullopt;
  if (it->is_number_unsigned()) return it->get<std::uint64_t>();
  return std::nullopt;
}

// A string field that may be absent or null.
bool get_optional_string(const json& object, const char* name, std::optional<std::string>& out) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) {
    out.reset();
    return true;
  }
  if (!it->is_string()) return false;
  out = it->get<std::string>();
  return true;
}

ServiceFrame decode_ack(const json& frame) {
  AckFrame ack;
  auto id = get_u64(frame, "ackId");
  if (!id) return bad_field("ackId");
  ack.ack_id = *id;
  auto success = frame.find("success");
  if (success == frame.end() || !success->is_boolean()) return bad_field("success");
  ack.success = success->get<bool>();
  if (!ack.success) {
    // "Read `error` only when `success` is false."
    auto error = frame.find("error");
    if (error != frame.end() && error->is_object()) {
      auto name = error->find("name");
      if (name != error->end() && name->is_string()) ack.error_name = name->get<std::string>();
      auto message = error->find("message");
      if (message != error->end() && message->is_string()) ack.error_message = message->get<std::string>();
    }
    if (ack.error_name.empty()) ack.error_name = "Unknown";
  }
  return ack;
}

ServiceFrame decode_message(const json& frame) {
  std::optional<std::uint64_t> sequence_id;
  if (frame.contains("sequenceId")) {
    sequence_id = get_u64(frame, "sequenceId");
    if (!sequence_id) return bad_field("sequenceId");
  }
  auto from = frame.find("from");
  if (from == frame.end() || !from->is_string()) return bad_field("from");
  DataFrame message;
  message.sequence_id = sequence_id;
  const auto& from_text = from->get_ref<const std::string&>();
  if (from_text == "group") {
    message.from = DataFrame::From::Group;
    auto group = frame.find("group");
    if (group == frame.end() || !group->is_string()) return bad_field("group");
    message.group = group->get<std::string>();
    if (!get_optional_string(frame, "fromUserId", message.from_user_id)) return bad_field("fromUserId");
  } else if (from_text == "server") {
    message.from = DataFrame::From::Server;
  } else {
    return UnknownFrame{"message from '" + from_text + "'", sequence_id};
  }
  message.data_type = "json";
  if (auto type = frame.find("dataType"); type != frame.end()) {
    if (!type->is_string()) return bad_field("dataType");
    message.data_type = type->get<std::string>();
  }
  if (message.data_type != "json" && message.data_type != "text" && message.data_type != "binary" &&
      message.data_type != "protobuf")
    return UnknownFrame{"dataType '" + message.data_type + "'", sequence_id};
  if (auto data = frame.find("data"); data != frame.end()) message.data = *data;
  return message;
}

ServiceFrame decode_system(const json& frame) {
  auto event = frame.find("event");
  if (event == frame.end() || !event->is_string()) return bad_field("event");
  const auto& name = event->get_ref<const std::string&>();
  if (name == "connected") {
    ConnectedFrame connected;
    auto id = frame.find("connectionId");
    if (id == frame.end() || !id->is_string() || id->get_ref<const std::string&>().empty())
      return bad_field("connectionId");
    connected.connection_id = id->get<std::string>();
    if (!get_optional_string(frame, "userId", connected.user_id)) return bad_field("userId");
    if (!get_optional_string(frame, "reconnectionToken", connected.reconnection_token))
      return bad_field("reconnectionToken");
    return connected;
  }
  if (name == "disconnected") {
    DisconnectedFrame disconnected;
    if (auto message = frame.find("message"); message != frame.end() && message->is_string())
      disconnected.message = message->get<std::string>();
    return disconnected;
  }
  return UnknownFrame{"system event '" + name + "'", std::nullopt};
}

}  // namespace

std::string encode_join_group(std::string_view group, std::uint64_t ack_id) {
  return dump(json{{"type", "joinGroup"}, {"group", group}, {"ackId", ack_id}});
}

std::string encode_send_to_group(std::string_view group, std::uint64_t ack_id, const json& data) {
  return dump(json{{"type", "sendToGroup"},
                   {"group", group},
                   {"ackId", ack_id},
                   {"noEcho", true},
                   {"dataType", "json"},
                   {"data", data}});
}

std::string encode_sequence_ack(std::uint64_t sequence_id) {
  return dump(json{{"type", "sequenceAck"}, {"sequenceId", sequence_id}});
}

std::string encode_ping() { return R"({"type":"ping"})"; }

ServiceFrame decode_service_frame(std::string_view text) {
  json frame = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (frame.is_discarded()) return DecodeError{DecodeErrorKind::NotJson, "not valid JSON"};
  if (!frame.is_object()) return DecodeError{DecodeErrorKind::NotObject, "not a JSON object"};
  auto type = frame.find("type");
  if (type == frame.end() || !type->is_string())
    return DecodeError{DecodeErrorKind::MissingType, "no string 'type' field"};
  const auto& name = type->get_ref<const std::string&>();
  if (name == "ack") return decode_ack(frame);
  if (name == "message") return decode_message(frame);
  if (name == "system") return decode_system(frame);
  if (name == "pong") return PongFrame{};
  // Only `type:"message"` frames carry sequence ids (reliable protocol spec).
  return UnknownFrame{"type '" + name + "'", std::nullopt};
}

}  // namespace dbr::pubsub
