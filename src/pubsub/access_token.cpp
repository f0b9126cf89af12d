#include "pubsub/access_token.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <array>
#include <cctype>
#include <memory>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace dbr::pubsub {

std::string base64url_encode(std::span<const std::uint8_t> bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    std::uint32_t v = (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    std::uint32_t v = std::uint32_t{bytes[i]} << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (rest == 2) {
    std::uint32_t v = (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

std::string base64url_encode(std::string_view text) {
  return base64url_encode(
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

namespace {

// HMAC-SHA256 with OpenSSL 3's EVP_MAC interface.
std::array<std::uint8_t, 32> hmac_sha256(std::string_view key, std::string_view message) {
  std::unique_ptr<EVP_MAC, decltype(&EVP_MAC_free)> mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr), &EVP_MAC_free);
  if (!mac) throw std::runtime_error("OpenSSL has no HMAC");
  std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)> ctx(EVP_MAC_CTX_new(mac.get()), &EVP_MAC_CTX_free);
  if (!ctx) throw std::runtime_error("EVP_MAC_CTX_new failed");
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
  std::array<std::uint8_t, 32> out{};
  std::size_t out_len = 0;
  if (EVP_MAC_init(ctx.get(), reinterpret_cast<const unsigned char*>(key.data()), key.size(), params) != 1 ||
      EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1 ||
      EVP_MAC_final(ctx.get(), out.data(), &out_len, out.size()) != 1 || out_len != out.size())
    throw std::runtime_error("HMAC-SHA256 failed");
  return out;
}

}  // namespace

std::string client_audience(const ServiceAccessKey& connection, std::string_view hub) {
  return connection.endpoint + "/client/hubs/" + std::string(hub);
}

std::string sign_client_token(const ServiceAccessKey& connection, const TokenRequest& request,
                              std::chrono::system_clock::time_point now) {
  const auto iat = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  nlohmann::json claims{
      {"aud", client_audience(connection, request.hub)},
      {"iat", iat},
      {"exp", iat + request.lifetime.count()},
      {"role", {"webpubsub.joinLeaveGroup." + request.group, "webpubsub.sendToGroup." + request.group}},
  };
  if (!request.user_id.empty()) claims["sub"] = request.user_id;
  const std::string signing_input =
      base64url_encode(std::string_view(R"({"alg":"HS256","typ":"JWT"})")) + "." +
      base64url_encode(claims.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  const auto signature = hmac_sha256(connection.access_key, signing_input);
  return signing_input + "." + base64url_encode(std::span<const std::uint8_t>(signature));
}

std::string client_url(const ServiceAccessKey& connection, std::string_view hub, std::string_view token) {
  // The parser guarantees scheme://authority with an http or https scheme.
  const auto scheme_end = connection.endpoint.find("://");
  std::string scheme = connection.endpoint.substr(0, scheme_end);
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::string ws_scheme = scheme == "http" ? "ws" : "wss";
  return ws_scheme + connection.endpoint.substr(scheme_end) + "/client/hubs/" + std::string(hub) +
         "?access_token=" + std::string(token);
}

}  // namespace dbr::pubsub
