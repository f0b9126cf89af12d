#pragma once
// Web PubSub JSON subprotocol frames (json.webpubsub.azure.v1 and its
// reliable variant): encoding of the client's requests and decoding of the
// service's frames into typed values. Decoding never throws: malformed input
// becomes a DecodeError, unknown types/events/sources become UnknownFrame
// ("Ignore unknown type/event/from/dataType values (both SDKs do)").
//
// Application data passes as JSON text, never as a parsed tree: a message's
// `data` is the exact bytes the service sent (json_text::OwnedValue, the
// frame moved in whole), and sendToGroup carries the caller's JSON text
// unchanged, so what the device relays keeps its key order and spelling.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "common/json_text.hpp"

namespace dbr::pubsub {

// ---- client -> service ----------------------------------------------------
// ackIds for joinGroup/sendToGroup. The service requires an ackId to be
// "unique within a connectionId session" and answers a repeat with
// Duplicate; we make every id unique within the process, so only a
// deliberate resend of the same request (after a recovery or an ack timeout)
// ever reuses one.
// Thread-safe; starts at 1 and never repeats within the process.
std::uint64_t allocate_ack_id();

std::string encode_join_group(std::string_view group, std::uint64_t ack_id);
// dataType json, noEcho true: the device never wants its own messages back.
// `data_json` is valid JSON text (the caller's), spliced in unchanged.
std::string encode_send_to_group(std::string_view group, std::uint64_t ack_id, std::string_view data_json);
std::string encode_sequence_ack(std::uint64_t sequence_id);
std::string encode_ping();

// ---- service -> client ----------------------------------------------------
struct AckFrame {
  std::uint64_t ack_id = 0;
  bool success = false;
  std::string error_name;  // only when !success: Forbidden, InternalServerError, Duplicate, BadRequest, ...
  std::string error_message;
};

struct DataFrame {
  enum class From { Group, Server };
  From from = From::Group;
  std::string group;                        // From::Group only
  std::optional<std::string> from_user_id;  // null or absent: nullopt
  std::string data_type;                    // json, text, binary (base64), protobuf (base64)
  json_text::OwnedValue data;               // the exact bytes sent; absent: null
  std::optional<std::uint64_t> sequence_id;  // reliable protocol only
};

struct ConnectedFrame {
  std::string connection_id;
  std::optional<std::string> user_id;
  std::optional<std::string> reconnection_token;  // reliable protocol only
};

struct DisconnectedFrame {
  std::string message;
};

struct PongFrame {};

// Well-formed but not understood. A `type:"message"` frame still carries its
// sequenceId, which the reliable protocol must acknowledge even if ignored.
struct UnknownFrame {
  std::string what;  // e.g. "type 'invoke'", "system event 'x'"
  std::optional<std::uint64_t> sequence_id;
};

enum class DecodeErrorKind { NotJson, NotObject, MissingType, BadField };

struct DecodeError {
  DecodeErrorKind kind = DecodeErrorKind::NotJson;
  std::string detail;  // never quotes the frame (it may hold a reconnection token)
  std::size_t frame_bytes = 0;
};

using ServiceFrame =
    std::variant<AckFrame, DataFrame, ConnectedFrame, DisconnectedFrame, PongFrame, UnknownFrame, DecodeError>;

// Takes the frame's text whole: a message's data keeps viewing into it.
ServiceFrame decode_service_frame(std::string text);


}  // namespace dbr::pubsub
