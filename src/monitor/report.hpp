#pragma once
// What the monitor thread tells the loop: one value per finished check.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/time.hpp"

namespace dbr::monitor {

// Which stage failed, so the loop and the logs can tell a dead resolver from
// a dead server or a captive portal.
enum class ProbeFailure {
  None,        // online
  Dns,         // no answer, NXDOMAIN, refused or timed out resolving the host
  Tcp,         // connect refused/unreachable, connection reset
  Tls,         // handshake or certificate verification failed
  HttpStatus,  // the server answered, but not 2xx (a portal's 302, a 500)
  Timeout,     // the HTTP(S) exchange did not finish within the timeout
  Other,       // anything else (empty reply, internal curl error)
};

// Why a check ran.
enum class CheckTrigger {
  Initial,     // the first check after start()
  Interval,    // connectionIntervalSecs elapsed since the previous check
  Request,     // request_check() (e.g. after a WebSocket failure)
  LinkChange,  // netlink reported a link, address or default-route change
};

std::string_view failure_name(ProbeFailure f);
std::string_view trigger_name(CheckTrigger t);

struct ConnectivityReport {
  // dns_ok && https_ok; or, for a check the hub connection's keepalive
  // answered (keepalive_age set), true with neither probe run.
  bool online = false;
  bool dns_ok = false;
  bool https_ok = false;
  std::chrono::milliseconds dns_ms{0};    // time spent resolving
  std::chrono::milliseconds https_ms{0};  // time spent on the GET
  ProbeFailure failure = ProbeFailure::None;
  int http_status = 0;  // 0 when no response arrived
  std::string error;    // human text naming the failed stage; never secrets
  std::string address;  // the IP the GET went to (or the first DNS answer)
  CheckTrigger trigger = CheckTrigger::Initial;
  // `online` differs from the previous report; true for the first report, so
  // the loop always learns the starting state.
  bool changed = false;
  TimePoint at{};  // when the check finished (monotonic)
  // Set when no probe ran: the hub connection's last sign of life, this
  // long before the check, was the evidence (schedule.hpp).
  std::optional<std::chrono::milliseconds> keepalive_age;
};

// One line for logs: "online via 192.0.2.1 (dns 3 ms, https 41 ms, ...)",
// "online (keepalive answered 12 s ago, interval check)" or "offline:
// dns: probe.test: connection refused (...)".
std::string describe(const ConnectivityReport& report);
// The verdict's reason for status.json: "ok" (the probes passed),
// "keepalive answered 12 s ago", or the error.
std::string status_reason(const ConnectivityReport& report);

// One value per finished NTP check (every ntpCheckIntervalSecs). Upstream
// develop's `ntp_available` is `available`; the rest is for status and logs.
struct NtpReport {
  bool available = false;  // a server gave a valid answer (sntp::parse_reply)
  // `available` differs from the previous report of this Monitor; true for
  // its first, so the loop always learns the starting state.
  bool changed = false;
  std::string server;  // the ntpServers entry that answered; empty when unavailable
  std::optional<std::chrono::milliseconds> offset;  // its clock minus ours; when available
  std::optional<std::chrono::milliseconds> delay;   // the round trip; when available
  // Available: "stratum 2 at 192.0.2.1". Unavailable: each server's reason,
  // "ntp1.inrim.it: no reply within 5 s; ntp2.inrim.it: kiss-o'-death RATE".
  std::string detail;
  std::optional<bool> clock_synchronized;  // the kernel's view (clock_sync.hpp); empty if unreadable
  TimePoint at{};  // when the check finished (monotonic)
};

// For logs: "available via ntp1.inrim.it (offset +12 ms, delay 41 ms, stratum
// 2 at 192.0.2.1); clock synchronized" or "unavailable (...); clock not
// synchronized".
std::string describe(const NtpReport& report);

}  // namespace dbr::monitor
