// The non-blocking steps of the gateway probe, against real sockets on
// loopback.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sysinfo/net_probe.hpp"
#include "support/loopback_listener.hpp"

using namespace dbr;
using namespace dbr::sysinfo;

namespace {

using Listener = test::LoopbackListener;

std::uint16_t closed_port() {
  Listener l;
  return l.port;  // closed again when `l` goes
}

// Starts a connect and waits (up to 2 s) for how it ends.
TcpOutcome connect_outcome(const Address& target) {
  std::optional<TcpOutcome> at_once;
  int fd = start_tcp_connect(target, at_once);
  if (fd < 0) return at_once.value_or(TcpOutcome::Failed);
  pollfd p{fd, POLLOUT, 0};
  REQUIRE(::poll(&p, 1, 2000) == 1);
  TcpOutcome outcome = tcp_connect_result(fd);
  ::close(fd);
  return outcome;
}

}  // namespace

TEST_CASE("addresses: IPv4, IPv6 with a scope, and anything else refused") {
  auto v4 = make_address("192.168.1.1", 53);
  REQUIRE(v4);
  CHECK(v4->family == AF_INET);
  CHECK(v4->length == sizeof(sockaddr_in));
  auto v6 = make_address("fe80::1", 53, "lo");
  REQUIRE(v6);
  CHECK(v6->family == AF_INET6);
  CHECK(reinterpret_cast<const sockaddr_in6*>(&v6->storage)->sin6_scope_id > 0);
  CHECK_FALSE(make_address("not-an-ip", 53));
  CHECK_FALSE(make_address("", 53));
}

TEST_CASE("a TCP handshake: connected, refused") {
  Listener l;
  CHECK(connect_outcome(*make_address("127.0.0.1", l.port)) == TcpOutcome::Connected);
  CHECK(connect_outcome(*make_address("127.0.0.1", closed_port())) == TcpOutcome::Refused);
}

TEST_CASE("an ICMP echo to loopback is answered, or ping sockets are not allowed here") {
  bool unavailable = false;
  int fd = send_icmp_echo(*make_address("127.0.0.1", 0), unavailable);
  if (fd < 0) {
    CHECK(unavailable);  // net.ipv4.ping_group_range excludes us
    MESSAGE("ping sockets are not allowed for this group: the probe uses the TCP handshake");
    return;
  }
  pollfd p{fd, POLLIN, 0};
  REQUIRE(::poll(&p, 1, 2000) == 1);
  CHECK(read_icmp_echo_reply(fd));
  ::close(fd);
  bool v6_unavailable = false;
  CHECK(send_icmp_echo(*make_address("::1", 0), v6_unavailable) < 0);
  CHECK(v6_unavailable);
}

TEST_CASE("latencies are rounded to 0.1 ms") {
  CHECK(round_tenth(1.04) == doctest::Approx(1.0));
  CHECK(round_tenth(1.06) == doctest::Approx(1.1));
  CHECK(round_tenth(0.0) == doctest::Approx(0.0));
}
