#include "ws/codec/frame_decoder.hpp"

#include <algorithm>
#include <string>

namespace dbr::ws {

namespace {

bool is_known_opcode(std::uint8_t op) {
  switch (static_cast<Opcode>(op)) {
    case Opcode::Continuation:
    case Opcode::Text:
    case Opcode::Binary:
    case Opcode::Close:
    case Opcode::Ping:
    case Opcode::Pong:
      return true;
  }
  return false;
}

}  // namespace

FrameDecoder::Step FrameDecoder::fail(std::string reason) {
  state_ = State::Failed;
  error_ = Violation{close_code::kProtocolError, std::move(reason)};
  return Step{StepKind::Error};
}

bool FrameDecoder::check_first_two_bytes() {
  const std::uint8_t b0 = head_[0];
  const std::uint8_t b1 = head_[1];
  // "RSV1, RSV2, RSV3: 1 bit each. MUST be 0 unless an extension is
  // negotiated that defines meanings for non-zero values. If a nonzero value
  // is received and none of the negotiated extensions defines the meaning of
  // such a nonzero value, the receiving endpoint MUST _Fail the WebSocket
  // Connection_." (§5.2) We negotiate no extension.
  if ((b0 & kRsvBits) != 0) {
    (void)fail("reserved bits set without a negotiated extension");
    return false;
  }
  // "If an unknown opcode is received, the receiving endpoint MUST _Fail the
  // WebSocket Connection_." (§5.2)
  const std::uint8_t op = b0 & kOpcodeBits;
  if (!is_known_opcode(op)) {
    (void)fail("unknown opcode 0x" + std::string(1, "0123456789abcdef"[op]));
    return false;
  }
  // "A client MUST close a connection if it detects a masked frame." (§5.1)
  if ((b1 & kMaskBit) != 0) {
    (void)fail("masked frame from the server");
    return false;
  }
  const std::uint8_t len7 = b1 & kLengthBits;
  if (is_control(static_cast<Opcode>(op))) {
    // "All control frames MUST have a payload length of 125 bytes or less
    // and MUST NOT be fragmented." (§5.5)
    if ((b0 & kFinBit) == 0) {
      (void)fail("fragmented control frame");
      return false;
    }
    if (len7 > kMaxControlPayload) {
      (void)fail("control frame payload over 125 bytes");
      return false;
    }
  }
  head_needed_ = 2 + (len7 == kLength16 ? 2u : len7 == kLength64 ? 8u : 0u);
  return true;
}

FrameHeader FrameDecoder::parse_header() const {
  FrameHeader h;
  h.fin = (head_[0] & kFinBit) != 0;
  h.opcode = static_cast<Opcode>(head_[0] & kOpcodeBits);
  const std::uint8_t len7 = head_[1] & kLengthBits;
  if (len7 < kLength16) {
    h.payload_length = len7;
  } else {
    // "Multibyte length quantities are expressed in network byte order."
    std::uint64_t len = 0;
    for (std::size_t i = 2; i < head_needed_; ++i) len = (len << 8) | head_[i];
    h.payload_length = len;
  }
  return h;
}

FrameDecoder::Step FrameDecoder::next(std::span<const std::uint8_t>& input) {
  switch (state_) {
    case State::Failed:
      return Step{StepKind::Error};

    case State::Head:
      while (head_len_ < head_needed_) {
        if (input.empty()) return Step{StepKind::NeedMore};
        head_[head_len_++] = input.front();
        input = input.subspan(1);
        if (head_len_ == 2 && !check_first_two_bytes()) return Step{StepKind::Error};
      }
      {
        FrameHeader h = parse_header();
        // "the most significant bit MUST be 0" of the 64-bit length (§5.2)
        if ((head_[1] & kLengthBits) == kLength64 && (h.payload_length >> 63) != 0)
          return fail("64-bit payload length with the most significant bit set");
        // A sender "MUST" use the minimal length encoding, but §5.2 sets no
        // rule for receivers; like most clients we accept a longer form.
        head_len_ = 0;
        head_needed_ = 2;
        payload_remaining_ = h.payload_length;
        state_ = State::Payload;
        return Step{StepKind::Header, h};
      }

    case State::Payload: {
      if (payload_remaining_ == 0) {
        state_ = State::Head;
        return Step{StepKind::FrameEnd};
      }
      if (input.empty()) return Step{StepKind::NeedMore};
      const std::size_t n =
          static_cast<std::size_t>(std::min<std::uint64_t>(payload_remaining_, input.size()));
      Step step{StepKind::Payload, {}, input.first(n)};
      input = input.subspan(n);
      payload_remaining_ -= n;
      return step;
    }
  }
  return Step{StepKind::Error};
}

}  // namespace dbr::ws
