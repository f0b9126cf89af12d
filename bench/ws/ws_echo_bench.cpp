// Round-trip echo rate of ws::Connection over loopback against an
// independent server (python3-websockets, tests/support/ws_peer.py, started
// here as the interop test starts it), over ws:// and wss://. One message in
// flight at a time, so this is latency-bound and mostly measures the Python
// server.
#include <systemd/sd-event.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>

#include "common/random.hpp"
#include "loop/event_loop.hpp"
#include "support/peer_process.hpp"
#include "support/run_loop.hpp"
#include "ws/connection.hpp"

using namespace dbr;
using namespace std::chrono_literals;

namespace {

using test::run_until;

void bench(test::PeerProcess& peer, const char* port_name, std::size_t size, int round_trips) {
  loop::EventLoop ev;
  SystemRandom random;
  ws::Connection::Options o;
  const bool tls = std::string(port_name) == "wss";
  o.url = std::string(tls ? "wss" : "ws") + "://localhost:" + std::to_string(peer.port(port_name)) + "/echo";
  o.ca_file = peer.str("ca");
  o.max_message_bytes = 4u << 20;
  int received = 0;
  bool opened = false;
  bool ended = false;
  ws::Connection::Handler h = [&](ws::Event&& e) {
    if (std::holds_alternative<ws::Opened>(e)) opened = true;
    if (std::holds_alternative<ws::Message>(e)) ++received;
    if (std::holds_alternative<ws::Closed>(e)) ended = true;
    if (const auto* f = std::get_if<ws::Failure>(&e)) {
      std::printf("failed: %s\n", f->detail.c_str());
      ended = true;
    }
  };
  ws::Connection conn(ev, random, o, h);
  const auto connect_start = Clock::now();
  conn.open();
  if (!run_until(ev, [&] { return opened || ended; }, 10s) || !opened) return;
  const double connect_ms = std::chrono::duration<double, std::milli>(Clock::now() - connect_start).count();
  const std::string message(size, 'e');
  const auto start = Clock::now();
  for (int i = 0; i < round_trips && !ended; ++i) {
    conn.send_text(message);
    if (!run_until(ev, [&] { return received > i || ended; }, 10s)) break;
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("%5s  %8zu  %8d  %12.0f  %10.1f  %10.1f\n", port_name, size, received, received / seconds,
              seconds / received * 1e6, connect_ms);
  conn.close(1000, "");
  (void)run_until(ev, [&] { return ended; }, 5s);
}

}  // namespace

int main() {
  test::PeerProcess& peer = test::peer();
  std::printf("ws echo over loopback against python3-websockets (one message in flight)\n");
  std::printf("%5s  %8s  %8s  %12s  %10s  %10s\n", "url", "bytes", "trips", "trips/s", "us/trip", "open ms");
  for (const char* port : {"ws", "wss"}) {
    bench(peer, port, 32, 5000);
    bench(peer, port, 1024, 5000);
    bench(peer, port, 65536, 1000);
    bench(peer, port, 1u << 20, 100);
  }
  return 0;
}
