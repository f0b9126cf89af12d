#include "ws/codec/message_layer.hpp"

#include <algorithm>
#include <string>

#include "ws/codec/frame_encoder.hpp"

namespace dbr::ws {

MessageLayer::MessageLayer(Random& random, SendQueue& out, std::size_t max_message_bytes)
    : random_(random), out_(out), max_message_bytes_(max_message_bytes) {}

std::optional<MessageLayer::Event> MessageLayer::poll_event() {
  if (events_.empty()) return std::nullopt;
  Event e = std::move(events_.front());
  events_.pop_front();
  return e;
}

void MessageLayer::receive(std::span<const std::uint8_t> bytes) {
  // "_The WebSocket Connection is Closed_" once both Close frames are
  // exchanged; after a failure "endpoints SHOULD NOT ... attempt to process
  // further data" (§7.1.7). Either way nothing more is read.
  while (state_ == State::Open || state_ == State::CloseSent) {
    FrameDecoder::Step step = decoder_.next(bytes);
    bool ok = true;
    switch (step.kind) {
      case FrameDecoder::StepKind::NeedMore:
        return;
      case FrameDecoder::StepKind::Error:
        ok = fail(decoder_.error().close_code, decoder_.error().reason);
        break;
      case FrameDecoder::StepKind::Header:
        ok = on_header(step.header);
        break;
      case FrameDecoder::StepKind::Payload:
        ok = on_payload(step.payload);
        break;
      case FrameDecoder::StepKind::FrameEnd:
        ok = on_frame_end();
        break;
    }
    if (!ok) return;
  }
}

bool MessageLayer::on_header(const FrameHeader& header) {
  frame_ = header;
  if (is_control(header.opcode)) {
    control_payload_.clear();
    return true;
  }
  if (header.opcode == Opcode::Continuation) {
    // "A fragmented message consists of a single frame with the FIN bit
    // clear and an opcode other than 0, followed by zero or more frames with
    // the FIN bit clear and the opcode set to 0, and terminated by a single
    // frame with the FIN bit set and an opcode of 0." (§5.4)
    if (!in_message_) return fail(close_code::kProtocolError, "continuation frame without a message to continue");
  } else {
    // "the fragments of one message MUST NOT be interleaved between the
    // fragments of another message unless an extension has been negotiated
    // that can interpret the interleaving." (§5.4)
    if (in_message_) return fail(close_code::kProtocolError, "new data frame inside an unfinished fragmented message");
    in_message_ = true;
    message_text_ = header.opcode == Opcode::Text;
    message_.clear();
    utf8_.reset();
  }
  // "If a message is too big to process, the endpoint MAY close with 1009"
  // (§7.4.1). Checked before any of the frame's payload is read.
  if (header.payload_length > max_message_bytes_ - message_.size())
    return fail(close_code::kMessageTooBig, "message over " + std::to_string(max_message_bytes_) + " bytes");
  // Reserve for the first frame only; later fragments grow geometrically.
  if (message_.empty()) message_.reserve(static_cast<std::size_t>(header.payload_length));
  return true;
}

bool MessageLayer::on_payload(std::span<const std::uint8_t> chunk) {
  if (is_control(frame_.opcode)) {
    control_payload_.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
    return true;
  }
  // "When an endpoint is to interpret a byte stream as UTF-8 but finds that
  // the byte stream is not, in fact, a valid UTF-8 stream, that endpoint
  // MUST _Fail the WebSocket Connection_." (§8.1) Checked as bytes arrive.
  if (message_text_ && !utf8_.feed(chunk))
    return fail(close_code::kInvalidPayload, "text message is not valid UTF-8");
  message_.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
  return true;
}

bool MessageLayer::on_frame_end() {
  switch (frame_.opcode) {
    case Opcode::Ping:
      // "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in
      // response, unless it already received a Close frame. ... A Pong frame
      // sent in response to a Ping frame must have identical "Application
      // data" as found in the message body of the Ping frame being replied
      // to." (§5.5.2, §5.5.3) After our own Close nothing is worth sending.
      if (state_ == State::Open) {
        std::string pong;
        encode_frame(pong, Opcode::Pong, true, as_bytes(control_payload_), random_);
        out_.push_pong(std::move(pong));
      }
      events_.push_back(PingEvent{std::move(control_payload_)});
      control_payload_.clear();
      return true;
    case Opcode::Pong:
      // "A Pong frame MAY be sent unsolicited. ... A response to an
      // unsolicited Pong frame is not expected." (§5.5.3)
      events_.push_back(PongEvent{std::move(control_payload_)});
      control_payload_.clear();
      return true;
    case Opcode::Close:
      return on_close_frame();
    case Opcode::Text:
    case Opcode::Binary:
    case Opcode::Continuation:
      if (!frame_.fin) return true;
      if (message_text_ && !utf8_.complete())
        return fail(close_code::kInvalidPayload, "text message ends inside a UTF-8 sequence");
      in_message_ = false;
      events_.push_back(MessageEvent{message_text_, std::move(message_)});
      message_.clear();
      return true;
  }
  return fail(close_code::kProtocolError, "unknown opcode");
}

bool MessageLayer::on_close_frame() {
  std::uint16_t code = close_code::kNoStatus;
  std::string reason;
  // "If there is a body, the first two bytes of the body MUST be a 2-byte
  // unsigned integer (in network byte order) representing a status code"
  // (§5.5.1); so a 1-byte body is malformed.
  if (control_payload_.size() == 1) return fail(close_code::kProtocolError, "close frame with a 1-byte payload");
  if (control_payload_.size() >= 2) {
    code = static_cast<std::uint16_t>((static_cast<std::uint8_t>(control_payload_[0]) << 8) |
                                      static_cast<std::uint8_t>(control_payload_[1]));
    if (!is_sendable_close_code(code))
      return fail(close_code::kProtocolError, "close frame with invalid status code " + std::to_string(code));
    reason = control_payload_.substr(2);
    // "the body ... MAY contain UTF-8-encoded data ... the interpretation of
    // this data is not defined" but it is UTF-8 (§5.5.1, §8.1).
    if (!is_valid_utf8(reason)) return fail(close_code::kInvalidPayload, "close reason is not valid UTF-8");
  }
  if (state_ == State::Open) {
    // "If an endpoint receives a Close frame and did not previously send a
    // Close frame, the endpoint MUST send a Close frame in response. (When
    // sending a Close frame in response, the endpoint typically echos the
    // status code it received.) It SHOULD do so as soon as practical."
    // (§5.5.1) Queued data is dropped: the peer will not process it.
    std::string payload = code == close_code::kNoStatus ? std::string() : close_payload(code, {});
    std::string frame;
    encode_frame(frame, Opcode::Close, true, as_bytes(payload), random_);
    out_.push_close(std::move(frame), /*urgent=*/true);
    state_ = State::Closed;
    events_.push_back(ClosedEvent{code, std::move(reason), /*by_peer=*/true});
    return false;
  }
  state_ = State::Closed;
  events_.push_back(ClosedEvent{code, std::move(reason), /*by_peer=*/false});
  return false;
}

bool MessageLayer::fail(std::uint16_t code, std::string reason) {
  // "If _The WebSocket Connection is Established_ prior to the point where
  // the endpoint is required to _Fail the WebSocket Connection_, the
  // endpoint SHOULD send a Close frame with an appropriate status code"
  // (§7.1.7); only one Close is ever sent, so not if ours is already out.
  if (state_ == State::Open) {
    std::string frame;
    encode_frame(frame, Opcode::Close, true, as_bytes(close_payload(code, reason)), random_);
    out_.push_close(std::move(frame), /*urgent=*/true);
  }
  state_ = State::Failed;
  events_.push_back(FailedEvent{Violation{code, std::move(reason)}});
  message_.clear();
  message_.shrink_to_fit();
  return false;
}

MessageLayer::SendResult MessageLayer::send_data(Opcode opcode, std::span<const std::uint8_t> payload) {
  // "After sending a Close frame, the endpoint MUST NOT send any further
  // data frames." (§5.5.1)
  if (state_ != State::Open) return SendResult::NotOpen;
  if (client_frame_size(payload.size()) > out_.max_data_bytes() - std::min(out_.data_bytes(), out_.max_data_bytes()))
    return SendResult::QueueFull;
  std::string frame;
  encode_frame(frame, opcode, true, payload, random_);
  return out_.push_data(std::move(frame)) ? SendResult::Queued : SendResult::QueueFull;
}

MessageLayer::SendResult MessageLayer::send_text(std::string_view text) {
  // "Text: The "Payload data" is text data encoded as UTF-8." (§5.6)
  if (!is_valid_utf8(text)) return SendResult::InvalidUtf8;
  return send_data(Opcode::Text, as_bytes(text));
}

MessageLayer::SendResult MessageLayer::send_binary(std::span<const std::uint8_t> bytes) {
  return send_data(Opcode::Binary, bytes);
}

void MessageLayer::close(std::uint16_t code, std::string_view reason) {
  if (state_ != State::Open) return;
  if (!is_sendable_close_code(code)) code = close_code::kNormal;
  std::string frame;
  encode_frame(frame, Opcode::Close, true, as_bytes(close_payload(code, reason)), random_);
  out_.push_close(std::move(frame), /*urgent=*/false);
  state_ = State::CloseSent;
}

}  // namespace dbr::ws
