#include "config/parsers.hpp"

#include <arpa/inet.h>

#include <cctype>
#include <charconv>
#include <cmath>

#include "config/text.hpp"

namespace dbr::config {

std::optional<std::int64_t> parse_int(std::string_view text) {
  text = trim(text);
  bool negative = false;
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text.empty()) return std::nullopt;
  std::int64_t value = 0;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    if (value > (INT64_MAX - (c - '0')) / 10) return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return negative ? -value : value;
}

std::optional<double> parse_float(std::string_view text) {
  text = trim(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return std::nullopt;
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

std::optional<bool> parse_bool(std::string_view text) {
  std::string v = to_lower(trim(text));
  if (v == "1" || v == "yes" || v == "true" || v == "on") return true;
  if (v == "0" || v == "no" || v == "false" || v == "off") return false;
  return std::nullopt;
}

bool is_hostname(std::string_view text) {
  if (text.empty() || text.size() > 253) return false;
  for (std::string_view label : split(text, '.')) {
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (char c : label)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

namespace {

bool is_port(std::string_view text) {
  auto port = parse_int(text);
  return port && *port >= 1 && *port <= 65535 && text == trim(text) && std::isdigit(static_cast<unsigned char>(text[0]));
}

bool is_ipv4(std::string_view text) {
  std::string s(text);
  in_addr addr{};
  return inet_pton(AF_INET, s.c_str(), &addr) == 1;
}

bool is_ipv6(std::string_view text) {
  std::string s(text);
  in6_addr addr{};
  return inet_pton(AF_INET6, s.c_str(), &addr) == 1;
}

// Splits "[v6]:port", "host:port", "host"; false when malformed.
bool split_host_port(std::string_view text, std::string_view& host, std::string_view& port) {
  port = {};
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return false;
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (rest.empty()) return is_ipv6(host);
    if (rest.front() != ':') return false;
    port = rest.substr(1);
    return is_ipv6(host) && is_port(port);
  }
  auto colon = text.find(':');
  if (colon != std::string_view::npos && text.find(':', colon + 1) != std::string_view::npos) {
    host = text;  // bare IPv6 literal, no port
    return is_ipv6(host);
  }
  host = text.substr(0, colon);
  if (colon != std::string_view::npos) {
    port = text.substr(colon + 1);
    if (!is_port(port)) return false;
  }
  return !host.empty();
}

}  // namespace

bool is_host_port(std::string_view text) { return parse_host_port(text).has_value(); }

std::optional<HostPort> parse_host_port(std::string_view text) {
  std::string_view host, port;
  if (!split_host_port(text, host, port)) return std::nullopt;
  if (!is_hostname(host) && !is_ipv4(host) && !is_ipv6(host)) return std::nullopt;
  HostPort parts{std::string(host), std::nullopt};
  if (!port.empty()) parts.port = static_cast<std::uint16_t>(*parse_int(port));  // is_port checked 1..65535
  return parts;
}

bool is_ip_with_port(std::string_view text) {
  std::string_view host, port;
  if (!split_host_port(text, host, port)) return false;
  return is_ipv4(host) || is_ipv6(host);
}

bool is_url_with_scheme(std::string_view text, std::initializer_list<std::string_view> schemes, UserInfo userinfo) {
  auto sep = text.find("://");
  if (sep == std::string_view::npos) return false;
  std::string scheme = to_lower(text.substr(0, sep));
  bool known = false;
  for (auto s : schemes) known = known || scheme == s;
  if (!known) return false;
  std::string_view rest = text.substr(sep + 3);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    if (userinfo == UserInfo::Rejected) return false;
    authority = authority.substr(at + 1);
  }
  for (char c : text)
    if (std::isspace(static_cast<unsigned char>(c))) return false;
  return is_host_port(authority);
}

}  // namespace dbr::config
