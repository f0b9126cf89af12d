#include "monitor/redirects.hpp"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <memory>

namespace dbr::monitor {

namespace {

struct UrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};

}  // namespace

bool is_followed_redirect(long status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

std::string normalized_url(std::string_view url) {
  std::unique_ptr<CURLU, UrlDeleter> parsed(curl_url());
  if (!parsed) return {};
  std::string owned(url);
  if (curl_url_set(parsed.get(), CURLUPART_URL, owned.c_str(), 0) != CURLUE_OK) return {};
  curl_url_set(parsed.get(), CURLUPART_FRAGMENT, nullptr, 0);
  char* host = nullptr;
  if (curl_url_get(parsed.get(), CURLUPART_HOST, &host, 0) == CURLUE_OK && host) {
    auto lower = normalized_host(host);
    curl_free(host);
    if (curl_url_set(parsed.get(), CURLUPART_HOST, lower.c_str(), 0) != CURLUE_OK) return {};
  }
  char* text = nullptr;
  if (curl_url_get(parsed.get(), CURLUPART_URL, &text, CURLU_NO_DEFAULT_PORT) != CURLUE_OK || !text) return {};
  std::string out(text);
  curl_free(text);
  return out;
}

RedirectChain::RedirectChain(std::string_view probe_url, ProbeTarget probe, int max_redirects)
    : probe_(std::move(probe)), max_redirects_(max_redirects) {
  visited_.push_back(normalized_url(probe_url));
}

RedirectVerdict RedirectChain::next(long status, std::string_view location) {
  RedirectVerdict verdict;
  if (!is_followed_redirect(status) || location.empty()) return verdict;
  auto target = parse_probe_url(location);
  // Another site (or no http(s) URL at all) is a captive portal's answer:
  // classified as a redirect, offline, as it always was.
  if (!target || !same_site(probe_.host, target->host, suffixes_)) return verdict;
  target->host = normalized_host(target->host);  // as in the URL the next hop GETs
  verdict.kind = RedirectVerdict::Kind::Refuse;
  auto host = bracket_if_ipv6(target->host);  // as in a URL
  if (probe_.scheme == "https" && target->scheme != "https") {
    verdict.error = fmt::format("http status {} (redirect to plain http at {}: not followed from https)", status, host);
    return verdict;
  }
  auto url = normalized_url(location);
  if (url.empty()) {
    verdict.error = fmt::format("http status {} (redirect to {}: unusable URL)", status, host);
    return verdict;
  }
  if (std::find(visited_.begin(), visited_.end(), url) != visited_.end()) {
    verdict.error = fmt::format("http status {} (redirect loop: back to {})", status, host);
    return verdict;
  }
  if (followed_ >= max_redirects_) {
    verdict.error = fmt::format("http status {} (more than {} redirects, the next to {})", status, max_redirects_, host);
    return verdict;
  }
  ++followed_;
  visited_.push_back(url);
  verdict.kind = RedirectVerdict::Kind::Follow;
  verdict.url = std::move(url);
  verdict.target = std::move(*target);
  return verdict;
}

}  // namespace dbr::monitor
