#include "pubsub/core/messages.hpp"

#include <atomic>

namespace dbr::pubsub {

std::uint64_t allocate_ack_id() {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

namespace {

namespace jt = json_text;
using Members = std::vector<jt::Member>;

DecodeError bad_field(std::string_view name) {
  return {DecodeErrorKind::BadField, "field '" + std::string(name) + "' is missing or has the wrong type"};
}

// A string field that may be absent or null.
bool read_optional_string(const Members& frame, std::string_view name, std::optional<std::string>& out) {
  const jt::Member* m = jt::find(frame, name);
  out.reset();
  if (m == nullptr || m->value.kind == jt::Kind::Null) return true;
  out = jt::string_of(m->value);
  return out.has_value();
}

std::optional<std::string> read_string(const Members& frame, std::string_view name) {
  const jt::Member* m = jt::find(frame, name);
  return m ? jt::string_of(m->value) : std::nullopt;
}

std::optional<std::uint64_t> read_uint(const Members& frame, std::string_view name) {
  const jt::Member* m = jt::find(frame, name);
  return m ? jt::uint_of(m->value) : std::nullopt;
}

ServiceFrame decode_ack(const Members& frame) {
  AckFrame ack;
  auto id = read_uint(frame, "ackId");
  if (!id) return bad_field("ackId");
  ack.ack_id = *id;
  const jt::Member* success = jt::find(frame, "success");
  auto success_value = success ? jt::bool_of(success->value) : std::nullopt;
  if (!success_value) return bad_field("success");
  ack.success = *success_value;
  if (!ack.success) {
    // "Read `error` only when `success` is false."
    if (const jt::Member* error = jt::find(frame, "error"); error && error->value.kind == jt::Kind::Object) {
      const Members fields = jt::members(error->value);
      ack.error_name = read_string(fields, "name").value_or("");
      ack.error_message = read_string(fields, "message").value_or("");
    }
    if (ack.error_name.empty()) ack.error_name = "Unknown";
  }
  return ack;
}

ServiceFrame decode_message(const Members& frame, std::string&& text) {
  std::optional<std::uint64_t> sequence_id;
  if (jt::find(frame, "sequenceId") != nullptr) {
    sequence_id = read_uint(frame, "sequenceId");
    if (!sequence_id) return bad_field("sequenceId");
  }
  auto from = read_string(frame, "from");
  if (!from) return bad_field("from");
  DataFrame message;
  message.sequence_id = sequence_id;
  if (*from == "group") {
    message.from = DataFrame::From::Group;
    auto group = read_string(frame, "group");
    if (!group) return bad_field("group");
    message.group = std::move(*group);
    if (!read_optional_string(frame, "fromUserId", message.from_user_id)) return bad_field("fromUserId");
  } else if (*from == "server") {
    message.from = DataFrame::From::Server;
  } else {
    return UnknownFrame{"message from '" + *from + "'", sequence_id};
  }
  message.data_type = "json";
  if (jt::find(frame, "dataType") != nullptr) {
    auto type = read_string(frame, "dataType");
    if (!type) return bad_field("dataType");
    message.data_type = std::move(*type);
  }
  if (message.data_type != "json" && message.data_type != "text" && message.data_type != "binary" &&
      message.data_type != "protobuf")
    return UnknownFrame{"dataType '" + message.data_type + "'", sequence_id};
  // The data's bytes stay where they are: the frame's text moves into it.
  if (const jt::Member* data = jt::find(frame, "data")) message.data = jt::OwnedValue(std::move(text), data->value);
  return message;
}

ServiceFrame decode_system(const Members& frame) {
  auto event = read_string(frame, "event");
  if (!event) return bad_field("event");
  if (*event == "connected") {
    ConnectedFrame connected;
    auto id = read_string(frame, "connectionId");
    if (!id || id->empty()) return bad_field("connectionId");
    connected.connection_id = std::move(*id);
    if (!read_optional_string(frame, "userId", connected.user_id)) return bad_field("userId");
    if (!read_optional_string(frame, "reconnectionToken", connected.reconnection_token))
      return bad_field("reconnectionToken");
    return connected;
  }
  if (*event == "disconnected") return DisconnectedFrame{read_string(frame, "message").value_or("")};
  return UnknownFrame{"system event '" + *event + "'", std::nullopt};
}

ServiceFrame decode_members(const Members& frame, std::string&& text) {
  auto type = read_string(frame, "type");
  if (!type) return DecodeError{DecodeErrorKind::MissingType, "no string 'type' field"};
  if (*type == "ack") return decode_ack(frame);
  if (*type == "message") return decode_message(frame, std::move(text));
  if (*type == "system") return decode_system(frame);
  if (*type == "pong") return PongFrame{};
  // Only `type:"message"` frames carry sequence ids (reliable protocol spec).
  return UnknownFrame{"type '" + *type + "'", std::nullopt};
}

}  // namespace

std::string encode_join_group(std::string_view group, std::uint64_t ack_id) {
  return R"({"type":"joinGroup","group":)" + jt::quote(group) + R"(,"ackId":)" + std::to_string(ack_id) + "}";
}

std::string encode_send_to_group(std::string_view group, std::uint64_t ack_id, std::string_view data_json) {
  std::string frame = R"({"type":"sendToGroup","group":)" + jt::quote(group) + R"(,"ackId":)" +
                      std::to_string(ack_id) + R"(,"noEcho":true,"dataType":"json","data":)";
  frame.append(data_json);
  frame += '}';
  return frame;
}

std::string encode_sequence_ack(std::uint64_t sequence_id) {
  return R"({"type":"sequenceAck","sequenceId":)" + std::to_string(sequence_id) + "}";
}

std::string encode_ping() { return R"({"type":"ping"})"; }

ServiceFrame decode_service_frame(std::string text) {
  const std::size_t bytes = text.size();
  auto value = jt::parse(text);
  ServiceFrame frame;
  if (!value)
    frame = DecodeError{DecodeErrorKind::NotJson, "not valid JSON"};
  else if (value->kind != jt::Kind::Object)
    frame = DecodeError{DecodeErrorKind::NotObject, "not a JSON object"};
  else
    frame = decode_members(jt::members(*value), std::move(text));
  if (auto* error = std::get_if<DecodeError>(&frame)) error->frame_bytes = bytes;
  return frame;
}

}  // namespace dbr::pubsub
