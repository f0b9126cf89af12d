// What the loop gets from an NTP check, and the kernel's clock-sync rule.
#include <doctest/doctest.h>

#include <sys/timex.h>

#include "common/clock_sync.hpp"
#include "monitor/ntp_check.hpp"

using namespace dbr;
using namespace dbr::monitor;
using namespace std::chrono_literals;

namespace {

NtpOutcome answered() {
  NtpOutcome o;
  o.available = true;
  o.server = "ntp.example:1123";
  o.address = "192.0.2.7";
  o.offset = 12'499'999ns;
  o.delay = -600'000ns;  // a server whose own timestamps are off can make it negative
  o.stratum = 2;
  return o;
}

NtpOutcome unanswered() {
  NtpOutcome o;
  o.failures = {"ntp1.example: no reply within 5 s", "ntp2.example: kiss-o'-death RATE"};
  return o;
}

}  // namespace

TEST_CASE("an answered check: the server, offset and delay in milliseconds, rounded") {
  const TimePoint at = TimePoint(100s);
  auto r = build_ntp_report(answered(), true, at, std::nullopt);
  CHECK(r.available);
  CHECK(r.changed);  // the first report always tells
  CHECK(r.server == "ntp.example:1123");
  REQUIRE(r.offset);
  CHECK(*r.offset == 12ms);
  REQUIRE(r.delay);
  CHECK(*r.delay == -1ms);
  CHECK(r.detail == "stratum 2 at 192.0.2.7");
  CHECK(r.clock_synchronized == true);
  CHECK(r.at == at);
  CHECK(describe(r) ==
        "available via ntp.example:1123 (offset +12 ms, delay -1 ms, stratum 2 at 192.0.2.7); clock synchronized");
}

TEST_CASE("an unanswered check: every server's reason, no server, no offset") {
  auto r = build_ntp_report(unanswered(), false, TimePoint(1s), true);
  CHECK_FALSE(r.available);
  CHECK(r.changed);
  CHECK(r.server.empty());
  CHECK_FALSE(r.offset);
  CHECK_FALSE(r.delay);
  CHECK(r.detail == "ntp1.example: no reply within 5 s; ntp2.example: kiss-o'-death RATE");
  CHECK(describe(r) ==
        "unavailable (ntp1.example: no reply within 5 s; ntp2.example: kiss-o'-death RATE); clock not synchronized");
  r = build_ntp_report(unanswered(), std::nullopt, TimePoint(1s), false);
  CHECK(describe(r).ends_with("; clock synchronization unknown"));
}

TEST_CASE("changed: only a change of available, against the previous report") {
  CHECK(build_ntp_report(unanswered(), true, {}, std::nullopt).changed);
  CHECK_FALSE(build_ntp_report(unanswered(), true, {}, false).changed);
  CHECK(build_ntp_report(unanswered(), true, {}, true).changed);
  CHECK_FALSE(build_ntp_report(answered(), true, {}, true).changed);
  CHECK(build_ntp_report(answered(), true, {}, false).changed);
}

TEST_CASE("clock synchronized: not TIME_ERROR, not STA_UNSYNC, and the call worked") {
  CHECK(clock_synchronized(TIME_OK, STA_PLL));
  CHECK(clock_synchronized(TIME_INS, 0));  // a leap second pending is still in sync
  CHECK_FALSE(clock_synchronized(TIME_ERROR, 0));
  CHECK_FALSE(clock_synchronized(TIME_OK, STA_UNSYNC));
  CHECK_FALSE(clock_synchronized(TIME_ERROR, STA_UNSYNC | STA_PLL));
  CHECK_FALSE(clock_synchronized(-1, 0));
  // Reading needs no privilege and works in any container.
  CHECK(read_clock_synchronized().has_value());
}
