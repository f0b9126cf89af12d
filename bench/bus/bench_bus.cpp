// Figures for the NATS bridge: round trip loop -> NATS -> echoing peer ->
// NATS -> libnats thread -> mailbox -> loop, against a real nats-server
// started here. Prints median and p99; not a pass/fail test.
//
// Expect about 2 ms: libnats's flusher thread waits 1 ms to batch writes
// before flushing (once in the bridge, once in the peer). SendAsap would
// remove that but write on the caller's thread, i.e. the loop; 1 ms does not
// matter next to the internet round trip to the front end.
#include <fcntl.h>
#include <nats/nats.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "bus/nats_bridge.hpp"
#include "log/log.hpp"
#include "loop/event_loop.hpp"
#include "loop/timer.hpp"

extern char** environ;

using namespace dbr;

namespace {

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  (void)::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  (void)::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

void echo(natsConnection* nc, natsSubscription*, natsMsg* msg, void*) {
  // The "core" answers every request with a log message to the agent.
  (void)natsConnection_Publish(nc, "dunebugger.remote.log", natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
  natsMsg_Destroy(msg);
}

}  // namespace

int main() {
  log::setup(log::Level::Warning, log::Format::Console);
  std::string port = std::to_string(free_port());
  const char* server_argv[] = {"nats-server", "-a", "127.0.0.1", "-p", port.c_str(), nullptr};
  pid_t server = 0;
  posix_spawn_file_actions_t quiet;
  posix_spawn_file_actions_init(&quiet);
  posix_spawn_file_actions_addopen(&quiet, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&quiet, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  int spawned = posix_spawn(&server, "/usr/sbin/nats-server", &quiet, nullptr, const_cast<char**>(server_argv), environ);
  posix_spawn_file_actions_destroy(&quiet);
  if (spawned != 0) {
    std::printf("nats-server not available; no figures\n");
    return 0;
  }
  std::string url = "nats://127.0.0.1:" + port;
  int measured = 0;
  std::vector<double> round_trips_us;
  {
    bus::NatsLibrary library;
    natsConnection* peer = nullptr;
    for (int i = 0; i < 100 && natsConnection_ConnectTo(&peer, url.c_str()) != NATS_OK; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    natsSubscription* sub = nullptr;
    (void)natsConnection_Subscribe(&sub, peer, "dunebugger.core.*", echo, nullptr);
    (void)natsConnection_Flush(peer);

    loop::EventLoop loop;
    bus::NatsOptions options;
    options.servers = {url};
    options.probe_every = std::chrono::hours(1);
    constexpr int kMessages = 2000;
    Clock::time_point sent_at{};
    std::optional<bus::NatsBridge> bridge;
    auto send_next = [&] {
      sent_at = Clock::now();
      (void)bridge->publish("dunebugger.core.dunebugger_set",
                            R"({"subject":"dunebugger_set","body":"sw 17 on","connectionId":"c"})");
    };
    bridge.emplace(loop, options,
                   [&](bus::BusEvent&& event) {
                     if (std::holds_alternative<bus::BusMessage>(event)) {
                       round_trips_us.push_back(
                           std::chrono::duration<double, std::micro>(Clock::now() - sent_at).count());
                       if (++measured == kMessages)
                         loop.request_shutdown("done");
                       else
                         send_next();
                     } else if (std::get<bus::LinkState>(event) == bus::LinkState::Connected && measured == 0) {
                       send_next();
                     }
                   });
    loop::Timer guard(loop, [&] { loop.request_shutdown("timeout"); });
    guard.arm_in(std::chrono::seconds(30));
    loop.add_shutdown_step("nats", [&bridge](loop::EventLoop::Done done) { bridge->begin_shutdown(std::move(done)); });
    bridge->start();
    (void)loop.run();
    bridge.reset();
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(peer);
  }
  ::kill(server, SIGTERM);
  (void)::waitpid(server, nullptr, 0);

  if (round_trips_us.empty()) {
    std::printf("no round trips measured\n");
    return 0;
  }
  std::sort(round_trips_us.begin(), round_trips_us.end());
  auto pct = [&](double p) { return round_trips_us[static_cast<std::size_t>(p * double(round_trips_us.size() - 1))]; };
  std::printf("bridge round trip (publish -> nats-server -> echo peer -> bridge -> loop), %zu messages:\n",
              round_trips_us.size());
  std::printf("  median %.0f us, p99 %.0f us, max %.0f us\n", pct(0.5), pct(0.99), round_trips_us.back());
  return 0;
}
