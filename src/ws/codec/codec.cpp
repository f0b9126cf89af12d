#include "ws/codec/codec.hpp"

#include <string>

namespace dbr::ws {

namespace {

std::string ms(Duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms";
}

}  // namespace

std::string_view phase_name(Codec::Phase phase) {
  switch (phase) {
    case Codec::Phase::Idle: return "Idle";
    case Codec::Phase::Connecting: return "Connecting";
    case Codec::Phase::Handshaking: return "Handshaking";
    case Codec::Phase::Open: return "Open";
    case Codec::Phase::Closing: return "Closing";
    case Codec::Phase::Flushing: return "Flushing";
    case Codec::Phase::Finished: return "Finished";
  }
  return "?";
}

std::string_view Codec::input_name(Input input) {
  switch (input) {
    case Input::Start: return "Start";
    case Input::Connected: return "Connected";
    case Input::ConnectFailed: return "ConnectFailed";
    case Input::Bytes: return "Bytes";
    case Input::Eof: return "Eof";
    case Input::TransportError: return "TransportError";
    case Input::Timeout: return "Timeout";
    case Input::Send: return "Send";
    case Input::Close: return "Close";
    case Input::Drained: return "Drained";
    case Input::Abandon: return "Abandon";
  }
  return "?";
}

Codec::Codec(Random& random, CodecOptions options)
    : random_(random),
      options_(std::move(options)),
      out_(options_.send_queue_max_bytes),
      messages_(random_, out_, options_.max_message_bytes) {}

void Codec::start(TimePoint now) { (void)dispatch(now, Input::Start, {}); }
void Codec::on_connected(TimePoint now) { (void)dispatch(now, Input::Connected, {}); }
void Codec::on_connect_failed(TimePoint now, Failure failure) {
  InputData d;
  d.failure = std::move(failure);
  (void)dispatch(now, Input::ConnectFailed, std::move(d));
}
void Codec::on_bytes(TimePoint now, std::span<const std::uint8_t> bytes) {
  InputData d;
  d.bytes = bytes;
  (void)dispatch(now, Input::Bytes, std::move(d));
}
void Codec::on_eof(TimePoint now) { (void)dispatch(now, Input::Eof, {}); }
void Codec::on_transport_error(TimePoint now, std::string detail) {
  InputData d;
  d.detail = std::move(detail);
  (void)dispatch(now, Input::TransportError, std::move(d));
}
void Codec::on_timeout(TimePoint now) { (void)dispatch(now, Input::Timeout, {}); }
bool Codec::send_text(TimePoint now, std::string_view text) {
  InputData d;
  d.text = text;
  d.is_text = true;
  return dispatch(now, Input::Send, std::move(d));
}
bool Codec::send_binary(TimePoint now, std::span<const std::uint8_t> bytes) {
  InputData d;
  d.bytes = bytes;
  return dispatch(now, Input::Send, std::move(d));
}
void Codec::close(TimePoint now, std::uint16_t code, std::string_view reason) {
  InputData d;
  d.code = code;
  d.text = reason;
  (void)dispatch(now, Input::Close, std::move(d));
}
void Codec::abandon() { (void)dispatch(TimePoint{}, Input::Abandon, {}); }

void Codec::consume_output(TimePoint now, std::size_t n) {
  out_.consume(n);
  if (out_.empty()) (void)dispatch(now, Input::Drained, {});
}

std::optional<Codec::Event> Codec::poll_event() {
  if (events_.empty()) return std::nullopt;
  Event e = std::move(events_.front());
  events_.pop_front();
  return e;
}

// The transition table. A row: the input, the phases it applies to, whether
// the phase's deadline has passed (only Timeout tells the two apart), and
// its handler (none: the input is ignored and nothing changes). Rows never
// overlap (checked below), so each (phase, input) rule is written once; a
// pair no row covers is unexpected.
const Codec::Rule* Codec::find_rule(Phase phase, Deadline deadline, Input input) {
  using enum Phase;
  using C = Codec;
  constexpr EnumSet<Phase> kAnyPhase{Idle, Connecting, Handshaking, Open, Closing, Flushing, Finished};
  constexpr EnumSet<Deadline> kAlways{Deadline::NotPassed, Deadline::Passed};
  constexpr auto kIgnored = nullptr;
  static constexpr Rule kRules[] = {
      // The transport. After the terminal event (Finished) it may still
      // report what was under way; that is ignored.
      {Input::Start, {Idle}, kAlways, &C::start_connecting},
      {Input::Connected, {Connecting}, kAlways, &C::begin_handshake},
      {Input::Connected, {Finished}, kAlways, kIgnored},
      {Input::ConnectFailed, {Connecting}, kAlways, &C::connect_failed},
      {Input::ConnectFailed, {Finished}, kAlways, kIgnored},
      {Input::Bytes, {Handshaking}, kAlways, &C::read_handshake},
      {Input::Bytes, {Open, Closing}, kAlways, &C::receive_frames},
      {Input::Bytes, {Flushing, Finished}, kAlways, kIgnored},  // the end is decided
      {Input::Eof, {Handshaking}, kAlways, &C::eof_before_upgrade},
      {Input::Eof, {Open}, kAlways, &C::eof_while_open},
      {Input::Eof, {Closing}, kAlways, &C::lost_while_closing},
      {Input::Eof, {Flushing}, kAlways, &C::end_flush},
      {Input::Eof, {Finished}, kAlways, kIgnored},
      {Input::TransportError, {Handshaking}, kAlways, &C::error_before_upgrade},
      {Input::TransportError, {Open}, kAlways, &C::error_while_open},
      {Input::TransportError, {Closing}, kAlways, &C::lost_while_closing},
      {Input::TransportError, {Flushing}, kAlways, &C::end_flush},
      {Input::TransportError, {Finished}, kAlways, kIgnored},
      {Input::Drained, {Flushing}, kAlways, &C::end_flush},
      {Input::Drained, kAnyPhase.without(Flushing), kAlways, kIgnored},
      // The timer: Idle, Open and Finished have no deadline; elsewhere a
      // call before the deadline is spurious.
      {Input::Timeout, {Idle, Open, Finished}, kAlways, kIgnored},
      {Input::Timeout, {Connecting, Handshaking, Closing, Flushing}, {Deadline::NotPassed}, kIgnored},
      {Input::Timeout, {Connecting}, {Deadline::Passed}, &C::connect_timed_out},
      {Input::Timeout, {Handshaking}, {Deadline::Passed}, &C::upgrade_timed_out},
      {Input::Timeout, {Closing}, {Deadline::Passed}, &C::close_timed_out},
      {Input::Timeout, {Flushing}, {Deadline::Passed}, &C::end_flush},
      // The owner.
      {Input::Send, {Open}, kAlways, &C::send},
      {Input::Send, kAnyPhase.without(Open), kAlways, kIgnored},  // not queued
      {Input::Close, {Connecting, Handshaking}, kAlways, &C::closed_before_open},
      {Input::Close, {Open}, kAlways, &C::begin_close},
      {Input::Close, {Idle, Closing, Flushing, Finished}, kAlways, kIgnored},
      {Input::Abandon, kAnyPhase, kAlways, &C::abandon_attempt},
  };
  static_assert(rows_are_disjoint<Finished, Deadline::Passed, Input::Abandon>(kRules),
                "two rows of the codec's table cover the same (phase, deadline, input)");
  return find_row(kRules, phase, deadline, input);
}

bool Codec::dispatch(TimePoint now, Input input, InputData d) {
  const Deadline deadline = deadline_ && now >= *deadline_ ? Deadline::Passed : Deadline::NotPassed;
  const Rule* rule = find_rule(phase_, deadline, input);
  if (rule == nullptr) {
    events_.push_back(UnexpectedInput{"ws codec", phase_name(phase_), input_name(input)});
    return false;
  }
  if (rule->handler != nullptr) (this->*rule->handler)(now, d);
  return d.queued;
}

// ---- handlers ----------------------------------------------------------------

void Codec::start_connecting(TimePoint now, InputData&) {
  phase_ = Phase::Connecting;
  deadline_ = now + options_.connect_timeout;
}

void Codec::begin_handshake(TimePoint now, InputData&) {
  client_key_ = make_client_key(random_);
  UpgradeRequest request{options_.host_header, options_.target, client_key_, options_.subprotocols,
                         options_.extra_headers};
  auto bytes = build_upgrade_request(request);
  if (!bytes) {
    finish_failed(FailureKind::Handshake, "upgrade request field holds CR, LF or NUL, or a header lacks a name");
    return;
  }
  if (!out_.push_raw(std::move(*bytes))) {
    finish_failed(FailureKind::SendQueueFull, "upgrade request larger than the send queue");
    return;
  }
  phase_ = Phase::Handshaking;
  deadline_ = now + options_.handshake_timeout;
}

void Codec::connect_failed(TimePoint, InputData& d) { finish(std::move(d.failure)); }

void Codec::connect_timed_out(TimePoint, InputData&) {
  finish_failed(FailureKind::Timeout, "connect (DNS, TCP, TLS) took over " + ms(options_.connect_timeout));
}

void Codec::closed_before_open(TimePoint, InputData&) {
  finish(Closed{close_code::kAbnormal, "closed before the WebSocket opened", false, false});
}

void Codec::read_handshake(TimePoint now, InputData& d) {
  std::span<const std::uint8_t> bytes = d.bytes;
  switch (response_.feed(bytes)) {
    case ResponseReader::Status::NeedMore:
      return;
    case ResponseReader::Status::Error:
      finish_failed(FailureKind::Handshake, response_.error());
      return;
    case ResponseReader::Status::Done:
      break;
  }
  conclude_handshake(now, bytes);
}

void Codec::conclude_handshake(TimePoint now, std::span<const std::uint8_t> rest) {
  HandshakeOutcome outcome = check_response(response_.response(), client_key_, options_.subprotocols);
  if (!outcome.accepted) {
    Failure f;
    f.kind = outcome.http_status != 0 ? FailureKind::HttpStatus : FailureKind::Handshake;
    f.http_status = outcome.http_status;
    f.retry_after = outcome.retry_after;
    f.detail = std::move(outcome.detail);
    f.service_reason = std::move(outcome.service_reason);
    f.server_date = outcome.server_date;
    finish(std::move(f));
    return;
  }
  phase_ = Phase::Open;
  deadline_.reset();
  events_.push_back(Opened{std::move(outcome.subprotocol), outcome.server_date});
  // Frames may follow the 101 in the same read.
  if (!rest.empty()) read_frames(now, rest);
}

// A refusal's head may have come whole with its body cut short by the end
// of the stream: the refusal stands.
void Codec::eof_before_upgrade(TimePoint now, InputData&) {
  if (response_.end_of_input() == ResponseReader::Status::Done) {
    conclude_handshake(now, {});
    return;
  }
  finish_failed(FailureKind::Handshake, "connection closed before the upgrade response");
}

void Codec::error_before_upgrade(TimePoint now, InputData& d) {
  if (response_.end_of_input() == ResponseReader::Status::Done) {
    conclude_handshake(now, {});
    return;
  }
  finish_failed(FailureKind::Io, "during the upgrade: " + d.detail);
}

void Codec::upgrade_timed_out(TimePoint now, InputData&) {
  if (response_.end_of_input() == ResponseReader::Status::Done) {
    conclude_handshake(now, {});
    return;
  }
  finish_failed(FailureKind::Timeout, "no upgrade response within " + ms(options_.handshake_timeout));
}

void Codec::receive_frames(TimePoint now, InputData& d) { read_frames(now, d.bytes); }

// "If _The WebSocket Connection is Closed_ and no Close control frame was
// received by the endpoint (such as could occur if the underlying transport
// connection is lost), _The WebSocket Connection Close Code_ is considered
// to be 1006." (§7.1.5)
void Codec::eof_while_open(TimePoint, InputData&) {
  finish(Closed{close_code::kAbnormal, "connection closed without a close frame", true, false});
}

void Codec::error_while_open(TimePoint, InputData& d) {
  finish(Closed{close_code::kAbnormal, d.detail, true, false});
}

void Codec::send(TimePoint, InputData& d) {
  switch (d.is_text ? messages_.send_text(d.text) : messages_.send_binary(d.bytes)) {
    case MessageLayer::SendResult::Queued:
      d.queued = true;
      return;
    case MessageLayer::SendResult::QueueFull:
      // The peer is not reading. Failing hands over to the owner's
      // reconnect path, which resends what was not acknowledged.
      finish_failed(FailureKind::SendQueueFull,
                    "send queue over " + std::to_string(options_.send_queue_max_bytes) + " bytes");
      return;
    case MessageLayer::SendResult::NotOpen:
    case MessageLayer::SendResult::InvalidUtf8:
      return;
  }
}

void Codec::begin_close(TimePoint now, InputData& d) {
  messages_.close(d.code, d.text);
  phase_ = Phase::Closing;
  deadline_ = now + options_.close_timeout;
}

void Codec::lost_while_closing(TimePoint, InputData&) {
  finish(Closed{close_code::kAbnormal, "connection closed before the server's close frame", false, false});
}

// "the client SHOULD wait for the server to close the connection but MAY
// close the connection at any time after sending and receiving a Close
// message, e.g., if it has not received a TCP Close from the server in a
// reasonable time period" (§7.1.1)
void Codec::close_timed_out(TimePoint, InputData&) {
  finish(Closed{close_code::kAbnormal, "no close frame from the server within " + ms(options_.close_timeout), false,
                false});
}

void Codec::end_flush(TimePoint, InputData&) { finish(std::move(*terminal_)); }

void Codec::abandon_attempt(TimePoint, InputData&) {
  phase_ = Phase::Finished;
  deadline_.reset();
  events_.clear();
  terminal_.reset();
}

// ---- helpers -------------------------------------------------------------------

void Codec::read_frames(TimePoint now, std::span<const std::uint8_t> bytes) {
  if (bytes.empty()) return;
  events_.push_back(Activity{});
  messages_.receive(bytes);
  while (auto event = messages_.poll_event()) {
    if (auto* m = std::get_if<MessageLayer::MessageEvent>(&*event)) {
      events_.push_back(Message{m->text, std::move(m->payload)});
    } else if (auto* c = std::get_if<MessageLayer::ClosedEvent>(&*event)) {
      begin_flush(now, Closed{c->code, std::move(c->reason), c->by_peer, true});
    } else if (auto* f = std::get_if<MessageLayer::FailedEvent>(&*event)) {
      Failure failure;
      failure.kind = FailureKind::Protocol;
      failure.close_code = f->violation.close_code;
      failure.detail = f->violation.reason + " (closing with " + std::to_string(f->violation.close_code) + ")";
      begin_flush(now, std::move(failure));
    }
    // Ping and Pong: the pong is already queued; Activity covers liveness.
  }
}

void Codec::begin_flush(TimePoint now, Event terminal) {
  // Keep the close handshake's deadline if it is sooner.
  TimePoint flush_deadline = now + options_.close_timeout;
  if (phase_ != Phase::Closing || !deadline_ || flush_deadline < *deadline_) deadline_ = flush_deadline;
  phase_ = Phase::Flushing;
  terminal_ = std::move(terminal);
  if (output_drained()) finish(std::move(*terminal_));
}

void Codec::finish(Event terminal) {
  phase_ = Phase::Finished;
  deadline_.reset();
  terminal_.reset();
  events_.push_back(std::move(terminal));
}

void Codec::finish_failed(FailureKind kind, std::string detail) {
  Failure f;
  f.kind = kind;
  f.detail = std::move(detail);
  finish(std::move(f));
}

}  // namespace dbr::ws
