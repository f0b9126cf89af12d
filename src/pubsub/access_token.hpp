#pragma once
// Client access for a `connectionString` + `hub` configuration: an HS256 JWT
// signed locally, as @azure/web-pubsub getClientAccessToken() does, and the
// client URL that carries it (webpubsub-protocol.md §2).
//
//   header  {"alg":"HS256","typ":"JWT"}
//   claims  aud  <endpoint>/client/hubs/<hub>   (the http(s) endpoint)
//           iat, exp = iat + lifetime (1 h)
//           sub  the device id (the userId)
//           role [webpubsub.joinLeaveGroup.<group>, webpubsub.sendToGroup.<group>]
//   key     the UTF-8 bytes of AccessKey as written (not base64-decoded)
//
// A token is made fresh for every new connection; `exp` is checked only at
// connect time, so an open connection outlives it.
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace dbr::pubsub {

// base64url without padding (RFC 7515 §2, "Base64url Encoding"), as JWS
// compact serialization needs.
std::string base64url_encode(std::span<const std::uint8_t> bytes);
std::string base64url_encode(std::string_view text);

// What a connection string gives for signing (its Version is not used).
struct ServiceAccessKey {
  std::string endpoint;    // http(s)://host[:port], no trailing slash
  std::string access_key;  // HMAC key: its UTF-8 bytes as written
  bool operator==(const ServiceAccessKey&) const = default;
};

struct TokenRequest {
  std::string hub;
  std::string user_id;
  std::string group;
  std::chrono::seconds lifetime = std::chrono::hours(1);
  bool operator==(const TokenRequest&) const = default;
};

// `<endpoint>/client/hubs/<hub>`
std::string client_audience(const ServiceAccessKey& connection, std::string_view hub);

// The compact JWS. `now` is wall-clock time, passed in (no clock reads here).
std::string sign_client_token(const ServiceAccessKey& connection, const TokenRequest& request,
                              std::chrono::system_clock::time_point now);

// `ws(s)://<host>[:port]/client/hubs/<hub>?access_token=<token>` (http -> ws,
// https -> wss). Holds the token: never log it.
std::string client_url(const ServiceAccessKey& connection, std::string_view hub, std::string_view token);

}  // namespace dbr::pubsub
