// net::HttpRequest on a real event loop against a local HTTP(S) server started
// by this test (tests/support/http_peer.py, certificate from a test-made CA).
#include <doctest/doctest.h>
#include <systemd/sd-event.h>

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "loop/event_loop.hpp"
#include "net/curl_multi.hpp"
#include "net/http_request.hpp"
#include "support/peer_process.hpp"
#include "support/run_loop.hpp"

using namespace dbr;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

using test::run_until;
using test::run_for;

std::string http(const std::string& path) {
  return "http://127.0.0.1:" + std::to_string(test::peer().port("http")) + path;
}
std::string https(const std::string& path) {
  return "https://localhost:" + std::to_string(test::peer().port("https")) + path;
}

// One request and what came back.
struct Call {
  loop::EventLoop& ev;
  net::CurlMulti multi{ev};
  std::unique_ptr<net::HttpRequest> request;
  std::optional<net::HttpResult> result;
  int callbacks = 0;

  explicit Call(loop::EventLoop& loop) : ev(loop) {}

  net::HttpResult& run(net::HttpRequestOptions options, Duration timeout = 15s) {
    request = std::make_unique<net::HttpRequest>(multi, std::move(options), [this](net::HttpResult&& r) {
      ++callbacks;
      result = std::move(r);
    });
    REQUIRE(run_until(ev, [this] { return result.has_value(); }, timeout));
    return *result;
  }
};

net::HttpRequestOptions get(std::string url) {
  net::HttpRequestOptions o;
  o.url = std::move(url);
  return o;
}

}  // namespace

TEST_CASE("GET: status, body and our headers reach the server") {
  loop::EventLoop ev;
  Call call(ev);
  auto o = get(http("/echo?x=1"));
  o.headers = {"Accept: application/json", "X-Test: yes"};
  o.user_agent = "dunebugger-remote/test";
  auto& r = call.run(o);
  REQUIRE(r.ok());
  CHECK(r.status == 200);
  CHECK_FALSE(r.transfer_error);
  CHECK(r.error.empty());
  auto echo = json::parse(r.body);
  CHECK(echo["method"] == "GET");
  CHECK(echo["path"] == "/echo?x=1");
  CHECK(echo["headers"]["accept"] == "application/json");
  CHECK(echo["headers"]["x-test"] == "yes");
  CHECK(echo["headers"]["user-agent"] == "dunebugger-remote/test");
  CHECK(echo["body"] == "");
  CHECK(call.callbacks == 1);
}

TEST_CASE("POST and other methods carry the body") {
  loop::EventLoop ev;
  Call call(ev);
  auto o = get(http("/echo"));
  o.method = "POST";
  o.headers = {"Content-Type: application/json"};
  o.body = R"({"grant_type":"password","scope":"openid profile email"})";
  auto& r = call.run(o);
  REQUIRE(r.ok());
  auto echo = json::parse(r.body);
  CHECK(echo["method"] == "POST");
  CHECK(echo["body"] == o.body);
  CHECK(echo["headers"]["content-type"] == "application/json");
  CHECK(echo["headers"]["content-length"] == std::to_string(o.body.size()));

  Call put(ev);
  auto p = get(http("/echo"));
  p.method = "PUT";
  p.body = "replace";
  auto& r2 = put.run(p);
  REQUIRE(r2.ok());
  CHECK(json::parse(r2.body)["method"] == "PUT");
  CHECK(json::parse(r2.body)["body"] == "replace");
}

TEST_CASE("a non-2xx answer is a result with its status, body and Retry-After") {
  loop::EventLoop ev;
  SUBCASE("503 with Retry-After in seconds") {
    Call call(ev);
    auto& r = call.run(get(http("/status/503?retry_after=7&token=secret-value")));
    CHECK_FALSE(r.ok());
    CHECK_FALSE(r.transfer_error);
    CHECK(r.status == 503);
    CHECK(r.body == "status body");
    REQUIRE(r.retry_after);
    CHECK(*r.retry_after == 7s);
    CHECK(r.error == "GET http://127.0.0.1:" + std::to_string(test::peer().port("http")) + ": HTTP 503");
  }
  SUBCASE("429 with an HTTP-date, measured against the response's Date") {
    Call call(ev);
    auto& r = call.run(get(http("/status/429?retry_after_date=30")));
    CHECK(r.status == 429);
    REQUIRE(r.retry_after);
    CHECK(*r.retry_after == 30s);
  }
  SUBCASE("401 without Retry-After") {
    Call call(ev);
    auto& r = call.run(get(http("/status/401")));
    CHECK(r.status == 401);
    CHECK_FALSE(r.retry_after);
    CHECK_FALSE(r.ok());
  }
  SUBCASE("an unparsable Retry-After is ignored") {
    Call call(ev);
    auto& r = call.run(get(http("/status/503?retry_after=soon")));
    CHECK(r.status == 503);
    CHECK_FALSE(r.retry_after);
  }
}

TEST_CASE("the response body is capped: at the bound it fits, one byte over fails") {
  loop::EventLoop ev;
  Call fits(ev);
  auto o = get(http("/size/1000"));
  o.max_response_bytes = 1000;
  auto& r = fits.run(o);
  CHECK(r.ok());
  CHECK(r.body.size() == 1000);

  Call over(ev);
  auto big = get(http("/size/1001"));
  big.max_response_bytes = 1000;
  auto& r2 = over.run(big);
  CHECK_FALSE(r2.ok());
  REQUIRE(r2.transfer_error);
  CHECK(*r2.transfer_error == net::CurlErrorClass::Other);
  CHECK(r2.error.find("response over 1000 bytes") != std::string::npos);
  CHECK(r2.body.size() <= 1000);
}

TEST_CASE("HTTPS is verified against caFile") {
  loop::EventLoop ev;
  SUBCASE("trusted with caFile") {
    Call call(ev);
    auto o = get(https("/echo"));
    o.ca_file = test::peer().str("ca");
    auto& r = call.run(o);
    CHECK(r.ok());
    CHECK(json::parse(r.body)["method"] == "GET");
  }
  SUBCASE("without caFile the test CA is unknown: a TLS failure") {
    Call call(ev);
    auto& r = call.run(get(https("/echo")));
    REQUIRE(r.transfer_error);
    CHECK(*r.transfer_error == net::CurlErrorClass::Tls);
    CHECK(r.error.find("TLS") != std::string::npos);
  }
}

TEST_CASE("connection refused is a TCP failure; the error names no path or query") {
  loop::EventLoop ev;
  Call call(ev);
  auto& r = call.run(
      get("http://127.0.0.1:" + std::to_string(test::peer().port("closed")) + "/oauth/token?password=hunter2"));
  REQUIRE(r.transfer_error);
  CHECK(*r.transfer_error == net::CurlErrorClass::Tcp);
  CHECK(r.status == 0);
  CHECK(r.error.find("TCP") != std::string::npos);
  CHECK(r.error.find("hunter2") == std::string::npos);
  CHECK(r.error.find("/oauth") == std::string::npos);
}

TEST_CASE("the whole request is bounded: a slow server is a timeout") {
  loop::EventLoop ev;
  Call call(ev);
  auto o = get(http("/delay/3000"));
  o.timeout = 300ms;
  const auto t0 = Clock::now();
  auto& r = call.run(o);
  const auto took = Clock::now() - t0;
  REQUIRE(r.transfer_error);
  CHECK(*r.transfer_error == net::CurlErrorClass::Timeout);
  CHECK(took >= 290ms);
  CHECK(took < 2s);
  MESSAGE("timed out after " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
}

TEST_CASE("the owner may destroy the request inside its callback") {
  loop::EventLoop ev;
  net::CurlMulti multi(ev);
  std::unique_ptr<net::HttpRequest> request;
  int callbacks = 0;
  long status = 0;
  request = std::make_unique<net::HttpRequest>(multi, get(http("/echo")), [&](net::HttpResult&& r) {
    ++callbacks;
    status = r.status;
    request.reset();  // destroys the request whose callback is running
  });
  REQUIRE(run_until(ev, [&] { return callbacks > 0; }));
  run_for(ev, 100ms);
  CHECK(callbacks == 1);
  CHECK(status == 200);
  CHECK_FALSE(request);
  CHECK(multi.attached_count() == 0);
}

TEST_CASE("destroying the request before it completes cancels it without a callback") {
  loop::EventLoop ev;
  net::CurlMulti multi(ev);
  int callbacks = 0;
  SUBCASE("at once") {
    auto request =
        std::make_unique<net::HttpRequest>(multi, get(http("/delay/300")), [&](net::HttpResult&&) { ++callbacks; });
    request.reset();
  }
  SUBCASE("while the server is answering") {
    auto request =
        std::make_unique<net::HttpRequest>(multi, get(http("/delay/300")), [&](net::HttpResult&&) { ++callbacks; });
    run_for(ev, 100ms);  // connected, request sent, waiting for the answer
    CHECK(multi.attached_count() == 1);
    request.reset();
  }
  CHECK(multi.attached_count() == 0);
  run_for(ev, 600ms);  // well past the server's answer
  CHECK(callbacks == 0);
}

TEST_CASE("the callback never runs inside the constructor, even for an invalid URL") {
  loop::EventLoop ev;
  Call call(ev);
  bool constructing = true;
  bool called_while_constructing = false;
  call.request = std::make_unique<net::HttpRequest>(call.multi, get("not a url"), [&](net::HttpResult&& r) {
    called_while_constructing = constructing;
    call.result = std::move(r);
  });
  constructing = false;
  REQUIRE(run_until(ev, [&] { return call.result.has_value(); }));
  CHECK_FALSE(called_while_constructing);
  CHECK(call.result->transfer_error);
  CHECK(call.result->error.find("(invalid URL)") != std::string::npos);
}

TEST_CASE("each request uses a fresh connection, even on one CurlMulti") {
  loop::EventLoop ev;
  net::CurlMulti multi(ev);
  std::vector<int> client_ports;
  for (int i = 0; i < 2; ++i) {
    std::optional<net::HttpResult> result;
    net::HttpRequest request(multi, get(http("/echo")), [&](net::HttpResult&& r) { result = std::move(r); });
    REQUIRE(run_until(ev, [&] { return result.has_value(); }));
    REQUIRE(result->ok());
    client_ports.push_back(json::parse(result->body)["client_port"].get<int>());
  }
  // A reused keep-alive connection would show the same client port twice.
  CHECK(client_ports[0] != client_ports[1]);
}
