#include <doctest/doctest.h>

#include <variant>

#include "common/random.hpp"
#include "ws/codec/message_layer.hpp"
#include "support/ws_frames.hpp"

using namespace dbr;
using namespace dbr::ws;
using namespace dbr::ws::test;

namespace {

constexpr std::size_t kMax = 1000;

std::string show(const MessageLayer::Event& e) {
  if (auto* m = std::get_if<MessageLayer::MessageEvent>(&e))
    return std::string(m->text ? "text" : "binary") + "[" + m->payload + "] ";
  if (auto* p = std::get_if<MessageLayer::PingEvent>(&e)) return "ping[" + p->payload + "] ";
  if (auto* p = std::get_if<MessageLayer::PongEvent>(&e)) return "pong[" + p->payload + "] ";
  if (auto* c = std::get_if<MessageLayer::ClosedEvent>(&e))
    return "closed(" + std::to_string(c->code) + " '" + c->reason + "' " + (c->by_peer ? "peer" : "us") + ") ";
  auto& f = std::get<MessageLayer::FailedEvent>(e);
  return "failed(" + std::to_string(f.violation.close_code) + " " + f.violation.reason + ") ";
}

std::string drain_output(SendQueue& q) {
  std::string bytes;
  while (!q.empty()) {
    auto f = q.front();
    bytes.append(reinterpret_cast<const char*>(f.data()), f.size());
    q.consume(f.size());
  }
  std::string out;
  std::size_t consumed = 0;
  for (const auto& f : parse_client_frames(bytes, &consumed)) {
    CHECK(f.masked);  // "A client MUST mask all frames that it sends to the server"
    out += "sent(op=" + std::to_string(f.opcode) + " fin=" + std::to_string(f.fin);
    if (f.opcode == 8 && f.payload.size() >= 2)
      out += " code=" + std::to_string(f.close_code()) + " '" + f.close_reason() + "'";
    else
      out += " [" + f.payload + "]";
    out += ") ";
  }
  CHECK(consumed == bytes.size());
  return out;
}

// Feeds `chunks` to a fresh layer (optionally after a local action), returns
// events, what it sent and its final state.
std::string run(const std::vector<std::string_view>& chunks, const std::function<void(MessageLayer&)>& before = {}) {
  SeededRandom random(7);
  SendQueue queue(1 << 20);
  MessageLayer layer(random, queue, kMax);
  if (before) before(layer);
  std::string out;
  for (auto chunk : chunks) {
    layer.receive(bytes_of(chunk));
    while (auto e = layer.poll_event()) out += show(*e);
  }
  out += drain_output(queue);
  static const char* names[] = {"Open", "CloseSent", "Closed", "Failed"};
  out += names[static_cast<int>(layer.state())];
  return out;
}

std::string both(const std::string& input, const std::function<void(MessageLayer&)>& before = {}) {
  auto [whole, bytewise] =
      whole_and_bytewise(input, [&](const std::vector<std::string_view>& chunks) { return run(chunks, before); });
  CHECK(whole == bytewise);
  return whole;
}

}  // namespace

TEST_CASE("single-frame text and binary messages, including empty ones") {
  CHECK(both(text_frame("hello") + binary_frame(std::string("\0\1\2", 3)) + text_frame("") + binary_frame("")) ==
        "text[hello] binary[" + std::string("\0\1\2", 3) + "] text[] binary[] Open");
}

TEST_CASE("fragmented messages are joined; control frames may come between the fragments") {
  std::string input = text_frame("Hel", false) + ping_frame("p1") + continuation("lo ", false) + pong_frame("x") +
                      continuation("", false) + continuation("world", true) + binary_frame("b1", false) +
                      continuation("b2", true);
  // "control frames ... MAY be injected in the middle of a fragmented message" (§5.4)
  CHECK(both(input) == "ping[p1] pong[x] text[Hello world] binary[b1b2] sent(op=10 fin=1 [p1]) Open");
}

TEST_CASE("a ping is answered with a pong carrying the same payload") {
  std::string payload(125, 'q');
  CHECK(both(ping_frame(payload)) == "ping[" + payload + "] sent(op=10 fin=1 [" + payload + "]) Open");
}

TEST_CASE("only the newest of several unanswered pings gets a pong") {
  CHECK(both(ping_frame("1") + ping_frame("2") + ping_frame("3")) ==
        "ping[1] ping[2] ping[3] sent(op=10 fin=1 [3]) Open");
}

TEST_CASE("UTF-8 split across frames is valid; 4-byte sequences too") {
  // U+20AC (E2 82 AC) split 1+2 across fragments, U+1F600 (F0 9F 98 80) split 3+1.
  std::string input = text_frame("\xE2", false) + continuation("\x82\xAC\xF0\x9F\x98", false) +
                      continuation("\x80", true);
  CHECK(both(input) == "text[\xE2\x82\xAC\xF0\x9F\x98\x80] Open");
}

TEST_CASE("the server's close is echoed with its code and reported") {
  CHECK(both(text_frame("last") + close_frame(1001, "going away") + text_frame("ignored")) ==
        "text[last] closed(1001 'going away' peer) sent(op=8 fin=1 code=1001 '') Closed");
}

TEST_CASE("a close without a status code is code 1005 and is echoed empty") {
  CHECK(both(empty_close_frame()) == "closed(1005 '' peer) sent(op=8 fin=1 []) Closed");
}

TEST_CASE("our close, then the server's answer, completes the handshake") {
  auto close_first = [](MessageLayer& l) { l.close(1000, "bye"); };
  CHECK(both(text_frame("late") + ping_frame("p") + close_frame(1000, "ok"), close_first) ==
        "text[late] ping[p] closed(1000 'ok' us) sent(op=8 fin=1 code=1000 'bye') Closed");
}

TEST_CASE("a close reason is cut to fit 125 bytes on a code point boundary") {
  SeededRandom random(1);
  SendQueue queue(1 << 20);
  MessageLayer layer(random, queue, kMax);
  std::string reason;
  for (int i = 0; i < 100; ++i) reason += "\xC3\xA9";  // 200 bytes of 'é'
  layer.close(4000, reason);
  std::string bytes(reinterpret_cast<const char*>(queue.front().data()), queue.front().size());
  auto frames = parse_client_frames(bytes);
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].payload.size() == 124);  // 2 + 122: 123 would split a character
  CHECK(frames[0].close_code() == 4000);
  CHECK(is_valid_utf8(frames[0].close_reason()));
}

TEST_CASE("no data may be sent after our close") {
  SeededRandom random(1);
  SendQueue queue(1 << 20);
  MessageLayer layer(random, queue, kMax);
  CHECK(layer.send_text("before") == MessageLayer::SendResult::Queued);
  layer.close(1000, "");
  CHECK(layer.send_text("after") == MessageLayer::SendResult::NotOpen);
  CHECK(layer.state() == MessageLayer::State::CloseSent);
}

TEST_CASE("invalid UTF-8 in an outgoing text message is refused, not sent") {
  SeededRandom random(1);
  SendQueue queue(1 << 20);
  MessageLayer layer(random, queue, kMax);
  CHECK(layer.send_text("\xC0\xAF") == MessageLayer::SendResult::InvalidUtf8);
  CHECK(queue.empty());
  CHECK(layer.state() == MessageLayer::State::Open);
}

TEST_CASE("every message-level violation fails with the right close code, sent to the server") {
  struct Case {
    std::string name;
    std::string input;
    std::uint16_t code;
    std::string reason;
  };
  std::vector<Case> cases = {
      {"continuation without a start", continuation("x", true), 1002,
       "continuation frame without a message to continue"},
      {"new message inside a fragmented one", text_frame("a", false) + text_frame("b"), 1002,
       "new data frame inside an unfinished fragmented message"},
      {"binary inside a fragmented text", text_frame("a", false) + binary_frame("b"), 1002,
       "new data frame inside an unfinished fragmented message"},
      {"invalid UTF-8 byte", text_frame("ok\xFF"), 1007, "text message is not valid UTF-8"},
      {"overlong encoding", text_frame("\xC0\xAF"), 1007, "text message is not valid UTF-8"},
      {"UTF-16 surrogate", text_frame("\xED\xA0\x80"), 1007, "text message is not valid UTF-8"},
      {"above U+10FFFF", text_frame("\xF4\x90\x80\x80"), 1007, "text message is not valid UTF-8"},
      {"text ends inside a sequence", text_frame("\xE2\x82"), 1007, "text message ends inside a UTF-8 sequence"},
      {"fragmented text ends inside a sequence", text_frame("a", false) + continuation("\xE2", true), 1007,
       "text message ends inside a UTF-8 sequence"},
      {"one frame over the limit", binary_frame(std::string(kMax + 1, 'x')), 1009, "message over 1000 bytes"},
      {"fragments over the limit", binary_frame(std::string(600, 'x'), false) + continuation(std::string(401, 'y'), true),
       1009, "message over 1000 bytes"},
      {"close with a 1-byte body", server_frame(true, 0, 8, "\x03"), 1002, "close frame with a 1-byte payload"},
      {"close code 999", close_frame(999, ""), 1002, "close frame with invalid status code 999"},
      {"close code 1005", close_frame(1005, ""), 1002, "close frame with invalid status code 1005"},
      {"close code 1006", close_frame(1006, ""), 1002, "close frame with invalid status code 1006"},
      {"close code 1015", close_frame(1015, ""), 1002, "close frame with invalid status code 1015"},
      {"close code 2999", close_frame(2999, ""), 1002, "close frame with invalid status code 2999"},
      {"close code 5000", close_frame(5000, ""), 1002, "close frame with invalid status code 5000"},
      {"close reason not UTF-8", close_frame(1000, "\xFF"), 1007, "close reason is not valid UTF-8"},
      {"masked frame", server_frame(true, 0, 1, "x", true), 1002, "masked frame from the server"},
      {"reserved bit", server_frame(true, 4, 2, "x"), 1002, "reserved bits set without a negotiated extension"},
      {"control frame too long", server_frame(true, 0, 9, std::string(126, 'p')), 1002,
       "control frame payload over 125 bytes"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    CHECK(both(c.input) == "failed(" + std::to_string(c.code) + " " + c.reason + ") sent(op=8 fin=1 code=" +
                               std::to_string(c.code) + " '" + c.reason + "') Failed");
  }
}

TEST_CASE("the size limit is checked at the frame header, before its payload arrives") {
  SeededRandom random(1);
  SendQueue queue(1 << 20);
  MessageLayer layer(random, queue, kMax);
  std::string frame = binary_frame(std::string(5000, 'x'));
  layer.receive(bytes_of(std::string_view(frame).substr(0, 4)));  // header only
  auto e = layer.poll_event();
  REQUIRE(e);
  CHECK(std::get<MessageLayer::FailedEvent>(*e).violation.close_code == 1009);
}

TEST_CASE("a message of exactly the limit is delivered") {
  CHECK(both(binary_frame(std::string(600, 'a'), false) + continuation(std::string(400, 'b'), true)) ==
        "binary[" + std::string(600, 'a') + std::string(400, 'b') + "] Open");
}

TEST_CASE("after our close, a violation fails without a second close frame") {
  auto close_first = [](MessageLayer& l) { l.close(1000, ""); };
  CHECK(both(text_frame("\xFF"), close_first) ==
        "failed(1007 text message is not valid UTF-8) sent(op=8 fin=1 code=1000 '') Failed");
}

TEST_CASE("a violation drops queued data frames but keeps the one being written") {
  SeededRandom random(1);
  SendQueue queue(1 << 20);
  MessageLayer layer(random, queue, kMax);
  REQUIRE(layer.send_text("first") == MessageLayer::SendResult::Queued);
  REQUIRE(layer.send_text("second") == MessageLayer::SendResult::Queued);
  std::string written(reinterpret_cast<const char*>(queue.front().data()), 3);
  queue.consume(3);  // "first" is partly written
  layer.receive(bytes_of(server_frame(true, 0, 1, "x", true)));
  std::string all = written;
  while (!queue.empty()) {
    auto f = queue.front();
    all.append(reinterpret_cast<const char*>(f.data()), f.size());
    queue.consume(f.size());
  }
  auto frames = parse_client_frames(all);
  REQUIRE(frames.size() == 2);
  CHECK(frames[0].payload == "first");
  CHECK(frames[1].opcode == 8);
  CHECK(frames[1].close_code() == 1002);
}
