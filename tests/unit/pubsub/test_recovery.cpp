// Reliable-protocol recovery against the fake service: same ackIds after a
// recovery, new connection after 1008 or the window, token refresh.
#include <doctest/doctest.h>

#include <set>

#include "unit/pubsub/pair.hpp"

using namespace dbr;
using namespace dbr::pubsub;
using namespace dbr::pubsub::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::map<json, std::vector<std::uint64_t>> ack_ids_by_data(const Pair& p) {
  std::map<json, std::vector<std::uint64_t>> out;
  for (const auto& f : p.frames_of_type("sendToGroup")) out[f.frame["data"]].push_back(f.frame["ackId"]);
  return out;
}

}  // namespace

TEST_CASE("recovery: the unacknowledged are resent with the same ackIds; nothing lost or duplicated") {
  Pair p(test_options());
  p.start();
  p.run_for(1s);
  const std::string connection = p.core.connection_id();
  p.service.lose_acks = 3;  // processed by the service, but the acks never arrive
  std::vector<MessageId> ids;
  for (int i = 1; i <= 3; ++i) ids.push_back(p.send(json{{"up", i}}));
  for (int i = 1; i <= 3; ++i) p.publish(json{{"down", i}});
  p.run_for(20ms);  // everything crossed, but no sequenceAck went out yet for 2 and 3
  p.drop_abruptly();
  CHECK(p.core.state() == State::Recovering);
  CHECK(p.open_recovery_at.size() == 1);  // at once
  p.publish(json{{"down", 4}});               // while detached: buffered by the service
  p.run_for(3s);

  REQUIRE(p.open_recovery_at.size() == 1);
  const std::string& query = p.recovery_queries[0];
  CHECK(query.find("awps_connection_id=" + connection + "&awps_reconnection_token=") == 0);
  CHECK(query.find("token%2F" + connection + "%2Bsecret%3D") != std::string::npos);  // percent-encoded
  CHECK(p.frames_of_type("joinGroup").size() == 1);  // groups survive a recovery
  auto connected = p.events_of<Connected>();
  REQUIRE(connected.size() == 2);
  CHECK_FALSE(connected[1].is_new);
  CHECK(connected[1].connection_id == connection);

  const auto acks_by_data = ack_ids_by_data(p);
  REQUIRE(acks_by_data.size() == 3);  // up 1, 2 and 3
  for (const auto& [data, acks] : acks_by_data) {
    CAPTURE(data.dump());
    REQUIRE(acks.size() == 2);
    CHECK(acks[0] == acks[1]);
  }
  CHECK(p.delivered_ids() == ids);
  CHECK(p.service.deliveries.size() == 3);
  CHECK(p.group_data() == std::vector<json>{{{"down", 1}}, {{"down", 2}}, {{"down", 3}}, {{"down", 4}}});
  CHECK(p.core.counters().recoveries == 1);
  CHECK(p.core.counters().connections == 1);
  CHECK(p.service.violations.empty());
}

TEST_CASE("recovery: session gone (1008) -> new connection, rejoin, outbox with new ackIds, sequence reset") {
  Pair p(test_options());
  p.start();
  p.run_for(1s);
  p.publish(json{{"down", 1}});
  p.publish(json{{"down", 2}});
  p.run_for(2s);
  p.service.lose_acks = 2;
  p.send(json{{"up", 1}});
  p.send(json{{"up", 2}});
  p.run_for(20ms);
  p.service.forget_sessions();
  p.drop_abruptly();
  p.run_for(5s);

  CHECK(p.open_recovery_at.size() == 1);
  CHECK(p.open_new_at.size() == 2);
  CHECK(p.core.connection_id() == "conn-2");
  CHECK(p.frames_of_type("joinGroup").size() == 2);
  auto connected = p.events_of<Connected>();
  REQUIRE(connected.size() == 3);  // new, the recovery that the service then closed, new again
  CHECK(connected[2].is_new);
  // Sent, resent on the recovered link that the service then closed (same
  // ackId), then sent on the new connection with a new ackId: the old
  // session failed them.
  const auto acks_by_data = ack_ids_by_data(p);
  REQUIRE(acks_by_data.size() == 2);  // up 1 and 2
  for (const auto& [data, acks] : acks_by_data) {
    CAPTURE(data.dump());
    REQUIRE(acks.size() == 3);
    CHECK(acks[1] == acks[0]);
    CHECK(acks[2] != acks[0]);
  }
  CHECK(p.events_of<Delivered>().size() == 2);
  // The service got both twice: a new connection cannot deduplicate (the spec's trade-off).
  CHECK(p.service.deliveries.size() == 4);
  // The new session counts from 1 again, and 1 is accepted.
  p.publish(json{{"down", 3}});
  p.run_for(1s);
  CHECK(p.group_data().back() == json{{"down", 3}});
  CHECK(p.service.violations.empty());
}

TEST_CASE("recovery: tried every second for 30 s, then a new connection") {
  Pair p(test_options());
  p.start();
  p.run_for(1min);
  p.refuse_recovery = AttemptFailure{FailureKind::HttpStatus, 502, std::nullopt, "Bad Gateway"};
  MessageId id = p.send(json{{"n", 1}});
  p.run_for(1ms);  // on the wire, not yet processed
  p.drop_abruptly();
  TimePoint dropped_at = p.now;
  p.run_for(40s);
  REQUIRE(p.open_recovery_at.size() >= 29);
  CHECK(p.open_recovery_at.size() <= 31);
  for (std::size_t i = 1; i < p.open_recovery_at.size(); ++i)
    CHECK(p.open_recovery_at[i] - p.open_recovery_at[i - 1] == 1s + p.latency);
  REQUIRE(p.open_new_at.size() == 2);
  CHECK(p.open_new_at[1] - dropped_at == 30s);
  CHECK(p.core.state() == State::Connected);
  CHECK(p.frames_of_type("joinGroup").size() == 2);
  auto delivered = p.events_of<Delivered>();
  REQUIRE(delivered.size() == 1);
  CHECK(delivered[0].id == id);
}

TEST_CASE("recovery: the non-reliable protocol never recovers; it reconnects and rejoins") {
  Pair p(test_options(Protocol::Json));
  p.start();
  p.run_for(1min);
  p.publish(json{{"down", 1}});
  p.run_for(1s);
  p.drop_abruptly(true);
  p.run_for(5s);
  CHECK(p.open_recovery_at.empty());
  CHECK(p.open_new_at.size() == 2);
  CHECK(p.frames_of_type("joinGroup").size() == 2);
  CHECK(p.frames_of_type("sequenceAck").empty());
  CHECK(p.core.state() == State::Connected);
  p.publish(json{{"down", 2}});
  p.run_for(1s);
  CHECK(p.group_data() == std::vector<json>{{{"down", 1}}, {{"down", 2}}});
  CHECK(p.service.violations.empty());
}

TEST_CASE("recovery: a connected message after a recovery refreshes the token only") {
  Pair p(test_options());
  p.start();
  p.run_for(1min);
  std::string connection = p.core.connection_id();
  p.drop_abruptly();
  p.run_for(1s);
  REQUIRE(p.core.state() == State::Connected);
  p.inject(json{{"type", "system"},
                {"event", "connected"},
                {"userId", "device-1"},
                {"connectionId", connection},
                {"reconnectionToken", "fresh-token"}}
               .dump());
  p.run_for(1s);
  CHECK(p.events_of<Connected>().size() == 2);
  CHECK(p.frames_of_type("joinGroup").size() == 1);
  p.drop_abruptly();
  p.run_for(1s);
  REQUIRE(p.recovery_queries.size() == 2);
  CHECK(p.recovery_queries[1] == "awps_connection_id=" + connection + "&awps_reconnection_token=fresh-token");
}

TEST_CASE("recovery: a join lost in the drop is resent with its ackId") {
  Pair p(test_options());
  p.send(json{{"n", 1}});
  p.start();
  // The joinGroup leaves when `connected` arrives (one latency after the
  // attempt); drop while it is on the wire.
  p.run_for(p.latency + 1ms);
  REQUIRE(p.frames_of_type("joinGroup").size() == 1);
  p.drop_abruptly();
  p.run_for(2s);
  auto joins = p.frames_of_type("joinGroup");
  REQUIRE(joins.size() == 2);
  CHECK(joins[1].frame["ackId"] == joins[0].frame["ackId"]);
  CHECK(p.core.joined());
  CHECK(p.service.deliveries.size() == 1);
  CHECK(p.service.violations.empty());
}

namespace {

std::vector<std::string> info_lines_with(const Pair& p, const std::string& fragment) {
  std::vector<std::string> out;
  for (const auto& line : p.logs_at_least(LogLevel::Info))
    if (line.text.find(fragment) != std::string::npos) out.push_back(line.text);
  return out;
}

}  // namespace

TEST_CASE("recovery: reported once the service proves it, never before a refusal") {
  SUBCASE("accepted: a ping goes at once and its pong proves the recovery") {
    Pair p(test_options());
    p.start();
    p.run_for(1s);
    const std::size_t pings_before = p.frames_of_type("ping").size();
    p.drop_abruptly();
    const TimePoint dropped = p.now;
    p.run_for(2 * p.latency);  // the recovery's socket is open, its ping on the way
    CHECK(p.core.state() == State::Connected);
    CHECK(info_lines_with(p, "session recovered").empty());
    auto pings = p.frames_of_type("ping");
    REQUIRE(pings.size() == pings_before + 1);
    CHECK(pings.back().at - dropped <= 2 * p.latency);
    p.run_for(2s);
    auto lines = info_lines_with(p, "session recovered");
    REQUIRE(lines.size() == 1);
    CHECK(lines[0] == "Web PubSub session recovered after 0.0 s (1 attempt)");
  }
  SUBCASE("refused: the socket opens, then close 1008; the outage goes on to a new connection") {
    Pair p(test_options());
    p.start();
    p.run_for(1s);
    p.service.forget_sessions();
    p.drop_abruptly();
    p.run_for(5s);
    CHECK(p.core.counters().recoveries == 1);  // the socket did open
    CHECK(info_lines_with(p, "session recovered").empty());
    auto lines = info_lines_with(p, "connected again");
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].find("Web PubSub connected again after") == 0);
    CHECK(lines[0].find("a new session: the service ended the session (close 1008: The connection could not be "
                        "recovered.)") != std::string::npos);
    // The outage wrote two lines at INFO and above: what failed, and back.
    CHECK(p.logs_at_least(LogLevel::Info).size() == 2);
  }
  SUBCASE("a service that answers no ping: recovered after the grace without a close") {
    Pair p(test_options());
    p.service.answer_pings = false;
    p.start();
    p.run_for(1s);
    p.drop_abruptly();
    const TimePoint dropped = p.now;
    p.run_for(2900ms);
    CHECK(info_lines_with(p, "session recovered").empty());
    p.run_for(200ms);
    auto lines = info_lines_with(p, "session recovered");
    REQUIRE(lines.size() == 1);
    CHECK(lines[0] == "Web PubSub session recovered after 3.0 s (1 attempt)");
    CHECK(p.now - dropped >= 3s);
  }
}
