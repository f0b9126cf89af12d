#include "sysinfo/net_probe.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>

namespace dbr::sysinfo {

namespace {

struct Address {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = AF_UNSPEC;
};

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

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

double round_tenth(double v) { return std::round(v * 10.0) / 10.0; }

std::optional<double> icmp_echo_ms(const Address& target, Duration timeout, int cancel_fd, bool& unavailable) {
  unavailable = false;
  if (target.family != AF_INET) {
    unavailable = true;  // ICMPv6 echo is possible too, but gateways are IPv4 here
    return std::nullopt;
  }
  Fd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_ICMP));
  if (sock.get() < 0) {
    unavailable = true;  // EACCES: our group is outside ping_group_range
    return std::nullopt;
  }
  // An echo request; the kernel fills in the identifier and the checksum.
  unsigned char packet[16] = {};
  packet[0] = ICMP_ECHO;
  packet[7] = 1;  // sequence 1
  auto start = Clock::now();
  if (::sendto(sock.get(), packet, sizeof packet, 0, reinterpret_cast<const sockaddr*>(&target.storage),
               target.length) < 0) {
    unavailable = errno == EACCES || errno == EPERM;
    return std::nullopt;
  }
  auto deadline = start + timeout;
  for (;;) {
    if (wait_for(sock.get(), POLLIN, deadline, cancel_fd) != Wait::Ready) return std::nullopt;
    unsigned char reply[256];
    ssize_t n = ::recv(sock.get(), reply, sizeof reply, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n < 8) return std::nullopt;
    if (reply[0] == ICMP_ECHOREPLY && reply[7] == 1)
      return round_tenth(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
}

}  // namespace

Wait wait_for(int fd, short events, TimePoint deadline, int cancel_fd) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return Wait::TimedOut;
    pollfd fds[2] = {{fd, events, 0}, {cancel_fd, POLLIN, 0}};
    int r = ::poll(fds, cancel_fd >= 0 ? 2 : 1, static_cast<int>(std::min<long long>(left, 60'000)));
    if (r < 0) {
      if (errno == EINTR) continue;
      return Wait::Failed;
    }
    if (cancel_fd >= 0 && (fds[1].revents & POLLIN)) return Wait::Cancelled;
    if (r > 0 && fds[0].revents) return Wait::Ready;
  }
}

TcpProbe tcp_probe(const std::string& ip, std::uint16_t port, Duration timeout, int cancel_fd,
                   const std::string& interface) {
  auto address = make_address(ip, port, interface);
  if (!address) return {TcpOutcome::Failed, {}};
  Fd sock(::socket(address->family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (sock.get() < 0) return {TcpOutcome::Failed, {}};
  auto start = Clock::now();
  auto elapsed = [&] { return Clock::now() - start; };
  int r = ::connect(sock.get(), reinterpret_cast<const sockaddr*>(&address->storage), address->length);
  if (r == 0) return {TcpOutcome::Connected, elapsed()};
  if (errno == ECONNREFUSED) return {TcpOutcome::Refused, elapsed()};
  if (errno != EINPROGRESS) return {TcpOutcome::Failed, elapsed()};
  switch (wait_for(sock.get(), POLLOUT, start + timeout, cancel_fd)) {
    case Wait::TimedOut: return {TcpOutcome::TimedOut, elapsed()};
    case Wait::Cancelled: return {TcpOutcome::Cancelled, elapsed()};
    case Wait::Failed: return {TcpOutcome::Failed, elapsed()};
    case Wait::Ready: break;
  }
  auto done = elapsed();
  int error = 0;
  socklen_t len = sizeof error;
  if (::getsockopt(sock.get(), SOL_SOCKET, SO_ERROR, &error, &len) != 0) return {TcpOutcome::Failed, done};
  if (error == 0) return {TcpOutcome::Connected, done};
  if (error == ECONNREFUSED) return {TcpOutcome::Refused, done};
  return {TcpOutcome::Failed, done};
}

std::optional<bool> internet_reachable(const std::string& ip, std::uint16_t port, Duration timeout, int cancel_fd) {
  auto probe = tcp_probe(ip, port, timeout, cancel_fd);
  if (probe.outcome == TcpOutcome::Cancelled) return std::nullopt;
  return probe.outcome == TcpOutcome::Connected;
}

GatewayLatency gateway_latency(const std::string& gateway, const std::string& interface, Duration timeout,
                               int cancel_fd) {
  auto target = make_address(gateway, 0, interface);
  if (!target) return {};
  bool icmp_unavailable = false;
  auto ms = icmp_echo_ms(*target, timeout, cancel_fd, icmp_unavailable);
  if (ms) return {ms, "icmp"};
  if (!icmp_unavailable) return {};  // the gateway did not answer a ping
  auto probe = tcp_probe(gateway, 53, timeout, cancel_fd, interface);
  if (probe.outcome == TcpOutcome::Connected || probe.outcome == TcpOutcome::Refused)
    return {round_tenth(std::chrono::duration<double, std::milli>(probe.elapsed).count()), "tcp"};
  return {};
}

}  // namespace dbr::sysinfo
