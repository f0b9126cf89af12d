#pragma once
// Blocking network probes for the SystemInfoWorker thread (never the loop).
// Each waits at most `timeout` and returns at once when `cancel_fd` (an
// eventfd or pipe, -1 for none) becomes readable, so stopping the worker
// never waits for a probe.
#include <cstdint>
#include <optional>
#include <string>

#include "common/time.hpp"

namespace dbr::sysinfo {

// Waits for poll `events` on fd until `deadline`, or until cancel_fd is
// readable (-1: no cancel). Every blocking wait of the worker goes here.
enum class Wait { Ready, TimedOut, Cancelled, Failed };
Wait wait_for(int fd, short events, TimePoint deadline, int cancel_fd);

enum class TcpOutcome { Connected, Refused, TimedOut, Cancelled, Failed };
struct TcpProbe {
  TcpOutcome outcome = TcpOutcome::Failed;
  Duration elapsed{};
};
// A non-blocking TCP connect to ip:port. `interface` scopes an IPv6
// link-local address ("" otherwise).
TcpProbe tcp_probe(const std::string& ip, std::uint16_t port, Duration timeout, int cancel_fd = -1,
                   const std::string& interface = {});

// §1.3 "internet_reachable (TCP 8.8.8.8:53)": true when the connect
// completes; false on refusal, timeout or error; nullopt when cancelled.
std::optional<bool> internet_reachable(const std::string& ip, std::uint16_t port, Duration timeout,
                                       int cancel_fd = -1);

// latency_ms_to_gateway without `ping`: one ICMP echo over an unprivileged
// ICMP datagram socket (Linux "ping sockets", allowed by
// net.ipv4.ping_group_range, which systemd opens to all groups) when the
// kernel allows it; otherwise the time of a TCP handshake to port 53 of the
// gateway, where a refusal (RST) counts too: both take one round trip.
// Rounded to 0.1 ms; nullopt when nothing answered within `timeout`.
struct GatewayLatency {
  std::optional<double> ms;
  const char* method = "none";  // "icmp", "tcp" or "none", for DEBUG lines
};
GatewayLatency gateway_latency(const std::string& gateway, const std::string& interface, Duration timeout,
                               int cancel_fd = -1);

}  // namespace dbr::sysinfo
