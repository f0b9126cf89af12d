#include "monitor/report.hpp"

#include <fmt/format.h>

#include "common/enum_names.hpp"

namespace dbr::monitor {

constexpr auto kProbeFailureNames = enum_names<ProbeFailure>({
    {ProbeFailure::None, "none"}, {ProbeFailure::Dns, "dns"}, {ProbeFailure::Tcp, "tcp"}, {ProbeFailure::Tls, "tls"},
    {ProbeFailure::HttpStatus, "http status"}, {ProbeFailure::Timeout, "timeout"}, {ProbeFailure::Other, "other"}});
std::string_view failure_name(ProbeFailure f) { return kProbeFailureNames.name(f, "unknown"); }

constexpr auto kCheckTriggerNames = enum_names<CheckTrigger>({
    {CheckTrigger::Initial, "initial"}, {CheckTrigger::Interval, "interval"}, {CheckTrigger::Request, "request"},
    {CheckTrigger::LinkChange, "link change"}});
std::string_view trigger_name(CheckTrigger t) { return kCheckTriggerNames.name(t, "unknown"); }

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
