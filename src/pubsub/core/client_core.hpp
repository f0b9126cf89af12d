#pragma once
// ClientCore: the whole Web PubSub client, sans-IO. The supervisor decides
// about connections, the session speaks the protocol, the keepalive watches
// for silence. The adapter forwards inputs with `now`, executes the actions
// in order, hands the events on, and keeps one timer armed at
// next_deadline() (calling on_timeout when it fires). It never decides
// policy.
//
// Contract with the adapter:
//   - OpenNew: fetch a fresh client URL, open a WebSocket offering the
//     subprotocol and hand every event it reports to on_transport(), as it
//     came (one type, ws::Event, dispatched here once); credentials_failed
//     when the URL source failed. OpenRecovery: the same with the last new
//     connection's URL + "&" (or "?") + query.
//   - After Abort, report nothing more about that transport. After Close,
//     report its Closed (or Failure on its close timeout).
//   - Poll actions and events until empty after every input.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>


#include "common/random.hpp"
#include "common/time.hpp"
#include "pubsub/core/events.hpp"
#include "pubsub/core/transitions.hpp"
#include "pubsub/core/keepalive.hpp"
#include "pubsub/core/session.hpp"
#include "pubsub/core/supervisor.hpp"
#include "ws/codec/events.hpp"

namespace dbr::pubsub {

// Everything ClientCore needs to know (the agent builds it from the config).
struct ClientCoreOptions {
  SupervisorOptions supervisor;  // backoff, settle, recovery window/interval, stability, attempt timeout
  SessionOptions session;        // protocol, group, outbox bound, ack timeout, join retries
  Duration keepalive_interval = std::chrono::seconds(30);
  Duration keepalive_timeout = std::chrono::seconds(60);
  bool operator==(const ClientCoreOptions&) const = default;
};

// `running` with the fields an open connection adopts (ClientCore::retune)
// taken from `next`: the supervisor's timings, the keepalive and the outbox
// bound. Every other field stays, so `retuned(a, b) != b` means `b` needs a
// new connection.
ClientCoreOptions retuned(ClientCoreOptions running, const ClientCoreOptions& next);

class ClientCore {
 public:
  ClientCore(ClientCoreOptions options, Random& random);

  // ---- inputs ------------------------------------------------------------
  void start(TimePoint now);  // intent on
  void stop(TimePoint now);   // intent off; Close(1000) if a transport is open
  void internet(bool online, TimePoint now);
  // What the WebSocket of the current attempt reports (ws/codec/events.hpp).
  // `clock`: the adapter's reading of the clocks, for a refusal (HttpStatus).
  void on_transport(ws::Event&& event, TimePoint now, std::optional<ClockReading> clock = std::nullopt);
  void credentials_failed(const AttemptFailure& failure, TimePoint now);
  // Queues an application message for the group; Delivered or Dropped
  // follows with the returned id.
  MessageId send_to_group(std::string data_json, TimePoint now);
  void on_timeout(TimePoint now);  // a spurious call is a no-op
  // A config reload changed timings (backoff, settle, keepalive) or the
  // outbox bound, not the connection itself: apply them without dropping
  // the connection. Protocol and group changes need a new ClientCore.
  void retune(const ClientCoreOptions& options, TimePoint now);

  // ---- outputs -----------------------------------------------------------
  std::optional<Action> poll_action();
  std::optional<Event> poll_event();
  std::optional<TimePoint> next_deadline() const;

  // ---- introspection (status) ---------------------------------------------
  State state() const { return supervisor_.state(); }
  std::vector<TransitionRecord> history() const { return supervisor_.history().records(); }
  const Counters& counters() const { return out_.counters; }
  std::size_t outbox_size() const { return session_.outbox_size(); }
  bool joined() const { return session_.joined(); }
  const std::string& connection_id() const { return session_.connection_id(); }
  const std::string& subprotocol() const { return subprotocol_; }

 private:
  void transport_opened(std::string_view subprotocol, TimePoint now);
  void transport_text(std::string&& text, TimePoint now);
  void transport_failed(const AttemptFailure& failure, TimePoint now);
  void feed(SupervisorEvent event, TimePoint now);
  // An input the supervisor did not expect: counted, one WARNING line.
  void report(const UnexpectedInput& unexpected);
  void drain(TimePoint now);
  void on_transition(const TransitionRecord& record, TimePoint now);
  void note(LogLevel level, std::string text);
  void alive(TimePoint now);  // a sign of life on the open connection

  // A recovery counts once the service proves it (outage_log.hpp): a
  // frame other than `disconnected` on the recovered socket (a `ping` is
  // sent at once to draw a `pong`), or this long without a close.
  static constexpr Duration kRecoveryProofGrace = std::chrono::seconds(3);
  void recovery_proven(TimePoint now);

  ClientCoreOptions options_;
  std::string subprotocol_;
  std::optional<TimePoint> recovery_unproven_since_;
  Outputs out_;
  Supervisor supervisor_;
  Session session_;
  Keepalive keepalive_;
  std::optional<TimePoint> proof_reported_;  // the last ProofOfLife on this connection
};

}  // namespace dbr::pubsub
