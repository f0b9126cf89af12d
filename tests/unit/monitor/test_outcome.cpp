// Classification helpers and report assembly (pure).
#include <doctest/doctest.h>

#include <curl/curl.h>

#include "monitor/outcome.hpp"
#include "monitor/probe_url.hpp"

using namespace dbr;
using namespace dbr::monitor;
using namespace std::chrono_literals;

TEST_CASE("outcome: only 2xx is success") {
  CHECK(is_success_status(200));
  CHECK(is_success_status(204));
  CHECK(is_success_status(299));
  CHECK_FALSE(is_success_status(199));
  CHECK_FALSE(is_success_status(300));
  CHECK_FALSE(is_success_status(302));
  CHECK_FALSE(is_success_status(404));
  CHECK_FALSE(is_success_status(500));
  CHECK_FALSE(is_success_status(0));
}

TEST_CASE("outcome: curl codes map to the failed stage") {
  CHECK(failure_from_curl(CURLE_OK) == ProbeFailure::None);
  CHECK(failure_from_curl(CURLE_COULDNT_RESOLVE_HOST) == ProbeFailure::Dns);
  CHECK(failure_from_curl(CURLE_COULDNT_CONNECT) == ProbeFailure::Tcp);
  CHECK(failure_from_curl(CURLE_RECV_ERROR) == ProbeFailure::Tcp);
  CHECK(failure_from_curl(CURLE_OPERATION_TIMEDOUT) == ProbeFailure::Timeout);
  CHECK(failure_from_curl(CURLE_PEER_FAILED_VERIFICATION) == ProbeFailure::Tls);
  CHECK(failure_from_curl(CURLE_SSL_CONNECT_ERROR) == ProbeFailure::Tls);
  CHECK(failure_from_curl(CURLE_SSL_CACERT_BADFILE) == ProbeFailure::Tls);
  CHECK(failure_from_curl(CURLE_GOT_NOTHING) == ProbeFailure::Other);
}

TEST_CASE("outcome: classify_http names the reason") {
  SUBCASE("200 is ok") {
    auto o = classify_http({CURLE_OK, 200, "", ""});
    CHECK(o.ok);
    CHECK(o.failure == ProbeFailure::None);
    CHECK(o.error.empty());
    CHECK(o.status == 200);
  }
  SUBCASE("500") {
    auto o = classify_http({CURLE_OK, 500, "", ""});
    CHECK_FALSE(o.ok);
    CHECK(o.failure == ProbeFailure::HttpStatus);
    CHECK(o.error == "http status 500");
  }
  SUBCASE("a captive portal's redirect names only the target host") {
    auto o = classify_http({CURLE_OK, 302, "", "http://portal.example:8080/login?session=secret"});
    CHECK(o.failure == ProbeFailure::HttpStatus);
    CHECK(o.error == "http status 302 (redirect to portal.example)");
  }
  SUBCASE("a redirect without a Location") {
    CHECK(classify_http({CURLE_OK, 307, "", ""}).error == "http status 307 (redirect)");
  }
  SUBCASE("curl's error text is kept, prefixed by the stage") {
    auto o = classify_http({CURLE_OPERATION_TIMEDOUT, 0, "Operation timed out after 1000 milliseconds", ""});
    CHECK(o.failure == ProbeFailure::Timeout);
    CHECK(o.error == "timeout: Operation timed out after 1000 milliseconds");
    auto t = classify_http({CURLE_COULDNT_CONNECT, 0, "", ""});
    CHECK(t.failure == ProbeFailure::Tcp);
    CHECK(t.error == std::string("tcp: ") + curl_easy_strerror(CURLE_COULDNT_CONNECT));
  }
}

TEST_CASE("outcome: url_host_only") {
  CHECK(url_host_only("https://a.example/x") == "a.example");
  CHECK(url_host_only("http://user:pw@b.example:81/?q") == "b.example");
  CHECK(url_host_only("http://[2001:db8::1]:8080/") == "[2001:db8::1]");
  CHECK(url_host_only("http://c.example?token=1") == "c.example");
  CHECK(url_host_only("/relative") == "");
}

TEST_CASE("outcome: build_report") {
  TimePoint at = TimePoint{} + 5s;
  DnsOutcome dns;
  dns.ok = true;
  dns.addresses = {"192.0.2.1", "2001:db8::1"};
  dns.elapsed = 3ms;
  HttpOutcome http;
  http.ok = true;
  http.status = 204;
  http.primary_ip = "2001:db8::1";
  http.elapsed = 40ms;

  SUBCASE("both ok: online, changed against no previous report") {
    auto r = build_report(dns, http, CheckTrigger::Initial, at, std::nullopt);
    CHECK(r.online);
    CHECK(r.dns_ok);
    CHECK(r.https_ok);
    CHECK(r.changed);
    CHECK(r.failure == ProbeFailure::None);
    CHECK(r.address == "2001:db8::1");  // where the GET went
    CHECK(r.dns_ms == 3ms);
    CHECK(r.https_ms == 40ms);
    CHECK(r.http_status == 204);
    CHECK(r.at == at);
    CHECK(r.trigger == CheckTrigger::Initial);
    CHECK_FALSE(build_report(dns, http, CheckTrigger::Interval, at, true).changed);
    CHECK(build_report(dns, http, CheckTrigger::Interval, at, false).changed);
  }
  SUBCASE("DNS failed: no GET, reason from DNS") {
    DnsOutcome bad;
    bad.failure = ProbeFailure::Dns;
    bad.error = "dns: probe.test: Could not contact DNS servers";
    auto r = build_report(bad, std::nullopt, CheckTrigger::Interval, at, true);
    CHECK_FALSE(r.online);
    CHECK_FALSE(r.dns_ok);
    CHECK_FALSE(r.https_ok);
    CHECK(r.failure == ProbeFailure::Dns);
    CHECK(r.error == bad.error);
    CHECK(r.changed);
    CHECK(r.address.empty());
  }
  SUBCASE("HTTP failed: offline with the HTTP reason, DNS still ok") {
    HttpOutcome failed;
    failed.status = 500;
    failed.failure = ProbeFailure::HttpStatus;
    failed.error = "http status 500";
    auto r = build_report(dns, failed, CheckTrigger::Request, at, false);
    CHECK_FALSE(r.online);
    CHECK(r.dns_ok);
    CHECK(r.failure == ProbeFailure::HttpStatus);
    CHECK(r.http_status == 500);
    CHECK_FALSE(r.changed);
    CHECK(r.address == "192.0.2.1");  // no connection: the first DNS answer
    CHECK(describe(r) == "offline: http status 500 (dns 3 ms, https 0 ms, request check)");
  }
}

TEST_CASE("outcome: a check the hub connection's keepalive answered: online, no probe, its own words") {
  const TimePoint at = TimePoint{} + 100s;
  auto r = build_evidence_report(std::chrono::milliseconds(12400), CheckTrigger::Interval, at, true);
  CHECK(r.online);
  CHECK_FALSE(r.changed);
  CHECK_FALSE(r.dns_ok);  // neither probe ran
  CHECK_FALSE(r.https_ok);
  CHECK(r.address.empty());
  CHECK(r.at == at);
  REQUIRE(r.keepalive_age);
  CHECK(r.keepalive_age->count() == 12400);
  CHECK(describe(r) == "online (keepalive answered 12 s ago, interval check)");
  CHECK(status_reason(r) == "keepalive answered 12 s ago");
  CHECK(build_evidence_report(1s, CheckTrigger::Interval, at, false).changed);
  CHECK(build_evidence_report(1s, CheckTrigger::Interval, at, std::nullopt).changed);
  // A probe's verdicts keep their reasons.
  DnsOutcome dns;
  dns.ok = true;
  dns.addresses = {"192.0.2.1"};
  HttpOutcome http;
  http.ok = true;
  http.status = 204;
  CHECK(status_reason(build_report(dns, http, CheckTrigger::Interval, at, true)) == "ok");
  dns.ok = false;
  dns.error = "dns: probe.test: no answer within 2000 ms";
  CHECK(status_reason(build_report(dns, std::nullopt, CheckTrigger::Interval, at, true)) == dns.error);
}

TEST_CASE("probe url: parts, default ports, IP literals") {
  auto a = parse_probe_url("https://smart.dunebugger.it/");
  REQUIRE(a);
  CHECK(a->scheme == "https");
  CHECK(a->host == "smart.dunebugger.it");
  CHECK(a->port == 443);
  CHECK_FALSE(a->host_is_ip);
  auto b = parse_probe_url("http://127.0.0.1:8080/health");
  REQUIRE(b);
  CHECK(b->port == 8080);
  CHECK(b->host_is_ip);
  auto c = parse_probe_url("https://[::1]:8443/");
  REQUIRE(c);
  CHECK(c->host == "::1");
  CHECK(c->host_is_ip);
  CHECK_FALSE(parse_probe_url("ftp://example.com/"));
  CHECK_FALSE(parse_probe_url("example.com"));
  CHECK_FALSE(parse_probe_url(""));
  CHECK(bracket_if_ipv6("::1") == "[::1]");
  CHECK(bracket_if_ipv6("10.0.0.1") == "10.0.0.1");
}
