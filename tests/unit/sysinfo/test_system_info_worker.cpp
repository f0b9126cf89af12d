// The system-info worker thread on a real event loop, over a fake root.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "sysinfo/net_probe.hpp"
#include "sysinfo/system_info_worker.hpp"
#include "loop/event_loop.hpp"
#include "loop/timer.hpp"
#include "unit/sysinfo/fake_tree.hpp"
#include "support/loopback_listener.hpp"

using namespace dbr;
using namespace dbr::sysinfo;
using namespace std::chrono_literals;

namespace {

using Listener = test::LoopbackListener;

// A listener on 127.0.0.1 whose accept queue is full: the kernel drops
// further SYNs (tcp_abort_on_overflow is off by default), so a connect to it
// gets no answer and hangs until it times out or is cancelled.
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

// Sockets in SYN_SENT towards 127.0.0.1:port, from /proc/net/tcp.
std::size_t syn_sent_to(std::uint16_t port) {
  std::ifstream in("/proc/net/tcp");
  REQUIRE(in);
  char remote[32];
  std::snprintf(remote, sizeof remote, "0100007F:%04X", static_cast<unsigned>(port));
  std::string line;
  std::getline(in, line);  // header
  std::size_t n = 0;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, local, rem, state;
    fields >> slot >> local >> rem >> state;
    n += rem == remote && state == "02";  // TCP_SYN_SENT
  }
  return n;
}

}  // namespace

TEST_CASE("the worker reports at start and again on request, on the loop thread") {
  test::FakeTree tree;
  test::build_pi_tree(tree);
  // The gateway is loopback, so the latency probe gets an answer.
  tree.write("/proc/net/route",
             "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\n"
             "lo\t00000000\t0100007F\t0003\t0\t0\t0\t00000000\n");
  Listener reachable;
  loop::EventLoop ev;
  std::vector<SlowFacts> reports;
  std::vector<TimePoint> report_times;
  auto loop_thread = std::this_thread::get_id();
  bool on_loop_thread = true;
  SystemInfoWorkerOptions options;
  options.root = tree.root();
  options.refresh_every = 1h;
  options.min_refresh_gap = 200ms;
  options.reachability_host = "127.0.0.1";
  options.reachability_port = reachable.port;
  options.probe_timeout = 500ms;
  std::unique_ptr<SystemInfoWorker> worker;
  worker = std::make_unique<SystemInfoWorker>(ev, options, [&](SlowFacts&& f) {
    on_loop_thread = on_loop_thread && std::this_thread::get_id() == loop_thread;
    reports.push_back(std::move(f));
    report_times.push_back(Clock::now());
    if (reports.size() == 1) worker->request_refresh();
    if (reports.size() == 2) ev.request_shutdown("done");
  });
  loop::Timer guard(ev, [&] { ev.request_shutdown("guard"); });
  guard.arm_in(10s);
  TimePoint start = Clock::now();
  worker->start();
  CHECK(ev.run() == 0);
  REQUIRE(reports.size() == 2);
  CHECK(on_loop_thread);
  const SlowFacts& f = reports[0];
  CHECK(f.internet_reachable == true);
  CHECK(f.gateway == "127.0.0.1");
  CHECK(f.gateway_latency_ms.has_value());
  // wlan0 exists in the fake tree, but not in this kernel: its SSID is null.
  REQUIRE(f.wifi_ssid.count("wlan0") == 1);
  CHECK_FALSE(f.wifi_ssid.at("wlan0"));
  // The refresh honoured the minimum gap.
  CHECK(report_times[1] - start >= 200ms);
  worker.reset();
}

TEST_CASE("stopping the worker interrupts a probe in progress") {
  FullListener full;
  // A probe to it really hangs.
  REQUIRE(tcp_probe("127.0.0.1", full.listener.port, 300ms).outcome == TcpOutcome::TimedOut);
  REQUIRE(syn_sent_to(full.listener.port) == 0);

  test::FakeTree tree;  // no route, no Wi-Fi: the reachability probe is all it does
  loop::EventLoop ev;
  SystemInfoWorkerOptions options;
  options.root = tree.root();
  options.reachability_host = "127.0.0.1";
  options.reachability_port = full.listener.port;
  options.probe_timeout = 30s;
  auto worker = std::make_unique<SystemInfoWorker>(ev, options, [](SlowFacts&&) {});
  worker->start();
  // Wait until the probe's connect is pending (its SYN unanswered).
  auto waited = Clock::now();
  while (syn_sent_to(full.listener.port) == 0 && Clock::now() - waited < 5s) std::this_thread::sleep_for(5ms);
  REQUIRE(syn_sent_to(full.listener.port) == 1);
  auto start = Clock::now();
  worker.reset();
  CHECK(Clock::now() - start < 2s);
  CHECK(syn_sent_to(full.listener.port) == 0);  // the probe's socket is closed
}

TEST_CASE("collect_slow_facts with no route and a refused probe") {
  test::FakeTree tree;
  SystemInfoWorkerOptions options;
  options.root = tree.root();
  options.reachability_host = "127.0.0.1";
  options.reachability_port = 1;  // nothing listens on tcpmux
  options.probe_timeout = 500ms;
  auto facts = collect_slow_facts(options);
  CHECK(facts.internet_reachable == false);
  CHECK_FALSE(facts.gateway);
  CHECK_FALSE(facts.gateway_latency_ms);
  CHECK(facts.wifi_ssid.empty());
}
