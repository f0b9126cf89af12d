#include "agent/agent.hpp"

#include <algorithm>
#include <cstdlib>

#include "log/log.hpp"
#include "net/tls.hpp"

namespace dbr::agent {

namespace {

// Connectivity and NTP reports are state: only the newest matters, so a
// small bound.
constexpr std::size_t kConnectivityMailbox = 16;
constexpr std::size_t kNtpMailbox = 4;
// A flood that overruns the outbox is one line, then one a minute.
constexpr Duration kDropSummaryPeriod = std::chrono::seconds(60);

}  // namespace

Agent::Agent(loop::EventLoop& loop, config::Config config, config::Environment env)
    : loop_(loop),
      config_(std::move(config)),
      options_(agent_options(config_)),
      env_(std::move(env)),
      auth_requests_(loop),
      connectivity_(loop, kConnectivityMailbox,
                    [this](monitor::ConnectivityReport&& r) { on_connectivity(std::move(r)); }),
      ntp_reports_(loop, kNtpMailbox, [this](monitor::NtpReport&& r) { on_ntp(std::move(r)); }),
      status_(loop, status_file_path(std::getenv("RUNTIME_DIRECTORY"))),
      reap_(loop, [this] { reap_stopped_clients(); }),
      group_drops_(loop, kDropSummaryPeriod, [](std::uint64_t more) {
        log::warn("{} more message(s) for the group dropped in the last {} s", more,
                  std::chrono::duration_cast<std::chrono::seconds>(kDropSummaryPeriod).count());
      }) {
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
  (void)net::preload_trust_store(net::TrustSources::system_plus(options_.trust_store_ca_file));
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
      loop_, options_.app,
      app::AppSinks{.send_to_group =
                        [this](std::string data_json) {
                          if (client_) (void)client_->send_to_group(std::move(data_json));
                        },
                    .publish_to_bus =
                        [this](const std::string& subject, const std::string& payload) {
                          return bridge_ && bridge_->publish(subject, payload) == bus::PublishResult::Sent;
                        }});
  app_->start();
  // A rebuilt app (reload) knows no verdict yet: give it the last ones.
  if (ntp_) app_->on_ntp_status(ntp_->available);
  if (internet_online_) app_->on_internet(*internet_online_);
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
  bridge_ = std::make_unique<bus::NatsBridge>(loop_, options_.bus,
                                              [this](bus::BusEvent&& event) { on_bus_event(std::move(event)); });
  bridge_->start();
}

void Agent::build_client() {
  const WebPubSubOptions& options = options_.web_pubsub;
  if (!options.enabled) {
    log::info("websocketEnabled = False: not connecting to Web PubSub");
    status_.set_client(nullptr, options.client.core.session.group);
    return;
  }
  client_ = std::make_unique<pubsub::Client>(loop_, random_, options.client,
                                             pubsub::make_url_source(options.url_source, loop_, auth_requests_),
                                             [this](pubsub::Event&& event) { on_client_event(std::move(event)); });
  status_.set_client(client_.get(), options.client.core.session.group);
  client_->start();
  if (internet_online_) client_->internet(*internet_online_);
}

void Agent::on_client_event(pubsub::Event&& event) {
  std::visit(
      [this](auto&& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, pubsub::Joined>) {
          log::info("joined group '{}' on {}", e.group, client_->hub_display());
          app_->on_joined();
        } else if constexpr (std::is_same_v<T, pubsub::GroupMessage>) {
          status_.moved();  // messages_in
          app_->on_group_message(e.data.text());
        } else if constexpr (std::is_same_v<T, pubsub::ServerMessage>) {
          status_.moved();  // messages_in
          log::debug("ignoring a server message ({})", e.data_type);
        } else if constexpr (std::is_same_v<T, pubsub::Dropped>) {
          status_.moved();  // outbox_dropped
          if (group_drops_.event())
            log::warn("a message for the group was dropped: {} (more drops are summed up every {} s)", e.reason,
                      std::chrono::duration_cast<std::chrono::seconds>(group_drops_.period()).count());
        } else if constexpr (std::is_same_v<T, pubsub::Delivered>) {
          status_.moved();  // messages_out
        } else if constexpr (std::is_same_v<T, pubsub::StateChanged>) {
          if (e.from == pubsub::State::Connected && monitor_) monitor_->connection_evidence(std::nullopt);
          status_.changed();
        } else if constexpr (std::is_same_v<T, pubsub::InternetCheckWanted>) {
          if (monitor_) monitor_->request_check();
        } else if constexpr (std::is_same_v<T, pubsub::ProofOfLife>) {
          if (monitor_) monitor_->connection_evidence(e.at);  // the monitor's evidence for its interval
        }
        // Connected is followed by Joined or nothing to do (a recovery);
        // LogLine is written by the client.
      },
      std::move(event));
}

void Agent::on_bus_event(bus::BusEvent&& event) {
  if (auto* message = std::get_if<bus::BusMessage>(&event)) {
    app_->on_bus_message(message->subject, message->payload);
    return;
  }
  const bool connected = std::get<bus::LinkState>(event) == bus::LinkState::Connected;
  status_.set_nats(connected);
  if (connected) app_->on_bus_connected();
}

void Agent::build_monitor() {
  monitor_ = std::make_unique<monitor::Monitor>(
      options_.monitor, [this](monitor::ConnectivityReport r) { connectivity_.post(std::move(r)); },
      [this](monitor::NtpReport r) { ntp_reports_.post(std::move(r)); });
  monitor_->start();
}

void Agent::on_connectivity(monitor::ConnectivityReport&& report) {
  status_.set_internet(report.online, monitor::status_reason(report));
  if (!report.changed) {
    status_.moved();  // the check time
    return;  // the monitor logs every result itself
  }
  internet_online_ = report.online;
  if (app_) app_->on_internet(report.online);  // system_info's internet_reachable
  if (client_) client_->internet(report.online);
  status_.changed();
}

void Agent::on_ntp(monitor::NtpReport&& report) {
  // Against the last report the agent kept, not the monitor's own flag: a
  // monitor rebuilt by a reload starts over with changed = true.
  const bool available_changed = !ntp_ || ntp_->available != report.available;
  const bool clock_changed = !ntp_ || ntp_->clock_synchronized != report.clock_synchronized;
  status_.set_ntp(report);
  ntp_ = std::move(report);
  // The app tells the scheduler the first verdict and each change, the
  // front end each change (AppCore::ntp_status).
  app_->on_ntp_status(ntp_->available);
  if (available_changed || clock_changed)
    status_.changed();
  else
    status_.moved();  // the check time
}

void Agent::stop_client(std::function<void()> done) {
  if (!client_) {
    done();
    return;
  }
  client_->stop(std::move(done));
}

void Agent::replace_client() {
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
}

void Agent::reload() {
  log::info("SIGHUP: reloading {}", config_.source_path);
  config::LoadResult result = config::load_for_start(config_.source_path, env_);
  config::log_diagnostics(result);
  if (!result.ok()) {
    log::error("config reload rejected; the running config stays");
    return;
  }
  AgentOptions next = agent_options(result.config);
  const ReloadPlan plan = plan_reload(options_, next);
  config_ = std::move(result.config);
  options_ = std::move(next);
  if (plan.set_log_level) {
    log::set_level(options_.log_level);
    log::info("log level now {}", log::level_name(options_.log_level));
  }
  if (!started_) return;
  if (plan.reload_trust_store) {
    // As at start: the CA bundle is parsed here once, not by the first TLS
    // handshake on the loop.
    (void)net::preload_trust_store(net::TrustSources::system_plus(options_.trust_store_ca_file));
  }
  if (plan.restart_monitor) {
    log::info("reload: restarting the internet monitor with the new probe settings");
    monitor_->stop();
    build_monitor();
  }
  if (plan.rebuild_app) {
    log::info("reload: new heartbeat and message settings");
    build_app();
  }
  if (plan.reconnect_bus) {
    log::info("reload: reconnecting to NATS with the new settings");
    bridge_.reset();
    build_bridge();
  }
  if (plan.new_connection) {
    log::info("reload: Web PubSub settings changed; closing the connection and opening a new one");
    replace_client();
  } else if (client_ && plan.retune_connection) {
    log::info("reload: new reconnect, keepalive and outbox settings apply to the open connection");
    client_->retune(options_.web_pubsub.client.core);
  }
  log::info("config reloaded");
}

}  // namespace dbr::agent
