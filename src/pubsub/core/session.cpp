#include "pubsub/core/session.hpp"

#include <algorithm>

#include "pubsub/core/messages.hpp"

namespace dbr::pubsub {

namespace {

// RFC 3986 unreserved characters pass; everything else is %XX.
std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0x0f];
    }
  }
  return out;
}

std::string ack_error_text(const AckFrame& ack) {
  return ack.error_message.empty() ? ack.error_name : ack.error_name + ": " + ack.error_message;
}

}  // namespace

std::string subprotocol(Protocol protocol) {
  return protocol == Protocol::JsonReliable ? "json.reliable.webpubsub.azure.v1" : "json.webpubsub.azure.v1";
}

Session::Session(SessionOptions options, Outputs& out)
    : options_(std::move(options)),
      out_(out),
      outbox_(options_.outbox_max_messages == 0 ? kUnbufferedInFlightLimit : options_.outbox_max_messages) {}

void Session::adopt(const ConnectedFrame& frame) {
  connection_id_ = frame.connection_id;
  user_id_ = frame.user_id;
  reconnection_token_ = frame.reconnection_token.value_or("");
}

void Session::link_up_new(TimePoint now) {
  link_up_ = true;
  sequence_.reset();
  send_join(now, false);
}

void Session::link_up_recovered(TimePoint now) {
  link_up_ = true;
  sequence_.resume(now);
  // "groups are kept by the service": no rejoin, but a join still waiting
  // for its ack is resent with its ackId.
  if (join_ == Join::Joining) send_join(now, true);
  for (Outbox::Entry* entry : outbox_.unacknowledged())
    if (entry->phase == Outbox::Phase::InFlight) resend(*entry, now);
  flush_sequence_ack(now);
  pump(now);
}

void Session::link_down() {
  link_up_ = false;
  if (unbuffered()) drop_all("connection lost");
}

void Session::forget() {
  link_up_ = false;
  connection_id_.clear();
  user_id_.reset();
  reconnection_token_.clear();
  sequence_.reset();
  join_ = Join::NotJoined;
  join_ack_id_ = 0;
  if (unbuffered())
    drop_all("connection lost");
  else
    outbox_.requeue_all();
}

bool Session::recoverable() const {
  return reliable() && !connection_id_.empty() && !reconnection_token_.empty();
}

std::string Session::recovery_query() const {
  return "awps_connection_id=" + percent_encode(connection_id_) +
         "&awps_reconnection_token=" + percent_encode(reconnection_token_);
}

FrameSignal Session::on_frame(ServiceFrame&& frame, TimePoint now) {
  return std::visit(
      [&](auto&& f) {
        using T = std::decay_t<decltype(f)>;
        if constexpr (std::is_same_v<T, AckFrame>) {
          on_ack(f, now);
        } else if constexpr (std::is_same_v<T, DataFrame>) {
          on_data(std::move(f), now);
        } else if constexpr (std::is_same_v<T, ConnectedFrame>) {
          // A new connection's session is forgotten before it opens, so an
          // empty id means this `connected` starts one.
          if (connection_id_.empty()) {
            adopt(f);
            return FrameSignal::ServiceConnected;
          }
          // After a recovery: "update the stored token from it and not fire
          // the connected callback".
          if (f.reconnection_token && !f.reconnection_token->empty()) reconnection_token_ = *f.reconnection_token;
          note(LogLevel::Debug, "connected message on a recovered session; reconnection token updated");
        } else if constexpr (std::is_same_v<T, DisconnectedFrame>) {
          // Its reason comes again with the close that follows, where the
          // supervisor says what it means for the connection.
          note(LogLevel::Debug, "the service is disconnecting us: " + f.message);
        } else if constexpr (std::is_same_v<T, UnknownFrame>) {
          bool duplicate = false;
          note_sequence(f.sequence_id, duplicate, now);
          ++out_.counters.unknown_frames;
          note(LogLevel::Debug, "ignoring a service frame with unknown " + f.what);
        } else if constexpr (std::is_same_v<T, DecodeError>) {
          ++out_.counters.malformed_frames;
          note(LogLevel::Warning, "malformed frame from the service (" + f.detail + ", " + std::to_string(f.frame_bytes) +
                                      " bytes), ignoring");
        }
        // PongFrame: its arrival already counted as a sign of life.
        return FrameSignal::None;
      },
      std::move(frame));
}

void Session::on_ack(const AckFrame& ack, TimePoint now) {
  if ((join_ == Join::Joining || join_ == Join::RetryWait) && ack.ack_id == join_ack_id_) {
    on_join_ack(ack, now);
  } else if (Outbox::Entry* entry = outbox_.find_by_ack(ack.ack_id)) {
    on_send_ack(*entry, ack, now);
  } else {
    note(LogLevel::Debug, "ack for unknown ackId " + std::to_string(ack.ack_id) + ", ignoring");
  }
}

MessageId Session::send(std::string data_json, TimePoint now) {
  MessageId id = next_message_id_++;
  // The text is spliced into the frame as it is: anything but one JSON
  // value would change the frame itself.
  auto data = json_text::parse(data_json);
  if (!data || data->kind == json_text::Kind::Null) {
    // "null is rejected" by the service for dataType json.
    drop(id, data ? "data is null" : "data is not valid JSON");
    ++out_.counters.refused;
    return id;
  }
  if (unbuffered() && !(link_up_ && joined())) {
    drop(id, "not connected");
    ++out_.counters.outbox_drops;
    return id;
  }
  for (MessageId oldest : outbox_.push(id, std::move(data_json))) {
    drop(oldest, "outbox full");
    ++out_.counters.outbox_drops;
  }
  pump(now);
  return id;
}

void Session::on_timeout(TimePoint now) {
  if (!link_up_) return;
  flush_sequence_ack(now);
  if (join_ == Join::Joining && join_due_ <= now) {
    ++out_.counters.resends;
    send_join(now, true);  // ack timeout: same ackId
  } else if (join_ == Join::RetryWait && join_due_ <= now) {
    send_join(now, false);
  }
  for (Outbox::Entry* entry : outbox_.due(now)) {
    if (entry->phase == Outbox::Phase::InFlight)
      out_.events.emplace_back(LogLine{LogLevel::Debug, "no ack for ackId " + std::to_string(*entry->ack_id) +
                                                            " in time, sending it again"});
    resend(*entry, now);
  }
}

std::optional<TimePoint> Session::next_deadline() const {
  if (!link_up_) return std::nullopt;
  std::optional<TimePoint> next = sequence_.ack_due();
  auto consider = [&next](std::optional<TimePoint> t) {
    if (t && (!next || *t < *next)) next = t;
  };
  if (join_ == Join::Joining || join_ == Join::RetryWait) consider(join_due_);
  consider(outbox_.earliest_due());
  return next;
}

void Session::send_text(std::string frame) { out_.actions.emplace_back(SendText{std::move(frame)}); }

void Session::send_join(TimePoint now, bool same_ack_id) {
  if (!same_ack_id || join_ack_id_ == 0) join_ack_id_ = allocate_ack_id();
  join_ = Join::Joining;
  join_due_ = now + options_.ack_timeout;
  send_text(encode_join_group(options_.group, join_ack_id_));
}

void Session::on_join_ack(const AckFrame& ack, TimePoint now) {
  if (ack.success || ack.error_name == "Duplicate") {
    join_ = Join::Joined;
    out_.events.emplace_back(Joined{options_.group});
    pump(now);
    return;
  }
  join_ = Join::RetryWait;
  if (ack.error_name == "Forbidden") {
    join_due_ = now + options_.join_retry_after_forbidden;
    out_.events.emplace_back(LogLine{
        LogLevel::Error, "joining group '" + options_.group + "' was refused (" + ack_error_text(ack) +
                             "): the credentials lack the role webpubsub.joinLeaveGroup." + options_.group +
                             "; trying again in " +
                             std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                                options_.join_retry_after_forbidden)
                                                .count()) +
                             " s"});
  } else {
    join_due_ = now + options_.join_retry_interval;
    out_.events.emplace_back(LogLine{LogLevel::Warning, "joining group '" + options_.group + "' failed (" +
                                                            ack_error_text(ack) + "), trying again"});
  }
}

void Session::on_send_ack(Outbox::Entry& entry, const AckFrame& ack, TimePoint now) {
  // "Duplicate (this ackId was already processed; counts as success)"
  if (ack.success || ack.error_name == "Duplicate") {
    out_.events.emplace_back(Delivered{entry.id});
    ++out_.counters.messages_out;
    outbox_.erase(entry.id);
    return;
  }
  if (ack.error_name == "Forbidden" || ack.error_name == "BadRequest") {
    MessageId id = entry.id;
    outbox_.erase(id);
    ++out_.counters.refused;
    drop(id, "refused by the service (" + ack_error_text(ack) + ")");
    return;
  }
  // InternalServerError and names we do not know yet: transient.
  if (++entry.errors >= options_.max_send_errors) {
    MessageId id = entry.id;
    outbox_.erase(id);
    ++out_.counters.refused;
    drop(id, "gave up after " + std::to_string(options_.max_send_errors) + " errors (" + ack_error_text(ack) + ")");
    return;
  }
  outbox_.mark_retry(entry, now + options_.send_retry_delay);
}

void Session::on_data(DataFrame&& frame, TimePoint now) {
  bool duplicate = false;
  note_sequence(frame.sequence_id, duplicate, now);
  if (duplicate) return;
  ++out_.counters.messages_in;
  if (frame.from == DataFrame::From::Group)
    out_.events.emplace_back(GroupMessage{std::move(frame.group), std::move(frame.from_user_id),
                                          std::move(frame.data_type), std::move(frame.data)});
  else
    out_.events.emplace_back(ServerMessage{std::move(frame.data_type), std::move(frame.data)});
}

void Session::note_sequence(std::optional<std::uint64_t> sequence_id, bool& duplicate, TimePoint now) {
  duplicate = false;
  if (!reliable() || !sequence_id) return;
  if (sequence_.on_message(*sequence_id, now) == SequenceTracker::Verdict::Duplicate) {
    duplicate = true;
    ++out_.counters.duplicates_in;
  }
  flush_sequence_ack(now);
}

void Session::flush_sequence_ack(TimePoint now) {
  if (!link_up_) return;
  if (auto id = sequence_.take_ack(now)) send_text(encode_sequence_ack(*id));
}

void Session::pump(TimePoint now) {
  if (!link_up_ || join_ != Join::Joined) return;
  while (Outbox::Entry* entry = outbox_.next_waiting()) {
    std::uint64_t ack_id = allocate_ack_id();
    outbox_.mark_in_flight(*entry, ack_id, now + options_.ack_timeout);
    send_text(encode_send_to_group(options_.group, ack_id, entry->data_json));
  }
}

void Session::resend(Outbox::Entry& entry, TimePoint now) {
  outbox_.mark_in_flight(entry, *entry.ack_id, now + options_.ack_timeout);
  ++out_.counters.resends;
  send_text(encode_send_to_group(options_.group, *entry.ack_id, entry.data_json));
}

void Session::set_outbox_limit(std::size_t outbox_max_messages) {
  options_.outbox_max_messages = outbox_max_messages;
  for (MessageId id : outbox_.set_capacity(unbuffered() ? kUnbufferedInFlightLimit : outbox_max_messages)) {
    ++out_.counters.outbox_drops;
    drop(id, "outbox bound lowered by a config reload");
  }
}

void Session::note(LogLevel level, std::string text) { out_.events.emplace_back(LogLine{level, std::move(text)}); }

void Session::drop(MessageId id, std::string reason) { out_.events.emplace_back(Dropped{id, std::move(reason)}); }

void Session::drop_all(const std::string& reason) {
  for (MessageId id : outbox_.clear()) {
    ++out_.counters.outbox_drops;
    drop(id, reason);
  }
}

}  // namespace dbr::pubsub
