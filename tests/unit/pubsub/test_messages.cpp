#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/random.hpp"
#include "pubsub/core/messages.hpp"

using namespace dbr;
using namespace dbr::pubsub;
using nlohmann::json;

TEST_CASE("client frames are encoded as the subprotocol specifies") {
  CHECK(json::parse(encode_join_group("kitchen", 7)) == json{{"type", "joinGroup"}, {"group", "kitchen"}, {"ackId", 7}});
  CHECK(json::parse(encode_send_to_group("kitchen", 18446744073709551615ULL, R"({"a":1})")) ==
        json{{"type", "sendToGroup"},
             {"group", "kitchen"},
             {"ackId", 18446744073709551615ULL},
             {"noEcho", true},
             {"dataType", "json"},
             {"data", {{"a", 1}}}});
  CHECK(json::parse(encode_sequence_ack(42)) == json{{"type", "sequenceAck"}, {"sequenceId", 42}});
  CHECK(json::parse(encode_ping()) == json{{"type", "ping"}});
}

TEST_CASE("sendToGroup carries the data's text unchanged; a group name is quoted whatever it holds") {
  const std::string data = "{\"z\": 1.50, \"a\" : \"\u00e9\xC3\xA9\", \"n\":1e3}";
  CHECK(encode_send_to_group("k\"it", 3, data) ==
        "{\"type\":\"sendToGroup\",\"group\":\"k\\\"it\",\"ackId\":3,\"noEcho\":true,\"dataType\":\"json\",\"data\":" + data + "}");
  // Invalid UTF-8 in a group name cannot break the frame.
  std::string frame = encode_join_group("caf\xc3", 1);
  CHECK_FALSE(json::parse(frame, nullptr, false).is_discarded());
}

TEST_CASE("service frames decode into typed values") {
  SUBCASE("ack success and failure") {
    auto ok = std::get<AckFrame>(decode_service_frame(R"({"type":"ack","ackId":5,"success":true})"));
    CHECK(ok.ack_id == 5);
    CHECK(ok.success);
    CHECK(ok.error_name.empty());
    auto dup = std::get<AckFrame>(decode_service_frame(
        R"({"type":"ack","ackId":6,"success":false,"error":{"name":"Duplicate","message":"Message with ack-id: 6 has been processed"}})"));
    CHECK_FALSE(dup.success);
    CHECK(dup.error_name == "Duplicate");
    CHECK(dup.error_message == "Message with ack-id: 6 has been processed");
    auto nameless = std::get<AckFrame>(decode_service_frame(R"({"type":"ack","ackId":6,"success":false})"));
    CHECK(nameless.error_name == "Unknown");
  }
  SUBCASE("a message's data is the exact bytes sent, whatever the frame's size") {
    const std::string data = "{ \"b\" : 1.50 ,\"a\":\"\\u00e9 \xC3\xA9\", \"c\": [1e3, -0] }";
    auto m = std::get<DataFrame>(decode_service_frame(
        R"({"type":"message","from":"group","group":"g","dataType":"json","data":)" + data + R"(,"sequenceId":1})"));
    CHECK(m.data.text() == data);
    DataFrame moved = std::move(m);  // the view follows its owner
    CHECK(moved.data.text() == data);
    auto absent = std::get<DataFrame>(decode_service_frame(R"({"type":"message","from":"server"})"));
    CHECK(absent.data.text() == "null");
  }
  SUBCASE("group message with and without sequenceId, null fromUserId") {
    auto m = std::get<DataFrame>(decode_service_frame(
        R"({"type":"message","from":"group","group":"g","fromUserId":null,"dataType":"json","data":{"x":[1,2]},"sequenceId":9})"));
    CHECK(m.from == DataFrame::From::Group);
    CHECK(m.group == "g");
    CHECK_FALSE(m.from_user_id);
    CHECK(m.data.text() == R"({"x":[1,2]})");
    CHECK(m.data.kind() == json_text::Kind::Object);
    CHECK(m.sequence_id == 9u);
    auto plain = std::get<DataFrame>(
        decode_service_frame(R"({"type":"message","from":"group","group":"g","fromUserId":"u1","dataType":"text","data":"hi"})"));
    CHECK(plain.from_user_id == "u1");
    CHECK(plain.data_type == "text");
    CHECK_FALSE(plain.sequence_id);
  }
  SUBCASE("server message defaults to dataType json") {
    auto m = std::get<DataFrame>(decode_service_frame(R"({"type":"message","from":"server","data":[1]})"));
    CHECK(m.from == DataFrame::From::Server);
    CHECK(m.data_type == "json");
    CHECK(m.data.text() == "[1]");
  }
  SUBCASE("connected, with and without a reconnection token; disconnected; pong") {
    auto c = std::get<ConnectedFrame>(decode_service_frame(
        R"({"type":"system","event":"connected","userId":"dev","connectionId":"abc","reconnectionToken":"t"})"));
    CHECK(c.connection_id == "abc");
    CHECK(c.user_id == "dev");
    CHECK(c.reconnection_token == "t");
    auto c2 = std::get<ConnectedFrame>(
        decode_service_frame(R"({"type":"system","event":"connected","userId":null,"connectionId":"abc"})"));
    CHECK_FALSE(c2.user_id);
    CHECK_FALSE(c2.reconnection_token);
    auto d = std::get<DisconnectedFrame>(
        decode_service_frame(R"({"type":"system","event":"disconnected","message":"bye"})"));
    CHECK(d.message == "bye");
    CHECK(std::holds_alternative<PongFrame>(decode_service_frame(R"({"type":"pong"})")));
  }
}

TEST_CASE("unknown types, events, sources and data types are ignorable, keeping a message's sequenceId") {
  auto u1 = std::get<UnknownFrame>(decode_service_frame(R"({"type":"invokeResponse","sequenceId":3})"));
  CHECK(u1.what == "type 'invokeResponse'");
  CHECK_FALSE(u1.sequence_id);  // only type:"message" frames carry sequence ids
  auto u2 = std::get<UnknownFrame>(decode_service_frame(R"({"type":"system","event":"reconnecting"})"));
  CHECK(u2.what == "system event 'reconnecting'");
  auto u3 = std::get<UnknownFrame>(decode_service_frame(R"({"type":"message","from":"upstream","sequenceId":4})"));
  CHECK(u3.sequence_id == 4u);
  auto u4 = std::get<UnknownFrame>(
      decode_service_frame(R"({"type":"message","from":"group","group":"g","dataType":"avro","data":"x","sequenceId":5})"));
  CHECK(u4.sequence_id == 5u);
}

TEST_CASE("malformed frames are classified, never thrown") {
  auto kind = [](std::string_view text) {
    auto frame = decode_service_frame(std::string(text));
    REQUIRE(std::holds_alternative<DecodeError>(frame));
    return std::get<DecodeError>(frame).kind;
  };
  CHECK(kind("") == DecodeErrorKind::NotJson);
  CHECK(kind("{not json") == DecodeErrorKind::NotJson);
  CHECK(kind("\xff\xfe") == DecodeErrorKind::NotJson);
  CHECK(kind("[1,2]") == DecodeErrorKind::NotObject);
  CHECK(kind("{}") == DecodeErrorKind::MissingType);
  CHECK(kind(R"({"type":5})") == DecodeErrorKind::MissingType);
  CHECK(kind(R"({"type":"ack","ackId":-1,"success":true})") == DecodeErrorKind::BadField);
  CHECK(kind(R"({"type":"ack","ackId":1.5,"success":true})") == DecodeErrorKind::BadField);
  CHECK(kind(R"({"type":"ack","ackId":1})") == DecodeErrorKind::BadField);
  CHECK(kind(R"({"type":"message","from":"group","data":1})") == DecodeErrorKind::BadField);
  CHECK(kind(R"({"type":"message","from":"group","group":"g","sequenceId":"7"})") == DecodeErrorKind::BadField);
  CHECK(kind(R"({"type":"system","event":"connected","userId":"u"})") == DecodeErrorKind::BadField);
  CHECK(kind(R"({"type":"system","event":"connected","connectionId":"c","reconnectionToken":3})") ==
        DecodeErrorKind::BadField);
  // The error text never quotes the frame (it may hold a reconnection token).
  auto error = std::get<DecodeError>(
      decode_service_frame(R"({"type":"system","event":"connected","connectionId":"c","reconnectionToken":["SECRET"]})"));
  CHECK(error.detail.find("SECRET") == std::string::npos);
}

TEST_CASE("every truncation of valid frames is rejected or decoded, never thrown") {
  // Frames arrive whole from the WebSocket layer; a cut frame must still be
  // a classified error, never an exception or a false success.
  const std::vector<std::string> frames = {
      R"({"type":"ack","ackId":12,"success":false,"error":{"name":"Forbidden","message":"no"}})",
      R"({"type":"message","from":"group","group":"g","fromUserId":null,"dataType":"json","data":{"k":"v"},"sequenceId":3})",
      R"({"type":"system","event":"connected","userId":"u","connectionId":"c","reconnectionToken":"t"})",
  };
  for (const auto& frame : frames) {
    for (std::size_t n = 0; n < frame.size(); ++n) {
      CAPTURE(n);
      ServiceFrame decoded;
      CHECK_NOTHROW(decoded = decode_service_frame(frame.substr(0, n)));
      CHECK(std::holds_alternative<DecodeError>(decoded));
    }
    CHECK_FALSE(std::holds_alternative<DecodeError>(decode_service_frame(frame)));
  }
}

TEST_CASE("random byte corruption never throws") {
  SeededRandom random(11);
  const std::string base =
      R"({"type":"message","from":"group","group":"g","fromUserId":"u","dataType":"json","data":{"k":[1,2,{"z":null}]},"sequenceId":3})";
  for (int i = 0; i < 5000; ++i) {
    std::string mutated = base;
    auto flips = 1 + random.next_u64() % 4;
    for (std::uint64_t f = 0; f < flips; ++f)
      mutated[static_cast<std::size_t>(random.next_u64() % mutated.size())] = static_cast<char>(random.next_u64() & 0xff);
    CHECK_NOTHROW((void)decode_service_frame(mutated));
  }
}
