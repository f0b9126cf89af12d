#include "pubsub/options.hpp"

namespace dbr::pubsub {

ClientCoreOptions retuned(ClientCoreOptions running, const ClientCoreOptions& next) {
  running.supervisor = next.supervisor;
  running.keepalive_interval = next.keepalive_interval;
  running.keepalive_timeout = next.keepalive_timeout;
  running.session.outbox_max_messages = next.session.outbox_max_messages;
  return running;
}

}  // namespace dbr::pubsub
