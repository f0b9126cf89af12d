#pragma once
// An in-memory Web PubSub service for the client core's tests: it speaks the
// JSON and reliable JSON protocols as webpubsub-protocol.md §7 lists
// (connected first, ackId dedup set per session holding successful ids only,
// sequence ids from 1, unacked messages replayed in order on recovery, close
// 1008 for a session it cannot recover, pong for ping, 1007 for malformed
// JSON). Fault knobs let tests lose or fail acks and refuse joins.
//
// It knows nothing about time or transport: the Pair harness carries its
// frames with latency, and tells it when links open, drop or close.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/time.hpp"

namespace dbr::pubsub::test {

using LinkId = std::uint64_t;

struct ServiceReply {
  std::vector<std::string> frames;         // to the client, in order
  std::optional<std::uint16_t> close_code;  // then close the link with this code
};

class FakeService {
 public:
  struct Delivery {
    std::string connection_id;
    std::uint64_t ack_id = 0;
    nlohmann::json data;
  };

  Duration session_keep = std::chrono::seconds(30);  // "at least 30 s after the drop"
  std::size_t replay_limit = 1000;                   // unacked messages kept per session

  // ---- fault knobs ----
  unsigned lose_acks = 0;                   // the next N sendToGroup acks are processed but not sent
  bool answer_pings = true;                 // false: an older service without app-level pong
  std::vector<std::string> send_errors;     // next sendToGroup acks fail with these names, in order
  std::vector<std::string> join_errors;     // next joinGroup acks fail with these names, in order

  ServiceReply open_new(LinkId link, std::string_view subprotocol, TimePoint now);
  ServiceReply open_recovery(LinkId link, std::string_view query, TimePoint now);
  ServiceReply receive(LinkId link, std::string_view text, TimePoint now);
  // The link ended without a close handshake (abort, network): the session
  // stays recoverable for session_keep (reliable protocol only).
  void link_lost(LinkId link, TimePoint now);
  // The client closed with `code`; 1000 ends the session.
  void link_closed(LinkId link, std::uint16_t code, TimePoint now);
  // Sends a group message to every member session; returns the frames for
  // attached links. Detached reliable sessions buffer it for replay.
  std::vector<std::pair<LinkId, std::string>> publish(std::string_view group, const nlohmann::json& data);
  // Forgets every session (as after a restart): recoveries get 1008.
  void forget_sessions();
  // Which link a session's messages currently go to, if attached.
  std::optional<LinkId> link_of(const std::string& connection_id) const;

  // ---- what happened ----
  std::vector<Delivery> deliveries;      // sendToGroup requests processed (once per ackId success)
  std::vector<std::string> violations;   // protocol rules the client broke
  std::map<std::string, std::size_t> frames_by_type;
  std::vector<std::pair<std::uint64_t, std::string>> sequence_acks;  // (id, connection)
  std::size_t sessions_created = 0;
  std::size_t recoveries_accepted = 0;
  std::size_t recoveries_refused = 0;
  std::size_t members_of(std::string_view group) const;

 private:
  struct Session {
    std::string connection_id;
    std::string token;
    bool reliable = true;
    bool ended = false;
    std::optional<LinkId> link;
    TimePoint detached_at{};
    std::set<std::string> groups;
    std::set<std::uint64_t> succeeded_ack_ids;
    std::uint64_t next_sequence_id = 1;
    std::map<std::uint64_t, std::string> unacked;
  };

  Session* session_of(LinkId link);
  std::string make_message(Session& session, std::string_view group, const nlohmann::json& data);
  std::string ack(std::uint64_t ack_id, std::optional<std::string> error);

  std::map<std::string, Session> sessions_;
  std::map<LinkId, std::string> links_;
  // Every ackId the client ever used, with what it carried: the same id
  // must never carry two different requests in this process.
  std::map<std::uint64_t, std::string> ack_id_payloads_;
  std::uint64_t next_connection_ = 1;
};

}  // namespace dbr::pubsub::test
