#include "ws/codec/url.hpp"

#include <cctype>

namespace dbr::ws {

namespace {

bool istarts_with(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  return true;
}

bool is_host_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

std::string bracketed(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

}  // namespace

std::optional<WsUrl> parse_ws_url(std::string_view url) {
  WsUrl out;
  if (istarts_with(url, "wss://")) {
    out.secure = true;
    url.remove_prefix(6);
  } else if (istarts_with(url, "ws://")) {
    url.remove_prefix(5);
  } else {
    return std::nullopt;
  }
  for (char c : url)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return std::nullopt;
  if (url.find('#') != std::string_view::npos) return std::nullopt;
  const std::size_t authority_end = url.find_first_of("/?");
  std::string_view authority = url.substr(0, authority_end);
  std::string_view rest = authority_end == std::string_view::npos ? std::string_view() : url.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) return std::nullopt;

  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    out.host = std::string(authority.substr(1, close - 1));
    for (char c : out.host)
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return std::nullopt;
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      port_text = after.substr(1);
      if (port_text.empty()) return std::nullopt;
    }
  } else {
    const std::size_t colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    for (char c : out.host)
      if (!is_host_char(c)) return std::nullopt;
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return std::nullopt;
    }
  }
  if (out.host.empty()) return std::nullopt;
  // "port = *DIGIT"; the defaults are 80 for ws and 443 for wss (§3).
  out.port = out.secure ? 443 : 80;
  if (!port_text.empty()) {
    unsigned long port = 0;
    for (char c : port_text) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
      port = port * 10 + static_cast<unsigned long>(c - '0');
      if (port > 65535) return std::nullopt;
    }
    if (port == 0) return std::nullopt;
    out.port = static_cast<std::uint16_t>(port);
  }
  // "/" when the path is empty (§3: "resource-name ... "/" if the path
  // component is empty"), followed by "?" and the query when present.
  out.target = rest.empty() || rest.front() == '?' ? "/" + std::string(rest) : std::string(rest);
  return out;
}

std::string WsUrl::host_header() const {
  const bool default_port = port == (secure ? 443 : 80);
  return default_port ? bracketed(host) : bracketed(host) + ":" + std::to_string(port);
}

std::string WsUrl::transport_url() const {
  return std::string(secure ? "https://" : "http://") + bracketed(host) + ":" + std::to_string(port) + "/";
}

std::string WsUrl::display() const {
  return std::string(secure ? "wss://" : "ws://") + bracketed(host) + ":" + std::to_string(port);
}

}  // namespace dbr::ws
