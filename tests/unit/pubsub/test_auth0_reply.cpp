// The Auth0 answers as the sign-in reads them (pubsub/auth0_reply.hpp).
#include <doctest/doctest.h>

#include "pubsub/auth0_reply.hpp"

using namespace dbr::pubsub;

TEST_CASE("the token answer gives its access_token, a non-empty string") {
  CHECK(parse_token_reply(R"({"access_token":"eyJ.a.b","token_type":"Bearer","expires_in":86400})") == "eyJ.a.b");
  CHECK(parse_token_reply(R"({"access\u005ftoken":"abc"})") == "abc");
  CHECK(parse_token_reply(R"({"access_token":"first","access_token":"second"})") == "second");
  CHECK_FALSE(parse_token_reply(R"({"token_type":"Bearer"})"));
  CHECK_FALSE(parse_token_reply(R"({"access_token":""})"));
  CHECK_FALSE(parse_token_reply(R"({"access_token":12})"));
  CHECK_FALSE(parse_token_reply(R"({"access_token":null})"));
  CHECK_FALSE(parse_token_reply(R"([{"access_token":"abc"}])"));
  CHECK_FALSE(parse_token_reply("<html>502 Bad Gateway</html>"));
  CHECK_FALSE(parse_token_reply(""));
}

TEST_CASE("a token that cannot go into the Authorization header is refused") {
  // Found by auth0_reply_fuzz: an escaped NUL, CR or LF in the token went
  // into the /userinfo request's header as it was (RFC 9110 §5.5).
  CHECK_FALSE(parse_token_reply(R"({"access_token":"abc\u0000def"})"));
  CHECK_FALSE(parse_token_reply(R"({"access_token":"abc\r\nX-Injected: 1"})"));
  CHECK_FALSE(parse_token_reply(R"({"access_token":"abc\tdef"})"));
  CHECK_FALSE(parse_token_reply(R"({"access_token":"abc\u007f"})"));
  CHECK(parse_token_reply(R"({"access_token":"caf\u00e9"})") == "caf\xc3\xa9");
}

TEST_CASE("the userinfo answer gives its wss_url claim, a non-empty string") {
  CHECK(parse_userinfo_reply(R"({"sub":"auth0|d","wss_url":"wss://h/client/hubs/x?access_token=t"})") ==
        "wss://h/client/hubs/x?access_token=t");
  CHECK_FALSE(parse_userinfo_reply(R"({"sub":"auth0|d"})"));
  CHECK_FALSE(parse_userinfo_reply(R"({"wss_url":""})"));
  CHECK_FALSE(parse_userinfo_reply(R"({"wss_url":{"href":"wss://h"}})"));
  CHECK_FALSE(parse_userinfo_reply("not json"));
}
