#include "monitor/report.hpp"

#include <fmt/format.h>

namespace dbr::monitor {

std::string_view failure_name(ProbeFailure f) {
  switch (f) {
    case ProbeFailure::None: return "none";
    case ProbeFailure::Dns: return "dns";
    case ProbeFailure::Tcp: return "tcp";
    case ProbeFailure::Tls: return "tls";
    case ProbeFailure::HttpStatus: return "http status";
    case ProbeFailure::Timeout: return "timeout";
    case ProbeFailure::Other: return "other";
  }
  return "unknown";
}

std::string_view trigger_name(CheckTrigger t) {
  switch (t) {
    case CheckTrigger::Initial: return "initial";
    case CheckTrigger::Interval: return "interval";
    case CheckTrigger::Request: return "request";
    case CheckTrigger::LinkChange: return "link change";
  }
  return "unknown";
}

namespace {

std::string keepalive_text(std::chrono::milliseconds age) {
  return fmt::format("keepalive answered {} s ago", std::chrono::round<std::chrono::seconds>(age).count());
}

}  // namespace

std::string describe(const ConnectivityReport& r) {
  if (r.keepalive_age)
    return fmt::format("online ({}, {} check)", keepalive_text(*r.keepalive_age), trigger_name(r.trigger));
  if (r.online)
    return fmt::format("online via {} (dns {} ms, https {} ms, status {}, {} check)", r.address,
                       r.dns_ms.count(), r.https_ms.count(), r.http_status, trigger_name(r.trigger));
  return fmt::format("offline: {} (dns {} ms, https {} ms, {} check)", r.error, r.dns_ms.count(),
                     r.https_ms.count(), trigger_name(r.trigger));
}

std::string status_reason(const ConnectivityReport& r) {
  if (r.keepalive_age) return keepalive_text(*r.keepalive_age);
  return r.online ? "ok" : r.error;
}

std::string describe(const NtpReport& r) {
  std::string clock = !r.clock_synchronized    ? "clock synchronization unknown"
                      : *r.clock_synchronized ? "clock synchronized"
                                              : "clock not synchronized";
  if (r.available)
    return fmt::format("available via {} (offset {:+} ms, delay {} ms, {}); {}", r.server,
                       r.offset.value_or(std::chrono::milliseconds(0)).count(),
                       r.delay.value_or(std::chrono::milliseconds(0)).count(), r.detail, clock);
  return fmt::format("unavailable ({}); {}", r.detail, clock);
}

}  // namespace dbr::monitor
