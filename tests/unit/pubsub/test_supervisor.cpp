#include <doctest/doctest.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "pubsub/core/supervisor.hpp"

using namespace dbr;
using namespace dbr::pubsub;
using namespace std::chrono_literals;

namespace {

// Drives a Supervisor in virtual time and collects its outputs.
struct Driver {
  SeededRandom random{5};
  Supervisor sup;
  TimePoint now = TimePoint{} + 100h;
  std::vector<Command> commands;
  std::vector<TransitionRecord> transitions;
  std::vector<LogLine> logs;

  explicit Driver(SupervisorOptions options = defaults()) : sup(options, random) {}

  static SupervisorOptions defaults() {
    SupervisorOptions o;
    o.backoff = BackoffPolicy{2s, 60s, 0.3, 100ms};
    o.network_settle = 3s;
    return o;
  }

  void drain() {
    while (auto out = sup.poll()) {
      if (auto* c = std::get_if<Command>(&*out)) commands.push_back(*c);
      if (auto* t = std::get_if<TransitionRecord>(&*out)) transitions.push_back(*t);
      if (auto* l = std::get_if<LogLine>(&*out)) logs.push_back(*l);
    }
  }
  std::optional<UnexpectedInput> feed(Input input, std::uint16_t code = 0, AttemptFailure failure = {},
                                      bool recoverable = false) {
    auto unexpected = sup.handle(SupervisorEvent{input, code, failure, recoverable}, now);
    drain();
    return unexpected;
  }
  // The supervisor's next deadline, which the test requires there to be.
  TimePoint deadline() const {
    auto due = sup.next_deadline();
    REQUIRE(due.has_value());
    return *due;
  }
  Duration until_deadline() const { return deadline() - now; }

  void advance(Duration d) {
    TimePoint until = now + d;
    int stuck = 0;
    while (auto deadline = sup.next_deadline()) {
      if (*deadline > until) break;
      if (*deadline <= now && ++stuck > 100000) throw std::runtime_error("virtual time does not advance");
      if (*deadline > now) stuck = 0;
      now = std::max(now, *deadline);
      REQUIRE_FALSE(sup.on_timeout(now));  // every timer the supervisor sets has a rule
      drain();
    }
    now = until;
  }
  std::size_t count(CommandKind kind) const {
    std::size_t n = 0;
    for (const auto& c : commands) n += c.kind == kind;
    return n;
  }
  void connect() {
    feed(Input::TransportOpened);
    feed(Input::ServiceConnected);
    REQUIRE(sup.state() == State::Connected);
  }
};

AttemptFailure http(int status, std::optional<Duration> retry_after = std::nullopt) {
  return AttemptFailure{FailureKind::HttpStatus, status, retry_after, ""};
}
const AttemptFailure kTcp{FailureKind::Tcp, 0, std::nullopt, "connection refused"};

}  // namespace

TEST_CASE("supervisor: an unexpected (state, input) pair is reported naming both and changes nothing") {
  Driver d;
  auto unexpected = d.feed(Input::TransportOpened);
  REQUIRE(unexpected);
  CHECK(*unexpected == UnexpectedInput{"supervisor", "Stopped", "TransportOpened"});
  CHECK(d.sup.state() == State::Stopped);
  d.feed(Input::Online);
  d.feed(Input::Start);
  REQUIRE(d.sup.state() == State::Connecting);
  unexpected = d.feed(Input::AttemptDue);  // only timers raise it, and none is due in this phase
  REQUIRE(unexpected);
  CHECK(describe(*unexpected) == "supervisor: unexpected input AttemptDue in state Connecting");
  CHECK(d.sup.state() == State::Connecting);
  CHECK(d.feed(Input::KeepaliveDead));
}

TEST_CASE("supervisor: an unexpected pair leaves state, deadline and outputs as they were") {
  // Connecting, waiting for the `connected` message after the upgrade.
  Driver d;
  d.feed(Input::Online);
  d.feed(Input::Start);
  d.feed(Input::TransportOpened);
  REQUIRE(d.sup.transport_open());
  const TimePoint deadline = d.deadline();
  const std::size_t commands = d.commands.size(), transitions = d.transitions.size(), logs = d.logs.size();
  const std::uint64_t total = d.sup.history().total();
  const Input strays[] = {Input::TransportOpened, Input::CredentialsFailed, Input::AttemptDue,
                          Input::RecoveryWindowOver, Input::KeepaliveDead};
  for (Input stray : strays) {
    CAPTURE(input_name(stray));
    auto unexpected = d.feed(stray, 0, AttemptFailure{FailureKind::HttpStatus, 403, std::nullopt, ""});
    REQUIRE(unexpected);
    CHECK(unexpected->machine == "supervisor");
    CHECK(unexpected->state == "Connecting");
    CHECK(unexpected->input == input_name(stray));
  }
  CHECK(d.sup.state() == State::Connecting);
  CHECK(d.sup.transport_open());
  CHECK(d.deadline() == deadline);
  CHECK(d.sup.consecutive_failures() == 0);
  CHECK(d.commands.size() == commands);
  CHECK(d.transitions.size() == transitions);
  CHECK(d.logs.size() == logs);
  CHECK(d.sup.history().total() == total);
  // The rules still apply as before: `connected` completes the attempt.
  CHECK_FALSE(d.feed(Input::ServiceConnected));
  CHECK(d.sup.state() == State::Connected);
}

TEST_CASE("supervisor: no attempt without the intent, none before the monitor says online") {
  Driver d;
  d.feed(Input::Online);
  d.advance(10min);
  CHECK(d.commands.empty());
  d.feed(Input::Offline);
  d.feed(Input::Start);
  CHECK(d.sup.state() == State::WaitingForInternet);
  CHECK(d.sup.should_be_connected());
  d.advance(10min);
  CHECK(d.count(CommandKind::OpenNew) == 0);
  SUBCASE("the first report after start is not a restore: attempt at once") {
    Driver fresh;
    fresh.feed(Input::Start);
    fresh.advance(1min);
    CHECK(fresh.count(CommandKind::OpenNew) == 0);
    fresh.feed(Input::Online);
    CHECK(fresh.count(CommandKind::OpenNew) == 1);
  }
  SUBCASE("online after offline: wait networkSettle, then attempt at once") {
    d.feed(Input::Online);
    CHECK(d.sup.state() == State::Settling);
    d.advance(2999ms);
    CHECK(d.count(CommandKind::OpenNew) == 0);
    d.advance(1ms);
    CHECK(d.count(CommandKind::OpenNew) == 1);
    CHECK(d.sup.state() == State::Connecting);
  }
  SUBCASE("offline again while settling cancels the attempt") {
    d.feed(Input::Online);
    d.advance(1s);
    d.feed(Input::Offline);
    d.advance(10min);
    CHECK(d.count(CommandKind::OpenNew) == 0);
    CHECK(d.sup.state() == State::WaitingForInternet);
  }
}

TEST_CASE("supervisor: internet restored resets the backoff") {
  Driver d;
  d.feed(Input::Online);
  d.feed(Input::Start);
  for (int i = 0; i < 6; ++i) {  // six failures: the next delay would be about 60 s
    d.feed(Input::TransportFailed, 0, kTcp);
    d.advance(d.until_deadline());
  }
  CHECK(d.sup.consecutive_failures() == 6);
  d.feed(Input::TransportFailed, 0, kTcp);
  d.feed(Input::Offline);
  CHECK(d.sup.state() == State::WaitingForInternet);
  d.feed(Input::Online);
  std::size_t before = d.count(CommandKind::OpenNew);
  d.advance(3s);
  CHECK(d.count(CommandKind::OpenNew) == before + 1);
  CHECK(d.sup.consecutive_failures() == 0);
  d.feed(Input::TransportFailed, 0, kTcp);
  // The first delay again: 2 s +-30 %.
  Duration wait = d.until_deadline();
  CHECK(wait >= 1400ms);
  CHECK(wait < 2600ms);
}

TEST_CASE("supervisor: a storm of triggers while an attempt is pending makes no second attempt") {
  Driver d;
  d.feed(Input::Online);
  d.feed(Input::Start);
  d.feed(Input::TransportFailed, 0, kTcp);
  REQUIRE(d.sup.state() == State::BackingOff);
  TimePoint due = d.deadline();
  for (int i = 0; i < 200; ++i) {
    CHECK_FALSE(d.feed(Input::Online));
    CHECK_FALSE(d.feed(Input::Start));
    d.sup.on_timeout(d.now);  // spurious
    d.drain();
  }
  CHECK(d.count(CommandKind::OpenNew) == 1);
  d.now = due;
  d.sup.on_timeout(d.now);
  d.drain();
  CHECK(d.count(CommandKind::OpenNew) == 2);
  // In flight now: the same storm is absorbed again.
  for (int i = 0; i < 200; ++i) {
    d.feed(Input::Online);
    d.feed(Input::Start);
    d.sup.on_timeout(d.now);
    d.drain();
  }
  CHECK(d.count(CommandKind::OpenNew) == 2);
  CHECK(d.sup.attempt_in_flight());
}

TEST_CASE("supervisor: 401/403 from the hub gets one immediate retry, then the max delay and an ERROR") {
  Driver d;
  d.feed(Input::Online);
  d.feed(Input::Start);
  d.feed(Input::TransportFailed, 0, http(401));
  CHECK(d.count(CommandKind::OpenNew) == 2);  // at once, with fresh credentials
  CHECK(d.sup.state() == State::Connecting);
  CHECK(d.logs.back().level == LogLevel::Warning);
  d.feed(Input::TransportFailed, 0, http(403));  // the fresh token is refused too
  CHECK(d.count(CommandKind::OpenNew) == 2);
  CHECK(d.sup.state() == State::BackingOff);
  CHECK(d.until_deadline() == 60s);
  REQUIRE_FALSE(d.logs.empty());
  CHECK(d.logs.back().level == LogLevel::Error);
  CHECK(d.logs.back().text.find("credentials refused (HTTP 403)") == 0);
  CHECK(d.count(CommandKind::CheckInternet) == 0);  // an HTTP answer proves the internet
  for (int i = 0; i < 5; ++i) {
    TimePoint failed_at = d.now;
    d.advance(d.until_deadline());
    CHECK(d.now - failed_at == 60s);
    d.feed(Input::TransportFailed, 0, http(401));
  }
  // A successful upgrade clears the refusal count.
  d.advance(60s);
  d.connect();
  d.feed(Input::TransportClosed, 1008, {}, false);
  REQUIRE(d.sup.state() == State::BackingOff);
  d.advance(d.until_deadline());
  std::size_t before = d.count(CommandKind::OpenNew);
  d.feed(Input::TransportFailed, 0, http(401));
  CHECK(d.count(CommandKind::OpenNew) == before + 1);
}

TEST_CASE("supervisor: a sign-in refused by Auth0 (401/403) waits for the backoff, with no immediate retry") {
  Driver d;
  d.feed(Input::Online);
  d.feed(Input::Start);
  std::vector<Duration> waits;
  for (int i = 0; i < 8; ++i) {
    REQUIRE(d.sup.state() == State::Connecting);
    const std::size_t attempts = d.count(CommandKind::OpenNew);
    d.feed(Input::CredentialsFailed, 0, http(i % 2 == 0 ? 403 : 401));
    CHECK(d.count(CommandKind::OpenNew) == attempts);  // not at once: the same password would be refused again
    REQUIRE(d.sup.state() == State::BackingOff);
    waits.push_back(d.until_deadline());
    d.advance(waits.back() - 1ms);
    CHECK(d.count(CommandKind::OpenNew) == attempts);
    d.advance(1ms);
    CHECK(d.count(CommandKind::OpenNew) == attempts + 1);
  }
  const double nominal[] = {2, 4, 8, 16, 32, 60, 60, 60};
  for (std::size_t i = 0; i < waits.size(); ++i) {
    CAPTURE(i);
    CHECK(to_seconds(waits[i]) >= nominal[i] * 0.7 - 1e-6);
    CHECK(to_seconds(waits[i]) < nominal[i] * 1.3);
  }
  // One ERROR that names Auth0 and where its credentials live, then the
  // outage cadence; an HTTP answer proves the internet.
  REQUIRE_FALSE(d.logs.empty());
  CHECK(d.logs[0].level == LogLevel::Error);
  CHECK(d.logs[0].text.find("sign-in refused by Auth0 (HTTP 403)") == 0);
  CHECK(d.logs[0].text.find("check the Auth0 credentials in remote.env") != std::string::npos);
  CHECK(d.logs[0].text.find("Retrying in ") != std::string::npos);
  CHECK(d.logs.size() == 1);
  CHECK(d.count(CommandKind::CheckInternet) == 0);
  const auto& backing_off = *std::find_if(d.transitions.rbegin(), d.transitions.rend(),
                                          [](const TransitionRecord& t) { return t.to == State::BackingOff; });
  CHECK(backing_off.reason.find("getting the client URL failed: HTTP 401") == 0);
  SUBCASE("after a hub refusal too: the hub's immediate retry, then the backoff for the sign-in") {
    Driver h;
    h.feed(Input::Online);
    h.feed(Input::Start);
    h.feed(Input::TransportFailed, 0, http(401));
    REQUIRE(h.count(CommandKind::OpenNew) == 2);
    h.feed(Input::CredentialsFailed, 0, http(403));
    CHECK(h.count(CommandKind::OpenNew) == 2);
    REQUIRE(h.sup.state() == State::BackingOff);
    CHECK(h.until_deadline() < 60s);  // failure 2: 4 s +-30 %, not the max delay
    CHECK(h.until_deadline() >= 2800ms);
  }
}

TEST_CASE("supervisor: 429/503 with Retry-After wait at least that long; without it, the backoff") {
  Driver d;
  d.feed(Input::Online);
  d.feed(Input::Start);
  d.feed(Input::TransportFailed, 0, http(503, 100s));
  CHECK(d.until_deadline() == 100s);
  d.advance(100s);
  d.feed(Input::TransportFailed, 0, http(429, 1s));  // shorter than the backoff: backoff wins
  Duration wait = d.until_deadline();
  CHECK(wait >= 2800ms);  // 4 s -30 %
  CHECK(wait < 5200ms);
  d.advance(wait);
  d.feed(Input::TransportFailed, 0, http(429));  // no Retry-After: plain backoff
  wait = d.until_deadline();
  CHECK(wait >= 5600ms);
  CHECK(wait < 10400ms);
  d.advance(wait);
  d.feed(Input::TransportFailed, 0, http(503, 24h));  // not believed beyond the cap
  CHECK(d.until_deadline() == 1h);
}

TEST_CASE("supervisor: transport failures while online ask the monitor for a check") {
  Driver d;
  d.feed(Input::Online);
  d.feed(Input::Start);
  d.feed(Input::TransportFailed, 0, kTcp);
  CHECK(d.count(CommandKind::CheckInternet) == 1);
  d.advance(d.until_deadline());
  d.connect();
  d.feed(Input::TransportClosed, 1006, {}, false);
  CHECK(d.count(CommandKind::CheckInternet) == 2);
}

TEST_CASE("supervisor: an open connection is kept while the monitor says offline; new attempts are gated") {
  Driver d;
  d.feed(Input::Online);
  d.feed(Input::Start);
  d.connect();
  d.feed(Input::Offline);
  d.advance(10min);
  CHECK(d.sup.state() == State::Connected);
  SUBCASE("a drop while offline waits for the internet") {
    d.feed(Input::TransportClosed, 1006, {}, false);
    CHECK(d.sup.state() == State::WaitingForInternet);
    d.advance(10min);
    CHECK(d.count(CommandKind::OpenNew) == 1);
  }
  SUBCASE("a recoverable drop while offline does not try to recover until online") {
    d.feed(Input::TransportClosed, 1006, {}, true);
    CHECK(d.sup.state() == State::Recovering);
    d.advance(10s);
    CHECK(d.count(CommandKind::OpenRecovery) == 0);
    d.feed(Input::Online);
    d.advance(2999ms);
    CHECK(d.count(CommandKind::OpenRecovery) == 0);
    d.advance(1ms);
    CHECK(d.count(CommandKind::OpenRecovery) == 1);
    d.feed(Input::TransportOpened);
    CHECK(d.sup.state() == State::Connected);
  }
}

TEST_CASE("supervisor: recovery at once, then every second for 30 s, then a new connection") {
  Driver d;
  d.feed(Input::Online);
  d.feed(Input::Start);
  d.connect();
  d.advance(5min);  // stable
  TimePoint dropped = d.now;
  d.feed(Input::TransportClosed, 1006, {}, true);
  CHECK(d.sup.state() == State::Recovering);
  CHECK(d.count(CommandKind::OpenRecovery) == 1);
  std::vector<TimePoint> attempts{d.now};
  for (int round = 0; d.sup.state() == State::Recovering && round < 100; ++round) {
    d.feed(Input::TransportFailed, 0, AttemptFailure{FailureKind::HttpStatus, 502, std::nullopt, ""});
    std::size_t before = d.count(CommandKind::OpenRecovery);
    auto deadline = d.sup.next_deadline();
    REQUIRE(deadline);
    d.advance(*deadline - d.now);
    if (d.count(CommandKind::OpenRecovery) > before) attempts.push_back(d.now);
  }
  REQUIRE(d.sup.state() != State::Recovering);  // the window ended within 100 rounds
  for (std::size_t i = 1; i < attempts.size(); ++i) CHECK(attempts[i] - attempts[i - 1] == 1s);
  CHECK(attempts.size() == 30);  // at 0, 1, ..., 29 s
  CHECK(d.now - dropped == 30s);
  // The connection had been stable: a new connection at once.
  CHECK(d.sup.state() == State::Connecting);
  CHECK(d.count(CommandKind::OpenNew) == 2);
}

TEST_CASE("supervisor: a recovery attempt still in flight when the window ends is aborted") {
  Driver d;
  d.feed(Input::Online);
  d.feed(Input::Start);
  d.connect();
  d.advance(5min);
  d.feed(Input::TransportFailed, 0, AttemptFailure{FailureKind::Io, 0, std::nullopt, "reset"}, true);
  REQUIRE(d.count(CommandKind::OpenRecovery) == 1);
  d.advance(29999ms);  // no answer at all
  CHECK(d.count(CommandKind::Abort) == 0);
  d.advance(1ms);
  CHECK(d.count(CommandKind::Abort) == 1);
  CHECK(d.count(CommandKind::OpenNew) == 2);
}

TEST_CASE("supervisor: close 1008 is never recovered") {
  Driver d;
  d.feed(Input::Online);
  d.feed(Input::Start);
  d.connect();
  d.advance(1min);
  d.feed(Input::TransportClosed, 1008, {}, true);
  CHECK(d.count(CommandKind::OpenRecovery) == 0);
  CHECK(d.count(CommandKind::OpenNew) == 2);
  SUBCASE("nor after a recovery attempt") {
    d.connect();
    d.advance(1min);
    d.feed(Input::TransportClosed, 1001, {}, true);
    CHECK(d.count(CommandKind::OpenRecovery) == 1);
    d.feed(Input::TransportOpened);
    d.feed(Input::TransportClosed, 1008, {}, true);
    CHECK(d.count(CommandKind::OpenRecovery) == 1);
    // The session had been up for a minute: the new connection goes at once.
    CHECK(d.count(CommandKind::OpenNew) == 3);
  }
}

TEST_CASE("supervisor: the backoff resets only after 30 s connected") {
  Driver d;
  d.feed(Input::Online);
  d.feed(Input::Start);
  std::vector<Duration> waits;
  for (int i = 0; i < 7; ++i) {  // accept, then drop after 5 s
    d.connect();
    d.advance(5s);
    d.feed(Input::TransportClosed, 1006, {}, false);
    REQUIRE(d.sup.state() == State::BackingOff);
    Duration wait = d.until_deadline();
    waits.push_back(wait);
    d.advance(wait);
  }
  const double nominal[] = {2, 4, 8, 16, 32, 60, 60};
  for (std::size_t i = 0; i < waits.size(); ++i) {
    CAPTURE(i);
    CHECK(to_seconds(waits[i]) >= nominal[i] * 0.7 - 1e-6);
    CHECK(to_seconds(waits[i]) < nominal[i] * 1.3);
  }
  d.connect();
  d.advance(30s);
  d.feed(Input::TransportClosed, 1006, {}, false);
  CHECK(d.sup.state() == State::Connecting);  // stable: at once
  CHECK(d.sup.consecutive_failures() == 0);
}

TEST_CASE("supervisor: stop closes an open transport, aborts an attempt, and nothing follows") {
  SUBCASE("connected: Close") {
    Driver d;
    d.feed(Input::Online);
    d.feed(Input::Start);
    d.connect();
    d.feed(Input::Stop);
    CHECK(d.commands.back().kind == CommandKind::Close);
    CHECK(d.sup.state() == State::Stopped);
    CHECK_FALSE(d.sup.should_be_connected());
    CHECK_FALSE(d.feed(Input::TransportClosed, 1000));  // the handshake completing
    d.advance(1h);
    CHECK(d.count(CommandKind::OpenNew) == 1);
  }
  SUBCASE("in flight: Abort") {
    Driver d;
    d.feed(Input::Online);
    d.feed(Input::Start);
    d.feed(Input::Stop);
    CHECK(d.commands.back().kind == CommandKind::Abort);
    d.advance(1h);
    CHECK(d.count(CommandKind::OpenNew) == 1);
  }
  SUBCASE("backing off: nothing to close, no attempt") {
    Driver d;
    d.feed(Input::Online);
    d.feed(Input::Start);
    d.feed(Input::TransportFailed, 0, kTcp);
    std::size_t commands = d.commands.size();
    d.feed(Input::Stop);
    CHECK(d.commands.size() == commands);
    d.advance(1h);
    CHECK(d.count(CommandKind::OpenNew) == 1);
    CHECK_FALSE(d.sup.next_deadline());
  }
}

TEST_CASE("supervisor: an attempt that never completes times out and backs off") {
  Driver d;
  d.feed(Input::Online);
  d.feed(Input::Start);
  d.advance(59s);
  CHECK(d.count(CommandKind::Abort) == 0);
  d.advance(1s);
  CHECK(d.count(CommandKind::Abort) == 1);
  CHECK(d.sup.state() == State::BackingOff);
}

TEST_CASE("supervisor: the history keeps the last 100 transitions") {
  Driver d;
  d.feed(Input::Online);
  d.feed(Input::Start);
  for (int i = 0; i < 80; ++i) {  // two transitions each: Connecting -> Connected -> Connecting
    d.connect();
    d.advance(1min);
    d.feed(Input::TransportClosed, 1008, {}, false);
  }
  const auto& history = d.sup.history();
  CHECK(history.total() == 161);
  CHECK(history.size() == 100);
  auto records = history.records();
  REQUIRE(records.size() == 100);
  CHECK(records.back().to == d.sup.state());
  CHECK(records.back().at == d.now);
  CHECK(records.back().reason == "close 1008");
  CHECK(records.front().at < records.back().at);
  for (std::size_t i = 1; i < records.size(); ++i) {
    CHECK(records[i].from == records[i - 1].to);
    CHECK(records[i].at >= records[i - 1].at);
  }
}
