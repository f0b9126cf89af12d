// Config -> each part's options (agent/options.hpp): the keys each part
// reads and the constants it keeps.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "agent/options.hpp"
#include "config/config.hpp"
#include "config/load.hpp"
#include "version.hpp"

using namespace dbr;
using namespace std::chrono_literals;

TEST_CASE("client_core_options carries the [Websocket] keys and the protocol constants") {
  config::Config config = config::default_config();
  config.group_name = "kitchen";
  pubsub::ClientCoreOptions o = agent::client_core_options(config);
  CHECK(o.session.protocol == pubsub::Protocol::JsonReliable);
  CHECK(pubsub::subprotocol(o.session.protocol) == "json.reliable.webpubsub.azure.v1");
  CHECK(o.session.group == "kitchen");
  CHECK(o.session.outbox_max_messages == 1000);
  CHECK(o.supervisor.backoff.initial == 2s);
  CHECK(o.supervisor.backoff.max == 60s);
  CHECK(o.supervisor.backoff.jitter == doctest::Approx(0.3));
  CHECK(o.supervisor.network_settle == 3s);
  CHECK(o.keepalive_interval == 30s);
  CHECK(o.keepalive_timeout == 60s);
  // Not configurable: the SDKs' and the spec's numbers.
  CHECK(o.session.ack_timeout == 30s);
  CHECK(o.supervisor.recovery_window == 30s);
  CHECK(o.supervisor.recovery_retry_interval == 1s);
  CHECK(o.supervisor.stability_window == 30s);

  config.protocol = config::Protocol::Json;
  config.reconnect_initial_delay = FloatSeconds(0.5);
  config.reconnect_max_delay = FloatSeconds(7.5);
  config.reconnect_jitter = 0.0;
  config.network_settle = FloatSeconds(0);
  config.keepalive_interval = FloatSeconds(5);
  config.keepalive_timeout = FloatSeconds(12.5);
  config.outbox_max_messages = 0;
  o = agent::client_core_options(config);
  CHECK(pubsub::subprotocol(o.session.protocol) == "json.webpubsub.azure.v1");
  CHECK(o.supervisor.backoff.initial == 500ms);
  CHECK(o.supervisor.backoff.max == 7500ms);
  CHECK(o.supervisor.backoff.jitter == 0.0);
  CHECK(o.supervisor.network_settle == 0s);
  CHECK(o.keepalive_interval == 5s);
  CHECK(o.keepalive_timeout == 12500ms);
  CHECK(o.session.outbox_max_messages == 0);
}

TEST_CASE("bus options follow the spec's connection settings and the config") {
  auto config = config::default_config();
  config.mqueue_servers = "nats://nats-server:4222, nats://10.0.0.2:4222 ,tls://bus.example:4443";
  config.mqueue_client_id = "remote";
  config.mqueue_subject_root = "dunebugger";
  config.component_heartbeat = 30s;
  auto o = agent::bus_options(config);
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

TEST_CASE("bus options: the defaults of the key table give the Python agent's values") {
  auto o = agent::bus_options(config::default_config());
  CHECK(o.servers == std::vector<std::string>{"nats://nats-server:4222"});
  CHECK(o.name == "remote");
  CHECK(o.subscription == "dunebugger.remote.*");
  CHECK(o.probe_every == 30s);
}

TEST_CASE("monitor options: the probe URL as load_config derived it, and the agent's User-Agent") {
  auto loaded = config::parse_config("[Websocket]\ntestDomain = example.com\n", "test.conf", {});
  REQUIRE(loaded.ok());
  auto o = agent::monitor_options(loaded.config);
  CHECK(o.probe_url == "https://example.com/");
  std::string user_agent = "dunebugger-remote/";
  user_agent += kVersion;  // (not a `+` chain: GCC 12's -Warray-bounds)
  CHECK(o.user_agent == user_agent);
  CHECK(o.timeout == 2s);
  CHECK(o.interval == 60s);
  CHECK(o.dns_servers.empty());

  loaded = config::parse_config("[Websocket]\ntestDomain = example.com\nprobeUrl = http://127.0.0.1:9/health\n",
                                "test.conf", {});
  REQUIRE(loaded.ok());
  CHECK(agent::monitor_options(loaded.config).probe_url == "http://127.0.0.1:9/health");
}

TEST_CASE("monitor options: [NTP] servers split into host and port (123 by default), interval and timeout") {
  auto defaults = agent::monitor_options(config::default_config()).ntp;
  REQUIRE(defaults.servers.size() == 4);
  CHECK(defaults.servers[0] == monitor::NtpServer{"ntp1.inrim.it", "ntp1.inrim.it", 123});
  CHECK(defaults.servers[3] == monitor::NtpServer{"1.europe.pool.ntp.org", "1.europe.pool.ntp.org", 123});
  CHECK(defaults.interval == 30s);
  CHECK(defaults.timeout == 5s);

  auto loaded = config::parse_config(
      "[NTP]\nntpServers = 127.0.0.1:1123, [::1]:1124, ::1, ntp.test:9\nntpCheckIntervalSecs = 2\nntpTimeout = 1\n",
      "test.conf", {});
  REQUIRE(loaded.ok());
  auto o = agent::monitor_options(loaded.config).ntp;
  REQUIRE(o.servers.size() == 4);
  CHECK(o.servers[0] == monitor::NtpServer{"127.0.0.1:1123", "127.0.0.1", 1123});
  CHECK(o.servers[1] == monitor::NtpServer{"[::1]:1124", "::1", 1124});
  CHECK(o.servers[2] == monitor::NtpServer{"::1", "::1", 123});
  CHECK(o.servers[3] == monitor::NtpServer{"ntp.test:9", "ntp.test", 9});
  CHECK(o.interval == 2s);
  CHECK(o.timeout == 1s);
}

TEST_CASE("app options: subjects, heartbeat, component TTL, identity and the agent's version") {
  auto config = config::default_config();
  config.device_id = "crib-1";
  config.location_description = "hall";
  auto o = agent::app_options(config);
  CHECK(o.core.subject_root == "dunebugger");
  CHECK(o.core.client_id == "remote");
  CHECK(o.core.broadcast_enabled);
  CHECK(o.core.heartbeat.every == 60s);
  CHECK(o.core.heartbeat.loop_duration == 300s);
  CHECK(o.core.component_ttl == 45s);
  CHECK(o.core.version == kVersion);
  CHECK(o.identity.device_id == "crib-1");
  CHECK(o.identity.location_description == "hall");
}
