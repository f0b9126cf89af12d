#include <doctest/doctest.h>

#include "log/redact.hpp"

using dbr::log::redact;

TEST_CASE("redact: access_token and reconnection token query values") {
  CHECK(redact("wss://h.webpubsub.azure.com/client/hubs/d?access_token=eyJhbGciOi.eyJzdWIi.sig") ==
        "wss://h.webpubsub.azure.com/client/hubs/d?access_token=***");
  CHECK(redact("GET /client/hubs/d?access_token=abc&awps_connection_id=c1&awps_reconnection_token=tok%3D%3D HTTP/1.1") ==
        "GET /client/hubs/d?access_token=***&awps_connection_id=c1&awps_reconnection_token=*** HTTP/1.1");
  CHECK(redact("ACCESS_TOKEN=abc") == "ACCESS_TOKEN=***");
}

TEST_CASE("redact: connection string access keys") {
  CHECK(redact("Endpoint=https://a.webpubsub.azure.com;AccessKey=Zm9vYmFy+/==;Version=1.0;") ==
        "Endpoint=https://a.webpubsub.azure.com;AccessKey=***;Version=1.0;");
}

TEST_CASE("redact: Authorization headers and bearer tokens") {
  CHECK(redact("Authorization: Bearer eyJ0eXAi.x.y") == "Authorization: ***");
  CHECK(redact("Authorization: Bearer eyJ0eXAi.x.y\r\nHost: h") == "Authorization: ***\r\nHost: h");
  CHECK(redact("request failed with bearer abc.def") == "request failed with bearer ***");
  CHECK(redact("{\"Authorization\": \"Basic dXNlcjpwdw==\"}") == "{\"Authorization\": \"***\"}");
}

TEST_CASE("redact: JSON secrets (Auth0 request and response bodies, connected message)") {
  CHECK(redact(R"({"client_id":"cid","client_secret":"s3cr\"et","password":"pw","username":"u"})") ==
        R"({"client_id":"cid","client_secret":"***","password":"***","username":"u"})");
  CHECK(redact(R"({"access_token":"at","id_token":"it","token_type":"Bearer"})") ==
        R"({"access_token":"***","id_token":"***","token_type":"Bearer"})");
  CHECK(redact(R"({"type":"system","event":"connected","reconnectionToken":"rt"})") ==
        R"({"type":"system","event":"connected","reconnectionToken":"***"})");
}

TEST_CASE("redact: URL userinfo (nats:// servers, proxies)") {
  CHECK(redact("NATS connected to nats://remote:pa55w0rd@nats-server:4222") ==
        "NATS connected to nats://remote:***@nats-server:4222");
  CHECK(redact("nats://s3cr3t-token@127.0.0.1:4222") == "nats://***@127.0.0.1:4222");
  CHECK(redact("servers nats://a:p1@h1:4222,nats://b:p2@h2:4222 down") ==
        "servers nats://a:***@h1:4222,nats://b:***@h2:4222 down");
  CHECK(redact("wss://u:p%40ss@hub.example/client?x=1") == "wss://u:***@hub.example/client?x=1");
  // No userinfo: an '@' after the authority is not one.
  CHECK(redact("https://h.example/path@x?mail=a@b") == "https://h.example/path@x?mail=a@b");
  CHECK(redact("nats://nats-server:4222") == "nats://nats-server:4222");
}

TEST_CASE("redact: ordinary text is untouched") {
  for (const char* plain : {"connected to wss://h/client/hubs/d as c1", "password grant refused (401)",
                            "access_token missing from the response", "tokens: 3", "my_password_file=/etc/x"}) {
    CHECK(redact(plain) == plain);
  }
  CHECK(redact("") == "");
}
