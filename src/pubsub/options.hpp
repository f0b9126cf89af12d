#pragma once
// Everything ClientCore needs to know, built from the configuration.
#include <cstddef>
#include <string>

#include "common/time.hpp"
#include "config/config.hpp"
#include "pubsub/session.hpp"
#include "pubsub/supervisor.hpp"

namespace dbr::pubsub {

struct ClientCoreOptions {
  SupervisorOptions supervisor;  // backoff, settle, recovery window/interval, stability, attempt timeout
  SessionOptions session;        // protocol, group, outbox bound, ack timeout, join retries
  Duration keepalive_interval = std::chrono::seconds(20);
  Duration keepalive_timeout = std::chrono::seconds(60);
};

// [Websocket] keys: protocol, groupName, reconnect*, networkSettleSecs,
// keepAlive*, outboxMaxMessages. The rest are the defaults above (ack
// timeout 30 s, recovery window 30 s, recovery retry 1 s, stability 30 s).
ClientCoreOptions client_core_options(const config::Config& config);

// The Sec-WebSocket-Protocol value for a protocol.
std::string subprotocol(config::Protocol protocol);

}  // namespace dbr::pubsub
