#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/connection_string.hpp"
#include "pubsub/access_token.hpp"

using namespace dbr;
using namespace dbr::pubsub;

namespace {

// An independent base64url decoder: OpenSSL's base64 after mapping the
// alphabet back and restoring the padding.
std::string decode_b64url(std::string text) {
  for (char& c : text) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  while (text.size() % 4) text += '=';
  std::vector<unsigned char> out(text.size());
  int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  REQUIRE(n >= 0);
  std::size_t len = static_cast<std::size_t>(n);
  // EVP_DecodeBlock counts padding bytes as output zeros.
  if (text.size() >= 1 && text[text.size() - 1] == '=') --len;
  if (text.size() >= 2 && text[text.size() - 2] == '=') --len;
  return std::string(reinterpret_cast<char*>(out.data()), len);
}

std::vector<std::string> split_dots(const std::string& token) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    auto dot = token.find('.', start);
    parts.push_back(token.substr(start, dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return parts;
}

// The config's parser, as the agent uses it, then the part pubsub signs with.
ServiceAccessKey parse(const std::string& text) {
  std::string error;
  auto cs = config::parse_connection_string(text, error);
  REQUIRE_MESSAGE(cs, error);
  return {cs->endpoint, cs->access_key};
}

const std::string kKey = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefg=";

}  // namespace

TEST_CASE("base64url matches the RFC 4648 vectors, with the URL alphabet and no padding") {
  CHECK(base64url_encode(std::string_view("")) == "");
  CHECK(base64url_encode(std::string_view("f")) == "Zg");
  CHECK(base64url_encode(std::string_view("fo")) == "Zm8");
  CHECK(base64url_encode(std::string_view("foo")) == "Zm9v");
  CHECK(base64url_encode(std::string_view("foob")) == "Zm9vYg");
  CHECK(base64url_encode(std::string_view("fooba")) == "Zm9vYmE");
  CHECK(base64url_encode(std::string_view("foobar")) == "Zm9vYmFy");
  const std::uint8_t bytes[] = {0xfb, 0xff, 0xbf};
  CHECK(base64url_encode(std::span<const std::uint8_t>(bytes)) == "-_-_");
}

TEST_CASE("the token matches a known answer computed with Python's hmac and hashlib") {
  // /usr/bin/python3: header '{"alg":"HS256","typ":"JWT"}', claims
  // json.dumps(sort_keys=True, separators=(',',':')), key = the AccessKey's
  // UTF-8 bytes, hmac.new(key, signing_input, hashlib.sha256).
  auto cs = parse("Endpoint=https://example.webpubsub.azure.com;AccessKey=" + kKey + ";Version=1.0;");
  TokenRequest request{"dunebugger", "device-1", "dev-group", std::chrono::hours(1)};
  auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  CHECK(sign_client_token(cs, request, now) ==
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
        "eyJhdWQiOiJodHRwczovL2V4YW1wbGUud2VicHVic3ViLmF6dXJlLmNvbS9jbGllbnQvaHVicy9kdW5lYnVnZ2VyIiwiZXhwIjoxNzAwMDAz"
        "NjAwLCJpYXQiOjE3MDAwMDAwMDAsInJvbGUiOlsid2VicHVic3ViLmpvaW5MZWF2ZUdyb3VwLmRldi1ncm91cCIsIndlYnB1YnN1Yi5zZW5k"
        "VG9Hcm91cC5kZXYtZ3JvdXAiXSwic3ViIjoiZGV2aWNlLTEifQ."
        "pO1irycgKKWhvxuxWcPG6XSq4vAuObsL9NVL3glBqAA");
}

TEST_CASE("the token decodes to the expected header and claims and its HMAC verifies") {
  auto cs = parse("Endpoint=https://my-hub.webpubsub.azure.com;Port=8443;AccessKey=" + kKey + ";Version=1.0");
  TokenRequest request{"dunebugger", "pi-kitchen", "kitchen", std::chrono::hours(1)};
  auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1710000123));
  std::string token = sign_client_token(cs, request, now);
  auto parts = split_dots(token);
  REQUIRE(parts.size() == 3);
  for (const auto& part : parts) CHECK(part.find_first_of("+/=") == std::string::npos);

  auto header = nlohmann::json::parse(decode_b64url(parts[0]));
  CHECK(header == nlohmann::json{{"alg", "HS256"}, {"typ", "JWT"}});
  auto claims = nlohmann::json::parse(decode_b64url(parts[1]));
  CHECK(claims["aud"] == "https://my-hub.webpubsub.azure.com:8443/client/hubs/dunebugger");
  CHECK(claims["sub"] == "pi-kitchen");
  CHECK(claims["iat"] == 1710000123);
  CHECK(claims["exp"] == 1710000123 + 3600);
  CHECK(claims["role"] ==
        nlohmann::json::array({"webpubsub.joinLeaveGroup.kitchen", "webpubsub.sendToGroup.kitchen"}));

  // Verify with OpenSSL's one-shot HMAC(), keyed with the AccessKey's bytes as written.
  std::string signing_input = parts[0] + "." + parts[1];
  unsigned char mac[32];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), kKey.data(), static_cast<int>(kKey.size()),
       reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac, &mac_len);
  REQUIRE(mac_len == 32);
  CHECK(decode_b64url(parts[2]) == std::string(reinterpret_cast<char*>(mac), mac_len));

  // The base64-decoded key would give another signature: the key is not decoded.
  std::string decoded_key = decode_b64url(kKey);
  HMAC(EVP_sha256(), decoded_key.data(), static_cast<int>(decoded_key.size()),
       reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac, &mac_len);
  CHECK(decode_b64url(parts[2]) != std::string(reinterpret_cast<char*>(mac), mac_len));
}

TEST_CASE("each signing uses the time passed in, so every new connection gets a fresh token") {
  auto cs = parse("Endpoint=https://x.webpubsub.azure.com;AccessKey=k;Version=1.0");
  TokenRequest request{"hub", "dev", "grp", std::chrono::hours(1)};
  auto t1 = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  std::string a = sign_client_token(cs, request, t1);
  std::string b = sign_client_token(cs, request, t1 + std::chrono::seconds(1));
  CHECK(a != b);
  CHECK(a == sign_client_token(cs, request, t1));
  auto claims = nlohmann::json::parse(decode_b64url(split_dots(b)[1]));
  CHECK(claims["exp"].get<long long>() - claims["iat"].get<long long>() == 3600);
}

TEST_CASE("the client URL maps https to wss and http to ws, keeping host and port") {
  auto secure = parse("Endpoint=https://my-hub.webpubsub.azure.com;AccessKey=k;Version=1.0");
  CHECK(client_url(secure, "dunebugger", "T.O.K") ==
        "wss://my-hub.webpubsub.azure.com/client/hubs/dunebugger?access_token=T.O.K");
  auto local = parse("Endpoint=http://127.0.0.1;Port=8080;AccessKey=k;Version=1.0");
  CHECK(client_url(local, "hub1", "abc") == "ws://127.0.0.1:8080/client/hubs/hub1?access_token=abc");
  CHECK(client_audience(local, "hub1") == "http://127.0.0.1:8080/client/hubs/hub1");
  auto upper = parse("Endpoint=HTTPS://Host.Example;AccessKey=k;Version=1.0");
  CHECK(client_url(upper, "h", "t") == "wss://Host.Example/client/hubs/h?access_token=t");
}
