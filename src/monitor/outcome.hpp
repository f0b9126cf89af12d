#pragma once
// Probe outcomes and the pure rules that turn them into a report.
// No I/O here: the probes fill these structs, the unit tests build them.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.hpp"
#include "monitor/report.hpp"

namespace dbr::monitor {

struct DnsOutcome {
  bool ok = false;
  std::vector<std::string> addresses;  // A answers first, then AAAA
  // The smallest TTL of the answers' records (CNAMEs included); empty when
  // none came with one.
  std::optional<std::chrono::seconds> ttl;
  ProbeFailure failure = ProbeFailure::None;  // Dns when !ok
  std::string error;
  std::chrono::milliseconds elapsed{0};
};

struct HttpOutcome {
  bool ok = false;
  int status = 0;  // 0: no response
  ProbeFailure failure = ProbeFailure::None;
  std::string error;
  std::string primary_ip;  // the address curl connected to, if any
  std::chrono::milliseconds elapsed{0};
};

// What the transfer ended with, as curl reports it.
struct HttpExchange {
  int curl_code = 0;        // CURLcode; 0 = CURLE_OK
  long status = 0;          // CURLINFO_RESPONSE_CODE
  std::string curl_detail;  // CURLOPT_ERRORBUFFER text, may be empty
  std::string redirect_url; // CURLINFO_REDIRECT_URL, may be empty
};

// "2xx means online; anything else (including a captive portal's redirect)
// means offline."
bool is_success_status(long status);

// Maps a curl result code to the failed stage.
ProbeFailure failure_from_curl(int curl_code);

// ok/failure/status/error of an HTTP(S) exchange (elapsed and primary_ip are
// left for the caller).
HttpOutcome classify_http(const HttpExchange& exchange);

// The host part of a URL ("http://portal.example:8080/x?y" -> "portal.example"),
// so a redirect target can be named without its path or query (which may
// carry tokens). Empty when it cannot be parsed.
std::string url_host_only(std::string_view url);

// Assembles the report. `http` is empty when DNS failed (no GET was tried).
// `previous_online` is the previous report's state, empty before the first.
ConnectivityReport build_report(const DnsOutcome& dns, const std::optional<HttpOutcome>& http,
                                CheckTrigger trigger, TimePoint at, std::optional<bool> previous_online);
// The report of a check the hub connection's keepalive answered `age` ago
// (CheckSchedule::evidence_for): online, no probe run.
ConnectivityReport build_evidence_report(Duration age, CheckTrigger trigger, TimePoint at,
                                         std::optional<bool> previous_online);

}  // namespace dbr::monitor
