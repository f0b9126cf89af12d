#include <doctest/doctest.h>

#include "config/config.hpp"
#include "pubsub/options.hpp"

using namespace dbr;
using namespace dbr::pubsub;
using namespace std::chrono_literals;

TEST_CASE("client_core_options carries the [Websocket] keys and the protocol constants") {
  config::Config config = config::default_config();
  config.group_name = "kitchen";
  ClientCoreOptions o = client_core_options(config);
  CHECK(o.session.protocol == config::Protocol::JsonReliable);
  CHECK(subprotocol(o.session.protocol) == "json.reliable.webpubsub.azure.v1");
  CHECK(o.session.group == "kitchen");
  CHECK(o.session.outbox_max_messages == 1000);
  CHECK(o.supervisor.backoff.initial == 2s);
  CHECK(o.supervisor.backoff.max == 60s);
  CHECK(o.supervisor.backoff.jitter == doctest::Approx(0.3));
  CHECK(o.supervisor.network_settle == 3s);
  CHECK(o.keepalive_interval == 20s);
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
  o = client_core_options(config);
  CHECK(subprotocol(o.session.protocol) == "json.webpubsub.azure.v1");
  CHECK(o.supervisor.backoff.initial == 500ms);
  CHECK(o.supervisor.backoff.max == 7500ms);
  CHECK(o.supervisor.backoff.jitter == 0.0);
  CHECK(o.supervisor.network_settle == 0s);
  CHECK(o.keepalive_interval == 5s);
  CHECK(o.keepalive_timeout == 12500ms);
  CHECK(o.session.outbox_max_messages == 0);
}
