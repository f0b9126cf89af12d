#pragma once
// One WebSocket client connection attempt as a sans-IO state machine: the
// opening handshake, the message layer, the close handshake and the
// deadlines of each phase. No sockets, no clock: the adapter (Connection)
// reports transport events with `now`, writes pending_output(), delivers
// poll_event()s and arms one timer at next_deadline().
//
// Phases (all transitions in one table, codec.cpp: rows of {input, phases,
// deadline guard, handler}, each rule written once):
//   Idle -> Connecting -> Handshaking -> Open -> Closing -> Flushing -> Finished
//   Connecting   transport connecting (DNS, TCP, TLS); deadline connect_timeout
//   Handshaking  upgrade request sent, waiting for 101; deadline handshake_timeout
//   Open         messages flow; no deadline (keepalive is the owner's job)
//   Closing      our Close queued, waiting for the peer's; deadline close_timeout
//   Flushing     the end is decided (peer's Close echoed, or a violation's
//                Close queued); sending the last bytes, then the terminal
//                event; deadline close_timeout
//   Finished     the terminal event was emitted; the transport can go
// An input a phase does not expect from a correct adapter (bytes before the
// connection exists, say) changes nothing and is reported as an event,
// UnexpectedInput naming the phase and the input (common/transition_table.hpp);
// the adapter counts it and logs it.
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/random.hpp"
#include "common/time.hpp"
#include "common/transition_table.hpp"
#include "ws/codec/events.hpp"
#include "ws/codec/handshake.hpp"
#include "ws/codec/message_layer.hpp"
#include "ws/codec/send_queue.hpp"

namespace dbr::ws {

struct CodecOptions {
  std::string host_header;  // Host: value
  std::string target;       // path?query of the request line
  std::vector<std::string> subprotocols;
  std::vector<std::string> extra_headers;  // "Name: value"
  Duration connect_timeout = std::chrono::seconds(10);
  Duration handshake_timeout = std::chrono::seconds(10);
  Duration close_timeout = std::chrono::seconds(3);
  std::size_t max_message_bytes = 1 << 20;
  std::size_t send_queue_max_bytes = 4 << 20;
};

class Codec {
 public:
  enum class Phase { Idle, Connecting, Handshaking, Open, Closing, Flushing, Finished };
  // What the owner gets (ws::Event), plus UnexpectedInput for the adapter
  // itself: not a terminal event, the attempt goes on.
  using Event = std::variant<Opened, Message, Activity, Closed, Failure, UnexpectedInput>;

  Codec(Random& random, CodecOptions options);

  // ---- inputs (each may queue output and events)
  void start(TimePoint now);
  void on_connected(TimePoint now);
  void on_connect_failed(TimePoint now, Failure failure);
  void on_bytes(TimePoint now, std::span<const std::uint8_t> bytes);
  void on_eof(TimePoint now);
  void on_transport_error(TimePoint now, std::string detail);
  // A spurious call (before the deadline) is a no-op.
  void on_timeout(TimePoint now);
  // False when not queued: not open, invalid UTF-8 (nothing else happens),
  // or the send queue is full (the codec then fails with SendQueueFull).
  bool send_text(TimePoint now, std::string_view text);
  bool send_binary(TimePoint now, std::span<const std::uint8_t> bytes);
  // Open: starts the close handshake. Before open: ends the attempt with
  // Closed{1006}. Later: no-op.
  void close(TimePoint now, std::uint16_t code, std::string_view reason);
  // The owner is going away: Finished with no further event.
  void abandon();

  // ---- outputs
  std::optional<Event> poll_event();
  std::span<const std::uint8_t> pending_output() const { return out_.front(); }
  void consume_output(TimePoint now, std::size_t n);
  // The transport could not take pending_output() now; it will retry with
  // the same bytes (see SendQueue::pin_front).
  void pin_output() { out_.pin_front(); }
  std::optional<TimePoint> next_deadline() const { return deadline_; }
  Phase phase() const { return phase_; }
  bool finished() const { return phase_ == Phase::Finished; }
  std::size_t queued_bytes() const { return out_.queued_bytes(); }

 private:
  enum class Input {
    Start,
    Connected,
    ConnectFailed,
    Bytes,
    Eof,
    TransportError,
    Timeout,
    Send,
    Close,
    Drained,
    Abandon,
  };
  static std::string_view input_name(Input input);
  struct InputData {
    std::span<const std::uint8_t> bytes{};
    std::string_view text{};
    bool is_text = false;
    std::uint16_t code = 0;
    std::string detail{};
    Failure failure{};
    bool queued = false;  // Send's result
  };
  // Whether the phase's deadline has passed when the input comes.
  enum class Deadline : std::uint8_t { NotPassed, Passed };
  using Handler = void (Codec::*)(TimePoint, InputData&);
  // A row of the table (codec.cpp): phases, deadline, input, handler.
  using Rule = TransitionRow<Phase, Deadline, Input, Handler>;
  static const Rule* find_rule(Phase phase, Deadline deadline, Input input);
  // The one place phases change: the table's handler for (phase, input), or
  // an UnexpectedInput event. Returns the result of Send.
  bool dispatch(TimePoint now, Input input, InputData data);

  // Handlers, one per row of the table.
  void start_connecting(TimePoint now, InputData& input);
  void begin_handshake(TimePoint now, InputData& input);
  void connect_failed(TimePoint now, InputData& input);
  void connect_timed_out(TimePoint now, InputData& input);
  void closed_before_open(TimePoint now, InputData& input);
  void read_handshake(TimePoint now, InputData& input);
  void conclude_handshake(TimePoint now, std::span<const std::uint8_t> rest);
  void eof_before_upgrade(TimePoint now, InputData& input);
  void error_before_upgrade(TimePoint now, InputData& input);
  void upgrade_timed_out(TimePoint now, InputData& input);
  void receive_frames(TimePoint now, InputData& input);
  void eof_while_open(TimePoint now, InputData& input);
  void error_while_open(TimePoint now, InputData& input);
  void send(TimePoint now, InputData& input);
  void begin_close(TimePoint now, InputData& input);
  void lost_while_closing(TimePoint now, InputData& input);
  void close_timed_out(TimePoint now, InputData& input);
  void end_flush(TimePoint now, InputData& input);
  void abandon_attempt(TimePoint now, InputData& input);

  void read_frames(TimePoint now, std::span<const std::uint8_t> bytes);
  void begin_flush(TimePoint now, Event terminal);
  void finish(Event terminal);
  void finish_failed(FailureKind kind, std::string detail);
  bool output_drained() const { return out_.empty(); }

  Random& random_;
  CodecOptions options_;
  Phase phase_ = Phase::Idle;
  std::optional<TimePoint> deadline_;
  SendQueue out_;
  MessageLayer messages_;
  std::string client_key_;
  ResponseReader response_;
  std::optional<Event> terminal_;  // held while Flushing
  std::deque<Event> events_;
};

std::string_view phase_name(Codec::Phase phase);

}  // namespace dbr::ws
