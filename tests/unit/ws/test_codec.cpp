#include <doctest/doctest.h>

#include "common/retry_after.hpp"

#include <functional>
#include <variant>

#include "common/random.hpp"
#include "ws/codec/codec.hpp"
#include "support/ws_frames.hpp"

using namespace dbr;
using namespace dbr::ws;
using namespace dbr::ws::test;
using namespace std::chrono_literals;

namespace {

std::string show(const Codec::Event& e) {
  if (auto* o = std::get_if<Opened>(&e)) return "opened(" + o->subprotocol + ")";
  if (auto* m = std::get_if<Message>(&e)) return std::string(m->text ? "text[" : "binary[") + m->payload + "]";
  if (std::holds_alternative<Activity>(e)) return "activity";
  if (auto* c = std::get_if<Closed>(&e))
    return "closed(" + std::to_string(c->code) + " '" + c->reason + "'" + (c->by_peer ? " peer" : " us") +
           (c->clean ? " clean" : " unclean") + ")";
  if (auto* u = std::get_if<UnexpectedInput>(&e)) return "unexpected(" + describe(*u) + ")";
  auto& f = std::get<Failure>(e);
  std::string s = "failed(" + std::string(failure_kind_name(f.kind));
  if (f.http_status) s += " " + std::to_string(f.http_status);
  if (f.retry_after) s += " retry=" + std::to_string(f.retry_after->count());
  if (f.close_code) s += " code=" + std::to_string(f.close_code);
  return s + ": " + f.detail + ")";
}

// A codec driven by a scripted server, in virtual time.
struct Harness {
  SeededRandom random{3};
  CodecOptions options = make_options();
  Codec codec{random, options};
  TimePoint now = TimePoint(1000s);
  std::string sent;  // everything the transport took
  bool transport_writes = true;

  static CodecOptions make_options() {
    CodecOptions o;
    o.host_header = "hub.test:8443";
    o.target = "/client/hubs/h?access_token=T";
    o.subprotocols = {"json.webpubsub.azure.v1"};
    o.connect_timeout = 5s;
    o.handshake_timeout = 4s;
    o.close_timeout = 2s;
    o.max_message_bytes = 1000;
    o.send_queue_max_bytes = 2000;
    return o;
  }

  void write() {
    while (transport_writes) {
      auto out = codec.pending_output();
      if (out.empty()) return;
      sent.append(reinterpret_cast<const char*>(out.data()), out.size());
      codec.consume_output(now, out.size());
    }
  }
  std::vector<std::string> events() {
    std::vector<std::string> out;
    while (auto e = codec.poll_event()) out.push_back(show(*e));
    return out;
  }
  void feed(std::string_view bytes) {
    codec.on_bytes(now, bytes_of(bytes));
    write();
  }
  std::string accept_response(const std::string& extra = "Sec-WebSocket-Protocol: json.webpubsub.azure.v1\r\n") {
    auto at = sent.find("Sec-WebSocket-Key: ");
    REQUIRE(at != std::string::npos);
    std::string key = sent.substr(at + 19, 24);
    return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
           accept_for_key(key) + "\r\n" + extra + "\r\n";
  }
  // Up to the 101: returns the events of the open.
  std::vector<std::string> open() {
    codec.start(now);
    codec.on_connected(now);
    write();
    feed(accept_response());
    return events();
  }
  // Client frames sent after the upgrade request.
  std::vector<ClientFrame> frames() {
    auto end = sent.find("\r\n\r\n");
    return parse_client_frames(std::string_view(sent).substr(end + 4));
  }
  void advance_to_deadline() {
    REQUIRE(codec.next_deadline());
    now = *codec.next_deadline();
    codec.on_timeout(now);
    write();
  }
};

using V = std::vector<std::string>;

}  // namespace

TEST_CASE("open: the upgrade request goes out on connect, the 101 opens, frames that follow are read") {
  Harness h;
  h.codec.start(h.now);
  CHECK(h.codec.phase() == Codec::Phase::Connecting);
  CHECK(h.codec.pending_output().empty());
  h.codec.on_connected(h.now);
  h.write();
  CHECK(h.sent.starts_with("GET /client/hubs/h?access_token=T HTTP/1.1\r\nHost: hub.test:8443\r\n"));
  CHECK(h.sent.find("Sec-WebSocket-Protocol: json.webpubsub.azure.v1\r\n") != std::string::npos);
  CHECK(h.codec.phase() == Codec::Phase::Handshaking);
  h.feed(h.accept_response() + text_frame("hello"));
  CHECK(h.events() == V{"opened(json.webpubsub.azure.v1)", "activity", "text[hello]"});
  CHECK(h.codec.phase() == Codec::Phase::Open);
  CHECK_FALSE(h.codec.next_deadline());
}

TEST_CASE("the handshake and the frames give the same events whole and one byte at a time") {
  std::string script;
  {
    Harness probe;  // same seed: same key
    probe.codec.start(probe.now);
    probe.codec.on_connected(probe.now);
    probe.write();
    script = probe.accept_response() + text_frame("a", false) + ping_frame("p") + continuation("b", true) +
             binary_frame(std::string(300, 'x')) + close_frame(1000, "done");
  }
  auto run = [&](const std::vector<std::string_view>& chunks) {
    Harness h;
    h.codec.start(h.now);
    h.codec.on_connected(h.now);
    h.write();
    std::string out;
    for (auto chunk : chunks) {
      h.feed(chunk);
      for (auto& e : h.events())
        if (e != "activity") out += e + " ";  // one per chunk, so not comparable
    }
    for (auto& f : h.frames()) out += "sent(" + std::to_string(f.opcode) + " " + f.payload.substr(0, 2) + ") ";
    return out;
  };
  auto [whole, bytewise] = whole_and_bytewise(script, run);
  CHECK(whole == bytewise);
  CHECK(whole == "opened(json.webpubsub.azure.v1) text[ab] binary[" + std::string(300, 'x') +
                     "] closed(1000 'done' peer clean) sent(10 p) sent(8 \x03\xe8) ");
}

TEST_CASE("connect timeout fires at exactly connect_timeout, not before") {
  Harness h;
  const TimePoint start = h.now;
  h.codec.start(h.now);
  REQUIRE(h.codec.next_deadline() == start + 5s);
  h.now = start + 4999ms;
  h.codec.on_timeout(h.now);  // spurious: no-op
  CHECK(h.events().empty());
  h.advance_to_deadline();
  CHECK(h.now - start == 5s);
  CHECK(h.events() == V{"failed(timeout: connect (DNS, TCP, TLS) took over 5000 ms)"});
  CHECK(h.codec.finished());
}

TEST_CASE("handshake timeout: a server that accepts TCP and never answers") {
  Harness h;
  h.codec.start(h.now);
  h.now += 1s;
  const TimePoint connected = h.now;
  h.codec.on_connected(h.now);
  h.write();
  REQUIRE(h.codec.next_deadline() == connected + 4s);
  h.feed("HTTP/1.1 101 Switching");  // part of a head, then silence
  h.advance_to_deadline();
  CHECK(h.now - connected == 4s);
  CHECK(h.events() == V{"failed(timeout: no upgrade response within 4000 ms)"});
}

TEST_CASE("a refused upgrade reports the HTTP status and Retry-After") {
  Harness h;
  h.codec.start(h.now);
  h.codec.on_connected(h.now);
  h.write();
  h.feed("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 7\r\nContent-Length: 0\r\n\r\n");
  CHECK(h.events() == V{"failed(HTTP status 503 retry=7: upgrade refused: HTTP 503 Service Unavailable)"});
  Harness u;
  u.codec.start(u.now);
  u.codec.on_connected(u.now);
  u.write();
  u.feed("HTTP/1.1 401 Unauthorized\r\n\r\n");
  CHECK(u.events() == V{"failed(HTTP status 401: upgrade refused: HTTP 401 Unauthorized)"});
}

TEST_CASE("a refusal's body arriving after its head is awaited; the reason and Date reach the owner") {
  Harness h;
  h.codec.start(h.now);
  h.codec.on_connected(h.now);
  h.write();
  h.feed("HTTP/1.1 401 Unauthorized\r\nDate: Sun, 06 Dec 2026 13:46:03 GMT\r\nContent-Length: 28\r\n\r\n");
  CHECK(h.events().empty());  // the body is on its way
  h.feed("Unauthorized: token expired\n");
  auto e = h.codec.poll_event();
  REQUIRE(e);
  const auto* f = std::get_if<Failure>(&*e);
  REQUIRE(f);
  CHECK(f->http_status == 401);
  CHECK(f->service_reason == "Unauthorized: token expired");
  REQUIRE(f->server_date);
  CHECK(utc_text(*f->server_date) == "2026-12-06 13:46:03 UTC");
  // A body cut short by the close: the refusal stands with what came.
  Harness c;
  c.codec.start(c.now);
  c.codec.on_connected(c.now);
  c.write();
  c.feed("HTTP/1.1 401 Unauthorized\r\nContent-Length: 28\r\n\r\nUnauth");
  c.codec.on_eof(c.now);
  CHECK(c.events() == V{"failed(HTTP status 401: upgrade refused: HTTP 401 Unauthorized)"});
}

TEST_CASE("a bad 101 fails the handshake; EOF before the response too") {
  Harness h;
  h.codec.start(h.now);
  h.codec.on_connected(h.now);
  h.write();
  h.feed(h.accept_response("Sec-WebSocket-Protocol: nope\r\n"));
  CHECK(h.events() == V{"failed(handshake: server selected subprotocol 'nope' that was not offered)"});
  Harness e;
  e.codec.start(e.now);
  e.codec.on_connected(e.now);
  e.codec.on_eof(e.now);
  CHECK(e.events() == V{"failed(handshake: connection closed before the upgrade response)"});
}

TEST_CASE("client close: Close frame, the server's answer, then Closed by us, clean") {
  Harness h;
  h.open();
  h.codec.close(h.now, 1000, "bye");
  h.write();
  CHECK(h.codec.phase() == Codec::Phase::Closing);
  REQUIRE(h.frames().size() == 1);
  CHECK(h.frames()[0].close_code() == 1000);
  CHECK(h.frames()[0].close_reason() == "bye");
  CHECK_FALSE(h.codec.send_text(h.now, "too late"));
  h.now += 100ms;
  h.feed(text_frame("in flight") + close_frame(1000, "ok"));
  CHECK(h.events() == V{"activity", "text[in flight]", "closed(1000 'ok' us clean)"});
  CHECK(h.codec.finished());
}

TEST_CASE("client close times out after close_timeout with 1006") {
  Harness h;
  h.open();
  const TimePoint closed_at = h.now;
  h.codec.close(h.now, 1001, "");
  h.write();
  h.advance_to_deadline();
  CHECK(h.now - closed_at == 2s);
  CHECK(h.events() == V{"closed(1006 'no close frame from the server within 2000 ms' us unclean)"});
}

TEST_CASE("server close: echoed, reported once the echo is written") {
  Harness h;
  h.open();
  h.transport_writes = false;  // the socket is not writable yet
  h.feed(close_frame(1008, "policy"));
  CHECK(h.events() == V{"activity"});
  CHECK(h.codec.phase() == Codec::Phase::Flushing);
  h.transport_writes = true;
  h.write();
  CHECK(h.events() == V{"closed(1008 'policy' peer clean)"});
  REQUIRE(h.frames().size() == 1);
  CHECK(h.frames()[0].close_code() == 1008);
}

TEST_CASE("server close whose echo cannot be written is reported at close_timeout") {
  Harness h;
  h.open();
  h.transport_writes = false;
  const TimePoint at = h.now;
  h.feed(close_frame(1000, ""));
  h.events();
  h.advance_to_deadline();
  CHECK(h.now - at == 2s);
  CHECK(h.events() == V{"closed(1000 '' peer clean)"});
}

TEST_CASE("EOF after open is an unclean close with 1006") {
  Harness h;
  h.open();
  h.codec.on_eof(h.now);
  CHECK(h.events() == V{"closed(1006 'connection closed without a close frame' peer unclean)"});
  Harness r;
  r.open();
  r.codec.on_transport_error(r.now, "receive failed: connection reset");
  CHECK(r.events() == V{"closed(1006 'receive failed: connection reset' peer unclean)"});
}

TEST_CASE("a protocol violation sends its close code, then fails with it") {
  Harness h;
  h.open();
  h.feed(binary_frame(std::string(1001, 'x')));
  CHECK(h.events() == V{"activity", "failed(protocol code=1009: message over 1000 bytes (closing with 1009))"});
  REQUIRE(h.frames().size() == 1);
  CHECK(h.frames()[0].close_code() == 1009);
}

TEST_CASE("send queue bound: a send that would go over it fails the connection") {
  Harness h;
  h.open();
  h.transport_writes = false;  // the peer stopped reading
  std::string msg(500, 'm');   // 508 bytes on the wire
  CHECK(h.codec.send_text(h.now, msg));
  CHECK(h.codec.send_text(h.now, msg));
  CHECK(h.codec.send_text(h.now, msg));
  CHECK(h.codec.queued_bytes() == 3 * 508);
  CHECK_FALSE(h.codec.send_text(h.now, msg));  // 4 * 508 > 2000
  CHECK(h.events() == V{"failed(send queue full: send queue over 2000 bytes)"});
  CHECK(h.codec.finished());
  CHECK_FALSE(h.codec.send_text(h.now, "x"));
  CHECK(h.events().empty());
}

TEST_CASE("pings are answered even while data is queued, ahead of unsent data") {
  Harness h;
  h.open();
  h.transport_writes = false;
  CHECK(h.codec.send_text(h.now, "queued"));
  h.feed(ping_frame("are you there"));
  h.transport_writes = true;
  h.write();
  auto frames = h.frames();
  REQUIRE(frames.size() == 2);
  CHECK(frames[0].opcode == 10);
  CHECK(frames[0].payload == "are you there");
  CHECK(frames[1].payload == "queued");
}

TEST_CASE("close before open ends the attempt with 1006; abandon ends it silently") {
  Harness h;
  h.codec.start(h.now);
  h.codec.close(h.now, 1000, "");
  CHECK(h.events() == V{"closed(1006 'closed before the WebSocket opened' us unclean)"});
  Harness a;
  a.open();
  a.codec.abandon();
  a.codec.on_eof(a.now);
  CHECK(a.events().empty());
  CHECK(a.codec.finished());
}

TEST_CASE("exactly one terminal event, whatever follows it") {
  Harness h;
  h.open();
  h.feed(close_frame(1000, ""));
  h.codec.on_eof(h.now);
  h.codec.on_transport_error(h.now, "x");
  h.codec.close(h.now, 1000, "");
  h.now += 1h;
  h.codec.on_timeout(h.now);
  auto events = h.events();
  CHECK(std::count_if(events.begin(), events.end(), [](auto& e) { return e.starts_with("closed") || e.starts_with("failed"); }) == 1);
}

TEST_CASE("an input the phase cannot get from a correct adapter is reported naming both, as an event") {
  Harness h;
  h.codec.start(h.now);
  h.codec.on_bytes(h.now, bytes_of("x"));
  auto e = h.codec.poll_event();
  REQUIRE(e);
  REQUIRE(std::holds_alternative<UnexpectedInput>(*e));
  CHECK(std::get<UnexpectedInput>(*e) == UnexpectedInput{"ws codec", "Connecting", "Bytes"});
  CHECK_FALSE(h.codec.poll_event());
  Harness o;
  o.open();
  o.codec.on_connected(o.now);
  CHECK(o.events() == V{"unexpected(ws codec: unexpected input Connected in state Open)"});
  Harness f;
  f.open();
  f.codec.abandon();
  f.codec.start(f.now);
  CHECK(f.events() == V{"unexpected(ws codec: unexpected input Start in state Finished)"});
}

TEST_CASE("an unexpected input changes nothing: phase, deadline, output and the attempt go on") {
  SUBCASE("connecting") {
    Harness h;
    h.codec.start(h.now);
    const auto deadline = h.codec.next_deadline();
    const std::function<void()> strays[] = {
        [&] { h.codec.on_bytes(h.now, bytes_of("HTTP/1.1 101")); },
        [&] { h.codec.on_eof(h.now); },
        [&] { h.codec.on_transport_error(h.now, "reset"); },
        [&] { h.codec.start(h.now); },
    };
    for (const auto& stray : strays) {
      stray();
      CHECK(h.codec.phase() == Codec::Phase::Connecting);
      CHECK(h.codec.next_deadline() == deadline);
      CHECK(h.codec.pending_output().empty());
    }
    CHECK(h.events() == V{"unexpected(ws codec: unexpected input Bytes in state Connecting)",
                          "unexpected(ws codec: unexpected input Eof in state Connecting)",
                          "unexpected(ws codec: unexpected input TransportError in state Connecting)",
                          "unexpected(ws codec: unexpected input Start in state Connecting)"});
    // The attempt goes on as if nothing had come.
    h.codec.on_connected(h.now);
    h.write();
    h.feed(h.accept_response() + text_frame("after"));
    CHECK(h.events() == V{"opened(json.webpubsub.azure.v1)", "activity", "text[after]"});
  }
  SUBCASE("open, with data queued") {
    Harness h;
    h.open();
    h.transport_writes = false;
    REQUIRE(h.codec.send_text(h.now, "queued"));
    const std::size_t queued = h.codec.queued_bytes();
    h.codec.on_connect_failed(h.now, Failure{FailureKind::Tcp, 0, std::nullopt, 0, "late"});
    h.codec.start(h.now);
    CHECK(h.events() == V{"unexpected(ws codec: unexpected input ConnectFailed in state Open)",
                          "unexpected(ws codec: unexpected input Start in state Open)"});
    CHECK(h.codec.phase() == Codec::Phase::Open);
    CHECK_FALSE(h.codec.next_deadline());
    CHECK(h.codec.queued_bytes() == queued);
    h.transport_writes = true;
    h.write();
    auto frames = h.frames();
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].payload == "queued");
    h.feed(text_frame("still open"));
    CHECK(h.events() == V{"activity", "text[still open]"});
  }
}
