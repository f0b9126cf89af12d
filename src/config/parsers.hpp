#pragma once
// Value parsers for config keys. Each returns the value or nullopt; the
// caller reports "expected <form>" from the key table.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dbr::config {

// Python int(): optional sign, decimal digits, surrounding spaces.
std::optional<std::int64_t> parse_int(std::string_view text);
// Python float() without inf/nan.
std::optional<double> parse_float(std::string_view text);
// configparser getboolean(): 1/yes/true/on, 0/no/false/off, any case.
std::optional<bool> parse_bool(std::string_view text);

// host or host:port (a DNS name or an IP literal, IPv6 in brackets with a port).
bool is_host_port(std::string_view text);
struct HostPort {
  std::string host;                   // without IPv6 brackets
  std::optional<std::uint16_t> port;  // empty when none is given
};
// The parts of what is_host_port accepts; empty for anything else.
std::optional<HostPort> parse_host_port(std::string_view text);
bool is_hostname(std::string_view text);
// An IP address with an optional port: 192.0.2.1, 192.0.2.1:53, ::1, [::1]:53.
bool is_ip_with_port(std::string_view text);
// scheme://host[:port][/path][?query]; scheme compared case-insensitively.
// Userinfo ("user:password@") only where the consumer uses it (NATS); a
// WebSocket or probe URL carrying one would fail at every attempt.
enum class UserInfo { Rejected, Allowed };
bool is_url_with_scheme(std::string_view text, std::initializer_list<std::string_view> schemes,
                        UserInfo userinfo = UserInfo::Rejected);

}  // namespace dbr::config
