#pragma once
// The agent: owns the parts, wires their events together on the loop
// thread, keeps the status up to date and applies config reloads.
//
//   monitor thread --ConnectivityReport--> Mailbox --> client.internet()
//   monitor thread --NtpReport--> Mailbox --> on_ntp: status, app.on_ntp_status()
//   client --pubsub::Event--> on_client_event: Joined, GroupMessage --> app;
//          InternetCheckWanted --> monitor.request_check(); StateChanged --> status;
//          ProofOfLife (and leaving Connected) --> monitor.connection_evidence()
//   app: send_to_group --> client (outbox)    app: publish --> bridge
//   bridge (libnats threads) --Mailbox--> bus::BusEvent --> on_bus_event:
//          BusMessage --> app; LinkState --> status (and app, when up)
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/options.hpp"
#include "agent/status_reporter.hpp"
#include "app/app_service.hpp"
#include "bus/nats_bridge.hpp"
#include "common/random.hpp"
#include "config/config.hpp"
#include "config/load.hpp"
#include "loop/burst_timer.hpp"
#include "loop/event_loop.hpp"
#include "loop/mailbox.hpp"
#include "loop/timer.hpp"
#include "monitor/monitor.hpp"
#include "net/curl_multi.hpp"
#include "pubsub/client.hpp"

namespace dbr::agent {

class Agent {
 public:
  Agent(loop::EventLoop& loop, config::Config config, config::Environment env);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Starts the parts; the loop then runs until shutdown.
  void start();
  // SIGHUP: re-read the config file. An invalid file is rejected and the
  // running config stays; otherwise each part whose options changed is
  // rebuilt (plan_reload; the WebSocket only when its URL, group, protocol
  // or credentials changed).
  void reload();

  const config::Config& config() const { return config_; }

 private:
  void build_monitor();
  void build_client();
  void build_app();
  void build_bridge();
  void reap_stopped_clients();
  void on_connectivity(monitor::ConnectivityReport&& report);
  void on_client_event(pubsub::Event&& event);
  void on_bus_event(bus::BusEvent&& event);
  void on_ntp(monitor::NtpReport&& report);
  void stop_client(std::function<void()> done);
  void replace_client();

  loop::EventLoop& loop_;
  config::Config config_;
  AgentOptions options_;  // what the running parts were built from
  config::Environment env_;
  SystemRandom random_;
  net::CurlMulti auth_requests_;  // Auth0 sign-in requests

  loop::Mailbox<monitor::ConnectivityReport> connectivity_;
  std::optional<bool> internet_online_;  // the monitor's last verdict

  loop::Mailbox<monitor::NtpReport> ntp_reports_;
  // The last NTP check's report; empty until the first check ends (NTP
  // counts as unavailable until then, as upstream). Kept across monitor
  // restarts (reload).
  std::optional<monitor::NtpReport> ntp_;

  // Declared in wiring order; destroyed in reverse (the app's sinks point at
  // the client and the bridge, the bridge's handler at the app).
  std::unique_ptr<pubsub::Client> client_;
  std::unique_ptr<bus::NatsBridge> bridge_;
  std::unique_ptr<app::AppService> app_;
  std::unique_ptr<monitor::Monitor> monitor_;
  StatusReporter status_;
  // Clients replaced by a reload, closing; destroyed by reap_.
  std::vector<std::unique_ptr<pubsub::Client>> retired_clients_;
  std::vector<pubsub::Client*> stopped_clients_;  // retired and done closing
  loop::Timer reap_;
  loop::BurstTimer group_drops_;  // "a message for the group was dropped", once per burst
  bool started_ = false;
};

}  // namespace dbr::agent
