#include "monitor/probe_url.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>

#include <cstdlib>
#include <memory>

namespace dbr::monitor {

namespace {

struct UrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
struct TextDeleter {
  void operator()(char* p) const { curl_free(p); }
};

std::optional<std::string> part(CURLU* url, CURLUPart which, unsigned flags) {
  char* raw = nullptr;
  if (curl_url_get(url, which, &raw, flags) != CURLUE_OK || raw == nullptr) return std::nullopt;
  std::unique_ptr<char, TextDeleter> owned(raw);
  return std::string(raw);
}

bool is_ip_literal(const std::string& host) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, host.c_str(), buffer) == 1 || inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

}  // namespace

std::optional<ProbeTarget> parse_probe_url(std::string_view text) {
  std::unique_ptr<CURLU, UrlDeleter> url(curl_url());
  if (!url) return std::nullopt;
  std::string owned(text);
  // No CURLU_GUESS_SCHEME: the scheme must be written out.
  if (curl_url_set(url.get(), CURLUPART_URL, owned.c_str(), 0) != CURLUE_OK) return std::nullopt;
  auto scheme = part(url.get(), CURLUPART_SCHEME, 0);
  auto host = part(url.get(), CURLUPART_HOST, 0);
  auto port = part(url.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
  if (!scheme || !host || !port || host->empty()) return std::nullopt;
  if (*scheme != "https" && *scheme != "http") return std::nullopt;
  ProbeTarget target;
  target.scheme = *scheme;
  target.host = *host;
  if (target.host.size() > 2 && target.host.front() == '[' && target.host.back() == ']')
    target.host = target.host.substr(1, target.host.size() - 2);
  auto zone = target.host.find('%');  // fe80::1%eth0: the zone is not part of the address
  target.host_is_ip = is_ip_literal(zone == std::string::npos ? target.host : target.host.substr(0, zone));
  char* end = nullptr;
  long n = std::strtol(port->c_str(), &end, 10);
  if (end == port->c_str() || *end != '\0' || n <= 0 || n > 65535) return std::nullopt;
  target.port = static_cast<int>(n);
  return target;
}

std::string bracket_if_ipv6(std::string_view address) {
  if (address.find(':') == std::string_view::npos) return std::string(address);
  return "[" + std::string(address) + "]";
}

}  // namespace dbr::monitor
