// [MessageQueue] config → NATS bridge options.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "bus/nats_bridge.hpp"
#include "config/config.hpp"

using namespace dbr;
using namespace std::chrono_literals;

TEST_CASE("options follow the spec's connection settings and the config") {
  auto config = config::default_config();
  config.mqueue_servers = "nats://nats-server:4222, nats://10.0.0.2:4222 ,tls://bus.example:4443";
  config.mqueue_client_id = "remote";
  config.mqueue_subject_root = "dunebugger";
  config.component_heartbeat = 30s;
  auto o = bus::options_from_config(config);
  CHECK(o.servers ==
        std::vector<std::string>{"nats://nats-server:4222", "nats://10.0.0.2:4222", "tls://bus.example:4443"});
  CHECK(o.name == "remote");
  CHECK(o.subscription == "dunebugger.remote.*");
  CHECK(o.ping_interval == 5s);
  CHECK(o.max_pings_out == 3);
  CHECK(o.reconnect_wait == 2s);
  CHECK(o.probe_every == 30s);
  REQUIRE(o.probes.size() == 2);
  CHECK(o.probes[0].subject == "dunebugger.core.heartbeat");
  CHECK(o.probes[1].subject == "dunebugger.scheduler.heartbeat");
  for (const auto& p : o.probes)
    CHECK(nlohmann::json::parse(p.payload) ==
          nlohmann::json{{"body", "are you there?"}, {"subject", "heartbeat"}, {"source", "controller"}});
}

TEST_CASE("the defaults of the key table give the Python agent's values") {
  auto o = bus::options_from_config(config::default_config());
  CHECK(o.servers == std::vector<std::string>{"nats://nats-server:4222"});
  CHECK(o.name == "remote");
  CHECK(o.subscription == "dunebugger.remote.*");
  CHECK(o.probe_every == 30s);
}
