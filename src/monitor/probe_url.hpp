#pragma once
// The probe URL's parts the probes need (pure).
#include <optional>
#include <string>
#include <string_view>

namespace dbr::monitor {

struct ProbeTarget {
  std::string scheme;  // "https" or "http"
  std::string host;    // without IPv6 brackets
  int port = 0;        // explicit or the scheme's default
  bool host_is_ip = false;  // an IP literal needs no DNS probe
};

// Empty for anything but an absolute http:// or https:// URL with a host.
std::optional<ProbeTarget> parse_probe_url(std::string_view url);

// "host:port:" prefix for CURLOPT_RESOLVE: IPv6 literals in brackets.
std::string bracket_if_ipv6(std::string_view address);

}  // namespace dbr::monitor
