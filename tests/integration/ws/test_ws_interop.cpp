// ws::Connection on a real event loop against an independent server:
// Debian's python3-websockets, started by this test on loopback
// (tests/support/ws_peer.py).
#include <doctest/doctest.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/random.hpp"
#include "loop/event_loop.hpp"
#include "loop/timer.hpp"
#include "ws/connection.hpp"
#include "support/loopback_listener.hpp"
#include "support/peer_process.hpp"
#include "support/run_loop.hpp"

using namespace dbr;
using namespace std::chrono_literals;

namespace {

using test::run_for;
using test::run_until;

const std::string kSecret = "SECRET-TOKEN-d41d8cd9";

std::string unique_id() {
  static int n = 0;
  return "c" + std::to_string(getpid()) + "-" + std::to_string(++n);
}

std::string url(const char* port_name, const std::string& path, const char* scheme = nullptr) {
  const bool tls = std::string(port_name).starts_with("wss");
  return std::string(scheme ? scheme : (tls ? "wss" : "ws")) + "://localhost:" +
         std::to_string(test::peer().port(port_name)) + path;
}

std::string pattern_text(std::size_t n) {
  std::string s(n, 'a');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 26);
  return s;
}

std::string pattern_binary(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 7) & 0xFF);
  return s;
}

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

ws::Connection::Options options(std::string u) {
  ws::Connection::Options o;
  o.url = std::move(u);
  o.subprotocols = {"json.reliable.webpubsub.azure.v1"};
  o.ca_file = test::peer().str("ca");
  o.connect_timeout = 5s;
  o.handshake_timeout = 5s;
  o.close_timeout = 2s;
  o.max_message_bytes = 2 << 20;
  o.send_queue_max_bytes = 8 << 20;
  return o;
}

// Everything a connection reported.
struct Recorder {
  std::optional<ws::Opened> opened;
  std::vector<ws::Message> messages;
  std::optional<ws::Closed> closed;
  std::optional<ws::Failure> failure;
  int activity = 0;
  int terminal_events = 0;
  bool done() const { return closed || failure; }

  ws::Connection::Handler handler() {
    return [this](ws::Event&& event) {
      std::visit(
          [this](auto&& e) {
            using T = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<T, ws::Opened>) {
              opened = e;
            } else if constexpr (std::is_same_v<T, ws::Message>) {
              messages.push_back(std::move(e));
            } else if constexpr (std::is_same_v<T, ws::Activity>) {
              ++activity;
            } else if constexpr (std::is_same_v<T, ws::Closed>) {
              closed = e;
              ++terminal_events;
            } else if constexpr (std::is_same_v<T, ws::Failure>) {
              failure = e;
              ++terminal_events;
            }
          },
          std::move(event));
    };
  }
};

// Keeps a connection and its recorder together.
struct Client {
  Recorder rec;
  std::unique_ptr<ws::Connection> conn;
  Client(loop::EventLoop& ev, Random& random, ws::Connection::Options o) {
    conn = std::make_unique<ws::Connection>(ev, random, std::move(o), rec.handler());
    conn->open();
  }
};

void check_no_secret(const Recorder& r) {
  if (r.failure) CHECK(r.failure->detail.find(kSecret) == std::string::npos);
  if (r.closed) CHECK(r.closed->reason.find(kSecret) == std::string::npos);
}

// The close code and reason the server recorded for connection `id`.
std::string server_saw(loop::EventLoop& ev, Random& random, const std::string& id) {
  Client c(ev, random, options(url("ws", "/last-close?id=" + id)));
  REQUIRE(run_until(ev, [&] { return !c.rec.messages.empty() || c.rec.done(); }));
  REQUIRE(!c.rec.messages.empty());
  std::string seen = c.rec.messages.front().payload;
  c.conn->close(1000, "");
  REQUIRE(run_until(ev, [&] { return c.rec.done(); }));
  return seen;
}

// Sends one message and waits for the next message back.
ws::Message round_trip(loop::EventLoop& ev, Client& c, const std::string& payload, bool text) {
  const std::size_t before = c.rec.messages.size();
  REQUIRE((text ? c.conn->send_text(payload) : c.conn->send_binary(bytes_of(payload))));
  REQUIRE(run_until(ev, [&] { return c.rec.messages.size() > before || c.rec.done(); }));
  REQUIRE(c.rec.messages.size() > before);
  return c.rec.messages[before];
}

}  // namespace

TEST_CASE("echo of text and binary messages of every length form, over ws:// and wss://") {
  for (const char* port : {"ws", "wss"}) {
    CAPTURE(port);
    loop::EventLoop ev;
    SystemRandom random;
    Client c(ev, random, options(url(port, "/echo?id=" + unique_id() + "&access_token=" + kSecret)));
    REQUIRE(run_until(ev, [&] { return c.rec.opened || c.rec.done(); }));
    REQUIRE(c.rec.opened);
    CHECK(c.rec.opened->subprotocol == "json.reliable.webpubsub.azure.v1");
    CHECK(c.conn->is_open());
    for (std::size_t size : {0u, 125u, 126u, 65535u, 65536u, 1u << 20}) {
      CAPTURE(size);
      auto text = round_trip(ev, c, pattern_text(size), true);
      CHECK(text.text);
      CHECK(text.payload == pattern_text(size));
      auto binary = round_trip(ev, c, pattern_binary(size), false);
      CHECK_FALSE(binary.text);
      CHECK(binary.payload == pattern_binary(size));
      // Messages the server makes itself (not echoes).
      auto made_text = round_trip(ev, c, "send-text " + std::to_string(size), true);
      CHECK(made_text.text);
      CHECK(made_text.payload == pattern_text(size));
      auto made_binary = round_trip(ev, c, "send-binary " + std::to_string(size), true);
      CHECK_FALSE(made_binary.text);
      CHECK(made_binary.payload == pattern_binary(size));
    }
    CHECK(c.rec.activity > 0);
    c.conn->close(1000, "done");
    REQUIRE(run_until(ev, [&] { return c.rec.done(); }));
    REQUIRE(c.rec.closed);
    CHECK(c.rec.closed->code == 1000);
    CHECK_FALSE(c.rec.closed->by_peer);
    CHECK(c.rec.closed->clean);
    CHECK(c.rec.terminal_events == 1);
    check_no_secret(c.rec);
  }
}

TEST_CASE("server-fragmented messages and server pings") {
  loop::EventLoop ev;
  SystemRandom random;
  Client c(ev, random, options(url("wss", "/echo")));
  REQUIRE(run_until(ev, [&] { return c.rec.opened || c.rec.done(); }));
  auto joined = round_trip(ev, c, "fragments alpha beta gamma", true);
  CHECK(joined.payload == "alphabetagamma");
  // The server answers only once our pong with the same payload arrived.
  auto pong = round_trip(ev, c, "ping are-you-there", true);
  CHECK(pong.payload == "pong-ok are-you-there");
  c.conn->close(1000, "");
  REQUIRE(run_until(ev, [&] { return c.rec.done(); }));
}

TEST_CASE("server-initiated close is echoed and reported as clean, by the peer") {
  loop::EventLoop ev;
  SystemRandom random;
  const std::string id = unique_id();
  Client c(ev, random, options(url("ws", "/echo?id=" + id)));
  REQUIRE(run_until(ev, [&] { return c.rec.opened || c.rec.done(); }));
  REQUIRE(c.conn->send_text("close 4001 server says bye"));
  REQUIRE(run_until(ev, [&] { return c.rec.done(); }));
  REQUIRE(c.rec.closed);
  CHECK(c.rec.closed->code == 4001);
  CHECK(c.rec.closed->reason == "server says bye");
  CHECK(c.rec.closed->by_peer);
  CHECK(c.rec.closed->clean);
  // The server got our echo: its code (§5.5.1 "typically echos the status code").
  CHECK(server_saw(ev, random, id) == "4001 ");  // the code, without the reason
}

TEST_CASE("client close: the server sees our code and reason") {
  loop::EventLoop ev;
  SystemRandom random;
  const std::string id = unique_id();
  Client c(ev, random, options(url("wss", "/echo?id=" + id)));
  REQUIRE(run_until(ev, [&] { return c.rec.opened || c.rec.done(); }));
  c.conn->close(4002, "client-bye");
  REQUIRE(run_until(ev, [&] { return c.rec.done(); }));
  REQUIRE(c.rec.closed);
  CHECK(c.rec.closed->code == 4002);
  CHECK_FALSE(c.rec.closed->by_peer);
  CHECK(c.rec.closed->clean);
  CHECK(server_saw(ev, random, id) == "4002 client-bye");
}

TEST_CASE("an oversized message closes with 1009") {
  loop::EventLoop ev;
  SystemRandom random;
  const std::string id = unique_id();
  auto o = options(url("ws", "/echo?id=" + id));
  o.max_message_bytes = 1000;
  Client c(ev, random, o);
  REQUIRE(run_until(ev, [&] { return c.rec.opened || c.rec.done(); }));
  auto ok = round_trip(ev, c, "send-text 1000", true);  // exactly the limit
  CHECK(ok.payload.size() == 1000);
  REQUIRE(c.conn->send_text("send-text 1001"));
  REQUIRE(run_until(ev, [&] { return c.rec.done(); }));
  REQUIRE(c.rec.failure);
  CHECK(c.rec.failure->kind == ws::FailureKind::Protocol);
  CHECK(c.rec.failure->close_code == 1009);
  CHECK(server_saw(ev, random, id) == "1009 message over 1000 bytes");
}

TEST_CASE("an HTTP 401 or 503 during the upgrade is reported with its status") {
  loop::EventLoop ev;
  SystemRandom random;
  Client unauthorized(ev, random, options(url("wss", "/status/401?access_token=" + kSecret)));
  Client unavailable(ev, random, options(url("ws", "/status/503")));
  REQUIRE(run_until(ev, [&] { return unauthorized.rec.done() && unavailable.rec.done(); }));
  REQUIRE(unauthorized.rec.failure);
  CHECK(unauthorized.rec.failure->kind == ws::FailureKind::HttpStatus);
  CHECK(unauthorized.rec.failure->http_status == 401);
  check_no_secret(unauthorized.rec);
  REQUIRE(unavailable.rec.failure);
  CHECK(unavailable.rec.failure->http_status == 503);
  REQUIRE(unavailable.rec.failure->retry_after);
  CHECK(*unavailable.rec.failure->retry_after == 7s);
}

TEST_CASE("TLS is verified: an unknown CA, no caFile, or an unreadable caFile fail with a TLS error") {
  loop::EventLoop ev;
  SystemRandom random;
  Client untrusted(ev, random, options(url("wss_untrusted", "/echo?access_token=" + kSecret)));
  auto no_ca = options(url("wss", "/echo"));
  no_ca.ca_file.clear();
  Client system_only(ev, random, no_ca);
  auto bad_file = options(url("wss", "/echo"));
  bad_file.ca_file = "/nonexistent/ca.pem";
  Client unreadable(ev, random, bad_file);
  REQUIRE(run_until(ev, [&] { return untrusted.rec.done() && system_only.rec.done() && unreadable.rec.done(); }));
  for (Recorder* r : {&untrusted.rec, &system_only.rec, &unreadable.rec}) {
    REQUIRE(r->failure);
    CAPTURE(r->failure->detail);
    CHECK(r->failure->kind == ws::FailureKind::Tls);
    CHECK_FALSE(r->opened);
    check_no_secret(*r);
  }
}

TEST_CASE("a server that accepts TCP and never answers the upgrade hits the handshake timeout") {
  loop::EventLoop ev;
  SystemRandom random;
  auto o = options(url("silent", "/client/hubs/h?access_token=" + kSecret, "ws"));
  o.handshake_timeout = 500ms;
  const auto start = Clock::now();
  Client c(ev, random, o);
  REQUIRE(run_until(ev, [&] { return c.rec.done(); }));
  const auto elapsed = Clock::now() - start;
  REQUIRE(c.rec.failure);
  CHECK(c.rec.failure->kind == ws::FailureKind::Timeout);
  CHECK(c.rec.failure->detail == "no upgrade response within 500 ms");
  CHECK(elapsed >= 450ms);
  CHECK(elapsed < 3s);
  check_no_secret(c.rec);
}

TEST_CASE("refused TCP and unresolvable names are classified") {
  // A port that was listening a moment ago: closed now.
  const std::uint16_t free_port = [] {
    test::LoopbackListener l;
    return l.port;
  }();

  loop::EventLoop ev;
  SystemRandom random;
  Client refused(ev, random, options("ws://127.0.0.1:" + std::to_string(free_port) + "/?access_token=" + kSecret));
  Client unresolvable(ev, random, options("wss://does-not-exist.invalid/?access_token=" + kSecret));
  Client invalid(ev, random, options("http://not-a-ws-url/"));
  CHECK_FALSE(invalid.rec.done());  // never reported from inside open()
  REQUIRE(run_until(ev, [&] { return refused.rec.done() && unresolvable.rec.done() && invalid.rec.done(); }));
  REQUIRE(refused.rec.failure);
  CHECK(refused.rec.failure->kind == ws::FailureKind::Tcp);
  REQUIRE(unresolvable.rec.failure);
  CHECK(unresolvable.rec.failure->kind == ws::FailureKind::Dns);
  REQUIRE(invalid.rec.failure);
  CHECK(invalid.rec.failure->kind == ws::FailureKind::InvalidUrl);
  for (Recorder* r : {&refused.rec, &unresolvable.rec}) check_no_secret(*r);
}

namespace {

// Runs a connection that is stuck before the upgrade while a 10 ms timer
// ticks; returns the largest gap between ticks.
Duration largest_tick_gap_while_stuck(const std::string& u, Recorder& rec, int& ticks) {
  loop::EventLoop ev;
  SystemRandom random;
  auto o = options(u);
  o.connect_timeout = 1s;
  ws::Connection conn(ev, random, o, rec.handler());
  TimePoint last = Clock::now();
  Duration largest{};
  loop::Timer* self = nullptr;
  loop::Timer tick(ev, [&] {
    const TimePoint now = Clock::now();
    largest = std::max(largest, now - last);
    last = now;
    ++ticks;
    self->arm_in(10ms);
  });
  self = &tick;
  tick.arm_in(10ms);
  conn.open();
  REQUIRE(run_until(ev, [&] { return rec.done(); }));
  return largest;
}

}  // namespace

TEST_CASE("the loop stays responsive while a connection is stuck in TCP connect") {
  // The peer's listener has a full accept queue, so our SYN is dropped.
  Recorder rec;
  int ticks = 0;
  Duration gap = largest_tick_gap_while_stuck(url("backlog", "/", "ws"), rec, ticks);
  REQUIRE(rec.failure);
  CHECK(rec.failure->kind == ws::FailureKind::Timeout);
  MESSAGE("TCP connect stall: " << ticks << " ticks, largest gap "
                                << std::chrono::duration_cast<std::chrono::microseconds>(gap).count() << " us");
  // ~100 ticks expected in 1 s and gaps of ~10 ms; the bounds are loose for
  // loaded machines. A blocked loop would show one gap of the whole 1 s.
  CHECK(ticks >= 30);
  CHECK(gap < 250ms);
}

TEST_CASE("the loop stays responsive while a connection is stuck in the TLS handshake") {
  // A TCP server that never speaks TLS.
  Recorder rec;
  int ticks = 0;
  Duration gap = largest_tick_gap_while_stuck(url("silent", "/", "wss"), rec, ticks);
  REQUIRE(rec.failure);
  CHECK(rec.failure->kind == ws::FailureKind::Timeout);
  MESSAGE("TLS handshake stall: " << ticks << " ticks, largest gap "
                                  << std::chrono::duration_cast<std::chrono::microseconds>(gap).count() << " us");
  CHECK(ticks >= 30);
  CHECK(gap < 250ms);
}

TEST_CASE("a server that stops reading fills the send queue: SendQueueFull") {
  loop::EventLoop ev;
  SystemRandom random;
  auto o = options(url("stall", "/"));
  o.send_queue_max_bytes = 256 * 1024;
  Client c(ev, random, o);
  REQUIRE(run_until(ev, [&] { return c.rec.opened || c.rec.done(); }));
  REQUIRE(c.rec.opened);
  const std::string chunk = pattern_binary(64 * 1024);
  bool refused = false;
  int sent = 0;
  for (; sent < 2000 && !refused; ++sent) {
    refused = !c.conn->send_binary(bytes_of(chunk));
    (void)sd_event_run(ev.raw(), 0);  // let writes progress while the peer still reads
  }
  MESSAGE("queue full after " << sent << " messages of 64 KiB");
  CHECK(refused);
  CHECK(c.conn->queued_bytes() <= o.send_queue_max_bytes + 2 * 131);
  REQUIRE(run_until(ev, [&] { return c.rec.done(); }));
  REQUIRE(c.rec.failure);
  CHECK(c.rec.failure->kind == ws::FailureKind::SendQueueFull);
  CHECK(c.rec.terminal_events == 1);
}

TEST_CASE("abort drops the connection at once, without events; the server sees it go") {
  loop::EventLoop ev;
  SystemRandom random;
  const std::string id = unique_id();
  Client c(ev, random, options(url("ws", "/echo?id=" + id)));
  REQUIRE(run_until(ev, [&] { return c.rec.opened || c.rec.done(); }));
  c.conn->abort();
  run_for(ev, 200ms);
  CHECK_FALSE(c.rec.done());
  CHECK(server_saw(ev, random, id) == "1006 ");
}

TEST_CASE("the owner may destroy the connection from inside any callback") {
  loop::EventLoop ev;
  SystemRandom random;
  struct Case {
    const char* name;
    std::string url;
    std::string send;  // sent once open
  };
  std::vector<Case> cases = {
      {"on_open", url("ws", "/echo"), ""},
      {"on_activity", url("ws", "/echo"), "hello"},
      {"on_message", url("wss", "/echo"), "hello"},
      {"on_closed", url("ws", "/echo"), "close 1000 bye"},
      {"on_failed", url("ws", "/status/500"), ""},
  };
  for (const auto& tc : cases) {
    CAPTURE(tc.name);
    std::unique_ptr<ws::Connection> conn;
    int calls_after = 0;
    bool destroyed = false;
    auto destroy = [&] {
      if (destroyed) {
        ++calls_after;
        return;
      }
      destroyed = true;
      conn.reset();
    };
    const std::string which = tc.name;
    // Each event, by the name its callback had before one handler took them all.
    auto event_name = [](const ws::Event& e) -> std::string {
      static const char* const kNames[] = {"on_open", "on_message", "on_activity", "on_closed", "on_failed"};
      return kNames[e.index()];
    };
    ws::Connection::Handler h = [&](ws::Event&& e) {
      if (event_name(e) == which) return destroy();
      if (std::holds_alternative<ws::Opened>(e) && !tc.send.empty()) conn->send_text(tc.send);
    };
    conn = std::make_unique<ws::Connection>(ev, random, options(tc.url), h);
    conn->open();
    CHECK(run_until(ev, [&] { return destroyed; }));
    run_for(ev, 100ms);
    CHECK(calls_after == 0);
  }
}

TEST_CASE("two connections at once, each on its own curl multi") {
  loop::EventLoop ev;
  SystemRandom random;
  Client a(ev, random, options(url("ws", "/echo")));
  Client b(ev, random, options(url("wss", "/echo")));
  REQUIRE(run_until(ev, [&] { return (a.rec.opened || a.rec.done()) && (b.rec.opened || b.rec.done()); }));
  for (int i = 0; i < 20; ++i) {
    REQUIRE(a.conn->send_text("a" + std::to_string(i)));
    REQUIRE(b.conn->send_text("b" + std::to_string(i)));
  }
  REQUIRE(run_until(ev, [&] { return a.rec.messages.size() == 20 && b.rec.messages.size() == 20; }));
  for (int i = 0; i < 20; ++i) {
    CHECK(a.rec.messages[static_cast<std::size_t>(i)].payload == "a" + std::to_string(i));
    CHECK(b.rec.messages[static_cast<std::size_t>(i)].payload == "b" + std::to_string(i));
  }
}

namespace {

// Sets environment variables for one scope, then puts the old values back.
class ScopedEnv {
 public:
  void set(const char* name, const char* value) {
    const char* old = getenv(name);
    saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
    if (value)
      setenv(name, value, 1);
    else
      unsetenv(name);
  }
  ~ScopedEnv() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second)
        setenv(it->first.c_str(), it->second->c_str(), 1);
      else
        unsetenv(it->first.c_str());
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

int tunnels_opened(loop::EventLoop& ev, Random& random) {
  Client c(ev, random, options(url("ws", "/tunnels")));
  REQUIRE(run_until(ev, [&] { return !c.rec.messages.empty() || c.rec.done(); }));
  REQUIRE(!c.rec.messages.empty());
  return std::stoi(c.rec.messages.front().payload);
}

}  // namespace

TEST_CASE("a proxy from the usual environment variables is used, through a CONNECT tunnel") {
  loop::EventLoop ev;
  SystemRandom random;
  ScopedEnv env;
  for (const char* name : {"http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"})
    env.set(name, nullptr);
  const int before = tunnels_opened(ev, random);
  const std::string proxy = "http://127.0.0.1:" + std::to_string(test::peer().port("proxy"));
  env.set("http_proxy", proxy.c_str());
  env.set("https_proxy", proxy.c_str());
  for (const char* port : {"ws", "wss"}) {
    CAPTURE(port);
    Client c(ev, random, options(url(port, "/echo?access_token=" + kSecret)));
    REQUIRE(run_until(ev, [&] { return c.rec.opened || c.rec.done(); }));
    REQUIRE(c.rec.opened);
    CHECK(round_trip(ev, c, "through the tunnel", true).payload == "through the tunnel");
    c.conn->close(1000, "");
    REQUIRE(run_until(ev, [&] { return c.rec.done(); }));
  }
  env.set("http_proxy", nullptr);
  env.set("https_proxy", nullptr);
  // ws:// tunnels too (CURLOPT_HTTPPROXYTUNNEL): the proxy never sees the
  // request line with the token.
  CHECK(tunnels_opened(ev, random) == before + 2);
}
