#pragma once
// The internet monitor: one thread that decides whether the internet is
// really there, so the loop only tries the cloud when it is.
//
// Two schedules share the thread:
//
// A check = DNS probe (c-ares, asks the servers every time) then an HTTP(S)
// HEAD of the probe URL pinned to the address DNS returned; 2xx = online.
// Checks run at start, every `interval`, on request_check(), and ~300 ms
// after netlink reports a link/address/default-route change (schedule.hpp).
// An interval check while the hub connection answers (connection_evidence)
// probes nothing: that answer is its evidence (the data budget).
//
// An NTP check (ntp_check.hpp), when ntp.servers is set: at start, then
// `ntp.interval` after the previous one ended; the servers in turn, the first
// valid SNTP answer wins. It runs alongside the probes: every wait of the
// thread (idle or inside a probe) also watches the NTP check's socket and
// ends by its next deadline, so neither schedule holds up the other. Each
// result goes to `post_ntp` as an NtpReport.
//
// Threads: the monitor thread owns its probes, its netlink socket and its
// wakeup eventfd, blocks all signals, and waits only in poll() with a
// timeout. It shares no objects with the loop: every finished check is
// handed to `post` as a ConnectivityReport value (the agent passes a
// loop::Mailbox<ConnectivityReport>::post, so it is bounded there).
// Logging: every result at DEBUG; a change of `online` at INFO (online) or
// WARNING (offline, with the reason).
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/time.hpp"
#include "monitor/ntp_check.hpp"
#include "monitor/report.hpp"

namespace dbr::monitor {

struct MonitorOptions {
  std::string probe_url;                 // http:// or https://
  std::vector<std::string> dns_servers;  // "ip[:port]"/"[ip6]:port"; empty: resolv.conf
  std::chrono::seconds timeout{2};       // per probe (DNS, then HTTP)
  std::chrono::seconds interval{60};
  std::string ca_file;                   // extra CAs on top of the system's
  std::string user_agent;
  Duration link_debounce = std::chrono::milliseconds(300);
  Duration link_max_delay = std::chrono::seconds(1);
  bool watch_links = true;  // netlink; off only where it cannot work
  std::size_t max_body_bytes = 64 * 1024;
  NtpOptions ntp;  // [NTP]; no servers: no NTP checks
  bool operator==(const MonitorOptions&) const = default;
};

class Monitor {
 public:
  // Called on the monitor thread, once per finished check.
  using Post = std::function<void(ConnectivityReport)>;
  // Called on the monitor thread, once per finished NTP check.
  using PostNtp = std::function<void(NtpReport)>;

  // Validates the options (throws std::invalid_argument for a bad URL) and
  // opens the wakeup fd and the netlink socket (if that fails, a warning is
  // logged and only the other triggers remain). NTP checks run when
  // `post_ntp` is set and options.ntp has servers.
  Monitor(MonitorOptions options, Post post, PostNtp post_ntp = {});
  ~Monitor();  // stop()
  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;

  // Starts the thread; the first check runs at once. Call once.
  void start();
  // Any thread. Coalesced with a check already due; if a check is running,
  // another one runs right after it.
  void request_check();
  // Any thread: the hub connection's last sign of life (the loop's
  // pubsub::ProofOfLife), or empty when no connection is open. A value; the
  // latest wins. It does not wake the thread: it is read when a check is due.
  void connection_evidence(std::optional<TimePoint> alive_at);
  // Any thread but the monitor's own (i.e. not from `post`). Abandons a
  // running probe at once and joins the thread; returns well within
  // timeout + 1 s. Idempotent; no report is posted for an abandoned check
  // (of either kind).
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dbr::monitor
