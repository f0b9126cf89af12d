#include <doctest/doctest.h>

#include "common/random.hpp"
#include "ws/codec/frame_encoder.hpp"
#include "ws/codec/send_queue.hpp"
#include "common/utf8.hpp"
#include "support/ws_frames.hpp"

using namespace dbr;
using namespace dbr::ws;
using namespace dbr::ws::test;

TEST_CASE("UTF-8: RFC 3629 well-formed sequences pass, everything else fails") {
  for (const char* ok : {"", "plain ASCII", "\xC2\x80", "\xDF\xBF", "\xE0\xA0\x80", "\xED\x9F\xBF", "\xEE\x80\x80",
                         "\xEF\xBF\xBF", "\xF0\x90\x80\x80", "\xF4\x8F\xBF\xBF", "Gr\xC3\xBC\xC3\x9F" "e"}) {
    CAPTURE(ok);
    CHECK(is_valid_utf8(ok));
  }
  for (const char* bad : {"\x80", "\xBF", "\xC0\x80", "\xC1\xBF", "\xE0\x9F\xBF", "\xED\xA0\x80", "\xED\xBF\xBF",
                          "\xF0\x8F\xBF\xBF", "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\xFF", "\xFE", "\xC2",
                          "\xE2\x82", "\xC2\x41", "abcdefgh\xFF"}) {
    CAPTURE(bad);
    CHECK_FALSE(is_valid_utf8(bad));
  }
}

TEST_CASE("UTF-8: the validator fails at the first bad byte, however the input is split") {
  std::string text = "0123456789\xE2\x82\xAC tail \xF0\x9F\x98\x80";
  for (std::size_t split = 0; split <= text.size(); ++split) {
    Utf8Validator v;
    CHECK(v.feed(bytes_of(std::string_view(text).substr(0, split))));
    CHECK(v.feed(bytes_of(std::string_view(text).substr(split))));
    CHECK(v.complete());
  }
  Utf8Validator v;
  CHECK(v.feed(bytes_of("ok \xE2\x82")));
  CHECK_FALSE(v.complete());  // inside a sequence
  CHECK(v.valid());
  CHECK_FALSE(v.feed(bytes_of("A")));  // not a continuation byte
  CHECK_FALSE(v.feed(bytes_of("more")));  // sticky
  v.reset();
  CHECK(v.feed(bytes_of("fresh")));
}

TEST_CASE("encoder: exact bytes with a pinned mask, and each length form") {
  std::string out;
  MaskKey mask{0x37, 0xfa, 0x21, 0x3d};
  encode_frame(out, Opcode::Text, true, bytes_of("Hello"), mask);
  // RFC 6455 §5.7: "A single-frame masked text message" 0x81 0x85 0x37 0xfa
  // 0x21 0x3d 0x7f 0x9f 0x4d 0x51 0x58 (contains "Hello").
  CHECK(out == std::string("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11));
  for (std::size_t size : {0u, 125u, 126u, 65535u, 65536u, 100000u}) {
    CAPTURE(size);
    std::string payload(size, 'a');
    for (std::size_t i = 0; i < size; ++i) payload[i] = static_cast<char>(i * 7);
    std::string frame;
    SeededRandom random(size);
    encode_frame(frame, Opcode::Binary, false, bytes_of(payload), random);
    CHECK(frame.size() == client_frame_size(size));
    auto frames = parse_client_frames(frame);
    REQUIRE(frames.size() == 1);
    CHECK_FALSE(frames[0].fin);
    CHECK(frames[0].masked);
    CHECK(frames[0].opcode == 2);
    CHECK(frames[0].payload == payload);
  }
}

TEST_CASE("apply_mask with a key offset unmasks a payload split at any point") {
  MaskKey mask{1, 2, 3, 4};
  std::string data = "the quick brown fox jumps";
  std::vector<std::uint8_t> masked(data.begin(), data.end());
  apply_mask(masked, mask);
  for (std::size_t split = 0; split <= masked.size(); ++split) {
    auto copy = masked;
    apply_mask(std::span(copy).first(split), mask, 0);
    apply_mask(std::span(copy).subspan(split), mask, split);
    const std::string unmasked(copy.begin(), copy.end());
    CHECK(unmasked == data);
  }
}

namespace {
std::string drain(SendQueue& q, std::size_t step = 1 << 20) {
  std::string out;
  while (!q.empty()) {
    auto f = q.front();
    std::size_t n = std::min(step, f.size());
    out.append(reinterpret_cast<const char*>(f.data()), n);
    q.consume(n);
  }
  return out;
}
}  // namespace

TEST_CASE("send queue: the data bound refuses the frame that would cross it") {
  SendQueue q(10);
  CHECK(q.push_data("12345"));
  CHECK(q.push_data("6789"));
  CHECK_FALSE(q.push_data("ab"));  // 9 + 2 > 10
  CHECK(q.push_data("a"));         // exactly 10
  CHECK(q.data_bytes() == 10);
  q.push_pong("P");  // control frames are not counted against the bound
  q.push_close("C", false);
  CHECK(q.queued_bytes() == 12);
  CHECK(drain(q, 3) == "P123456789aC");
  CHECK(q.queued_bytes() == 0);
  CHECK(q.push_data("0123456789"));
}

TEST_CASE("send queue: control frames never split a frame being written") {
  SendQueue q(100);
  q.push_data("AAAA");
  q.push_data("BBBB");
  q.consume(2);  // AAAA half written
  q.push_pong("p1");
  q.push_pong("p2");  // replaces the waiting pong
  q.push_close("c", false);
  CHECK(drain(q) == "AAp2BBBBc");
}

TEST_CASE("send queue: a pinned front is not displaced; an urgent close drops unstarted data") {
  SendQueue q(100);
  q.push_data("AAAA");
  q.push_data("BBBB");
  q.pin_front();  // a write of AAAA returned EAGAIN
  q.push_pong("p");
  q.push_close("c", /*urgent=*/true);
  CHECK(q.data_bytes() == 4);
  CHECK(drain(q) == "AAAApc");
}
