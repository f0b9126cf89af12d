// ClientCore::retune: a config reload changes timings and the outbox bound
// without dropping the connection.
#include <doctest/doctest.h>

#include "unit/pubsub/pair.hpp"

using namespace dbr;
using namespace dbr::pubsub;
using namespace dbr::pubsub::test;
using namespace std::chrono_literals;
using nlohmann::json;

TEST_CASE("retune: a shorter keepalive interval takes effect on the open connection") {
  Pair p(test_options());
  p.start();
  p.run_for(30s);
  REQUIRE(p.core.state() == State::Connected);
  auto connections = p.core.counters().connections;
  auto options = test_options();
  options.keepalive_interval = 5s;
  options.keepalive_timeout = 15s;
  p.core.retune(options, p.now);
  p.pump();
  std::size_t pings_before = p.frames_of_type("ping").size();
  p.run_for(60s);
  auto pings = p.frames_of_type("ping");
  // 20 s pings would give 3 in a minute; 5 s pings give about 12.
  CHECK(pings.size() - pings_before >= 10);
  for (std::size_t i = pings_before + 1; i < pings.size(); ++i) CHECK(pings[i].at - pings[i - 1].at <= 5s + 2 * p.latency);
  CHECK(p.core.counters().connections == connections);
  CHECK(p.core.counters().drops == 0);
}

TEST_CASE("retune: a new backoff applies to the next delay") {
  Pair p(test_options());
  p.refuse_new = AttemptFailure{FailureKind::Tcp, 0, std::nullopt, "refused"};
  p.start();
  p.run_for(1s);
  REQUIRE(p.open_new_at.size() == 1);
  auto options = test_options();
  options.supervisor.backoff = BackoffPolicy{20s, 40s, 0.0, 100ms};
  p.core.retune(options, p.now);
  p.pump();
  // The wait already scheduled (about 2 s) stands; the one after uses 20 s
  // doubled to 40 s.
  p.run_for(10s);
  REQUIRE(p.open_new_at.size() == 2);
  p.run_for(60s);
  REQUIRE(p.open_new_at.size() == 3);
  CHECK(p.open_new_at[2] - p.open_new_at[1] >= 40s);
  CHECK(p.open_new_at[2] - p.open_new_at[1] <= 41s);
}

TEST_CASE("retune: lowering the outbox bound drops the oldest waiting messages, counted and reported") {
  Pair p(test_options());
  for (int i = 1; i <= 5; ++i) p.send(json{{"n", i}});
  auto options = test_options();
  options.session.outbox_max_messages = 2;
  p.core.retune(options, p.now);
  p.pump();
  auto dropped = p.events_of<Dropped>();
  REQUIRE(dropped.size() == 3);
  CHECK(dropped[0].id == 1);
  CHECK(dropped[2].id == 3);
  CHECK(p.core.counters().outbox_drops == 3);
  p.start();
  p.run_for(1s);
  CHECK(p.delivered_data() == std::vector<json>{{{"n", 4}}, {{"n", 5}}});
}
