// libFuzzer target for the Web PubSub service frames: one text frame from
// the hub into decode_service_frame (webpubsub-protocol.md §3).
//
// Checked besides the sanitizers (decoding must never throw):
//   - NotJson and NotObject agree with json_text::parse; frame_bytes is the
//     frame's size;
//   - a message's data is a JSON value, the exact bytes of the frame's
//     "data" ("null" when absent);
//   - against an independent reading of the same frame with nlohmann (when
//     nlohmann accepts it: it refuses numbers beyond a double), the frame
//     kind and its fields are the same: type, ackId, success, error name,
//     from, group, dataType, sequenceId, connectionId, event.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "common/json_text.hpp"
#include "pubsub/core/messages.hpp"
#include "fuzz/json_members.hpp"
#include "fuzz/require.hpp"

namespace {

using dbr::fuzz::member;
using dbr::fuzz::require;
using dbr::fuzz::string_member;
using dbr::fuzz::uint_member;

using namespace dbr::pubsub;
using nlohmann::json;
namespace jt = dbr::json_text;

// A string that may be absent or null: true when it is one of those or a
// string.
bool optional_string_ok(const json& object, const char* name) {
  const json* m = member(object, name);
  return m == nullptr || m->is_null() || m->is_string();
}

// What the protocol notes say the frame is, read with nlohmann.
void check_against_nlohmann(const json& frame, const ServiceFrame& decoded) {
  if (!frame.is_object()) {
    require(std::get<DecodeError>(decoded).kind == DecodeErrorKind::NotObject);
    return;
  }
  const auto type = string_member(frame, "type");
  if (!type) {
    require(std::get<DecodeError>(decoded).kind == DecodeErrorKind::MissingType);
    return;
  }
  if (*type == "ack") {
    const auto ack_id = uint_member(frame, "ackId");
    const json* success = member(frame, "success");
    if (!ack_id || success == nullptr || !success->is_boolean()) {
      require(std::get<DecodeError>(decoded).kind == DecodeErrorKind::BadField);
      return;
    }
    const auto& ack = std::get<AckFrame>(decoded);
    require(ack.ack_id == *ack_id && ack.success == success->get<bool>());
    if (!ack.success) {
      const json* error = member(frame, "error");
      std::string name = error && error->is_object() ? string_member(*error, "name").value_or("") : "";
      require(ack.error_name == (name.empty() ? "Unknown" : name));
    }
    return;
  }
  if (*type == "message") {
    std::optional<std::uint64_t> sequence_id;
    if (member(frame, "sequenceId")) {
      sequence_id = uint_member(frame, "sequenceId");
      if (!sequence_id) {
        require(std::get<DecodeError>(decoded).kind == DecodeErrorKind::BadField);
        return;
      }
    }
    const auto from = string_member(frame, "from");
    if (!from) {
      require(std::get<DecodeError>(decoded).kind == DecodeErrorKind::BadField);
      return;
    }
    if (*from != "group" && *from != "server") {
      require(std::get<UnknownFrame>(decoded).sequence_id == sequence_id);
      return;
    }
    const auto group = string_member(frame, "group");
    const json* data_type = member(frame, "dataType");
    if ((*from == "group" && (!group || !optional_string_ok(frame, "fromUserId"))) ||
        (data_type && !data_type->is_string())) {
      require(std::get<DecodeError>(decoded).kind == DecodeErrorKind::BadField);
      return;
    }
    const std::string type_name = data_type ? data_type->get<std::string>() : "json";
    if (type_name != "json" && type_name != "text" && type_name != "binary" && type_name != "protobuf") {
      require(std::get<UnknownFrame>(decoded).sequence_id == sequence_id);
      return;
    }
    const auto& message = std::get<DataFrame>(decoded);
    require(message.sequence_id == sequence_id && message.data_type == type_name);
    require((message.from == DataFrame::From::Group) == (*from == "group"));
    if (*from == "group") {
      require(message.group == *group);
      const json* from_user = member(frame, "fromUserId");
      if (from_user && from_user->is_string())
        require(message.from_user_id == from_user->get<std::string>());
      else
        require(!message.from_user_id);
    }
    const json* data = member(frame, "data");
    require(json::parse(message.data.text()) == (data ? *data : json()));
    return;
  }
  if (*type == "system") {
    const auto event = string_member(frame, "event");
    if (!event) {
      require(std::get<DecodeError>(decoded).kind == DecodeErrorKind::BadField);
      return;
    }
    if (*event == "connected") {
      const auto id = string_member(frame, "connectionId");
      if (!id || id->empty() || !optional_string_ok(frame, "userId") ||
          !optional_string_ok(frame, "reconnectionToken")) {
        require(std::get<DecodeError>(decoded).kind == DecodeErrorKind::BadField);
        return;
      }
      const auto& connected = std::get<ConnectedFrame>(decoded);
      require(connected.connection_id == *id);
      require(connected.user_id == string_member(frame, "userId"));
      require(connected.reconnection_token == string_member(frame, "reconnectionToken"));
      return;
    }
    if (*event == "disconnected") {
      require(std::get<DisconnectedFrame>(decoded).message == string_member(frame, "message").value_or(""));
      return;
    }
    require(std::holds_alternative<UnknownFrame>(decoded));
    return;
  }
  if (*type == "pong") {
    require(std::holds_alternative<PongFrame>(decoded));
    return;
  }
  require(std::get<UnknownFrame>(decoded).sequence_id == std::nullopt);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const ServiceFrame decoded = decode_service_frame(text);

  const auto value = jt::parse(text);
  if (const auto* error = std::get_if<DecodeError>(&decoded)) {
    require(error->frame_bytes == size && !error->detail.empty());
    require((error->kind == DecodeErrorKind::NotJson) == !value);
    require((error->kind == DecodeErrorKind::NotObject) == (value && value->kind != jt::Kind::Object));
  } else {
    require(value && value->kind == jt::Kind::Object);
  }
  if (const auto* message = std::get_if<DataFrame>(&decoded)) {
    const auto data_value = jt::parse(message->data.text());
    require(data_value && data_value->kind == message->data.kind() && data_value->text == message->data.text());
    require(message->data.text() == "null" || text.find(message->data.text()) != std::string::npos);
  }
  if (const auto* connected = std::get_if<ConnectedFrame>(&decoded)) require(!connected->connection_id.empty());

  // Only for JSON both accept: nlohmann refuses a number beyond a double
  // ("number overflow"), which RFC 8259's grammar allows, and skips a
  // byte order mark; json_text_fuzz compares the two readers themselves.
  if (!value) return 0;
  const json frame = json::parse(text, nullptr, false);
  if (!frame.is_discarded()) check_against_nlohmann(frame, decoded);
  return 0;
}
