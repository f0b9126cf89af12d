#include "monitor/site.hpp"

#include <arpa/inet.h>
#include <libpsl.h>

#include <algorithm>

namespace dbr::monitor {

namespace {

bool is_ip_literal(const std::string& host) {
  if (host.find(':') != std::string::npos) return true;  // IPv6, with or without a zone
  unsigned char buffer[16];
  return inet_pton(AF_INET, host.c_str(), buffer) == 1 || inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

}  // namespace

PublicSuffixList::~PublicSuffixList() {
  if (list_) psl_free(list_);  // a no-op for libpsl's built-in list
}

std::string PublicSuffixList::registrable_domain(const std::string& host) const {
  if (!loaded_) {
    loaded_ = true;
    // NULL: no file of ours; the newer of the built-in list and the distro's.
    list_ = psl_latest(nullptr);
  }
  if (!list_) return {};
  const char* domain = psl_registrable_domain(list_, host.c_str());
  return domain ? std::string(domain) : std::string();
}

std::string normalized_host(std::string_view host) {
  std::string out(host);
  if (!out.empty() && out.back() == '.') out.pop_back();
  // ASCII letters only; a non-ASCII name compares as written.
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; });
  return out;
}

bool same_site(std::string_view probe_host, std::string_view target_host, const PublicSuffixList& list) {
  auto probe = normalized_host(probe_host);
  auto target = normalized_host(target_host);
  if (probe.empty() || target.empty()) return false;
  if (probe == target) return true;
  if (is_ip_literal(probe) || is_ip_literal(target)) return false;
  auto site = list.registrable_domain(probe);
  return !site.empty() && site == list.registrable_domain(target);
}

}  // namespace dbr::monitor
