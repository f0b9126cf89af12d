#include <doctest/doctest.h>

#include "config/connection_string.hpp"

using dbr::config::parse_connection_string;

TEST_CASE("connection string: keys are case-insensitive, https is assumed, Port replaces the port") {
  std::string error;
  auto cs = parse_connection_string("endpoint=abc.webpubsub.azure.com;ACCESSKEY=k3y==;Version=1.0;Port=8443;", error);
  REQUIRE(cs);
  CHECK(cs->endpoint == "https://abc.webpubsub.azure.com:8443");
  CHECK(cs->access_key == "k3y==");
  CHECK(cs->version == "1.0");

  auto local = parse_connection_string("Endpoint=http://localhost:8080/;AccessKey=secret;Version=1.0", error);
  REQUIRE(local);
  CHECK(local->endpoint == "http://localhost:8080");
}

TEST_CASE("connection string: missing parts are named, the key never quoted") {
  std::string error;
  CHECK_FALSE(parse_connection_string("Endpoint=https://a;Version=1.0", error));
  CHECK(error.find("AccessKey") != std::string::npos);
  CHECK_FALSE(parse_connection_string("AccessKey=topsecret;Version=1.0", error));
  CHECK(error.find("Endpoint") != std::string::npos);
  CHECK(error.find("topsecret") == std::string::npos);
  CHECK_FALSE(parse_connection_string("Endpoint=ftp://a;AccessKey=k", error));
  CHECK_FALSE(parse_connection_string("Endpoint=https://a/path;AccessKey=k", error));
  CHECK_FALSE(parse_connection_string("Endpoint=https://u:pw@a;AccessKey=k", error));
  CHECK(error.find("pw") == std::string::npos);
  CHECK_FALSE(parse_connection_string("Endpoint=https://a;AccessKey=k;Port=x", error));
}
