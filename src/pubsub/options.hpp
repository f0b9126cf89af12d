#pragma once
// Everything ClientCore needs to know (the agent builds it from the config).
#include "common/time.hpp"
#include "pubsub/session.hpp"
#include "pubsub/supervisor.hpp"

namespace dbr::pubsub {

struct ClientCoreOptions {
  SupervisorOptions supervisor;  // backoff, settle, recovery window/interval, stability, attempt timeout
  SessionOptions session;        // protocol, group, outbox bound, ack timeout, join retries
  Duration keepalive_interval = std::chrono::seconds(20);
  Duration keepalive_timeout = std::chrono::seconds(60);
  bool operator==(const ClientCoreOptions&) const = default;
};

// `running` with the fields an open connection adopts (ClientCore::retune)
// taken from `next`: the supervisor's timings, the keepalive and the outbox
// bound. Every other field stays, so `retuned(a, b) != b` means `b` needs a
// new connection.
ClientCoreOptions retuned(ClientCoreOptions running, const ClientCoreOptions& next);

}  // namespace dbr::pubsub
