#include "agent/options.hpp"

#include <utility>

#include "app/envelope.hpp"
#include "app/router.hpp"
#include "config/parsers.hpp"
#include "config/text.hpp"
#include "version.hpp"

namespace dbr::agent {

monitor::MonitorOptions monitor_options(const config::Config& config) {
  monitor::MonitorOptions o;
  o.probe_url = config.probe_url;  // load_config derives the default, https://<testDomain>/
  o.dns_servers = config.dns_servers;
  o.timeout = config.connection_timeout;
  o.interval = config.connection_interval;
  o.ca_file = config.ca_file;
  // Appended, not `std::string(..) + kVersion`: GCC 12 reports that chain
  // here as -Warray-bounds.
  o.user_agent = "dunebugger-remote/";
  o.user_agent += kVersion;
  o.ntp = ntp_options(config);
  return o;
}

monitor::NtpOptions ntp_options(const config::Config& config) {
  monitor::NtpOptions o;
  for (const auto& entry : config.ntp_servers) {
    auto parts = config::parse_host_port(entry);  // the key table accepted only these
    if (!parts) continue;
    o.servers.push_back({entry, parts->host, parts->port.value_or(monitor::sntp::kPort)});
  }
  o.interval = config.ntp_check_interval;
  o.timeout = config.ntp_timeout;
  return o;
}

app::AppOptions app_options(const config::Config& config) {
  app::AppOptions o;
  o.core.subject_root = config.mqueue_subject_root;
  o.core.client_id = config.mqueue_client_id;
  o.core.broadcast_enabled = config.broadcast_initial_state;
  o.core.heartbeat = {config.heartbeat_every, config.heartbeat_loop_duration};
  o.core.component_ttl = config.component_ttl;
  o.core.version = kVersion;
  o.identity = {config.device_id, config.location_description};
  return o;
}

bus::NatsOptions bus_options(const config::Config& config) {
  bus::NatsOptions o;
  o.servers.clear();
  for (auto item : config::split(config.mqueue_servers, ','))
    if (auto server = config::trim(item); !server.empty()) o.servers.emplace_back(server);
  o.name = config.mqueue_client_id;
  // The subjects and the probe's payload are the app's rules; the bus only
  // carries them.
  app::Router router(config.mqueue_subject_root, config.mqueue_client_id);
  o.subscription = router.subscription();
  std::string probe = app::component_probe_payload();
  for (auto& subject : router.probe_subjects()) o.probes.push_back({std::move(subject), probe});
  o.probe_every = config.component_heartbeat;
  return o;
}

// [Websocket] keys: protocol, groupName, reconnect*, networkSettleSecs,
// keepAlive*, outboxMaxMessages. The rest keep ClientCoreOptions' defaults
// (ack timeout 30 s, recovery window 30 s, recovery retry 1 s, stability 30 s).
pubsub::ClientCoreOptions client_core_options(const config::Config& config) {
  pubsub::ClientCoreOptions o;
  o.supervisor.backoff.initial = to_duration(config.reconnect_initial_delay);
  o.supervisor.backoff.max = to_duration(config.reconnect_max_delay);
  o.supervisor.backoff.jitter = config.reconnect_jitter;
  o.supervisor.network_settle = to_duration(config.network_settle);
  o.session.protocol =
      config.protocol == config::Protocol::JsonReliable ? pubsub::Protocol::JsonReliable : pubsub::Protocol::Json;
  o.session.group = config.group_name;
  o.session.outbox_max_messages = config.outbox_max_messages;
  o.keepalive_interval = to_duration(config.keepalive_interval);
  o.keepalive_timeout = to_duration(config.keepalive_timeout);
  return o;
}

pubsub::UrlSourceOptions url_source_options(const config::Config& config) {
  using Kind = pubsub::UrlSourceOptions::Kind;
  pubsub::UrlSourceOptions o;
  switch (config::url_source(config)) {
    case config::UrlSource::None: o.kind = Kind::None; break;
    case config::UrlSource::StaticUrl: o.kind = Kind::StaticUrl; break;
    case config::UrlSource::ConnectionString: o.kind = Kind::ConnectionString; break;
    case config::UrlSource::Auth0: o.kind = Kind::Auth0; break;
  }
  o.url = config.url;
  if (config.connection_string)
    o.access_key = pubsub::ServiceAccessKey{config.connection_string->endpoint, config.connection_string->access_key};
  o.token.hub = config.hub;
  o.token.user_id = config.device_id;
  o.token.group = config.group_name;
  o.auth0.auth_host = config.auth_url;
  o.auth0.client_id = config.auth0_client_id;
  o.auth0.client_secret = config.auth0_client_secret;
  o.auth0.username = config.auth0_username;
  o.auth0.password = config.auth0_password;
  o.auth0.ca_file = config.ca_file;
  return o;
}

WebPubSubOptions web_pubsub_options(const config::Config& config) {
  WebPubSubOptions o;
  o.enabled = config.websocket_enabled;
  o.client.core = client_core_options(config);
  o.client.ca_file = config.ca_file;
  o.client.max_message_bytes = config.max_message_bytes;
  o.url_source = url_source_options(config);
  return o;
}

AgentOptions agent_options(const config::Config& config) {
  return {.log_level = config.log_level,
          .trust_store_ca_file = config.ca_file,
          .monitor = monitor_options(config),
          .app = app_options(config),
          .bus = bus_options(config),
          .web_pubsub = web_pubsub_options(config)};
}

ReloadPlan plan_reload(const AgentOptions& running, const AgentOptions& next) {
  // The running connection as it would be after adopting next's tunings:
  // any difference left needs a new connection.
  WebPubSubOptions adopted = running.web_pubsub;
  adopted.client.core = pubsub::retuned(adopted.client.core, next.web_pubsub.client.core);
  const bool new_connection = adopted != next.web_pubsub;
  return {.set_log_level = running.log_level != next.log_level,
          .reload_trust_store = running.trust_store_ca_file != next.trust_store_ca_file,
          .restart_monitor = running.monitor != next.monitor,
          .rebuild_app = running.app != next.app,
          .reconnect_bus = running.bus != next.bus,
          .new_connection = new_connection,
          .retune_connection = !new_connection && running.web_pubsub != next.web_pubsub};
}

}  // namespace dbr::agent
