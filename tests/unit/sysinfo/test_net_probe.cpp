// Network probes against real sockets on loopback.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "sysinfo/net_probe.hpp"
#include "support/loopback_listener.hpp"

using namespace dbr;
using namespace dbr::sysinfo;
using namespace std::chrono_literals;

namespace {

using Listener = test::LoopbackListener;

std::uint16_t closed_port() {
  Listener l;
  return l.port;  // closed again when `l` goes
}

}  // namespace

TEST_CASE("tcp_probe: connected, refused, bad address") {
  Listener l;
  auto ok = tcp_probe("127.0.0.1", l.port, 1s);
  CHECK(ok.outcome == TcpOutcome::Connected);
  CHECK(ok.elapsed < 1s);
  auto refused = tcp_probe("127.0.0.1", closed_port(), 1s);
  CHECK(refused.outcome == TcpOutcome::Refused);
  CHECK(tcp_probe("not-an-ip", 53, 1s).outcome == TcpOutcome::Failed);
  CHECK(internet_reachable("127.0.0.1", l.port, 1s) == true);
  CHECK(internet_reachable("127.0.0.1", closed_port(), 1s) == false);
}

TEST_CASE("tcp_probe: a black-holed address times out within the bound, and cancelling returns at once") {
  // 192.0.2.0/24 (TEST-NET-1) is never routed; depending on the sandbox the
  // connect either hangs (timeout) or fails at once (no route).
  auto start = Clock::now();
  auto probe = tcp_probe("192.0.2.1", 53, 300ms);
  CHECK(Clock::now() - start < 2s);
  CHECK(probe.outcome != TcpOutcome::Connected);

  int cancel = ::eventfd(0, EFD_CLOEXEC);
  std::uint64_t one = 1;
  REQUIRE(::write(cancel, &one, sizeof one) == sizeof one);
  start = Clock::now();
  auto cancelled = tcp_probe("192.0.2.1", 53, 10s, cancel);
  CHECK(Clock::now() - start < 1s);
  CHECK(cancelled.outcome != TcpOutcome::Connected);
  CHECK(cancelled.outcome != TcpOutcome::TimedOut);
  ::close(cancel);
}

TEST_CASE("gateway latency to loopback is measured by ICMP or TCP") {
  auto latency = gateway_latency("127.0.0.1", "", 1s);
  REQUIRE(latency.ms);
  CHECK(*latency.ms >= 0.0);
  CHECK(*latency.ms < 1000.0);
  CHECK((std::string(latency.method) == "icmp" || std::string(latency.method) == "tcp"));
  MESSAGE("loopback latency " << *latency.ms << " ms via " << std::string(latency.method));
  CHECK_FALSE(gateway_latency("bogus", "", 1s).ms);
}
