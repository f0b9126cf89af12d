// The clock rules for a board without a real-time clock, on readings passed
// in (no clock is read here): when a refusal is the clock's doing, and when
// tokens are signed with the service's time.
#include <doctest/doctest.h>

#include "pubsub/core/clock_skew.hpp"
#include "pubsub/core/supervisor.hpp"

using namespace dbr;
using namespace dbr::pubsub;
using namespace std::chrono_literals;

namespace {

// 2026-12-06 13:46:03 UTC, the service's (right) time in these tests.
constexpr std::chrono::sys_seconds kServiceNow{std::chrono::sys_days{std::chrono::year{2026} / 12 / 6} + 13h + 46min +
                                              3s};

}  // namespace

TEST_CASE("clock: a refusal is called the clock's doing when Date differs by over 60 s or the kernel says unsynchronized") {
  SUBCASE("3 h behind, not synchronized") {
    auto words = clock_suspicion({kServiceNow - 3h, false, kServiceNow});
    REQUIRE(words);
    CHECK(*words ==
          "the system time is 2026-12-06 10:46:03 UTC, 3 h 00 min behind the service's clock (its Date header: "
          "2026-12-06 13:46:03 UTC), and the kernel says the clock is not synchronized (no NTP yet). The service "
          "checks access tokens against its own clock, so a wrong system clock makes them look expired: set the "
          "clock (NTP; see timedatectl status)");
  }
  SUBCASE("a day ahead, synchronized by the kernel's account") {
    auto words = clock_suspicion({kServiceNow + 24h + 5min, true, kServiceNow});
    REQUIRE(words);
    CHECK(words->find("the system time is 2026-12-07 13:51:03 UTC, 24 h 05 min ahead of the service's clock") == 0);
    CHECK(words->find("not synchronized") == std::string::npos);
  }
  SUBCASE("no Date header, not synchronized") {
    auto words = clock_suspicion({kServiceNow - 3h, false, std::nullopt});
    REQUIRE(words);
    CHECK(words->find("the system time is 2026-12-06 10:46:03 UTC and the kernel says the clock is not synchronized") ==
          0);
  }
  SUBCASE("Date agrees, the kernel says unsynchronized: the Date wins, the clock is right") {
    CHECK_FALSE(clock_suspicion({kServiceNow - 5s, false, kServiceNow}));
  }
  SUBCASE("within the tolerance and synchronized, or unknown: the clock looks right") {
    CHECK_FALSE(clock_suspicion({kServiceNow - 60s, true, kServiceNow}));
    CHECK_FALSE(clock_suspicion({kServiceNow + 60s, std::nullopt, kServiceNow}));
    CHECK_FALSE(clock_suspicion({kServiceNow, true, std::nullopt}));
    CHECK(clock_suspicion({kServiceNow - 61s, true, kServiceNow}));
  }
  CHECK(skew_text(42s) == "42 s");
  CHECK(skew_text(3h + 1min) == "3 h 01 min");
  CHECK(skew_text(std::chrono::hours(24 * 9 + 2)) == "9 days 2 h");
}

TEST_CASE("clock: tokens are signed with the service's time while its Date shows ours off; one line each way") {
  TokenClock clock;
  CHECK(clock.offset() == 0s);
  // Right clock: nothing.
  CHECK_FALSE(clock.observe(kServiceNow, kServiceNow - 2s, true));
  CHECK(clock.offset() == 0s);
  // 3 h behind: correct, say so once.
  auto start = clock.observe(kServiceNow, kServiceNow - 3h, false);
  REQUIRE(start);
  CHECK(start->level == LogLevel::Warning);
  CHECK(start->text ==
        "the system clock (2026-12-06 10:46:03 UTC) is 3 h 00 min behind the Web PubSub service's (its Date header: "
        "2026-12-06 13:46:03 UTC) and not synchronized (no NTP yet): signing access tokens with the service's time "
        "until the clock is set");
  CHECK(clock.offset() == 3h);
  // Later responses while still off: the offset follows them, silently.
  CHECK_FALSE(clock.observe(kServiceNow + 10s, kServiceNow - 3h + 9s, false));
  CHECK(clock.offset() == 3h + 1s);
  // NTP steps the clock: the next Date agrees; stop correcting, say so once.
  auto stop = clock.observe(kServiceNow + 20s, kServiceNow + 20s, true);
  REQUIRE(stop);
  CHECK(stop->level == LogLevel::Info);
  CHECK(stop->text == "the system clock agrees with the Web PubSub service's again (2026-12-06 13:46:23 UTC): "
                      "signing access tokens with it");
  CHECK(clock.offset() == 0s);
  CHECK_FALSE(clock.observe(kServiceNow + 30s, kServiceNow + 31s, true));
  // A forward jump of a day (clock ahead): corrected the other way.
  auto ahead = clock.observe(kServiceNow, kServiceNow + 24h, true);
  REQUIRE(ahead);
  CHECK(ahead->text.find("is 24 h 00 min ahead of the Web PubSub service's") != std::string::npos);
  CHECK(clock.offset() == -24h);
}

TEST_CASE("clock: a hub refusal with a clock 3 h behind says so, with the service's reason, in both lines") {
  SeededRandom random{3};
  SupervisorOptions options;
  options.backoff = BackoffPolicy{2s, 60s, 0.3, 100ms};
  Supervisor sup(options, random);
  TimePoint now = TimePoint{} + 100h;
  std::vector<LogLine> logs;
  auto feed = [&](SupervisorEvent ev) {
    REQUIRE_FALSE(sup.handle(ev, now));
    while (auto out = sup.poll())
      if (auto* l = std::get_if<LogLine>(&*out)) logs.push_back(*l);
  };
  AttemptFailure refused{FailureKind::HttpStatus, 401, std::nullopt, "upgrade refused: HTTP 401 Unauthorized",
                         "Unauthorized: token expired", ClockReading{kServiceNow - 3h, false, kServiceNow}};
  feed({Input::Online});
  feed({Input::Start});
  feed({Input::TransportFailed, 0, refused, false});  // the first: WARNING, retried at once
  REQUIRE(logs.size() == 1);
  CHECK(logs[0].level == LogLevel::Warning);
  CHECK(logs[0].text.find("the service says \"Unauthorized: token expired\"") != std::string::npos);
  CHECK(logs[0].text.find("3 h 00 min behind the service's clock") != std::string::npos);
  feed({Input::TransportFailed, 0, refused, false});  // the second: ERROR, every max delay
  REQUIRE(logs.size() == 2);
  CHECK(logs[1].level == LogLevel::Error);
  CHECK(logs[1].text ==
        "credentials refused (HTTP 401), the service says \"Unauthorized: token expired\": the system time is "
        "2026-12-06 10:46:03 UTC, 3 h 00 min behind the service's clock (its Date header: 2026-12-06 13:46:03 UTC), "
        "and the kernel says the clock is not synchronized (no NTP yet). The service checks access tokens against "
        "its own clock, so a wrong system clock makes them look expired: set the clock (NTP; see timedatectl "
        "status). Retrying every 60.0 s (outage 0.0 s, 2 attempts)");
  CHECK(sup.state() == State::BackingOff);
  CHECK(*sup.next_deadline() - now == 60s);  // it keeps retrying on its backoff
  // With a right clock the words are about the credentials.
  Supervisor sup2(options, random);
  logs.clear();
  refused.clock = ClockReading{kServiceNow, true, kServiceNow};
  refused.service_reason = "Unauthorized: token signature does not match the access key";
  for (auto* s : {&sup2}) {
    for (Input in : {Input::Online, Input::Start}) REQUIRE_FALSE(s->handle({in}, now));
    REQUIRE_FALSE(s->handle({Input::TransportFailed, 0, refused, false}, now));
    REQUIRE_FALSE(s->handle({Input::TransportFailed, 0, refused, false}, now));
    while (auto out = s->poll())
      if (auto* l = std::get_if<LogLine>(&*out)) logs.push_back(*l);
  }
  REQUIRE(logs.size() == 2);
  CHECK(logs[1].text ==
        "credentials refused (HTTP 401), the service says \"Unauthorized: token signature does not match the access "
        "key\": the service does not accept this client URL or token; check the access key or the Auth0 account. "
        "Retrying every 60.0 s (outage 0.0 s, 2 attempts)");
}
