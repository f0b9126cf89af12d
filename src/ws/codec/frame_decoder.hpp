#pragma once
// Incremental decoder of server-to-client frames (RFC 6455 §5.2), sans-IO.
//
// Feed whatever bytes arrived; next() consumes from the front of `input` and
// returns one step at a time:
//   Header    a complete frame header (nothing of its payload consumed yet,
//             so the caller can apply limits before reading it);
//   Payload   a chunk of the current frame's payload, pointing into `input`
//             (already unmasked: server frames are never masked);
//   FrameEnd  the current frame is complete (also right after the Header of
//             an empty frame);
//   NeedMore  `input` is used up; call again with more bytes. Not an error:
//             a header split across reads resumes where it stopped;
//   Error     the frame breaks a rule that can be seen in one frame; error()
//             says which, with its close code. Sticky.
// Rules that need more than one frame (continuation order, message size,
// UTF-8 across frames) belong to the message layer.
//
// Memory: a 10-byte partial-header buffer; payloads are never copied here.
#include <array>
#include <cstdint>
#include <span>

#include "ws/codec/frame.hpp"

namespace dbr::ws {

class FrameDecoder {
 public:
  enum class StepKind { NeedMore, Header, Payload, FrameEnd, Error };
  struct Step {
    StepKind kind = StepKind::NeedMore;
    FrameHeader header{};                     // for Header
    std::span<const std::uint8_t> payload{};  // for Payload
  };

  Step next(std::span<const std::uint8_t>& input);
  const Violation& error() const { return error_; }
  bool failed() const { return state_ == State::Failed; }

 private:
  enum class State { Head, Payload, Failed };
  Step fail(std::string reason);
  // Checks the first two header bytes; sets head_needed_. False on a violation.
  bool check_first_two_bytes();
  FrameHeader parse_header() const;

  State state_ = State::Head;
  std::array<std::uint8_t, 10> head_{};
  std::size_t head_len_ = 0;
  std::size_t head_needed_ = 2;
  std::uint64_t payload_remaining_ = 0;
  Violation error_;
};

}  // namespace dbr::ws
