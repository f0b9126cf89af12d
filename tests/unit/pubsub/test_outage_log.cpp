#include <doctest/doctest.h>

#include <vector>

#include "pubsub/core/outage_log.hpp"

using namespace dbr;
using namespace dbr::pubsub;
using namespace std::chrono_literals;

TEST_CASE("outage log: first failure at WARNING, then every 10th attempt, one INFO on recovery") {
  OutageLog log;
  TimePoint t = TimePoint{} + 1000s;
  log.attempt_started();  // the attempt that fails
  auto first = log.failure(t, "connecting failed: DNS", false);
  REQUIRE(first);
  CHECK(first->level == LogLevel::Warning);
  CHECK(first->text == "connecting failed: DNS");
  std::vector<unsigned> logged_at;
  for (unsigned attempt = 2; attempt <= 35; ++attempt) {
    t += 2s;
    log.attempt_started();
    if (auto line = log.failure(t, "connecting failed: DNS", false)) {
      logged_at.push_back(attempt);
      CHECK(line->level == LogLevel::Warning);
      CHECK(line->text.find(std::to_string(attempt) + " attempts") != std::string::npos);
    }
  }
  CHECK(logged_at == std::vector<unsigned>{10, 20, 30});
  t += 5s;
  log.attempt_started();
  auto recovered = log.connected(t, false);
  REQUIRE(recovered);
  CHECK(recovered->level == LogLevel::Info);
  CHECK(recovered->text == "Web PubSub connected again after 1 min 13 s (36 attempts)");
  CHECK_FALSE(log.in_outage());
  // Connected outside an outage says nothing.
  CHECK_FALSE(log.connected(t + 1s, false));
}

TEST_CASE("outage log: slow failures are logged at least every 5 minutes") {
  OutageLog log;
  TimePoint t = TimePoint{} + 1000s;
  log.attempt_started();
  REQUIRE(log.failure(t, "x", false));
  int lines = 0;
  for (int i = 0; i < 8; ++i) {  // one attempt per 60 s for 8 minutes
    t += 60s;
    log.attempt_started();
    if (log.failure(t, "x", false)) ++lines;
  }
  CHECK(lines == 1);  // at 5 min (attempt 6); attempt 10 is not reached
}

TEST_CASE("outage log: credentials refused escalates to ERROR at once") {
  OutageLog log;
  TimePoint t = TimePoint{} + 1000s;
  log.attempt_started();
  auto first = log.failure(t, "HTTP 401; retrying at once", false);
  REQUIRE(first);
  CHECK(first->level == LogLevel::Warning);
  log.attempt_started();
  auto refused = log.failure(t + 1s, "credentials refused (HTTP 401)", true);
  REQUIRE(refused);
  CHECK(refused->level == LogLevel::Error);
  log.attempt_started();
  CHECK_FALSE(log.failure(t + 61s, "credentials refused (HTTP 401)", true));  // cadence again
}

TEST_CASE("format_duration") {
  CHECK(format_duration(1500ms) == "1.5 s");
  CHECK(format_duration(245s) == "4 min 05 s");
  CHECK(format_duration(7260s) == "2 h 01 min");
}

TEST_CASE("outage log: a flapping connection continues its outage instead of logging every cycle") {
  OutageLog log;
  TimePoint t = TimePoint{} + 1000s;
  int warnings = 0, infos = 0;
  std::string last_info;
  for (int cycle = 1; cycle <= 100; ++cycle) {  // connect, drop 1 s later, reconnect 1 s later
    log.attempt_started();
    CHECK_FALSE(log.connected(t, true));  // the socket opened: not yet proof
    if (auto line = log.recovery_proven(t + 100ms)) {
      ++infos;
      last_info = line->text;
    }
    t += 1s;
    if (log.failure(t, "Web PubSub connection lost (close 1006); recovering the session", false)) ++warnings;
    t += 1s;
  }
  // The first drop, then every 10th attempt.
  CHECK(warnings == 10);
  CHECK(infos == 10);
  CHECK(last_info.find("Web PubSub session recovered after") == 0);
  // After a quiet spell longer than the flap window, a drop is a new outage.
  log.attempt_started();
  log.connected(t, true);
  log.recovery_proven(t);
  t += 31s;
  auto fresh = log.failure(t, "lost", false);
  REQUIRE(fresh);
  CHECK(fresh->text == "lost");
}

TEST_CASE("outage log: a recovery the service refuses is never reported as recovered") {
  // The reliable protocol's recovery: the socket opens, then the service
  // closes with 1008 "The connection could not be recovered"
  // (webpubsub-protocol.md, Recovery). Seen before: "session recovered after
  // 0.0 s" followed by the refusal.
  OutageLog log;
  TimePoint t = TimePoint{} + 1000s;
  auto lost = log.failure(t, "Web PubSub connection lost (close 1006); recovering the session", false);
  REQUIRE(lost);
  CHECK(lost->level == LogLevel::Warning);
  log.attempt_started();
  t += 50ms;
  CHECK_FALSE(log.connected(t, true));  // the recovery's socket opened
  CHECK(log.in_outage());
  // The service refuses it; the outage goes on, quietly.
  log.session_lost("the service ended the session (close 1008: The connection could not be recovered)");
  t += 10ms;
  CHECK_FALSE(log.failure(t, "Web PubSub connection lost (close 1008: The connection could not be recovered)", false));
  CHECK_FALSE(log.recovery_proven(t));  // too late: nothing to prove any more
  log.attempt_started();
  t += 40ms;
  auto back = log.connected(t, false);
  REQUIRE(back);
  CHECK(back->level == LogLevel::Info);
  CHECK(back->text ==
        "Web PubSub connected again after 0.1 s (2 attempts; a new session: the service ended the session (close 1008: "
        "The connection could not be recovered))");
  CHECK_FALSE(log.in_outage());
}

TEST_CASE("outage log: a proven recovery ends the outage with one INFO") {
  OutageLog log;
  TimePoint t = TimePoint{} + 1000s;
  REQUIRE(log.failure(t, "lost", false));
  log.attempt_started();
  CHECK_FALSE(log.connected(t + 1s, true));
  auto line = log.recovery_proven(t + 1200ms);
  REQUIRE(line);
  CHECK(line->text == "Web PubSub session recovered after 1.2 s (1 attempt)");
  CHECK_FALSE(log.in_outage());
  CHECK_FALSE(log.recovery_proven(t + 2s));  // once
}
