#include "config/connection_string.hpp"

#include <cctype>

#include "config/text.hpp"

namespace dbr::config {

std::optional<ConnectionString> parse_connection_string(std::string_view text, std::string& error) {
  ConnectionString result;
  std::string port;
  for (std::string_view part : split(text, ';')) {
    part = trim(part);
    if (part.empty()) continue;
    auto eq = part.find('=');
    if (eq == std::string_view::npos) {
      error = "each part must be Name=Value";
      return std::nullopt;
    }
    std::string name = to_lower(trim(part.substr(0, eq)));
    std::string_view value = trim(part.substr(eq + 1));
    if (name == "endpoint")
      result.endpoint = std::string(value);
    else if (name == "accesskey")
      result.access_key = std::string(value);
    else if (name == "version")
      result.version = std::string(value);
    else if (name == "port")
      port = std::string(value);
    // Other parts (ClientEndpoint, ...) are not needed by a client.
  }
  if (result.endpoint.empty()) {
    error = "Endpoint= is missing";
    return std::nullopt;
  }
  if (result.access_key.empty()) {
    // Not "AccessKey= is ...": the log redaction masks the word after "AccessKey=".
    error = "AccessKey is missing (Entra ID credentials are not supported)";
    return std::nullopt;
  }
  if (result.endpoint.find("://") == std::string::npos) result.endpoint = "https://" + result.endpoint;
  while (!result.endpoint.empty() && result.endpoint.back() == '/') result.endpoint.pop_back();
  auto scheme_end = result.endpoint.find("://");
  std::string scheme = to_lower(std::string_view(result.endpoint).substr(0, scheme_end));
  if (scheme != "https" && scheme != "http") {
    error = "Endpoint must be an http:// or https:// URL";
    return std::nullopt;
  }
  std::string_view authority = std::string_view(result.endpoint).substr(scheme_end + 3);
  if (authority.empty() || authority.find_first_of("/@") != std::string_view::npos) {
    error = "Endpoint must be scheme://host[:port] with no path and no user:password@";
    return std::nullopt;
  }
  if (!port.empty()) {
    for (char c : port)
      if (!std::isdigit(static_cast<unsigned char>(c))) {
        error = "Port must be a number";
        return std::nullopt;
      }
    // Port replaces any port in the endpoint (IPv6 literals keep their ']').
    auto bracket = authority.rfind(']');
    auto colon = authority.rfind(':');
    if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket))
      result.endpoint.resize(scheme_end + 3 + colon);
    result.endpoint += ":" + port;
  }
  return result;
}

}  // namespace dbr::config
