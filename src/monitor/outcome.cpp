#include "monitor/outcome.hpp"

#include <curl/curl.h>
#include <fmt/format.h>

#include "net/curl_error.hpp"

namespace dbr::monitor {

bool is_success_status(long status) { return status >= 200 && status <= 299; }

ProbeFailure failure_from_curl(int curl_code) {
  auto rc = static_cast<CURLcode>(curl_code);
  if (rc == CURLE_OK) return ProbeFailure::None;
  switch (net::classify_curl_error(rc)) {
    case net::CurlErrorClass::Dns: return ProbeFailure::Dns;
    case net::CurlErrorClass::Tcp: return ProbeFailure::Tcp;
    case net::CurlErrorClass::Tls: return ProbeFailure::Tls;
    case net::CurlErrorClass::Timeout: return ProbeFailure::Timeout;
    case net::CurlErrorClass::Other: return ProbeFailure::Other;
  }
  return ProbeFailure::Other;
}

std::string url_host_only(std::string_view url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {};
  auto rest = url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  auto at = rest.rfind('@');  // drop any user:password@
  if (at != std::string_view::npos) rest = rest.substr(at + 1);
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    return close == std::string_view::npos ? std::string{} : std::string(rest.substr(0, close + 1));
  }
  return std::string(rest.substr(0, rest.find(':')));
}

HttpOutcome classify_http(const HttpExchange& ex) {
  HttpOutcome out;
  out.status = static_cast<int>(ex.status);
  if (ex.curl_code != CURLE_OK) {
    out.failure = failure_from_curl(ex.curl_code);
    out.error = fmt::format("{}: {}", failure_name(out.failure),
                            net::curl_error_text(static_cast<CURLcode>(ex.curl_code), ex.curl_detail.c_str()));
    return out;
  }
  if (is_success_status(ex.status)) {
    out.ok = true;
    return out;
  }
  out.failure = ProbeFailure::HttpStatus;
  if (ex.status == 0) {
    out.error = "http status: no status line";
  } else if (ex.status >= 300 && ex.status <= 399) {
    auto host = url_host_only(ex.redirect_url);
    out.error = host.empty() ? fmt::format("http status {} (redirect)", ex.status)
                             : fmt::format("http status {} (redirect to {})", ex.status, host);
  } else {
    out.error = fmt::format("http status {}", ex.status);
  }
  return out;
}

ConnectivityReport build_report(const DnsOutcome& dns, const std::optional<HttpOutcome>& http,
                                CheckTrigger trigger, TimePoint at, std::optional<bool> previous_online) {
  ConnectivityReport r;
  r.dns_ok = dns.ok;
  r.dns_ms = dns.elapsed;
  r.trigger = trigger;
  r.at = at;
  if (!dns.addresses.empty()) r.address = dns.addresses.front();
  if (!dns.ok) {
    r.failure = dns.failure == ProbeFailure::None ? ProbeFailure::Dns : dns.failure;
    r.error = dns.error;
  } else if (!http) {
    r.failure = ProbeFailure::Other;
    r.error = "https probe did not run";
  } else {
    r.https_ok = http->ok;
    r.https_ms = http->elapsed;
    r.http_status = http->status;
    if (!http->primary_ip.empty()) r.address = http->primary_ip;
    r.failure = http->ok ? ProbeFailure::None : http->failure;
    r.error = http->error;
  }
  r.online = r.dns_ok && r.https_ok;
  r.changed = !previous_online.has_value() || *previous_online != r.online;
  return r;
}

ConnectivityReport build_evidence_report(Duration age, CheckTrigger trigger, TimePoint at,
                                         std::optional<bool> previous_online) {
  ConnectivityReport r;
  r.online = true;
  r.trigger = trigger;
  r.at = at;
  r.keepalive_age = std::chrono::duration_cast<std::chrono::milliseconds>(age);
  r.changed = !previous_online.has_value() || !*previous_online;
  return r;
}

}  // namespace dbr::monitor
