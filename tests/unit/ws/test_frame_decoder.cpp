#include <doctest/doctest.h>

#include "ws/codec/frame_decoder.hpp"
#include "support/ws_frames.hpp"

using namespace dbr::ws;
using namespace dbr::ws::test;

namespace {

// Transcript of decoder steps; payload chunks of one frame are joined so
// that a whole feed and a byte-at-a-time feed compare equal.
std::string decode(const std::vector<std::string_view>& chunks) {
  FrameDecoder d;
  std::string out;
  std::string payload;
  bool in_payload = false;
  for (auto chunk : chunks) {
    auto input = bytes_of(chunk);
    for (;;) {
      auto step = d.next(input);
      if (step.kind == FrameDecoder::StepKind::NeedMore) {
        REQUIRE(input.empty());
        break;
      }
      if (step.kind == FrameDecoder::StepKind::Payload) {
        payload.append(reinterpret_cast<const char*>(step.payload.data()), step.payload.size());
        in_payload = true;
        continue;
      }
      if (in_payload) {
        out += "P[" + payload + "] ";
        payload.clear();
        in_payload = false;
      }
      if (step.kind == FrameDecoder::StepKind::Header) {
        out += "H(fin=" + std::to_string(step.header.fin) +
               " op=" + std::to_string(static_cast<int>(step.header.opcode)) +
               " len=" + std::to_string(step.header.payload_length) + ") ";
      } else if (step.kind == FrameDecoder::StepKind::FrameEnd) {
        out += "E ";
      } else {
        out += "ERR(" + std::to_string(d.error().close_code) + " " + d.error().reason + ")";
        return out;
      }
    }
  }
  return out;
}

std::string check_both(const std::string& input) {
  auto [whole, bytewise] = whole_and_bytewise(input, decode);
  CHECK(whole == bytewise);
  return whole;
}

}  // namespace

TEST_CASE("frames of every length form decode the same whole and one byte at a time") {
  for (std::size_t size : {0u, 1u, 125u, 126u, 127u, 65535u, 65536u, 70000u}) {
    CAPTURE(size);
    std::string payload(size, 'x');
    for (std::size_t i = 0; i < size; ++i) payload[i] = static_cast<char>('a' + i % 26);
    std::string out = check_both(binary_frame(payload));
    CHECK(out == "H(fin=1 op=2 len=" + std::to_string(size) + ") " + (size ? "P[" + payload + "] " : "") + "E ");
  }
}

TEST_CASE("several frames in one read, including an empty one and control frames") {
  std::string input = text_frame("he", false) + ping_frame("") + continuation("llo", true) + pong_frame("p");
  CHECK(check_both(input) ==
        "H(fin=0 op=1 len=2) P[he] E H(fin=1 op=9 len=0) E H(fin=1 op=0 len=3) P[llo] E "
        "H(fin=1 op=10 len=1) P[p] E ");
}

TEST_CASE("non-minimal length encodings are accepted (no receiver rule in RFC 6455)") {
  CHECK(check_both(server_frame(true, 0, 2, "abc", false, 16)) == "H(fin=1 op=2 len=3) P[abc] E ");
  CHECK(check_both(server_frame(true, 0, 2, "abc", false, 64)) == "H(fin=1 op=2 len=3) P[abc] E ");
}

TEST_CASE("a header split across reads resumes where it stopped") {
  std::string frame = binary_frame(std::string(300, 'z'));
  // Split inside the extended length.
  auto out = decode({std::string_view(frame).substr(0, 3), std::string_view(frame).substr(3)});
  CHECK(out == "H(fin=1 op=2 len=300) P[" + std::string(300, 'z') + "] E ");
}

TEST_CASE("violations visible in one frame end with 1002 and a reason") {
  struct Case {
    std::string name;
    std::string input;
    std::string reason;
  };
  std::vector<Case> cases = {
      {"masked server frame", server_frame(true, 0, 1, "hi", true), "masked frame from the server"},
      {"RSV1", server_frame(true, 4, 1, "hi"), "reserved bits set without a negotiated extension"},
      {"RSV2", server_frame(true, 2, 1, "hi"), "reserved bits set without a negotiated extension"},
      {"RSV3", server_frame(true, 1, 1, "hi"), "reserved bits set without a negotiated extension"},
      {"opcode 3", server_frame(true, 0, 3, ""), "unknown opcode 0x3"},
      {"opcode 7", server_frame(true, 0, 7, ""), "unknown opcode 0x7"},
      {"opcode 0xB", server_frame(true, 0, 0xB, ""), "unknown opcode 0xb"},
      {"opcode 0xF", server_frame(true, 0, 0xF, ""), "unknown opcode 0xf"},
      {"fragmented ping", server_frame(false, 0, 9, ""), "fragmented control frame"},
      {"fragmented close", server_frame(false, 0, 8, ""), "fragmented control frame"},
      {"ping of 126 bytes", server_frame(true, 0, 9, std::string(126, 'p')), "control frame payload over 125 bytes"},
      {"pong of 126 bytes", server_frame(true, 0, 10, std::string(126, 'p')), "control frame payload over 125 bytes"},
      {"64-bit length, top bit set", server_frame(true, 0, 2, "", false, 64, 0x8000000000000000ULL),
       "64-bit payload length with the most significant bit set"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    CHECK(check_both(c.input) == "ERR(1002 " + c.reason + ")");
  }
}

TEST_CASE("a violation is reported after the valid frames before it, and is sticky") {
  std::string input = text_frame("ok") + server_frame(true, 0, 1, "x", true) + text_frame("never");
  CHECK(check_both(input) == "H(fin=1 op=1 len=2) P[ok] E ERR(1002 masked frame from the server)");
  FrameDecoder d;
  auto bad = server_frame(true, 4, 1, "");
  auto in = bytes_of(bad);
  CHECK(d.next(in).kind == FrameDecoder::StepKind::Error);
  auto more = bytes_of(text_frame("x"));
  CHECK(d.next(more).kind == FrameDecoder::StepKind::Error);
  CHECK(d.failed());
}

TEST_CASE("the largest valid 64-bit length is a header, not an error") {
  FrameDecoder d;
  auto frame = server_frame(true, 0, 2, "", false, 64, 0x7FFFFFFFFFFFFFFFULL);
  auto in = bytes_of(frame);
  auto step = d.next(in);
  REQUIRE(step.kind == FrameDecoder::StepKind::Header);
  CHECK(step.header.payload_length == 0x7FFFFFFFFFFFFFFFULL);
  CHECK(d.next(in).kind == FrameDecoder::StepKind::NeedMore);
}
