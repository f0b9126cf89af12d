// The "same site?" rule on the system's Public Suffix List (libpsl, as the
// agent reads it), and the redirect chain's verdicts (pure).
#include <doctest/doctest.h>

#include "monitor/probe_url.hpp"
#include "monitor/redirects.hpp"
#include "monitor/site.hpp"

using namespace dbr::monitor;
using Kind = RedirectVerdict::Kind;

TEST_CASE("site: registrable domains come from the Public Suffix List") {
  PublicSuffixList list;
  CHECK(list.registrable_domain("www.example.com") == "example.com");
  CHECK(list.registrable_domain("a.b.example.co.uk") == "example.co.uk");
  CHECK(list.registrable_domain("co.uk").empty());      // a public suffix has none
  CHECK(list.registrable_domain("foo.github.io") == "foo.github.io");  // the list's private part counts
  CHECK(list.registrable_domain("www.probe.test") == "probe.test");    // the default rule "*"
}

TEST_CASE("site: same_site") {
  struct Case {
    const char* probe;
    const char* target;
    bool same;
    const char* why;
  };
  const Case cases[] = {
      {"example.com", "example.com", true, "the probe host itself"},
      {"example.com", "EXAMPLE.com.", true, "case and a trailing dot do not count"},
      {"localhost", "localhost", true, "a name without a registrable domain is itself"},
      {"192.0.2.1", "192.0.2.1", true, "an IPv4 literal is itself"},
      {"2001:db8::1", "2001:db8::1", true, "an IPv6 literal is itself"},
      {"example.com", "www.example.com", true, "www under the registrable domain"},
      {"www.example.com", "example.com", true, "and back"},
      {"probe.example.co.uk", "www.Example.co.uk", true, "below a two-label suffix"},
      {"probe.test", "www.probe.test", true, "the default rule \"*\""},
      {"example.com", "login.hotel-wifi.net", false, "a portal"},
      {"example.com", "example.net", false, "another suffix"},
      {"example.com", "notexample.com", false, "a name that only ends alike"},
      {"example.co.uk", "other.co.uk", false, "co.uk is a suffix, not a site"},
      {"foo.github.io", "bar.github.io", false, "nor is github.io (the list's private part)"},
      {"example.com", "com", false, "the suffix itself"},
      {"example.com", "", false, "no host"},
      {"example.com", "192.0.2.1", false, "an IP literal is another site"},
      {"192.0.2.1", "192.0.2.2", false, "another address"},
      {"192.0.2.1", "example.com", false, "a name is not an address's site"},
      {"2001:db8::1", "2001:db8::2", false, "another IPv6 address"},
      {"localhost", "www.localhost", false, "no registrable domain: only itself"},
      {"co.uk", "www.co.uk", false, "a public suffix: only itself"},
  };
  PublicSuffixList list;
  for (const auto& c : cases) {
    CAPTURE(c.probe);
    CAPTURE(c.target);
    CAPTURE(c.why);
    CHECK(same_site(c.probe, c.target, list) == c.same);
  }
}

namespace {

RedirectChain chain_for(const char* url) {
  auto target = parse_probe_url(url);
  REQUIRE(target);
  return RedirectChain(url, *target);
}

}  // namespace

TEST_CASE("redirects: which statuses are followed") {
  for (long s : {301L, 302L, 303L, 307L, 308L}) CHECK(is_followed_redirect(s));
  for (long s : {200L, 300L, 304L, 305L, 306L, 404L}) CHECK_FALSE(is_followed_redirect(s));
}

TEST_CASE("redirects: normalized_url") {
  CHECK(normalized_url("HTTPS://Probe.TEST:443/a/../b?x#frag") == "https://probe.test/b?x");
  CHECK(normalized_url("https://probe.test") == "https://probe.test/");
  CHECK(normalized_url("https://probe.test:8443/") == "https://probe.test:8443/");
  CHECK(normalized_url("not a url").empty());
}

TEST_CASE("redirects: a chain within the site is followed, up to the limit") {
  auto chain = chain_for("https://example.com/");
  SUBCASE("a final 200 or a 500 is not a redirect") {
    CHECK(chain.next(200, "").kind == Kind::Final);
    CHECK(chain.next(500, "").kind == Kind::Final);
  }
  SUBCASE("the same host's landing page, then www, then a third hop") {
    auto v = chain.next(301, "https://example.com/home");
    REQUIRE(v.kind == Kind::Follow);
    CHECK(v.url == "https://example.com/home");
    CHECK(v.target.host == "example.com");
    v = chain.next(302, "https://www.example.com/home");
    REQUIRE(v.kind == Kind::Follow);
    CHECK(v.target.host == "www.example.com");
    CHECK(v.target.port == 443);
    v = chain.next(307, "https://www.example.com:8443/x?session=secret");
    REQUIRE(v.kind == Kind::Follow);
    CHECK(v.target.port == 8443);
    CHECK(chain.followed() == 3);
    SUBCASE("a fourth is refused") {
      v = chain.next(308, "https://www.example.com/y?session=secret");
      CHECK(v.kind == Kind::Refuse);
      CHECK(v.error == "http status 308 (more than 3 redirects, the next to www.example.com)");
    }
    SUBCASE("a fourth back to an earlier URL is a loop, the more telling reason") {
      v = chain.next(302, "https://example.com/home#top");
      CHECK(v.kind == Kind::Refuse);
      CHECK(v.error == "http status 302 (redirect loop: back to example.com)");
    }
  }
  SUBCASE("a redirect to itself is a loop") {
    auto v = chain.next(301, "https://EXAMPLE.com:443/");
    CHECK(v.kind == Kind::Refuse);
    CHECK(v.error == "http status 301 (redirect loop: back to example.com)");
  }
  SUBCASE("a loop over two URLs") {
    REQUIRE(chain.next(302, "https://example.com/a").kind == Kind::Follow);
    REQUIRE(chain.next(302, "https://example.com/b").kind == Kind::Follow);
    auto v = chain.next(302, "https://example.com/a");
    CHECK(v.kind == Kind::Refuse);
    CHECK(v.error == "http status 302 (redirect loop: back to example.com)");
  }
}

TEST_CASE("redirects: what is not followed") {
  auto chain = chain_for("https://example.com/");
  SUBCASE("another site is a captive portal's answer: classified as the response it is") {
    auto v = chain.next(302, "https://login.hotel-wifi.net/?session=secret");
    CHECK(v.kind == Kind::Final);
    CHECK(v.error.empty());
    CHECK(chain.followed() == 0);
  }
  SUBCASE("a portal after a hop within the site") {
    REQUIRE(chain.next(301, "https://www.example.com/").kind == Kind::Follow);
    CHECK(chain.next(302, "http://portal.test/login").kind == Kind::Final);
  }
  SUBCASE("an IP literal is another site") {
    CHECK(chain.next(302, "https://192.0.2.1/").kind == Kind::Final);
  }
  SUBCASE("no Location, or a status not to follow") {
    CHECK(chain.next(302, "").kind == Kind::Final);
    CHECK(chain.next(300, "https://example.com/choices").kind == Kind::Final);
    CHECK(chain.next(304, "https://example.com/x").kind == Kind::Final);
  }
  SUBCASE("not http(s)") {
    CHECK(chain.next(302, "ftp://example.com/").kind == Kind::Final);
  }
  SUBCASE("from https down to plain http, even within the site") {
    auto v = chain.next(301, "http://www.example.com/");
    CHECK(v.kind == Kind::Refuse);
    CHECK(v.error == "http status 301 (redirect to plain http at www.example.com: not followed from https)");
  }
}

TEST_CASE("redirects: an http probe may move up to https") {
  auto chain = chain_for("http://example.com/");
  auto v = chain.next(301, "https://example.com/");
  REQUIRE(v.kind == Kind::Follow);
  CHECK(v.target.scheme == "https");
  CHECK(v.target.port == 443);
}

TEST_CASE("redirects: an IP-literal probe follows only its own address") {
  auto chain = chain_for("https://[2001:db8::1]:8443/");
  auto v = chain.next(302, "https://[2001:db8::1]:8443/home");
  REQUIRE(v.kind == Kind::Follow);
  CHECK(v.target.host == "2001:db8::1");
  CHECK(v.target.host_is_ip);
  CHECK(chain.next(302, "https://[2001:db8::2]:8443/").kind == Kind::Final);
}
