// Long runs in virtual time: 100 forced drops with traffic both ways, and a
// service that refuses connections for 10 minutes.
#include <doctest/doctest.h>

#include <functional>
#include <map>

#include "unit/pubsub/pair.hpp"

using namespace dbr;
using namespace dbr::pubsub;
using namespace dbr::pubsub::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

Duration uniform(Random& random, Duration lo, Duration hi) {
  return lo + to_duration(FloatSeconds(to_seconds(hi - lo) * random.uniform01()));
}

}  // namespace

TEST_CASE("soak: across 100 abrupt drops in the reliable protocol every message arrives exactly once both ways") {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    CAPTURE(seed);
    Pair p(test_options(), seed);
    SeededRandom chance(seed * 1000 + 7);
    p.start();
    p.run_for(2s);
    REQUIRE(p.core.joined());

    bool traffic = true;
    int up = 0, down = 0, drops = 0, silent = 0;
    std::vector<MessageId> ids;
    std::function<void()> send_up = [&] {
      if (!traffic) return;
      ids.push_back(p.send(json{{"up", ++up}}));
      p.schedule(uniform(chance, 20ms, 600ms), send_up);
    };
    std::function<void()> send_down = [&] {
      if (!traffic) return;
      p.publish(json{{"down", ++down}});
      p.schedule(uniform(chance, 20ms, 600ms), send_down);
    };
    std::function<void()> drop = [&] {
      if (drops == 100) {
        traffic = false;
        return;
      }
      if (p.core.state() == State::Connected && p.link_open()) {
        ++drops;
        switch (drops % 10) {
          case 0:  // half-open: the keepalive has to find out
            p.go_silent();
            ++silent;
            break;
          case 1:
          case 2:
          case 3:
          case 4:
            p.drop_abruptly(false);  // close 1006
            break;
          default:
            p.drop_abruptly(true);  // transport failure
            break;
        }
      }
      p.schedule(uniform(chance, 200ms, 15s), drop);
    };
    send_up();
    send_down();
    p.schedule(1s, drop);
    while (traffic && p.now - p.epoch < 24h) p.run_for(10s);
    REQUIRE_FALSE(traffic);  // the 100 drops happened within a virtual day
    p.run_for(3min);  // let the last acks and replays settle

    REQUIRE(drops == 100);
    CHECK(silent == 10);
    CHECK(p.core.state() == State::Connected);
    CHECK(p.core.counters().drops == 100);
    CHECK(p.core.counters().recoveries == 100);
    CHECK(p.core.counters().connections == 1);  // every drop was recovered
    CHECK(p.overlapping_attempts == 0);
    CHECK(p.service.violations.empty());
    CHECK(p.service.members_of("g") == 1);

    // Device -> group: each message processed by the service exactly once.
    std::map<int, int> up_seen;
    for (const auto& data : p.delivered_data()) ++up_seen[data["up"].get<int>()];
    CHECK(up_seen.size() == static_cast<std::size_t>(up));
    bool once = true;
    for (const auto& [n, count] : up_seen) once &= count == 1;
    CHECK(once);
    std::map<MessageId, int> delivered;
    for (MessageId id : p.delivered_ids()) ++delivered[id];
    CHECK(delivered.size() == ids.size());
    once = true;
    for (const auto& [id, count] : delivered) once &= count == 1;
    CHECK(once);
    CHECK(p.events_of<Dropped>().empty());
    CHECK(p.core.outbox_size() == 0);

    // Group -> device: each message reaches the application exactly once, in order.
    std::vector<int> down_seen;
    for (const auto& data : p.group_data()) down_seen.push_back(data["down"].get<int>());
    REQUIRE(down_seen.size() == static_cast<std::size_t>(down));
    for (int i = 0; i < down; ++i) CHECK(down_seen[static_cast<std::size_t>(i)] == i + 1);
    CHECK(up > 1000);
    CHECK(down > 1000);
    MESSAGE("seed " << seed << ": " << up << " up, " << down << " down, " << p.core.counters().resends
                    << " resends, " << p.core.counters().duplicates_in << " duplicates dropped, "
                    << p.open_recovery_at.size() << " recovery attempts, virtual "
                    << to_seconds(p.now - p.epoch) << " s");
  }
}

TEST_CASE("soak: a service refusing for 10 minutes sees attempts on the backoff, with cap and jitter") {
  Pair p(test_options());
  p.refuse_new = AttemptFailure{FailureKind::Tcp, 0, std::nullopt, "connection refused"};
  p.start();
  p.run_for(10min);
  const BackoffPolicy policy = test_options().supervisor.backoff;
  const std::size_t attempts = p.open_new_at.size();
  REQUIRE(p.failure_at.size() == attempts);
  // 2+4+8+16+32 s, then about 60 s each: 5 + (600 - 62) / 60 -> 13 to 16 attempts.
  CHECK(attempts >= 13);
  CHECK(attempts <= 17);
  std::vector<double> gaps;
  for (std::size_t k = 0; k + 1 < attempts; ++k) {
    double gap = to_seconds(p.open_new_at[k + 1] - p.failure_at[k]);
    double nominal = to_seconds(nominal_delay(policy, static_cast<unsigned>(k)));
    CAPTURE(k);
    CHECK(gap >= nominal * (1 - policy.jitter) - 1e-6);
    CHECK(gap < nominal * (1 + policy.jitter));
    gaps.push_back(gap);
  }
  // Jitter is real: the capped gaps are not all the same.
  CHECK(*std::max_element(gaps.begin() + 6, gaps.end()) - *std::min_element(gaps.begin() + 6, gaps.end()) > 1.0);
  CHECK(p.check_internet == attempts);  // every network failure asked the monitor
  CHECK(p.overlapping_attempts == 0);
  auto warnings = p.logs_at_least(LogLevel::Warning);
  CHECK(warnings.size() >= 2);  // the first failure, attempt 10, 5 minutes...
  CHECK(warnings.size() <= 4);

  // The service comes back: connected on the next attempt, one INFO line.
  p.refuse_new.reset();
  p.run_for(2min);
  CHECK(p.core.state() == State::Connected);
  bool info = false;
  for (const auto& line : p.events_of<LogLine>())
    info |= line.level == LogLevel::Info && line.text.find("Web PubSub connected again after") == 0;
  CHECK(info);
  // Up for more than 30 s: the backoff is reset, a lost session reconnects at once.
  p.service.forget_sessions();
  std::size_t before = p.open_new_at.size();
  p.drop_abruptly();
  p.run_for(1s);
  REQUIRE(p.open_new_at.size() == before + 1);
  // The recovery opens, the service closes it with 1008 at once, and the
  // new connection follows without a backoff pause.
  CHECK(p.open_new_at.back() - p.open_recovery_at.back() == p.latency);
}
