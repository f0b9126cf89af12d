// ClientCore against the fake service, in virtual time: connection, group
// join, outbox, acks, sequencing, keepalive, malformed input, stop.
#include <doctest/doctest.h>

#include <set>

#include "pubsub/core/messages.hpp"
#include "unit/pubsub/pair.hpp"

using namespace dbr;
using namespace dbr::pubsub;
using namespace dbr::pubsub::test;
using namespace std::chrono_literals;
using nlohmann::json;

TEST_CASE("client: connects, joins the group, then sends the outbox in order") {
  Pair p(test_options());
  std::vector<MessageId> ids;
  for (int i = 1; i <= 5; ++i) ids.push_back(p.send(json{{"n", i}}));
  CHECK(p.client_frames.empty());
  p.start();
  p.run_for(1s);
  CHECK(p.core.state() == State::Connected);
  CHECK(p.core.joined());
  auto connected = p.events_of<Connected>();
  REQUIRE(connected.size() == 1);
  CHECK(connected[0].is_new);
  CHECK(connected[0].connection_id == "conn-1");
  CHECK(connected[0].user_id == "device-1");
  CHECK(p.events_of<Joined>().size() == 1);

  auto joins = p.frames_of_type("joinGroup");
  auto sends = p.frames_of_type("sendToGroup");
  REQUIRE(joins.size() == 1);
  REQUIRE(sends.size() == 5);
  CHECK(joins[0].frame["group"] == "g");
  // Nothing goes out before the join's ack has come back.
  for (const auto& s : sends) CHECK(s.at >= joins[0].at + 2 * p.latency);
  CHECK(p.delivered_data() ==
        std::vector<json>{{{"n", 1}}, {{"n", 2}}, {{"n", 3}}, {{"n", 4}}, {{"n", 5}}});
  CHECK(p.delivered_ids() == ids);
  CHECK(p.core.outbox_size() == 0);
  CHECK(p.core.counters().messages_out == 5);
  CHECK(p.service.violations.empty());

  // Once joined, a send goes out at once.
  MessageId later = p.send(json{{"n", 6}});
  CHECK(p.frames_of_type("sendToGroup").back().at == p.now);
  p.run_for(1s);
  CHECK(p.delivered_ids().back() == later);
}

TEST_CASE("client: the outbox bound drops the oldest, counts and reports it") {
  auto options = test_options();
  options.session.outbox_max_messages = 3;
  Pair p(options);
  for (int i = 1; i <= 5; ++i) p.send(json{{"n", i}});
  auto dropped = p.events_of<Dropped>();
  REQUIRE(dropped.size() == 2);
  CHECK(dropped[0].id == 1);
  CHECK(dropped[1].id == 2);
  CHECK(dropped[0].reason == "outbox full");
  CHECK(p.core.counters().outbox_drops == 2);
  CHECK(p.core.outbox_size() == 3);
  p.start();
  p.run_for(1s);
  CHECK(p.delivered_data() == std::vector<json>{{{"n", 3}}, {{"n", 4}}, {{"n", 5}}});
}

TEST_CASE("client: outboxMaxMessages 0 buffers nothing while not joined") {
  auto options = test_options();
  options.session.outbox_max_messages = 0;
  Pair p(options);
  MessageId early = p.send(json{{"n", 1}});
  auto dropped = p.events_of<Dropped>();
  REQUIRE(dropped.size() == 1);
  CHECK(dropped[0].id == early);
  CHECK(dropped[0].reason == "not connected");
  p.start();
  p.run_for(1s);
  MessageId ok = p.send(json{{"n", 2}});
  p.run_for(1s);
  CHECK(p.delivered_ids() == std::vector<MessageId>{ok});
  // In flight when the link drops: dropped too, not kept for later.
  p.service.lose_acks = 1;
  MessageId lost = p.send(json{{"n", 3}});
  p.run_for(100ms);
  p.drop_abruptly();
  dropped = p.events_of<Dropped>();
  REQUIRE(dropped.size() == 2);
  CHECK(dropped[1].id == lost);
  CHECK(dropped[1].reason == "connection lost");
  CHECK(p.core.counters().outbox_drops == 2);
}

TEST_CASE("client: ackIds never repeat, across connections and cores") {
  Pair a(test_options(), 1);
  Pair b(test_options(Protocol::Json), 2);
  a.start();
  b.start();
  for (int i = 0; i < 20; ++i) {
    a.send(json{{"a", i}});
    b.send(json{{"b", i}});
    a.run_for(500ms);
    b.run_for(500ms);
    if (i % 5 == 4) {
      a.drop_abruptly();
      b.drop_abruptly();
    }
  }
  a.run_for(1min);
  b.run_for(1min);
  std::map<std::uint64_t, std::string> seen;  // ackId -> the request it carried
  for (const Pair* p : {&a, &b}) {
    for (const auto& f : p->client_frames) {
      if (!f.frame.contains("ackId")) continue;
      std::string what = f.frame["type"].get<std::string>() + (f.frame.contains("data") ? f.frame["data"].dump() : "");
      auto [it, fresh] = seen.emplace(f.frame["ackId"].get<std::uint64_t>(), what);
      if (!fresh) CHECK(it->second == what);  // only a resend of the same request reuses an id
    }
  }
  CHECK(seen.size() >= 40 + 2);
  CHECK(a.service.violations.empty());
  CHECK(b.service.violations.empty());
  std::uint64_t x = allocate_ack_id(), y = allocate_ack_id();
  CHECK(y > x);
  CHECK(seen.rbegin()->first < x);
}

TEST_CASE("client: malformed JSON is counted and logged, never fatal") {
  Pair p(test_options());
  p.start();
  p.run_for(1s);
  p.inject("{not json");
  p.inject("[1,2,3]");
  p.inject(R"({"type":"ack","ackId":"x","success":true})");
  p.run_for(1s);
  CHECK(p.core.counters().malformed_frames == 3);
  CHECK(p.core.state() == State::Connected);
  std::size_t warnings = 0;
  for (const auto& line : p.logs_at_least(LogLevel::Warning))
    warnings += line.text.find("malformed frame from the service") == 0;
  CHECK(warnings == 3);
  p.publish(json{{"still", "working"}});
  p.run_for(1s);
  CHECK(p.group_data() == std::vector<json>{{{"still", "working"}}});
}

TEST_CASE("client: unknown frame types are ignored with a DEBUG line") {
  Pair p(test_options());
  p.start();
  p.run_for(1s);
  p.inject(R"({"type":"invokeResponse","invocationId":"1"})");
  p.inject(R"({"type":"system","event":"somethingNew"})");
  p.run_for(1s);
  CHECK(p.core.counters().unknown_frames == 2);
  CHECK(p.core.counters().malformed_frames == 0);
  CHECK(p.core.state() == State::Connected);
  CHECK(p.logs_at_least(LogLevel::Warning).empty());
  bool debug_line = false;
  for (const auto& line : p.events_of<LogLine>())
    debug_line |= line.level == LogLevel::Debug && line.text.find("unknown type 'invokeResponse'") != std::string::npos;
  CHECK(debug_line);
}

TEST_CASE("client: group and server messages reach the application") {
  Pair p(test_options());
  p.start();
  p.run_for(1s);
  p.inject(R"({"type":"message","from":"server","dataType":"text","data":"hello","sequenceId":1})");
  p.publish(json{{"k", 1}});  // the service's own sequence: id 1 as well, so a duplicate
  p.run_for(1s);
  auto server = p.events_of<ServerMessage>();
  REQUIRE(server.size() == 1);
  CHECK(server[0].data.text() == R"("hello")");
  CHECK(server[0].data_type == "text");
  CHECK(p.events_of<GroupMessage>().empty());
  CHECK(p.core.counters().duplicates_in == 1);
  p.publish(json{{"k", 2}});
  p.run_for(1s);
  auto group = p.events_of<GroupMessage>();
  REQUIRE(group.size() == 1);
  CHECK(group[0].group == "g");
  CHECK(group[0].from_user_id == "web");
  CHECK(json::parse(group[0].data.text()) == json{{"k", 2}});
}

TEST_CASE("client: duplicates are dropped; sequenceAck at most once a second, at once after a jump of more than 300") {
  Pair p(test_options());
  p.start();
  p.run_for(1s);
  for (int i = 1; i <= 50; ++i) p.schedule(i * 20ms, [&p, i] { p.publish(json{{"m", i}}); });
  p.run_for(3s);
  CHECK(p.group_data().size() == 50);
  auto acks = p.frames_of_type("sequenceAck");
  REQUIRE(acks.size() >= 2);
  for (std::size_t i = 1; i < acks.size(); ++i) CHECK(acks[i].at - acks[i - 1].at >= 1s);
  CHECK(acks.back().frame["sequenceId"] == 50);

  // A replay of old ids: nothing reaches the application, the ack is re-sent.
  for (int seq : {10, 49, 50})
    p.inject(json{{"type", "message"}, {"from", "group"}, {"group", "g"}, {"data", "replay"}, {"sequenceId", seq}}.dump());
  p.run_for(2s);
  CHECK(p.group_data().size() == 50);
  CHECK(p.core.counters().duplicates_in == 3);
  CHECK(p.frames_of_type("sequenceAck").back().frame["sequenceId"] == 50);

  // 51 arrives, then 352 (a jump of 301) 100 ms later: the jump is acked on arrival.
  p.inject(json{{"type", "message"}, {"from", "group"}, {"group", "g"}, {"data", 51}, {"sequenceId", 51}}.dump());
  p.run_for(100ms);
  std::size_t before = p.frames_of_type("sequenceAck").size();
  TimePoint sent_at = p.now;
  p.inject(json{{"type", "message"}, {"from", "group"}, {"group", "g"}, {"data", 352}, {"sequenceId", 352}}.dump());
  p.run_for(p.latency);
  acks = p.frames_of_type("sequenceAck");
  REQUIRE(acks.size() == before + 1);
  CHECK(acks.back().frame["sequenceId"] == 352);
  CHECK(acks.back().at == sent_at + p.latency);
  CHECK(p.service.violations.empty());
}

TEST_CASE("client: ack errors: Forbidden/BadRequest drop, transient errors resend with the same ackId") {
  Pair p(test_options());
  p.start();
  p.run_for(1s);
  p.service.send_errors = {"Forbidden", "BadRequest", "InternalServerError", "SomethingNew"};
  MessageId forbidden = p.send(json{{"n", 1}});
  p.run_for(100ms);
  MessageId bad = p.send(json{{"n", 2}});
  p.run_for(100ms);
  MessageId transient = p.send(json{{"n", 3}});
  p.run_for(5s);
  auto dropped = p.events_of<Dropped>();
  REQUIRE(dropped.size() == 2);
  CHECK(dropped[0].id == forbidden);
  CHECK(dropped[0].reason.find("Forbidden") != std::string::npos);
  CHECK(dropped[1].id == bad);
  CHECK(dropped[1].reason.find("BadRequest") != std::string::npos);
  CHECK(p.delivered_ids() == std::vector<MessageId>{transient});
  // Three frames for message 3 (InternalServerError, SomethingNew, success), one ackId, 1 s apart.
  std::vector<TimedFrame> third;
  for (const auto& f : p.frames_of_type("sendToGroup"))
    if (f.frame["data"] == json{{"n", 3}}) third.push_back(f);
  REQUIRE(third.size() == 3);
  CHECK(third[1].frame["ackId"] == third[0].frame["ackId"]);
  CHECK(third[2].frame["ackId"] == third[0].frame["ackId"]);
  CHECK(third[1].at - third[0].at == 1s + 2 * p.latency);
  CHECK(p.core.counters().refused == 2);

  // An ack for an id nobody sent is ignored.
  std::size_t events = p.events.size();
  std::uint64_t messages_out = p.core.counters().messages_out;
  p.inject(R"({"type":"ack","ackId":18446744073709551615,"success":true})");
  p.run_for(1s);
  CHECK(p.events_of<Delivered>().size() == 1);
  CHECK(p.events_of<Dropped>().size() == 2);
  CHECK(p.core.counters().messages_out == messages_out);
  CHECK(p.core.counters().refused == 2);
  // The ack was read (a debug line says it was ignored) and produced nothing
  // else but its proof of life (any frame is one).
  std::size_t other = 0;
  bool ignored = false;
  for (std::size_t i = events; i < p.events.size(); ++i) {
    if (const auto* line = std::get_if<LogLine>(&p.events[i].event)) {
      ignored |= line->text.find("unknown ackId") != std::string::npos;
    } else if (!std::holds_alternative<ProofOfLife>(p.events[i].event)) {
      ++other;
    }
  }
  CHECK(ignored);
  CHECK(other == 0);
}

TEST_CASE("client: a lost ack is resent after 30 s with the same ackId; Duplicate counts as delivered") {
  Pair p(test_options());
  p.start();
  p.run_for(1s);
  p.service.lose_acks = 1;
  MessageId id = p.send(json{{"n", 1}});
  p.run_for(29s);
  CHECK(p.events_of<Delivered>().empty());
  CHECK(p.frames_of_type("sendToGroup").size() == 1);
  p.run_for(2s);
  auto sends = p.frames_of_type("sendToGroup");
  REQUIRE(sends.size() == 2);
  CHECK(sends[1].frame["ackId"] == sends[0].frame["ackId"]);
  CHECK(sends[1].at - sends[0].at == 30s);
  CHECK(p.delivered_ids() == std::vector<MessageId>{id});
  CHECK(p.service.deliveries.size() == 1);  // the service saw it once: the resend was a Duplicate
}

TEST_CASE("client: a failed join is retried without dropping the connection; the outbox waits") {
  SUBCASE("transient: again after 3 s") {
    Pair p(test_options());
    p.service.join_errors = {"InternalServerError"};
    p.send(json{{"n", 1}});
    p.start();
    p.run_for(2s);
    CHECK_FALSE(p.core.joined());
    CHECK(p.frames_of_type("sendToGroup").empty());
    p.run_for(2s);
    auto joins = p.frames_of_type("joinGroup");
    REQUIRE(joins.size() == 2);
    CHECK(joins[1].at - joins[0].at == 3s + 2 * p.latency);
    CHECK(p.core.joined());
    CHECK(p.service.deliveries.size() == 1);
    CHECK(p.core.counters().attempts == 1);
  }
  SUBCASE("Forbidden: an ERROR naming the role, again after 60 s") {
    Pair p(test_options());
    p.service.join_errors = {"Forbidden"};
    p.start();
    p.run_for(59s);
    CHECK_FALSE(p.core.joined());
    auto errors = p.logs_at_least(LogLevel::Error);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].text.find("webpubsub.joinLeaveGroup.g") != std::string::npos);
    p.run_for(2s);
    CHECK(p.core.joined());
    CHECK(p.core.state() == State::Connected);
  }
}

TEST_CASE("client: keepalive pings a quiet connection and does not kill it") {
  Pair p(test_options());
  p.start();
  p.run_for(10min);
  CHECK(p.core.state() == State::Connected);
  CHECK(p.core.counters().drops == 0);
  auto pings = p.frames_of_type("ping");
  CHECK(pings.size() >= 29);
  CHECK(pings.size() <= 31);
  for (std::size_t i = 1; i < pings.size(); ++i) CHECK(pings[i].at - pings[i - 1].at <= 20s + 2 * p.latency);
}

TEST_CASE("client: proof of life reaches the owner when the connection comes up, with each keepalive answer, "
          "at most once a second, and never from a silent connection") {
  Pair p(test_options());
  p.start();
  p.run_for(2s);
  auto times = [&p] {
    std::vector<TimePoint> out;
    for (const auto& e : p.events)
      if (const auto* proof = std::get_if<ProofOfLife>(&e.event)) {
        CHECK(proof->at == e.at);
        out.push_back(proof->at);
      }
    return out;
  };
  // One as the connection came up (Connected), one for the joined group's ack.
  auto first = times();
  REQUIRE_FALSE(first.empty());
  TimePoint connected_at{};
  for (const auto& e : p.events)
    if (std::holds_alternative<Connected>(e.event) && connected_at == TimePoint{}) connected_at = e.at;
  CHECK(first.front() == connected_at);

  // A quiet connection: only the keepalive speaks, a ping every 20 s and its
  // pong; each pong is a proof of life.
  const std::size_t before = times().size();
  p.run_for(2min);
  auto quiet = times();
  CHECK(quiet.size() - before == p.frames_of_type("ping").size());
  for (std::size_t i = before + 1; i < quiet.size(); ++i) CHECK(quiet[i] - quiet[i - 1] <= 20s + 2 * p.latency);

  // Traffic every 100 ms: proofs at most once a second.
  const std::size_t busy_from = quiet.size();
  for (int i = 0; i < 50; ++i) {
    p.publish(nlohmann::json{{"n", i}});
    p.run_for(100ms);
  }
  auto busy = times();
  CHECK(busy.size() - busy_from >= 4);
  CHECK(busy.size() - busy_from <= 6);
  for (std::size_t i = busy_from + 1; i < busy.size(); ++i) CHECK(busy[i] - busy[i - 1] >= kProofOfLifeEvery);

  // Half-open: nothing arrives, so no proof, until the replacement connection.
  p.go_silent();
  const TimePoint silent_at = p.now;
  const std::size_t silent_from = times().size();
  while (p.core.counters().drops == 0 && p.now - silent_at < 5min) p.run_for(100ms);
  p.run_for(1s);
  REQUIRE(p.aborts_at.size() == 1);
  CHECK(p.aborts_at[0] - silent_at >= 59s);
  REQUIRE(times().size() > silent_from);
  CHECK(times()[silent_from] > p.aborts_at[0]);  // the recovered connection's
}

TEST_CASE("client: a silent (half-open) connection is replaced within interval + timeout") {
  for (auto protocol : {Protocol::JsonReliable, Protocol::Json}) {
    CAPTURE(subprotocol(protocol));
    Pair p(test_options(protocol));
    p.start();
    p.run_for(37s);  // between pings
    TimePoint silent_at = p.now;
    p.go_silent();
    while (p.core.counters().drops == 0 && p.now - silent_at < 5min) p.run_for(100ms);
    REQUIRE(p.aborts_at.size() == 1);
    CHECK(p.aborts_at[0] - silent_at <= 60s);
    p.run_for(1s);
    CHECK(p.core.state() == State::Connected);
    auto connected = p.events_of<Connected>();
    REQUIRE(connected.size() == 2);
    TimePoint replaced_at{};
    for (const auto& e : p.events)
      if (std::holds_alternative<Connected>(e.event)) replaced_at = e.at;
    CHECK(replaced_at - silent_at <= 20s + 60s);
    CHECK(connected[1].is_new == (protocol == Protocol::Json));
  }
}

TEST_CASE("client: stop sends close 1000, makes no further attempt, and ends in Stopped") {
  Pair p(test_options());
  p.start();
  p.run_for(2s);
  std::string connection = p.core.connection_id();
  p.core.stop(p.now);
  p.pump();
  CHECK(p.close_codes == std::vector<std::uint16_t>{1000});
  CHECK(p.core.state() == State::Stopped);
  p.run_for(10min);
  CHECK(p.open_new_at.size() == 1);
  CHECK(p.open_recovery_at.empty());
  CHECK(p.core.state() == State::Stopped);
  CHECK_FALSE(p.core.next_deadline());
  CHECK_FALSE(p.service.link_of(connection));  // the service ended the session
  CHECK(p.core.counters().unexpected_inputs == 0);
}

TEST_CASE("client: an input the supervisor does not expect is counted, logged once, and changes nothing") {
  Pair p(test_options());
  p.start();
  p.run_for(2s);
  REQUIRE(p.core.state() == State::Connected);
  const std::string connection = p.core.connection_id();
  const std::size_t warnings = p.logs_at_least(LogLevel::Warning).size();
  // A URL-source answer for an attempt that is long over.
  p.core.credentials_failed(AttemptFailure{FailureKind::HttpStatus, 403, std::nullopt, "late"}, p.now);
  p.pump();
  CHECK(p.core.counters().unexpected_inputs == 1);
  auto logged = p.logs_at_least(LogLevel::Warning);
  REQUIRE(logged.size() == warnings + 1);
  CHECK(logged.back().level == LogLevel::Warning);
  CHECK(logged.back().text == "supervisor: unexpected input CredentialsFailed in state Connected, ignoring");
  CHECK(p.core.state() == State::Connected);
  CHECK(p.core.connection_id() == connection);
  p.run_for(1min);
  CHECK(p.open_new_at.size() == 1);
  CHECK(p.core.counters().unexpected_inputs == 1);
}

TEST_CASE("client: a server that picks no subprotocol is aborted and retried with backoff") {
  Pair p(test_options());
  p.subprotocol_override = "";
  p.start();
  p.run_for(1s);
  CHECK(p.aborts_at.size() == 1);
  CHECK(p.core.state() == State::BackingOff);
  auto warnings = p.logs_at_least(LogLevel::Warning);
  REQUIRE_FALSE(warnings.empty());
  CHECK(warnings[0].text.find("subprotocol") != std::string::npos);
}

TEST_CASE("client: no attempt while offline; online again -> settle, then attempt") {
  Pair p(test_options());
  p.core.internet(false, p.now);
  p.core.start(p.now);
  p.pump();
  p.run_for(10min);
  CHECK(p.open_new_at.empty());
  CHECK(p.core.state() == State::WaitingForInternet);
  TimePoint online_at = p.now;
  p.core.internet(true, p.now);
  p.pump();
  p.run_for(10s);
  REQUIRE(p.open_new_at.size() == 1);
  CHECK(p.open_new_at[0] - online_at == 3s);
  CHECK(p.core.state() == State::Connected);
}

namespace {

// Every new attempt refused with HTTP `status` (by the hub or by the URL
// source, as `refusal` says) for 5 minutes: the wait from each failure to
// the next attempt, the ERROR lines, the internet checks asked for.
struct Refusals {
  std::vector<Duration> waits;
  std::vector<LogLine> errors;
  std::size_t check_internet = 0;
};
Refusals refused_for_5_minutes(std::optional<AttemptFailure> Pair::*refusal, int status) {
  Pair p(test_options());
  p.*refusal = AttemptFailure{FailureKind::HttpStatus, status, std::nullopt, "refused"};
  p.start();
  p.run_for(5min);
  Refusals r;
  for (std::size_t i = 1; i < p.open_new_at.size(); ++i) r.waits.push_back(p.open_new_at[i] - p.failure_at[i - 1]);
  r.errors = p.logs_at_least(LogLevel::Error);
  r.check_internet = p.check_internet;
  return r;
}

}  // namespace

TEST_CASE("client: 503 with Retry-After waits that long; 401 twice logs credentials refused") {
  SUBCASE("503") {
    Pair p(test_options());
    p.refuse_new = AttemptFailure{FailureKind::HttpStatus, 503, 100s, "Service Unavailable"};
    p.start();
    p.run_for(99s);
    CHECK(p.open_new_at.size() == 1);
    p.refuse_new.reset();
    p.run_for(2s);
    REQUIRE(p.open_new_at.size() == 2);
    CHECK(p.open_new_at[1] - p.failure_at[0] == 100s);
    CHECK(p.core.state() == State::Connected);
  }
  SUBCASE("401 from the hub: one immediate retry, then the max delay") {
    Refusals r = refused_for_5_minutes(&Pair::refuse_new, 401);
    REQUIRE(r.waits.size() >= 5);
    CHECK(r.waits[0] == 0s);  // at once, with fresh credentials
    for (std::size_t i = 1; i < r.waits.size(); ++i) CHECK(r.waits[i] == 60s);
    REQUIRE(r.errors.size() == 1);  // then the outage cadence (every 10th attempt, or 5 min)
    CHECK(r.errors[0].text.find("credentials refused (HTTP 401)") == 0);
    CHECK(r.check_internet == 0);
  }
  SUBCASE("403 from the credentials source (Auth0): the backoff, no immediate retry") {
    Refusals r = refused_for_5_minutes(&Pair::refuse_credentials, 403);
    REQUIRE(r.waits.size() >= 5);
    BackoffPolicy policy = test_options().supervisor.backoff;
    for (std::size_t i = 0; i < r.waits.size(); ++i) {
      CAPTURE(i);
      double nominal = to_seconds(nominal_delay(policy, static_cast<unsigned>(i)));
      CHECK(to_seconds(r.waits[i]) >= nominal * 0.7 - 1e-6);
      CHECK(to_seconds(r.waits[i]) < nominal * 1.3);
    }
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].text.find("sign-in refused by Auth0 (HTTP 403): check the Auth0 credentials in remote.env") ==
          0);
    CHECK(r.check_internet == 0);
  }
}

TEST_CASE("client: an accept-then-drop server never drives the delays below the backoff") {
  Pair p(test_options(Protocol::Json));
  p.drop_after_open = 1s;
  p.start();
  p.run_for(10min);
  REQUIRE(p.open_new_at.size() >= 8);
  BackoffPolicy policy = test_options().supervisor.backoff;
  for (std::size_t k = 0; k + 1 < p.open_new_at.size(); ++k) {
    TimePoint dropped_at = p.open_new_at[k] + p.latency + 1s;
    double wait = to_seconds(p.open_new_at[k + 1] - dropped_at);
    double nominal = to_seconds(nominal_delay(policy, static_cast<unsigned>(k)));
    CAPTURE(k);
    CHECK(wait >= nominal * 0.7 - 1e-6);
    CHECK(wait < nominal * 1.3);
  }
  CHECK(p.open_recovery_at.empty());
  CHECK(p.overlapping_attempts == 0);
}

TEST_CASE("client: with the reliable protocol an accept-then-drop server gets at most one recovery a second") {
  Pair p(test_options());
  p.drop_after_open = 100ms;
  p.start();
  p.run_for(2min);
  REQUIRE(p.open_recovery_at.size() >= 50);
  for (std::size_t i = 1; i < p.open_recovery_at.size(); ++i)
    CHECK(p.open_recovery_at[i] - p.open_recovery_at[i - 1] >= 1s);
  CHECK(p.overlapping_attempts == 0);
  // The log follows the outage cadence, not one WARNING per cycle.
  CHECK(p.logs_at_least(LogLevel::Warning).size() <= p.open_recovery_at.size() / 10 + 2);
  CHECK(p.events_of<LogLine>().size() < p.open_recovery_at.size());
}
