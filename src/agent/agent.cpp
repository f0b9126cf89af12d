#include "agent/agent.hpp"

#include <algorithm>
#include <cstdlib>

#include "log/log.hpp"
#include "net/tls.hpp"

namespace dbr::agent {

namespace {

// Connectivity reports are state: only the newest matters, so a small bound.
constexpr std::size_t kConnectivityMailbox = 16;

// Keys each part reads; a reload rebuilds a part only when one changed.
// Keys that make a different connection (where, who, how): a new one.
bool connection_keys_changed(const config::Config& a, const config::Config& b) {
  auto cs = [](const config::Config& c) {
    return c.connection_string ? c.connection_string->endpoint + ";" + c.connection_string->access_key : "";
  };
  return a.websocket_enabled != b.websocket_enabled || a.url != b.url || cs(a) != cs(b) || a.hub != b.hub ||
         a.group_name != b.group_name || a.protocol != b.protocol || a.auth_url != b.auth_url ||
         a.auth0_client_id != b.auth0_client_id || a.auth0_client_secret != b.auth0_client_secret ||
         a.auth0_username != b.auth0_username || a.auth0_password != b.auth0_password || a.ca_file != b.ca_file ||
         a.max_message_bytes != b.max_message_bytes || a.device_id != b.device_id;
}

// Keys the open connection can adopt as it is.
bool client_timing_changed(const config::Config& a, const config::Config& b) {
  return a.reconnect_initial_delay != b.reconnect_initial_delay || a.reconnect_max_delay != b.reconnect_max_delay ||
         a.reconnect_jitter != b.reconnect_jitter || a.network_settle != b.network_settle ||
         a.keepalive_interval != b.keepalive_interval || a.keepalive_timeout != b.keepalive_timeout ||
         a.outbox_max_messages != b.outbox_max_messages;
}

bool monitor_keys_changed(const config::Config& a, const config::Config& b) {
  return a.probe_url != b.probe_url || a.dns_servers != b.dns_servers || a.connection_interval != b.connection_interval ||
         a.connection_timeout != b.connection_timeout || a.ca_file != b.ca_file;
}

bool app_keys_changed(const config::Config& a, const config::Config& b) {
  return a.broadcast_initial_state != b.broadcast_initial_state || a.heartbeat_every != b.heartbeat_every ||
         a.heartbeat_loop_duration != b.heartbeat_loop_duration || a.component_ttl != b.component_ttl ||
         a.device_id != b.device_id || a.location_description != b.location_description ||
         a.mqueue_subject_root != b.mqueue_subject_root || a.mqueue_client_id != b.mqueue_client_id;
}

bool bridge_keys_changed(const config::Config& a, const config::Config& b) {
  return a.mqueue_servers != b.mqueue_servers || a.mqueue_client_id != b.mqueue_client_id ||
         a.mqueue_subject_root != b.mqueue_subject_root || a.component_heartbeat != b.component_heartbeat;
}

}  // namespace

Agent::Agent(loop::EventLoop& loop, config::Config config, config::Environment env)
    : loop_(loop),
      config_(std::move(config)),
      env_(std::move(env)),
      auth_requests_(loop),
      connectivity_(loop, kConnectivityMailbox,
                    [this](monitor::ConnectivityReport&& r) { on_connectivity(std::move(r)); }),
      status_(loop, status_file_path(std::getenv("RUNTIME_DIRECTORY"))),
      reap_(loop, [this] { reap_stopped_clients(); }) {
  loop_.on_reload([this] { reload(); });
  loop_.add_shutdown_step("websocket", [this](loop::EventLoop::Done done) { stop_client(std::move(done)); });
  loop_.add_shutdown_step("monitor", [this](loop::EventLoop::Done done) {
    if (monitor_) monitor_->stop();
    done();
  });
  // One step for whichever bridge is current (a reload replaces it).
  loop_.add_shutdown_step("nats", [this](loop::EventLoop::Done done) {
    if (bridge_)
      bridge_->begin_shutdown(std::move(done));
    else
      done();
  });
}

Agent::~Agent() {
  // The app's sinks and the bridge's handler point at each other and at the
  // client: tear down in dependency order.
  if (monitor_) monitor_->stop();
  bridge_.reset();
  app_.reset();
  client_.reset();
  retired_clients_.clear();
}

void Agent::start() {
  // The first wss:// connection would otherwise parse the system CA bundle on
  // the loop thread.
  (void)net::preload_trust_store(net::TrustSources::system_plus(config_.ca_file));
  build_app();
  build_bridge();
  build_client();
  build_monitor();
  started_ = true;
  log::info("dunebugger-remote started: device '{}', group '{}'", config_.device_id, config_.group_name);
  status_.changed();
}

void Agent::build_app() {
  app_ = std::make_unique<app::AppService>(
      loop_, config_,
      app::AppSinks{.send_to_group =
                        [this](nlohmann::json data) {
                          if (client_) (void)client_->send_to_group(std::move(data));
                        },
                    .publish_to_bus =
                        [this](const std::string& subject, const std::string& payload) {
                          return bridge_ && bridge_->publish(subject, payload) == bus::PublishResult::Sent;
                        }});
  app_->start();
}

void Agent::reap_stopped_clients() {
  std::erase_if(retired_clients_, [this](const std::unique_ptr<pubsub::Client>& c) {
    return std::find(stopped_clients_.begin(), stopped_clients_.end(), c.get()) != stopped_clients_.end();
  });
  stopped_clients_.clear();
}

void Agent::build_bridge() {
  // A new bridge reports only changes, starting from Connecting.
  status_.set_nats(false);
  bridge_ = std::make_unique<bus::NatsBridge>(
      loop_, bus::options_from_config(config_),
      bus::NatsBridge::Handlers{
          .on_message = [this](bus::BusMessage&& m) { app_->on_bus_message(m.subject, m.payload); },
          .on_state = [this](bus::LinkState s) { status_.set_nats(s == bus::LinkState::Connected); }});
  bridge_->start();
}

void Agent::build_client() {
  if (!config_.websocket_enabled) {
    log::info("websocketEnabled = False: not connecting to Web PubSub");
    status_.set_client(nullptr, config_.group_name);
    return;
  }
  pubsub::Client::Handler h;
  h.on_joined = [this](const pubsub::Joined& j) {
    log::info("joined group '{}' on {}", j.group, client_->hub_display());
    app_->on_joined();
  };
  h.on_group_message = [this](pubsub::GroupMessage&& m) { app_->on_group_message(m.data); };
  h.on_server_message = [](pubsub::ServerMessage&& m) {
    log::debug("ignoring a server message ({})", m.data_type);
  };
  h.on_dropped = [](const pubsub::Dropped& d) { log::warn("a message for the group was dropped: {}", d.reason); };
  h.on_state_changed = [this](const pubsub::StateChanged&) { status_.changed(); };
  h.on_check_internet = [this] {
    if (monitor_) monitor_->request_check();
  };
  client_ = std::make_unique<pubsub::Client>(loop_, random_, config_,
                                             pubsub::make_url_source(config_, loop_, auth_requests_), std::move(h));
  status_.set_client(client_.get(), config_.group_name);
  client_->start();
  if (internet_online_) client_->internet(*internet_online_);
}

void Agent::build_monitor() {
  monitor_ = std::make_unique<monitor::Monitor>(
      monitor::monitor_options(config_),
      [this](monitor::ConnectivityReport r) { connectivity_.post(std::move(r)); });
  monitor_->start();
}

void Agent::on_connectivity(monitor::ConnectivityReport&& report) {
  status_.set_internet(report.online, report.online ? "ok" : report.error);
  if (!report.changed) return;  // the monitor logs every result itself
  internet_online_ = report.online;
  if (client_) client_->internet(report.online);
  status_.changed();
}

void Agent::stop_client(std::function<void()> done) {
  if (!client_) {
    done();
    return;
  }
  client_->stop(std::move(done));
}

void Agent::reload() {
  log::info("SIGHUP: reloading {}", config_.source_path);
  config::LoadResult result = config::load_config(config_.source_path, env_);
  config::log_diagnostics(result);
  auto missing = config::missing_for_start(result.config);
  for (const auto& m : missing) log::error("{}: error: {}", config_.source_path, m);
  if (!result.ok() || !missing.empty()) {
    log::error("config reload rejected; the running config stays");
    return;
  }
  config::Config next = std::move(result.config);
  config::Config previous = std::exchange(config_, std::move(next));
  if (previous.log_level != config_.log_level) {
    log::set_level(config_.log_level);
    log::info("log level now {}", log::level_name(config_.log_level));
  }
  if (!started_) return;
  if (previous.ca_file != config_.ca_file) {
    // As at start: the CA bundle is parsed here once, not by the first TLS
    // handshake on the loop.
    (void)net::preload_trust_store(net::TrustSources::system_plus(config_.ca_file));
  }
  if (monitor_keys_changed(previous, config_)) {
    log::info("reload: restarting the internet monitor with the new probe settings");
    monitor_->stop();
    build_monitor();
  }
  if (app_keys_changed(previous, config_)) {
    log::info("reload: new heartbeat and message settings");
    build_app();
  }
  if (bridge_keys_changed(previous, config_)) {
    log::info("reload: reconnecting to NATS with the new settings");
    bridge_.reset();
    build_bridge();
  }
  if (connection_keys_changed(previous, config_)) {
    log::info("reload: Web PubSub settings changed; closing the connection and opening a new one");
    if (client_) {
      std::size_t waiting = client_->core().outbox_size();
      if (waiting > 0) log::warn("reload: {} messages waiting for the old connection are dropped", waiting);
      // Its stop may finish inside its own callbacks: destroy it afterwards,
      // and only it (another retired client may still be closing).
      pubsub::Client* closing = client_.get();
      retired_clients_.push_back(std::move(client_));
      closing->stop([this, closing] {
        stopped_clients_.push_back(closing);
        reap_.arm_in(Duration::zero());
      });
    }
    build_client();
  } else if (client_ && client_timing_changed(previous, config_)) {
    log::info("reload: new reconnect, keepalive and outbox settings apply to the open connection");
    client_->retune(config_);
  }
  log::info("config reloaded");
}

}  // namespace dbr::agent
