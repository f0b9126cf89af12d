#include <doctest/doctest.h>

#include <initializer_list>
#include <string>
#include <string_view>

#include "common/random.hpp"
#include "ws/codec/handshake.hpp"
#include "common/retry_after.hpp"
#include "ws/codec/url.hpp"
#include "support/ws_frames.hpp"

using namespace dbr;
using namespace dbr::ws;
using namespace dbr::ws::test;
using namespace std::chrono_literals;

TEST_CASE("Sec-WebSocket-Accept matches RFC 6455's worked example") {
  // §1.3: key "dGhlIHNhbXBsZSBub25jZQ==" gives "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".
  CHECK(accept_for_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST_CASE("the client key is 16 random bytes in base64") {
  SeededRandom a(1), b(1), c(2);
  std::string ka = make_client_key(a);
  CHECK(ka.size() == 24);
  CHECK(ka.substr(22) == "==");
  CHECK(ka == make_client_key(b));
  CHECK(ka != make_client_key(c));
}

TEST_CASE("the upgrade request carries the §4.1 fields, subprotocols and extra headers") {
  UpgradeRequest r{"example.com:8080", "/client/hubs/h?access_token=abc", "dGhlIHNhbXBsZSBub25jZQ==",
                   {"json.reliable.webpubsub.azure.v1", "json.webpubsub.azure.v1"}, {"User-Agent: test/1"}};
  auto bytes = build_upgrade_request(r);
  REQUIRE(bytes);
  CHECK(*bytes ==
        "GET /client/hubs/h?access_token=abc HTTP/1.1\r\n"
        "Host: example.com:8080\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: json.reliable.webpubsub.azure.v1, json.webpubsub.azure.v1\r\n"
        "User-Agent: test/1\r\n"
        "\r\n");
}

TEST_CASE("header injection in the request is refused") {
  UpgradeRequest base{"h", "/", "k", {}, {}};
  auto with = [&](auto change) {
    UpgradeRequest r = base;
    change(r);
    return build_upgrade_request(r);
  };
  CHECK(with([](UpgradeRequest&) {}));
  CHECK_FALSE(with([](UpgradeRequest& r) { r.extra_headers = {"X: a\r\nEvil: b"}; }));
  CHECK_FALSE(with([](UpgradeRequest& r) { r.extra_headers = {"no colon"}; }));
  CHECK_FALSE(with([](UpgradeRequest& r) { r.extra_headers = {": empty name"}; }));
  CHECK_FALSE(with([](UpgradeRequest& r) { r.target = "/a b"; }));
  CHECK_FALSE(with([](UpgradeRequest& r) { r.target = "/a\nb"; }));
  CHECK_FALSE(with([](UpgradeRequest& r) { r.host_header = "h\r\n"; }));
  CHECK_FALSE(with([](UpgradeRequest& r) { r.subprotocols = {"a,b"}; }));
}

namespace {

const std::string kKey = "dGhlIHNhbXBsZSBub25jZQ==";
const std::string kAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

std::string ok_response(const std::string& extra = "") {
  return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Accept: " +
         kAccept + "\r\n" + extra + "\r\n";
}

// Reads a response fed in chunks; returns status, the parsed fields and
// the bytes left after the head.
std::string read_head(const std::vector<std::string_view>& chunks) {
  ResponseReader reader;
  std::string out;
  std::string leftover;
  for (auto chunk : chunks) {
    auto input = bytes_of(chunk);
    auto status = reader.feed(input);
    if (status == ResponseReader::Status::Error) return "error: " + reader.error();
    if (status == ResponseReader::Status::Done) leftover.append(reinterpret_cast<const char*>(input.data()), input.size());
  }
  const auto& r = reader.response();
  out = std::to_string(r.status) + " '" + r.reason + "'";
  for (const auto& [n, v] : r.headers) out += " [" + n + "=" + v + "]";
  return out + " rest=" + leftover;
}

HandshakeOutcome check(const std::string& response, std::vector<std::string> offered = {}) {
  ResponseReader reader;
  auto input = bytes_of(response);
  REQUIRE(reader.feed(input) == ResponseReader::Status::Done);
  return check_response(reader.response(), kKey, offered);
}

}  // namespace

TEST_CASE("the response head is read the same whole and one byte at a time, leaving frame bytes") {
  std::string input = ok_response("Sec-WebSocket-Protocol: p1\r\nX-Folded: a\r\n b\r\n") + "\x81\x02hi";
  auto [whole, bytewise] = whole_and_bytewise(input, read_head);
  CHECK(whole == bytewise);
  CHECK(whole ==
        "101 'Switching Protocols' [Upgrade=websocket] [Connection=Upgrade] [Sec-WebSocket-Accept=" + kAccept +
            "] [Sec-WebSocket-Protocol=p1] [X-Folded=a b] rest=\x81\x02hi");
}

TEST_CASE("bare LF line ends are accepted") {
  CHECK(read_head({"HTTP/1.1 401 Unauthorized\nWWW-Authenticate: Bearer\n\n"}) ==
        "401 'Unauthorized' [WWW-Authenticate=Bearer] rest=");
}

TEST_CASE("malformed or oversized response heads are errors") {
  CHECK(read_head({"HTTP/2 101\r\n\r\n"}).starts_with("error: malformed status line"));
  CHECK(read_head({"SSH-2.0-OpenSSH\r\n\r\n"}).starts_with("error: malformed status line"));
  CHECK(read_head({"HTTP/1.1 101 OK\r\nno colon here\r\n\r\n"}) == "error: malformed header line in the upgrade response");
  // Found by ws_handshake_fuzz: a CR not followed by LF was kept inside a
  // header value (RFC 9112 §2.2 says invalid, or replace it with SP).
  CHECK(read_head({"HTTP/1.1 101 OK\r\nUpgrade: web\rsocket\r\n\r\n"}) == "error: bare CR in the upgrade response head");
  CHECK(read_head({"HTTP/1.1 101 O\rK\n\n"}) == "error: bare CR in the upgrade response head");
  std::string huge = "HTTP/1.1 101 OK\r\nX: " + std::string(ResponseReader::kMaxHeadBytes, 'a');
  CHECK(read_head({huge}) == "error: upgrade response head over 16 KiB");
}

TEST_CASE("a valid 101 is accepted, with the chosen subprotocol") {
  auto o = check(ok_response("Sec-WebSocket-Protocol: p2\r\n"), {"p1", "p2"});
  CHECK(o.accepted);
  CHECK(o.subprotocol == "p2");
  auto none = check(ok_response(), {"p1"});
  CHECK(none.accepted);
  CHECK(none.subprotocol.empty());
  // Case-insensitive header names and values where §4.1 says so.
  auto lower = check("HTTP/1.1 101 x\r\nupgrade: WebSocket\r\nconnection: keep-alive, upgrade\r\n"
                     "sec-websocket-accept: " + kAccept + "\r\n\r\n");
  CHECK(lower.accepted);
}

TEST_CASE("every §4.1 reason to fail the handshake is detected") {
  struct Case {
    std::string name;
    std::string response;
    std::string detail;
  };
  std::vector<Case> cases = {
      {"no Upgrade", "HTTP/1.1 101 x\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + kAccept + "\r\n\r\n",
       "101 response without 'Upgrade: websocket'"},
      {"wrong Upgrade", "HTTP/1.1 101 x\r\nUpgrade: h2c\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + kAccept +
                            "\r\n\r\n",
       "101 response without 'Upgrade: websocket'"},
      {"no Connection", "HTTP/1.1 101 x\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: " + kAccept + "\r\n\r\n",
       "101 response without 'Connection: Upgrade'"},
      {"no accept", "HTTP/1.1 101 x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
       "101 response without Sec-WebSocket-Accept"},
      {"wrong accept", "HTTP/1.1 101 x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAA\r\n\r\n",
       "Sec-WebSocket-Accept does not match the key"},
      {"extension", ok_response("Sec-WebSocket-Extensions: permessage-deflate\r\n"),
       "server selected an extension that was not offered"},
      {"unoffered subprotocol", ok_response("Sec-WebSocket-Protocol: other\r\n"),
       "server selected subprotocol 'other' that was not offered"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    auto o = check(c.response, {"p1"});
    CHECK_FALSE(o.accepted);
    CHECK(o.http_status == 0);
    CHECK(o.detail == c.detail);
  }
}

TEST_CASE("a status other than 101 is reported with the status and Retry-After") {
  auto o = check("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 120\r\n\r\n");
  CHECK_FALSE(o.accepted);
  CHECK(o.http_status == 503);
  REQUIRE(o.retry_after);
  CHECK(*o.retry_after == 120s);
  CHECK(o.detail == "upgrade refused: HTTP 503 Service Unavailable");
  auto unauthorized = check("HTTP/1.1 401 Unauthorized\r\n\r\n");
  CHECK(unauthorized.http_status == 401);
  CHECK_FALSE(unauthorized.retry_after);
  auto dated = check("HTTP/1.1 429 Too Many\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
                     "Retry-After: Sun, 06 Nov 1994 08:50:07 GMT\r\n\r\n");
  REQUIRE(dated.retry_after);
  CHECK(*dated.retry_after == 30s);
}

TEST_CASE("Retry-After: delay-seconds, the three HTTP-date forms, and nonsense") {
  const std::string_view date = "Sun, 06 Nov 1994 08:49:37 GMT";
  CHECK(parse_retry_after("0", std::nullopt) == 0s);
  CHECK(parse_retry_after(" 45 ", std::nullopt) == 45s);
  CHECK(parse_retry_after("99999999999999999999", std::nullopt) == std::chrono::seconds(7 * 24 * 3600));
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", date) == 10s);
  CHECK(parse_retry_after("Sunday, 06-Nov-94 08:51:37 GMT", date) == 120s);
  CHECK(parse_retry_after("Sun Nov  6 08:49:40 1994", date) == 3s);
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", date) == 0s);  // in the past
  CHECK_FALSE(parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", std::nullopt));  // no Date to measure against
  CHECK_FALSE(parse_retry_after("-5", std::nullopt));
  CHECK_FALSE(parse_retry_after("soon", std::nullopt));
  CHECK_FALSE(parse_retry_after("", std::nullopt));
  CHECK_FALSE(parse_http_date("Sun, 31 Feb 1994 08:49:37 GMT"));
  CHECK_FALSE(parse_http_date("Sun, 06 Nov 1994 25:49:37 GMT"));
  CHECK(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT")->time_since_epoch() == 0s);
}

TEST_CASE("ws URLs split into host, port, Host header and target") {
  auto u = parse_ws_url("wss://hub.example.com/client/hubs/dunebugger?access_token=SECRET");
  REQUIRE(u);
  CHECK(u->secure);
  CHECK(u->host == "hub.example.com");
  CHECK(u->port == 443);
  CHECK(u->target == "/client/hubs/dunebugger?access_token=SECRET");
  CHECK(u->host_header() == "hub.example.com");
  CHECK(u->transport_url() == "https://hub.example.com:443/");
  CHECK(u->display() == "wss://hub.example.com:443");
  CHECK(u->display().find("SECRET") == std::string::npos);

  auto v = parse_ws_url("WS://127.0.0.1:8080?x=1");
  REQUIRE(v);
  CHECK_FALSE(v->secure);
  CHECK(v->port == 8080);
  CHECK(v->target == "/?x=1");
  CHECK(v->host_header() == "127.0.0.1:8080");
  CHECK(v->transport_url() == "http://127.0.0.1:8080/");

  auto six = parse_ws_url("ws://[::1]:9000/p");
  REQUIRE(six);
  CHECK(six->host == "::1");
  CHECK(six->host_header() == "[::1]:9000");
  CHECK(six->transport_url() == "http://[::1]:9000/");

  CHECK(parse_ws_url("ws://h")->target == "/");
  for (const char* bad : {"http://h/", "ws://", "ws:///p", "ws://h:0/", "ws://h:65536/", "ws://h:x/", "ws://u@h/",
                          "ws://h/p#frag", "ws://h/a b", "ws://[::1/", "ws://h:/", "ws://bad host/"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_ws_url(bad));
  }
}

namespace {

// Feeds `response` one byte at a time; returns the reader after Done (or
// after the last byte).
ResponseReader read_bytewise(std::string_view response, ResponseReader::Status& last) {
  ResponseReader reader;
  last = ResponseReader::Status::NeedMore;
  for (std::size_t i = 0; i < response.size() && last == ResponseReader::Status::NeedMore; ++i) {
    auto input = bytes_of(response.substr(i, 1));
    last = reader.feed(input);
  }
  return reader;
}

constexpr std::string_view kHubDate = "Sun, 06 Dec 2026 13:46:03 GMT";

// The parts as one string. Not `a + b + c`: GCC 14 at -O2 on armhf warns
// (-Warray-bounds, a false positive of its own) on operator+ of temporaries.
std::string joined(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view part : parts) out.append(part.data(), part.size());
  return out;
}

}  // namespace

TEST_CASE("a refusal's body is read to Content-Length, bounded, as the service's reason; its Date too") {
  const std::string head = joined({"HTTP/1.1 401 Unauthorized\r\nDate: ", kHubDate,
                                    "\r\nContent-Type: text/plain\r\nContent-Length: 28\r\n\r\n"});
  ResponseReader::Status last;
  // The head alone is not the end: the body is awaited.
  ResponseReader partial = read_bytewise(head, last);
  CHECK(last == ResponseReader::Status::NeedMore);
  // ... unless the stream ends, when the refusal stands with what came.
  CHECK(partial.end_of_input() == ResponseReader::Status::Done);
  CHECK(partial.response().status == 401);
  ResponseReader whole = read_bytewise(joined({head, "Unauthorized: token expired\n", "trailing"}), last);
  REQUIRE(last == ResponseReader::Status::Done);
  CHECK(whole.response().body == "Unauthorized: token expired\n");
  HandshakeOutcome out = check_response(whole.response(), kKey, {});
  CHECK(out.http_status == 401);
  CHECK(out.service_reason == "Unauthorized: token expired");
  REQUIRE(out.server_date);
  CHECK(utc_text(*out.server_date) == "2026-12-06 13:46:03 UTC");
  // A body longer than the bound: the bound is read, then Done.
  ResponseReader big = read_bytewise(joined({"HTTP/1.1 403 Forbidden\r\nContent-Length: 5000\r\n\r\n", std::string(5000, 'x')}), last);
  CHECK(last == ResponseReader::Status::Done);
  CHECK(big.response().body.size() == ResponseReader::kMaxBodyBytes);
  // A head that never ended is still an error at the end of the stream.
  ResponseReader cut = read_bytewise("HTTP/1.1 401 Unauth", last);
  CHECK(cut.end_of_input() == ResponseReader::Status::Error);
}

TEST_CASE("a 101's Date is reported, and its body bytes stay the WebSocket's") {
  HandshakeOutcome out =
      check(joined({"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ",
                    kAccept, "\r\nDate: ", kHubDate, "\r\n\r\n"}));
  CHECK(out.accepted);
  REQUIRE(out.server_date);
  CHECK(utc_text(*out.server_date) == "2026-12-06 13:46:03 UTC");
  CHECK(out.service_reason.empty());
}

TEST_CASE("the service's reason: chunked bodies, WWW-Authenticate, sanitised and bounded, never a token") {
  auto reason_of = [](const std::string& response) {
    ResponseReader reader;
    auto input = bytes_of(response);
    auto status = reader.feed(input);
    if (status == ResponseReader::Status::NeedMore) status = reader.end_of_input();
    REQUIRE(status == ResponseReader::Status::Done);
    return service_reason(reader.response());
  };
  CHECK(reason_of("HTTP/1.1 401 Unauthorized\r\nTransfer-Encoding: chunked\r\n\r\n1b\r\nUnauthorized: token expired\r\n0\r\n\r\n") ==
        "Unauthorized: token expired");
  CHECK(reason_of("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nWWW-Authenticate: Bearer error=\"invalid_token\", "
                  "error_description=\"The token expired at 2026-12-06\"\r\n\r\n") == "The token expired at 2026-12-06");
  CHECK(reason_of("HTTP/1.1 401 Unauthorized\r\nContent-Length: 70\r\n\r\nbad\tone:\x01 eyJhbGciOiJIUzI1NiJ9.e30.c2ln "
                  "access_token=abcdef and\r\n done") == "bad one:? [redacted] [redacted] and done");
  CHECK(reason_of("HTTP/1.1 401 Unauthorized\r\nContent-Length: 60\r\n\r\nkey AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA!") ==
        "key [redacted]");
  std::string long_body(600, 'a');
  for (std::size_t i = 10; i < long_body.size(); i += 11) long_body[i] = ' ';
  std::string reason = reason_of("HTTP/1.1 500 Oops\r\nContent-Length: 600\r\n\r\n" + long_body);
  CHECK(reason.size() == kMaxServiceReason);
  CHECK(reason.substr(reason.size() - 3) == "...");
}
