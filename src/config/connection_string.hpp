#pragma once
// Azure Web PubSub connection string: "Endpoint=...;AccessKey=...;[Port=..;]Version=1.0".
// Keys are case-insensitive; "https://" is assumed when the endpoint has no
// scheme; Port replaces the endpoint's port (as @azure/web-pubsub parses it).
#include <optional>
#include <string>
#include <string_view>

namespace dbr::config {

struct ConnectionString {
  std::string endpoint;    // scheme://host[:port], no trailing slash
  std::string access_key;  // HMAC key: its UTF-8 bytes as written
  std::string version;
};

// Returns the parsed value, or nullopt with `error` saying what is wrong
// (never quoting the access key).
std::optional<ConnectionString> parse_connection_string(std::string_view text, std::string& error);

}  // namespace dbr::config
