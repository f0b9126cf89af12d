// The slow-facts probe on a real event loop, over a fake root whose default
// route points at loopback (or at a black hole).
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "loop/event_loop.hpp"
#include "loop/timer.hpp"
#include "sysinfo/net_probe.hpp"
#include "sysinfo/slow_facts_probe.hpp"
#include "support/loopback_listener.hpp"
#include "unit/sysinfo/fake_tree.hpp"

using namespace dbr;
using namespace dbr::sysinfo;
using namespace std::chrono_literals;

namespace {

using Listener = test::LoopbackListener;

// A listener on 127.0.0.1 whose accept queue is full: the kernel drops
// further SYNs (tcp_abort_on_overflow is off by default), so a connect to it
// gets no answer and hangs until it is given up.
struct FullListener {
  Listener listener{0};
  std::vector<int> fillers;

  FullListener() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(listener.port);
    for (int i = 0; i < 16; ++i) {
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      REQUIRE(fd >= 0);
      int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
      REQUIRE((rc == 0 || errno == EINPROGRESS));
      pollfd p{fd, POLLOUT, 0};
      if (rc != 0 && ::poll(&p, 1, 200) == 0) {
        ::close(fd);  // no answer: the queue is full
        return;
      }
      fillers.push_back(fd);
    }
    FAIL("the accept queue did not fill");
  }
  ~FullListener() {
    for (int fd : fillers) ::close(fd);
  }
  FullListener(const FullListener&) = delete;
  FullListener& operator=(const FullListener&) = delete;
};

// /proc/net/route with one default route through `gateway_hex` (the
// kernel's little-endian hex) on lo.
void default_route(test::FakeTree& tree, const std::string& gateway_hex) {
  tree.write("/proc/net/route",
             "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\n"
             "lo\t00000000\t" + gateway_hex + "\t0003\t0\t0\t0\t00000000\n");
}

bool ping_sockets_allowed() {
  bool unavailable = false;
  int fd = send_icmp_echo(*make_address("127.0.0.1", 0), unavailable);
  if (fd >= 0) ::close(fd);
  return fd >= 0;
}

std::size_t open_fds() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

// A gateway that never answers: a black-holed address when ping sockets
// are allowed (its echo goes unanswered), else `full`'s port on loopback
// (the TCP handshake hangs).
void unanswering_gateway(test::FakeTree& tree, SlowFactsOptions& options, const FullListener& full) {
  if (ping_sockets_allowed()) {
    default_route(tree, "010200C0");  // 192.0.2.1 (TEST-NET-1), never routed
  } else {
    default_route(tree, "0100007F");  // 127.0.0.1
    options.gateway_tcp_port = full.listener.port;
  }
}

}  // namespace

TEST_CASE("the probe collects at start and again on request after the gap, on the loop thread") {
  test::FakeTree tree;
  tree.net("wlan0", 3, 1, "b8:27:eb:00:00:01", "up");
  tree.mkdir("/sys/class/net/wlan0/wireless");
  default_route(tree, "0100007F");  // the gateway is 127.0.0.1: it answers
  Listener gateway_dns;             // the handshake's target when ping sockets are not allowed
  loop::EventLoop ev;
  SlowFactsOptions options;
  options.root = tree.root();
  options.min_gap = 200ms;
  options.timeout = 1s;
  options.gateway_tcp_port = gateway_dns.port;
  std::vector<SlowFacts> reports;
  std::vector<TimePoint> report_times;
  const auto loop_thread = std::this_thread::get_id();
  bool on_loop_thread = true;
  std::unique_ptr<SlowFactsProbe> probe;
  probe = std::make_unique<SlowFactsProbe>(ev, options, [&](SlowFacts&& f) {
    on_loop_thread = on_loop_thread && std::this_thread::get_id() == loop_thread;
    reports.push_back(std::move(f));
    report_times.push_back(Clock::now());
    if (reports.size() == 1) probe->refresh();  // within the gap: runs when it ends
    if (reports.size() == 2) ev.request_shutdown("done");
  });
  loop::Timer guard(ev, [&] { ev.request_shutdown("guard"); });
  guard.arm_in(10s);
  TimePoint start = Clock::now();
  probe->start();
  CHECK(ev.run() == 0);
  REQUIRE(reports.size() == 2);
  CHECK(on_loop_thread);
  const SlowFacts& f = reports[0];
  CHECK(f.gateway == "127.0.0.1");
  REQUIRE(f.gateway_latency_ms.has_value());
  CHECK(*f.gateway_latency_ms >= 0.0);
  CHECK(*f.gateway_latency_ms < 1000.0);
  CHECK_FALSE(f.internet_reachable);  // not the probe's: the monitor's verdict
  // wlan0 exists in the fake tree, but its ifindex is no Wi-Fi station here.
  REQUIRE(f.wifi_ssid.count("wlan0") == 1);
  CHECK_FALSE(f.wifi_ssid.at("wlan0"));
  CHECK(report_times[1] - start >= 200ms);  // the refresh waited for the gap
}

TEST_CASE("a gateway that does not answer ends the collection at its timeout, and refreshes meanwhile coalesce") {
  FullListener full;
  test::FakeTree tree;
  loop::EventLoop ev;
  SlowFactsOptions options;
  options.root = tree.root();
  options.min_gap = 0ms;
  options.timeout = 300ms;
  unanswering_gateway(tree, options, full);
  std::vector<TimePoint> report_times;
  std::vector<SlowFacts> reports;
  std::unique_ptr<SlowFactsProbe> probe;
  probe = std::make_unique<SlowFactsProbe>(ev, options, [&](SlowFacts&& f) {
    reports.push_back(std::move(f));
    report_times.push_back(Clock::now());
  });
  loop::Timer refresher(ev, [&] {
    probe->refresh();  // during the first collection: three asks, one more collection
    probe->refresh();
    probe->refresh();
  });
  loop::Timer stop(ev, [&] { ev.request_shutdown("done"); });
  TimePoint start = Clock::now();
  probe->start();
  refresher.arm_in(50ms);
  stop.arm_in(1500ms);
  CHECK(ev.run() == 0);
  REQUIRE(reports.size() == 2);
  CHECK(reports[0].gateway.has_value());
  CHECK_FALSE(reports[0].gateway_latency_ms);
  CHECK(report_times[0] - start >= 250ms);
  CHECK(report_times[0] - start < 1s);
  CHECK(report_times[1] - report_times[0] >= 250ms);
}

TEST_CASE("destroying the probe during a collection closes its sockets at once") {
  FullListener full;
  test::FakeTree tree;
  tree.net("wlan0", 3, 1, "b8:27:eb:00:00:01", "up");
  tree.mkdir("/sys/class/net/wlan0/wireless");
  loop::EventLoop ev;
  SlowFactsOptions options;
  options.root = tree.root();
  options.timeout = 30s;
  unanswering_gateway(tree, options, full);
  loop::Timer clock_user(ev, [] {});  // the loop's monotonic timerfd is the loop's, made on first use
  clock_user.arm_in(1h);
  const std::size_t before = open_fds();
  auto probe = std::make_unique<SlowFactsProbe>(ev, options, [](SlowFacts&&) {});
  probe->start();  // the gateway probe's socket (and perhaps a netlink one) are open now
  CHECK(open_fds() > before);
  probe.reset();
  CHECK(open_fds() == before);
}
