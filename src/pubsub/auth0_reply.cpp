#include "pubsub/auth0_reply.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace dbr::pubsub {

namespace {

// The non-empty string member `name` of the JSON object `body`.
std::optional<std::string> string_member(std::string_view body, const char* name) {
  const auto json = nlohmann::json::parse(body, nullptr, false);
  if (!json.is_object()) return std::nullopt;
  const auto it = json.find(name);
  if (it == json.end() || !it->is_string()) return std::nullopt;
  auto value = it->get<std::string>();
  if (value.empty()) return std::nullopt;
  return value;
}

}  // namespace

std::optional<std::string> parse_token_reply(std::string_view body) {
  auto token = string_member(body, "access_token");
  const auto control = [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; };
  if (token && std::any_of(token->begin(), token->end(), control)) return std::nullopt;
  return token;
}

std::optional<std::string> parse_userinfo_reply(std::string_view body) { return string_member(body, "wss_url"); }

}  // namespace dbr::pubsub
