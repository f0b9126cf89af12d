#include <doctest/doctest.h>

#include "config/parsers.hpp"

using namespace dbr::config;

TEST_CASE("parse_int is Python int() on decimal text") {
  CHECK(parse_int("60") == 60);
  CHECK(parse_int("  +7 ") == 7);
  CHECK(parse_int("-3") == -3);
  CHECK_FALSE(parse_int(""));
  CHECK_FALSE(parse_int("2.5"));
  CHECK_FALSE(parse_int("45s"));
  CHECK_FALSE(parse_int("0x10"));
  CHECK_FALSE(parse_int("99999999999999999999"));
}

TEST_CASE("parse_float accepts Python float() forms but not inf or nan") {
  CHECK(parse_float("2") == 2.0);
  CHECK(parse_float("0.25") == 0.25);
  CHECK(parse_float("1e1") == 10.0);
  CHECK_FALSE(parse_float(""));
  CHECK_FALSE(parse_float("inf"));
  CHECK_FALSE(parse_float("nan"));
  CHECK_FALSE(parse_float("3s"));
}

TEST_CASE("parse_bool follows configparser getboolean") {
  for (auto t : {"True", "true", "yes", "1", "on", "YES"}) CHECK(parse_bool(t) == true);
  for (auto f : {"False", "false", "no", "0", "off"}) CHECK(parse_bool(f) == false);
  CHECK_FALSE(parse_bool(""));
  CHECK_FALSE(parse_bool("maybe"));
  CHECK_FALSE(parse_bool("2"));
}

TEST_CASE("host and address forms") {
  CHECK(is_host_port("dunebugger.eu.auth0.com"));
  CHECK(is_host_port("localhost:8443"));
  CHECK(is_host_port("[::1]:443"));
  CHECK_FALSE(is_host_port("https://dunebugger.eu.auth0.com"));
  CHECK_FALSE(is_host_port("host:0"));
  CHECK_FALSE(is_host_port("host:99999"));
  auto parts = parse_host_port("ntp.example:1123");
  REQUIRE(parts);
  CHECK(parts->host == "ntp.example");
  CHECK(parts->port == 1123);
  parts = parse_host_port("[2001:db8::1]:123");
  REQUIRE(parts);
  CHECK(parts->host == "2001:db8::1");
  CHECK(parts->port == 123);
  parts = parse_host_port("2001:db8::1");
  REQUIRE(parts);
  CHECK(parts->host == "2001:db8::1");
  CHECK_FALSE(parts->port);
  CHECK_FALSE(parse_host_port("ntp.example:"));
  CHECK_FALSE(parse_host_port("ntp example"));
  CHECK(is_ip_with_port("192.0.2.1"));
  CHECK(is_ip_with_port("192.0.2.1:5353"));
  CHECK(is_ip_with_port("::1"));
  CHECK(is_ip_with_port("[2001:db8::1]:53"));
  CHECK_FALSE(is_ip_with_port("dns.google"));
  CHECK_FALSE(is_ip_with_port("1.2.3.4:"));
  CHECK(is_url_with_scheme("wss://x.webpubsub.azure.com/client/hubs/h?access_token=a.b.c", {"ws", "wss"}));
  CHECK(is_url_with_scheme("WS://127.0.0.1:8080/client", {"ws", "wss"}));
  CHECK_FALSE(is_url_with_scheme("https://x/", {"ws", "wss"}));
  CHECK_FALSE(is_url_with_scheme("wss://", {"ws", "wss"}));
  CHECK_FALSE(is_url_with_scheme("wss://a b/", {"ws", "wss"}));
  CHECK_FALSE(is_url_with_scheme("wss://user:pw@h.example/client", {"ws", "wss"}));
  CHECK(is_url_with_scheme("nats://remote:pw@nats-server:4222", {"nats"}, UserInfo::Allowed));
  CHECK(is_url_with_scheme("nats://nats-server:4222", {"nats"}, UserInfo::Allowed));
}
