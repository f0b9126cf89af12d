#include "pubsub/core/client_core.hpp"

#include <type_traits>

#include "pubsub/core/messages.hpp"

namespace dbr::pubsub {

ClientCoreOptions retuned(ClientCoreOptions running, const ClientCoreOptions& next) {
  running.supervisor = next.supervisor;
  running.keepalive_interval = next.keepalive_interval;
  running.keepalive_timeout = next.keepalive_timeout;
  running.session.outbox_max_messages = next.session.outbox_max_messages;
  return running;
}

ClientCore::ClientCore(ClientCoreOptions options, Random& random)
    : options_(std::move(options)),
      subprotocol_(pubsub::subprotocol(options_.session.protocol)),
      supervisor_(options_.supervisor, random),
      session_(options_.session, out_),
      keepalive_(options_.keepalive_interval, options_.keepalive_timeout) {}

void ClientCore::start(TimePoint now) { feed({Input::Start}, now); }

void ClientCore::stop(TimePoint now) { feed({Input::Stop}, now); }

void ClientCore::internet(bool online, TimePoint now) { feed({online ? Input::Online : Input::Offline}, now); }

void ClientCore::on_transport(ws::Event&& event, TimePoint now, std::optional<ClockReading> clock) {
  std::visit(
      [&](auto&& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, ws::Opened>) {
          transport_opened(e.subprotocol, now);
        } else if constexpr (std::is_same_v<T, ws::Message>) {
          if (e.text) {
            transport_text(std::move(e.payload), now);
          } else {
            // The JSON subprotocols carry text frames; the service never sends binary.
            note(LogLevel::Debug, "ignoring a binary WebSocket message of " + std::to_string(e.payload.size()) + " bytes");
          }
        } else if constexpr (std::is_same_v<T, ws::Activity>) {
          // Any frame, WebSocket pings and pongs too, proves the link.
          if (keepalive_.running()) alive(now);
        } else if constexpr (std::is_same_v<T, ws::Closed>) {
          feed({Input::TransportClosed, e.code, {}, session_.recoverable(), std::move(e.reason)}, now);
        } else if constexpr (std::is_same_v<T, ws::Failure>) {
          AttemptFailure failure{e.kind, e.http_status, e.retry_after, std::move(e.detail),
                                 std::move(e.service_reason), std::nullopt};
          if (e.kind == FailureKind::HttpStatus) failure.clock = clock;
          transport_failed(failure, now);
        }
      },
      std::move(event));
}

void ClientCore::transport_opened(std::string_view chosen, TimePoint now) {
  if (chosen != subprotocol_ && supervisor_.attempt_in_flight()) {
    // Without our subprotocol we would be a "simple" client that the
    // service never sends protocol frames to.
    out_.actions.emplace_back(Abort{"wrong subprotocol"});
    transport_failed(AttemptFailure{FailureKind::Handshake, 0, std::nullopt,
                                    "the service chose subprotocol '" + std::string(chosen) + "', not " + subprotocol_},
                     now);
    return;
  }
  feed({Input::TransportOpened}, now);
}

void ClientCore::transport_text(std::string&& text, TimePoint now) {
  if (!supervisor_.transport_open()) {
    if (supervisor_.state() == State::Stopped) {
      note(LogLevel::Debug, "ignoring a frame that arrived after stop");
    } else {
      ++out_.counters.unexpected_inputs;
      note(LogLevel::Warning, "a frame arrived with no open connection (state " +
                                  std::string(state_name(supervisor_.state())) + "), ignoring");
    }
    return;
  }
  if (keepalive_.running())
    alive(now);
  else
    keepalive_.received(now);
  ServiceFrame frame = decode_service_frame(std::move(text));
  // `disconnected` comes just before the service closes: no proof.
  if (recovery_unproven_since_ && !std::holds_alternative<DisconnectedFrame>(frame) &&
      !std::holds_alternative<DecodeError>(frame))
    recovery_proven(now);
  if (session_.on_frame(std::move(frame), now) == FrameSignal::ServiceConnected) feed({Input::ServiceConnected}, now);
}

void ClientCore::recovery_proven(TimePoint now) {
  recovery_unproven_since_.reset();
  supervisor_.recovery_proven(now);
  drain(now);
}

void ClientCore::transport_failed(const AttemptFailure& failure, TimePoint now) {
  feed({Input::TransportFailed, 0, failure, session_.recoverable()}, now);
}

void ClientCore::credentials_failed(const AttemptFailure& failure, TimePoint now) {
  feed({Input::CredentialsFailed, 0, failure, false}, now);
}

MessageId ClientCore::send_to_group(std::string data_json, TimePoint now) {
  return session_.send(std::move(data_json), now);
}

void ClientCore::on_timeout(TimePoint now) {
  if (recovery_unproven_since_ && now >= *recovery_unproven_since_ + kRecoveryProofGrace) recovery_proven(now);
  if (auto unexpected = supervisor_.on_timeout(now)) report(*unexpected);
  drain(now);
  switch (keepalive_.on_timeout(now)) {
    case Keepalive::Due::Dead:
      feed({Input::KeepaliveDead, 0, {}, session_.recoverable()}, now);
      break;
    case Keepalive::Due::SendPing:
      out_.actions.emplace_back(SendText{encode_ping()});
      keepalive_.ping_sent(now);
      break;
    case Keepalive::Due::Nothing:
      break;
  }
  session_.on_timeout(now);
}

void ClientCore::retune(const ClientCoreOptions& options, TimePoint now) {
  options_ = retuned(options_, options);
  supervisor_.retune(options.supervisor);
  keepalive_.retune(options.keepalive_interval, options.keepalive_timeout);
  session_.set_outbox_limit(options.session.outbox_max_messages);
  drain(now);
}

std::optional<Action> ClientCore::poll_action() {
  if (out_.actions.empty()) return std::nullopt;
  Action next = std::move(out_.actions.front());
  out_.actions.pop_front();
  return next;
}

std::optional<Event> ClientCore::poll_event() {
  if (out_.events.empty()) return std::nullopt;
  Event next = std::move(out_.events.front());
  out_.events.pop_front();
  return next;
}

std::optional<TimePoint> ClientCore::next_deadline() const {
  std::optional<TimePoint> next = supervisor_.next_deadline();
  std::optional<TimePoint> proof_due;
  if (recovery_unproven_since_) proof_due = *recovery_unproven_since_ + kRecoveryProofGrace;
  for (auto t : {keepalive_.next_deadline(), session_.next_deadline(), proof_due})
    if (t && (!next || *t < *next)) next = t;
  return next;
}

void ClientCore::feed(SupervisorEvent event, TimePoint now) {
  if (auto unexpected = supervisor_.handle(event, now)) report(*unexpected);
  drain(now);
}

void ClientCore::report(const UnexpectedInput& unexpected) {
  ++out_.counters.unexpected_inputs;
  note(LogLevel::Warning, describe(unexpected) + ", ignoring");
}

void ClientCore::drain(TimePoint now) {
  while (auto output = supervisor_.poll()) {
    std::visit(
        [&](auto&& item) {
          using T = std::decay_t<decltype(item)>;
          if constexpr (std::is_same_v<T, Command>) {
            switch (item.kind) {
              case CommandKind::OpenNew:
                ++out_.counters.attempts;
                out_.actions.emplace_back(OpenNew{subprotocol_});
                break;
              case CommandKind::OpenRecovery:
                ++out_.counters.recovery_attempts;
                out_.actions.emplace_back(OpenRecovery{subprotocol_, session_.recovery_query()});
                break;
              case CommandKind::Close:
                // "A clean close 1000 from the client ends the session".
                out_.actions.emplace_back(Close{1000, "shutdown"});
                break;
              case CommandKind::Abort:
                out_.actions.emplace_back(Abort{item.reason});
                break;
              case CommandKind::CheckInternet:
                out_.events.emplace_back(InternetCheckWanted{item.reason});
                break;
            }
          } else if constexpr (std::is_same_v<T, TransitionRecord>) {
            out_.events.emplace_back(StateChanged{item.from, item.to, item.reason});
            on_transition(item, now);
          } else {
            out_.events.emplace_back(std::move(item));
          }
        },
        std::move(*output));
  }
}

void ClientCore::alive(TimePoint now) {
  keepalive_.received(now);
  if (proof_reported_ && now - *proof_reported_ < kProofOfLifeEvery) return;
  proof_reported_ = now;
  out_.events.emplace_back(ProofOfLife{now});
}

// What a transition means for the session and the keepalive.
void ClientCore::on_transition(const TransitionRecord& record, TimePoint now) {
  if (record.to == State::Connected) {
    keepalive_.start(now);
    bool recovered = record.from == State::Recovering;
    out_.events.emplace_back(Connected{session_.connection_id(), session_.user_id(), !recovered});
    if (recovered) {
      ++out_.counters.recoveries;
      session_.link_up_recovered(now);
      // A `pong` (or any frame) proves the service took the recovery.
      recovery_unproven_since_ = now;
      out_.actions.emplace_back(SendText{encode_ping()});
      keepalive_.ping_sent(now);
    } else {
      ++out_.counters.connections;
      session_.link_up_new(now);
    }
    proof_reported_.reset();
    alive(now);  // the connection is up: a sign of life (Keepalive::start), reported at once
    return;
  }
  if (record.from == State::Connected) {
    recovery_unproven_since_.reset();
    keepalive_.stop();
    if (record.to != State::Stopped) ++out_.counters.drops;
    session_.link_down();
    if (record.to != State::Recovering) session_.forget();
  } else if (record.from == State::Recovering) {
    session_.forget();
  }
}

void ClientCore::note(LogLevel level, std::string text) { out_.events.emplace_back(LogLine{level, std::move(text)}); }

}  // namespace dbr::pubsub
