#pragma once
// The one place that maps the configuration onto each part's own options.
// The parts never see config::Config. Every options struct has a defaulted
// operator==, so reload builds the options again and compares whole structs
// (plan_reload): a field added to a part's options is compared without a
// list to edit.
#include <string>

#include "app/app_service.hpp"
#include "bus/nats_bridge.hpp"
#include "common/log_level.hpp"
#include "config/config.hpp"
#include "monitor/monitor.hpp"
#include "pubsub/client.hpp"
#include "pubsub/source_factory.hpp"

namespace dbr::agent {

// The Web PubSub client and where its URLs come from.
struct WebPubSubOptions {
  bool enabled = false;  // websocketEnabled
  pubsub::ClientOptions client;
  pubsub::UrlSourceOptions url_source;
  bool operator==(const WebPubSubOptions&) const = default;
};

struct AgentOptions {
  log::Level log_level = log::Level::Info;
  std::string trust_store_ca_file;  // caFile, added to the shared trust store
  monitor::MonitorOptions monitor;
  app::AppOptions app;
  bus::NatsOptions bus;
  WebPubSubOptions web_pubsub;
  bool operator==(const AgentOptions&) const = default;
};

// One builder per part, named <part>_options.
monitor::MonitorOptions monitor_options(const config::Config& config);  // with ntp_options
monitor::NtpOptions ntp_options(const config::Config& config);
app::AppOptions app_options(const config::Config& config);
bus::NatsOptions bus_options(const config::Config& config);
pubsub::ClientCoreOptions client_core_options(const config::Config& config);
pubsub::UrlSourceOptions url_source_options(const config::Config& config);
WebPubSubOptions web_pubsub_options(const config::Config& config);
AgentOptions agent_options(const config::Config& config);

// What a reload does: each part whose options differ is rebuilt, except
// that the open Web PubSub connection adopts what ClientCore::retune can
// (timings, outbox bound) and only other differences make a new one.
struct ReloadPlan {
  bool set_log_level = false;
  bool reload_trust_store = false;
  bool restart_monitor = false;
  bool rebuild_app = false;
  bool reconnect_bus = false;
  bool new_connection = false;
  bool retune_connection = false;
  bool operator==(const ReloadPlan&) const = default;
};
ReloadPlan plan_reload(const AgentOptions& running, const AgentOptions& next);

}  // namespace dbr::agent
