#include "ws/codec/codec.hpp"

#include <stdexcept>
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

void Codec::unexpected(Input input) const {
  throw std::logic_error("ws::Codec: unexpected input " + std::string(input_name(input)) + " in phase " +
                         std::string(phase_name(phase_)));
}

bool Codec::dispatch(TimePoint now, Input input, InputData d) {
  if (input == Input::Abandon) {
    phase_ = Phase::Finished;
    deadline_.reset();
    events_.clear();
    terminal_.reset();
    return false;
  }
  const bool due = deadline_ && now >= *deadline_;
  switch (phase_) {
    case Phase::Idle:
      switch (input) {
        case Input::Start:
          phase_ = Phase::Connecting;
          deadline_ = now + options_.connect_timeout;
          return true;
        case Input::Timeout:
        case Input::Send:
        case Input::Close:
        case Input::Drained:
          return false;
        default:
          unexpected(input);
      }

    case Phase::Connecting:
      switch (input) {
        case Input::Connected:
          begin_handshake(now);
          return true;
        case Input::ConnectFailed:
          finish(std::move(d.failure));
          return false;
        case Input::Timeout:
          if (due) finish_failed(FailureKind::Timeout, "connect (DNS, TCP, TLS) took over " + ms(options_.connect_timeout));
          return false;
        case Input::Close:
          finish(Closed{close_code::kAbnormal, "closed before the WebSocket opened", false, false});
          return false;
        case Input::Send:
        case Input::Drained:
          return false;
        default:
          unexpected(input);
      }

    case Phase::Handshaking:
      switch (input) {
        case Input::Bytes:
          read_handshake(now, d.bytes);
          return true;
        case Input::Eof:
          finish_failed(FailureKind::Handshake, "connection closed before the upgrade response");
          return false;
        case Input::TransportError:
          finish_failed(FailureKind::Io, "during the upgrade: " + d.detail);
          return false;
        case Input::Timeout:
          if (due) finish_failed(FailureKind::Timeout, "no upgrade response within " + ms(options_.handshake_timeout));
          return false;
        case Input::Close:
          finish(Closed{close_code::kAbnormal, "closed before the WebSocket opened", false, false});
          return false;
        case Input::Send:
        case Input::Drained:
          return false;
        default:
          unexpected(input);
      }

    case Phase::Open:
      switch (input) {
        case Input::Bytes:
          read_frames(now, d.bytes);
          return true;
        case Input::Eof:
          // "If _The WebSocket Connection is Closed_ and no Close control
          // frame was received by the endpoint (such as could occur if the
          // underlying transport connection is lost), _The WebSocket
          // Connection Close Code_ is considered to be 1006." (§7.1.5)
          finish(Closed{close_code::kAbnormal, "connection closed without a close frame", true, false});
          return false;
        case Input::TransportError:
          finish(Closed{close_code::kAbnormal, d.detail, true, false});
          return false;
        case Input::Timeout:
          return false;
        case Input::Send:
          switch (d.is_text ? messages_.send_text(d.text) : messages_.send_binary(d.bytes)) {
            case MessageLayer::SendResult::Queued:
              return true;
            case MessageLayer::SendResult::QueueFull:
              // The peer is not reading. Failing hands over to the owner's
              // reconnect path, which resends what was not acknowledged.
              finish_failed(FailureKind::SendQueueFull, "send queue over " +
                                                            std::to_string(options_.send_queue_max_bytes) + " bytes");
              return false;
            case MessageLayer::SendResult::NotOpen:
            case MessageLayer::SendResult::InvalidUtf8:
              return false;
          }
          return false;
        case Input::Close:
          messages_.close(d.code, d.text);
          phase_ = Phase::Closing;
          deadline_ = now + options_.close_timeout;
          return true;
        case Input::Drained:
          return false;
        default:
          unexpected(input);
      }

    case Phase::Closing:
      switch (input) {
        case Input::Bytes:
          read_frames(now, d.bytes);
          return true;
        case Input::Eof:
        case Input::TransportError:
          finish(Closed{close_code::kAbnormal, "connection closed before the server's close frame", false, false});
          return false;
        case Input::Timeout:
          // "the client SHOULD wait for the server to close the connection
          // but MAY close the connection at any time after sending and
          // receiving a Close message, e.g., if it has not received a TCP
          // Close from the server in a reasonable time period" (§7.1.1)
          if (due)
            finish(Closed{close_code::kAbnormal,
                          "no close frame from the server within " + ms(options_.close_timeout), false, false});
          return false;
        case Input::Send:
        case Input::Close:
        case Input::Drained:
          return false;
        default:
          unexpected(input);
      }

    case Phase::Flushing:
      switch (input) {
        case Input::Drained:
        case Input::Eof:
        case Input::TransportError:
          finish(std::move(*terminal_));
          return false;
        case Input::Timeout:
          if (due) finish(std::move(*terminal_));
          return false;
        case Input::Bytes:
        case Input::Send:
        case Input::Close:
          return false;
        default:
          unexpected(input);
      }

    case Phase::Finished:
      switch (input) {
        case Input::Start:
          unexpected(input);
        default:
          return false;
      }
  }
  return false;
}

void Codec::begin_handshake(TimePoint now) {
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

void Codec::read_handshake(TimePoint now, std::span<const std::uint8_t> bytes) {
  switch (response_.feed(bytes)) {
    case ResponseReader::Status::NeedMore:
      return;
    case ResponseReader::Status::Error:
      finish_failed(FailureKind::Handshake, response_.error());
      return;
    case ResponseReader::Status::Done:
      break;
  }
  HandshakeOutcome outcome = check_response(response_.response(), client_key_, options_.subprotocols);
  if (!outcome.accepted) {
    Failure f;
    f.kind = outcome.http_status != 0 ? FailureKind::HttpStatus : FailureKind::Handshake;
    f.http_status = outcome.http_status;
    f.retry_after = outcome.retry_after;
    f.detail = std::move(outcome.detail);
    finish(std::move(f));
    return;
  }
  phase_ = Phase::Open;
  deadline_.reset();
  events_.push_back(Opened{std::move(outcome.subprotocol)});
  // Frames may follow the 101 in the same read.
  if (!bytes.empty()) read_frames(now, bytes);
}

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
