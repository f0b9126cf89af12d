#pragma once
// The Web PubSub protocol state of one logical connection (a connectionId
// session, which a recovery keeps and a new connection replaces): ids and
// reconnection token, service->client sequencing, group membership, and the
// application messages awaiting acks (the outbox).
//
// ClientCore tells it when the link comes up (new or recovered), goes down,
// or the session is gone; the session writes frames to send and events to
// the shared Outputs. It never decides about connections.
//
// Acks (webpubsub-protocol.md §3):
//   - success, or the error Duplicate ("already processed"): Delivered;
//   - Forbidden, BadRequest: Dropped with the reason;
//   - InternalServerError or an unknown name: resend with the same ackId
//     after send_retry_delay (the service records only successful ids), at
//     most max_send_errors times, then Dropped;
//   - no ack within ack_timeout on an open link: resend with the same ackId;
//   - acks for unknown ids: ignored.
// A recovered link resends everything unacknowledged with the same ackIds;
// a lost session ("fail every request still waiting for an ack") puts them
// back in the outbox in order, to go out with new ackIds after the rejoin.
//
// Outbox bound: outbox_max_messages messages and Outbox::kDefaultCapacityBytes
// (4 MiB) of data (waiting + in flight); at either bound the oldest go,
// each reported as Dropped{"outbox full"} and counted. 0
// means no buffering while not joined: such sends are dropped at once
// ("not connected"), and a lost link drops what was in flight
// ("connection lost"); in flight is then bounded by
// kUnbufferedInFlightLimit.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>


#include "common/time.hpp"
#include "pubsub/core/events.hpp"
#include "pubsub/core/messages.hpp"
#include "pubsub/core/outbox.hpp"
#include "pubsub/core/sequence.hpp"

namespace dbr::pubsub {

// The two JSON subprotocols; only the reliable one recovers a session.
enum class Protocol { JsonReliable, Json };
// The Sec-WebSocket-Protocol value: json.reliable.webpubsub.azure.v1 or
// json.webpubsub.azure.v1.
std::string subprotocol(Protocol protocol);

struct SessionOptions {
  Protocol protocol = Protocol::JsonReliable;
  std::string group;
  std::size_t outbox_max_messages = 1000;
  Duration ack_timeout = std::chrono::seconds(30);
  Duration join_retry_interval = std::chrono::seconds(3);  // as the Python agent
  Duration join_retry_after_forbidden = std::chrono::seconds(60);
  Duration send_retry_delay = std::chrono::seconds(1);  // the SDKs' retryDelayInMs
  unsigned max_send_errors = 10;
  bool operator==(const SessionOptions&) const = default;
};

// What a frame means for the connection, beyond the session.
enum class FrameSignal { None, ServiceConnected };

class Session {
 public:
  static constexpr std::size_t kUnbufferedInFlightLimit = 1000;

  Session(SessionOptions options, Outputs& out);

  // ---- lifecycle (ClientCore calls these on supervisor transitions) ------
  void link_up_new(TimePoint now);            // joins the group
  void link_up_recovered(TimePoint now);      // resends the unacknowledged
  void link_down();                           // the session may still be recovered
  void forget();                              // the session is gone

  // A reload changed outboxMaxMessages: the new bound applies at once; the
  // oldest messages beyond it are dropped and reported.
  void set_outbox_limit(std::size_t outbox_max_messages);

  // ---- traffic --------------------------------------------------------------
  // Every frame from the service, whatever its kind, is routed here. A
  // `connected` message while no session is held (a new connection) is
  // adopted and returned as ServiceConnected, for the supervisor; after a
  // recovery it only refreshes the reconnection token.
  FrameSignal on_frame(ServiceFrame&& frame, TimePoint now);
  // `data_json`: one JSON value, sent as its text.
  MessageId send(std::string data_json, TimePoint now);
  void on_timeout(TimePoint now);
  std::optional<TimePoint> next_deadline() const;

  // Reliable protocol, and the `connected` message gave an id and a token.
  bool recoverable() const;
  // "awps_connection_id=..&awps_reconnection_token=..", percent-encoded.
  // Holds the token: never log it.
  std::string recovery_query() const;

  const std::string& connection_id() const { return connection_id_; }
  const std::optional<std::string>& user_id() const { return user_id_; }
  bool joined() const { return join_ == Join::Joined; }
  std::size_t outbox_size() const { return outbox_.size(); }

 private:
  enum class Join { NotJoined, Joining, RetryWait, Joined };

  void send_text(std::string frame);
  void send_join(TimePoint now, bool same_ack_id);
  void on_join_ack(const AckFrame& ack, TimePoint now);
  void on_send_ack(Outbox::Entry& entry, const AckFrame& ack, TimePoint now);
  void adopt(const ConnectedFrame& frame);
  void on_ack(const AckFrame& ack, TimePoint now);
  void on_data(DataFrame&& frame, TimePoint now);
  void note_sequence(std::optional<std::uint64_t> sequence_id, bool& duplicate, TimePoint now);
  void flush_sequence_ack(TimePoint now);
  void pump(TimePoint now);
  void resend(Outbox::Entry& entry, TimePoint now);
  void note(LogLevel level, std::string text);
  void drop(MessageId id, std::string reason);
  void drop_all(const std::string& reason);
  bool reliable() const { return options_.protocol == Protocol::JsonReliable; }
  bool unbuffered() const { return options_.outbox_max_messages == 0; }

  SessionOptions options_;
  Outputs& out_;
  std::string connection_id_;
  std::optional<std::string> user_id_;
  std::string reconnection_token_;
  bool link_up_ = false;
  SequenceTracker sequence_;
  Outbox outbox_;
  MessageId next_message_id_ = 1;
  Join join_ = Join::NotJoined;
  std::uint64_t join_ack_id_ = 0;
  TimePoint join_due_{};  // ack deadline (Joining) or retry time (RetryWait)
};

}  // namespace dbr::pubsub
