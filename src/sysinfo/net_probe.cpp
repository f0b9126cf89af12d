#include "sysinfo/net_probe.hpp"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>

namespace dbr::sysinfo {

namespace {
constexpr unsigned char kEchoSequence = 1;
}

std::optional<Address> make_address(const std::string& ip, std::uint16_t port, const std::string& interface) {
  Address a;
  sockaddr_in sin{};
  if (::inet_pton(AF_INET, ip.c_str(), &sin.sin_addr) == 1) {
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    std::memcpy(&a.storage, &sin, sizeof sin);
    a.length = sizeof sin;
    a.family = AF_INET;
    return a;
  }
  sockaddr_in6 sin6{};
  if (::inet_pton(AF_INET6, ip.c_str(), &sin6.sin6_addr) == 1) {
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(port);
    if (!interface.empty()) sin6.sin6_scope_id = ::if_nametoindex(interface.c_str());
    std::memcpy(&a.storage, &sin6, sizeof sin6);
    a.length = sizeof sin6;
    a.family = AF_INET6;
    return a;
  }
  return std::nullopt;
}

int send_icmp_echo(const Address& target, bool& unavailable) {
  unavailable = false;
  if (target.family != AF_INET) {
    unavailable = true;  // ICMPv6 echo is possible too, but gateways are IPv4 here
    return -1;
  }
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_ICMP);
  if (fd < 0) {
    unavailable = true;  // EACCES: our group is outside ping_group_range
    return -1;
  }
  unsigned char packet[16] = {};
  packet[0] = ICMP_ECHO;
  packet[7] = kEchoSequence;
  if (::sendto(fd, packet, sizeof packet, 0, reinterpret_cast<const sockaddr*>(&target.storage), target.length) < 0) {
    unavailable = errno == EACCES || errno == EPERM;
    ::close(fd);
    return -1;
  }
  return fd;
}

bool read_icmp_echo_reply(int fd) {
  unsigned char reply[256];
  ssize_t n = ::recv(fd, reply, sizeof reply, 0);
  return n >= 8 && reply[0] == ICMP_ECHOREPLY && reply[7] == kEchoSequence;
}

int start_tcp_connect(const Address& target, std::optional<TcpOutcome>& at_once) {
  at_once.reset();
  int fd = ::socket(target.family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  int r = ::connect(fd, reinterpret_cast<const sockaddr*>(&target.storage), target.length);
  if (r != 0 && errno == EINPROGRESS) return fd;
  if (r == 0)
    at_once = TcpOutcome::Connected;
  else if (errno == ECONNREFUSED)
    at_once = TcpOutcome::Refused;
  ::close(fd);
  return -1;
}

TcpOutcome tcp_connect_result(int fd) {
  int error = 0;
  socklen_t len = sizeof error;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0) return TcpOutcome::Failed;
  if (error == 0) return TcpOutcome::Connected;
  if (error == ECONNREFUSED) return TcpOutcome::Refused;
  return TcpOutcome::Failed;
}

double round_tenth(double ms) { return std::round(ms * 10.0) / 10.0; }

}  // namespace dbr::sysinfo
