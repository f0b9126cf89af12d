#include "pubsub/core/clock_skew.hpp"

#include <cstdio>

#include "common/retry_after.hpp"

namespace dbr::pubsub {

namespace {

std::chrono::seconds magnitude(std::chrono::seconds d) { return d < d.zero() ? -d : d; }

// "3 h 00 min behind the service's clock" / "42 s ahead of ..."
std::string direction_text(std::chrono::seconds service_minus_local) {
  return skew_text(magnitude(service_minus_local)) +
         (service_minus_local > service_minus_local.zero() ? " behind" : " ahead of");
}

}  // namespace

std::string skew_text(std::chrono::seconds d) {
  const long long s = d.count();
  char buf[48];
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%lld s", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%lld min %02lld s", s / 60, s % 60);
  else if (s < 2 * 86400)
    std::snprintf(buf, sizeof buf, "%lld h %02lld min", s / 3600, (s % 3600) / 60);
  else
    std::snprintf(buf, sizeof buf, "%lld days %lld h", s / 86400, (s % 86400) / 3600);
  return buf;
}

std::optional<std::string> clock_suspicion(const ClockReading& reading) {
  const bool unsynchronized = reading.synchronized == false;
  std::optional<std::chrono::seconds> off;
  if (reading.service) off = *reading.service - reading.local;
  const bool skewed = off && magnitude(*off) > kClockTolerance;
  // The service's Date is the better witness: a clock that agrees with it
  // is right, whatever the kernel's flag (a board may be set by hand).
  if (!skewed && (off || !unsynchronized)) return std::nullopt;
  std::string text = "the system time is " + utc_text(reading.local);
  if (skewed)
    text += ", " + direction_text(*off) + " the service's clock (its Date header: " + utc_text(*reading.service) + ")";
  if (unsynchronized)
    text += std::string(skewed ? ", and" : " and") + " the kernel says the clock is not synchronized (no NTP yet)";
  else if (reading.synchronized == std::nullopt)
    text += " (whether it is synchronized is unknown)";
  text += ". The service checks access tokens against its own clock, so a wrong system clock makes them look "
          "expired: set the clock (NTP; see timedatectl status)";
  return text;
}

std::optional<LogLine> TokenClock::observe(std::chrono::sys_seconds service, std::chrono::sys_seconds local,
                                           std::optional<bool> synchronized) {
  const std::chrono::seconds off = service - local;
  const bool was_correcting = offset_ != offset_.zero();
  if (magnitude(off) > kClockTolerance) {
    offset_ = off;
    if (was_correcting) return std::nullopt;
    return LogLine{LogLevel::Warning,
                   "the system clock (" + utc_text(local) + ") is " + direction_text(off) +
                       " the Web PubSub service's (its Date header: " + utc_text(service) + ")" +
                       (synchronized == false ? " and not synchronized (no NTP yet)" : "") +
                       ": signing access tokens with the service's time until the clock is set"};
  }
  offset_ = offset_.zero();
  if (!was_correcting) return std::nullopt;
  return LogLine{LogLevel::Info, "the system clock agrees with the Web PubSub service's again (" + utc_text(local) +
                                     "): signing access tokens with it"};
}

}  // namespace dbr::pubsub
