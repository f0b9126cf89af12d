#include "pubsub/options.hpp"

namespace dbr::pubsub {

ClientCoreOptions client_core_options(const config::Config& config) {
  ClientCoreOptions options;
  options.supervisor.backoff.initial = to_duration(config.reconnect_initial_delay);
  options.supervisor.backoff.max = to_duration(config.reconnect_max_delay);
  options.supervisor.backoff.jitter = config.reconnect_jitter;
  options.supervisor.network_settle = to_duration(config.network_settle);
  options.session.protocol = config.protocol;
  options.session.group = config.group_name;
  options.session.outbox_max_messages = config.outbox_max_messages;
  options.keepalive_interval = to_duration(config.keepalive_interval);
  options.keepalive_timeout = to_duration(config.keepalive_timeout);
  return options;
}

std::string subprotocol(config::Protocol protocol) { return std::string(config::protocol_name(protocol)); }

}  // namespace dbr::pubsub
