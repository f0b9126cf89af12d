#pragma once
// The RFC 6455 message layer, client side, sans-IO: frames in, messages out;
// fragmentation, control frames, the close handshake, UTF-8 and the message
// size limit. Starts after a successful opening handshake.
//
// States (transitions in message_layer.cpp, on_close_frame/fail/close):
//   Open       data flows both ways
//   CloseSent  we queued our Close; messages still arrive until the peer's Close
//   Closed     both Close frames exist (ours may still be queued): clean end
//   Failed     the peer broke a rule; our Close (1002/1007/1009) is queued,
//              or was already sent. Further input is ignored.
//
// Memory bounds: the message being assembled is at most max_message_bytes
// (checked against each frame header before its payload is read: "If a
// message is too big to process, the endpoint MAY close with 1009"); a
// control payload at most 125 bytes; events are bounded by the input of one
// receive() call (every event needs at least 2 input bytes).
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "common/random.hpp"
#include "ws/codec/frame.hpp"
#include "ws/codec/frame_decoder.hpp"
#include "ws/codec/send_queue.hpp"
#include "common/utf8.hpp"

namespace dbr::ws {

class MessageLayer {
 public:
  enum class State { Open, CloseSent, Closed, Failed };

  struct MessageEvent {
    bool text = false;
    std::string payload;
  };
  struct PingEvent {
    std::string payload;
  };
  struct PongEvent {
    std::string payload;
  };
  // The close handshake completed: the peer's Close arrived (first, or in
  // answer to ours). Code 1005 when its Close carried no status.
  struct ClosedEvent {
    std::uint16_t code = close_code::kNoStatus;
    std::string reason;
    bool by_peer = false;
  };
  struct FailedEvent {
    Violation violation;
  };
  using Event = std::variant<MessageEvent, PingEvent, PongEvent, ClosedEvent, FailedEvent>;

  enum class SendResult { Queued, QueueFull, NotOpen, InvalidUtf8 };

  // Writes frames into `out`, which it shares with the layer below (the
  // upgrade request went through it first).
  MessageLayer(Random& random, SendQueue& out, std::size_t max_message_bytes);

  void receive(std::span<const std::uint8_t> bytes);
  std::optional<Event> poll_event();

  SendResult send_text(std::string_view text);
  SendResult send_binary(std::span<const std::uint8_t> bytes);
  // Starts the close handshake (Open only; otherwise ignored). The Close
  // frame waits behind queued data. Codes that may not be sent become 1000.
  void close(std::uint16_t code, std::string_view reason);

  State state() const { return state_; }

 private:
  bool on_header(const FrameHeader& header);
  bool on_payload(std::span<const std::uint8_t> chunk);
  bool on_frame_end();
  bool on_close_frame();
  SendResult send_data(Opcode opcode, std::span<const std::uint8_t> payload);
  bool fail(std::uint16_t code, std::string reason);

  Random& random_;
  SendQueue& out_;
  const std::size_t max_message_bytes_;
  State state_ = State::Open;
  FrameDecoder decoder_;
  std::deque<Event> events_;

  // The frame being read.
  FrameHeader frame_{};
  std::string control_payload_;
  // The message being assembled (possibly over several frames).
  bool in_message_ = false;
  bool message_text_ = false;
  std::string message_;
  Utf8Validator utf8_;
};

}  // namespace dbr::ws
