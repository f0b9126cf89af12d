#pragma once
// The steps of system_info's network probes, each one non-blocking: the
// loop (SlowFactsProbe) starts a probe, watches its socket and finishes it
// when the socket is ready or the probe's time is up. Nothing here waits.
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>

namespace dbr::sysinfo {

struct Address {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = AF_UNSPEC;
};
// `ip` (IPv4 or IPv6 text) and `port`; `interface` scopes an IPv6
// link-local address ("" otherwise). nullopt for anything else.
std::optional<Address> make_address(const std::string& ip, std::uint16_t port, const std::string& interface = {});

// latency_ms_to_gateway without `ping`: one ICMP echo request on an
// unprivileged ICMP datagram socket (Linux "ping sockets", allowed by
// net.ipv4.ping_group_range, which systemd opens to all groups); the kernel
// fills in the identifier and checksum. Returns the socket, readable when
// an answer comes, or -1; `unavailable` tells "the kernel does not allow
// ping sockets here" (EACCES/EPERM; use the TCP handshake instead) from
// other failures. IPv4 only (gateways are IPv4 here).
int send_icmp_echo(const Address& target, bool& unavailable);
// Reads one datagram from an echo socket: true if it is our echo reply.
bool read_icmp_echo_reply(int fd);

// How a TCP handshake ended. A refusal (RST) is an answer too: for a
// latency it takes one round trip as well.
enum class TcpOutcome { Connected, Refused, Failed };
// A non-blocking TCP connect: the socket, writable when the handshake
// ends; or -1, with `at_once` set when the handshake ended within the call
// (loopback) and empty on a failure.
int start_tcp_connect(const Address& target, std::optional<TcpOutcome>& at_once);
// After the socket became writable: how the handshake ended.
TcpOutcome tcp_connect_result(int fd);

// Milliseconds rounded to 0.1, as system_info reports latencies.
double round_tenth(double ms);

}  // namespace dbr::sysinfo
