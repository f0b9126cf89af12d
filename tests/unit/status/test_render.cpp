#include <doctest/doctest.h>

#include <sstream>

#include "status/render.hpp"

using namespace dbr::status;
using namespace std::chrono_literals;

namespace {
Snapshot sample() {
  Snapshot s;
  s.version = "1.2.3";
  s.pid = 4242;
  s.updated_at = WallTime{} + 1'700'000'100s;
  s.state = "BackingOff";
  s.since = WallTime{} + 1'700'000'000s;
  s.hub_host = "abc.webpubsub.azure.com";
  s.group = "crib";
  s.internet_known = true;
  s.internet_online = false;
  s.internet_reason = "dns: timeout";
  s.internet_checked_at = WallTime{} + 1'700'000'090s;
  s.last_error = "HTTP 401 from wss://abc.webpubsub.azure.com/client/hubs/d?access_token=SECRETJWT";
  s.counters = {7, 100, 50, 3};
  s.transitions.push_back({WallTime{} + 1'700'000'000s, "Connected", "BackingOff", "closed 1006"});
  return s;
}
}  // namespace

TEST_CASE("STATUS= line: state, hub, group, internet, reconnects, last error, no token") {
  std::string line = status_line(sample());
  CHECK(line.find("BackingOff to abc.webpubsub.azure.com group crib") == 0);
  CHECK(line.find("internet offline (dns: timeout)") != std::string::npos);
  CHECK(line.find("reconnects 7") != std::string::npos);
  CHECK(line.find("last error: HTTP 401") != std::string::npos);
  CHECK(line.find("SECRETJWT") == std::string::npos);
}

TEST_CASE("status.json carries state, since, internet verdict, transitions and counters") {
  auto j = to_json(sample());
  CHECK(j["state"] == "BackingOff");
  CHECK(j["since"] == "2023-11-14T22:13:20Z");
  CHECK(j["internet"]["online"] == false);
  CHECK(j["internet"]["reason"] == "dns: timeout");
  CHECK(j["counters"]["reconnects"] == 7);
  CHECK(j["counters"]["messages_in"] == 100);
  CHECK(j["counters"]["messages_out"] == 50);
  CHECK(j["counters"]["outbox_dropped"] == 3);
  REQUIRE(j["transitions"].size() == 1);
  CHECK(j["transitions"][0]["to"] == "BackingOff");
  CHECK(j.dump().find("SECRETJWT") == std::string::npos);

  Snapshot fresh;
  fresh.state = "WaitingForInternet";
  CHECK(to_json(fresh)["internet"]["online"].is_null());
}

TEST_CASE("the report reads the JSON back for a person") {
  auto j = to_json(sample());
  std::string report = render_report(j, WallTime{} + 1'700'000'110s);
  CHECK(report.find("dunebugger-remote 1.2.3 (pid 4242)") == 0);
  CHECK(report.find("state:     BackingOff for 110 s") != std::string::npos);
  CHECK(report.find("internet:  offline (dns: timeout)") != std::string::npos);
  CHECK(report.find("7 reconnects, 100 messages in, 50 out, 3 dropped") != std::string::npos);
  CHECK(report.find("Connected -> BackingOff  closed 1006") != std::string::npos);
  CHECK(report.find("(updated 10 s ago)") != std::string::npos);
  // Unknown or missing fields do not break it.
  CHECK_NOTHROW(render_report(nlohmann::json::object(), WallTime{}));
}

namespace {
Snapshot with_ntp(bool available, std::optional<bool> clock) {
  Snapshot s = sample();
  s.ntp.known = true;
  s.ntp.available = available;
  s.ntp.checked_at = WallTime{} + 1'700'000'095s;
  s.ntp.clock_synchronized = clock;
  if (available) {
    s.ntp.server = "ntp1.inrim.it";
    s.ntp.offset_ms = 12;
    s.ntp.delay_ms = 41;
    s.ntp.detail = "stratum 1 at 193.204.114.232";
  } else {
    s.ntp.detail = "ntp1.inrim.it: no reply within 5 s; ntp2.inrim.it: kiss-o'-death RATE";
  }
  return s;
}
}  // namespace

TEST_CASE("the report says how the internet was judged online: the probes, or the hub connection's keepalive") {
  Snapshot s = sample();
  s.internet_online = true;
  s.internet_reason = "ok";
  const WallTime now = WallTime{} + 1'700'000'110s;
  CHECK(render_report(to_json(s), now).find("  internet:  online\n") != std::string::npos);
  s.internet_reason = "keepalive answered 12 s ago";
  CHECK(to_json(s)["internet"]["reason"] == "keepalive answered 12 s ago");
  CHECK(render_report(to_json(s), now).find("  internet:  online (keepalive answered 12 s ago)\n") != std::string::npos);
  // Online is no problem: the STATUS= line does not mention it either way.
  CHECK(status_line(s).find("internet") == std::string::npos);
}

TEST_CASE("NTP: status.json carries the last check and the kernel's clock state") {
  auto j = to_json(with_ntp(true, true));
  CHECK(j["ntp"]["available"] == true);
  CHECK(j["ntp"]["server"] == "ntp1.inrim.it");
  CHECK(j["ntp"]["offset_ms"] == 12);
  CHECK(j["ntp"]["delay_ms"] == 41);
  CHECK(j["ntp"]["checked_at"] == "2023-11-14T22:14:55Z");
  CHECK(j["clock"]["synchronized"] == true);
  j = to_json(with_ntp(false, false));
  CHECK(j["ntp"]["available"] == false);
  CHECK(j["ntp"]["offset_ms"].is_null());
  CHECK(j["ntp"]["detail"] == "ntp1.inrim.it: no reply within 5 s; ntp2.inrim.it: kiss-o'-death RATE");
  CHECK(j["clock"]["synchronized"] == false);
  // Before the first check: null, not false.
  j = to_json(sample());
  CHECK(j["ntp"]["available"].is_null());
  CHECK(j["ntp"]["checked_at"].is_null());
  CHECK(j["clock"]["synchronized"].is_null());
}

TEST_CASE("NTP: the report's line, and only the problems in the STATUS= line") {
  const auto now = WallTime{} + 1'700'000'110s;
  CHECK(render_report(to_json(with_ntp(true, true)), now)
            .find("  NTP:       available via ntp1.inrim.it (offset +12 ms); clock synchronized\n") !=
        std::string::npos);
  CHECK(render_report(to_json(with_ntp(false, false)), now)
            .find("  NTP:       unavailable (ntp1.inrim.it: no reply within 5 s; ntp2.inrim.it: kiss-o'-death RATE); "
                  "clock not synchronized\n") != std::string::npos);
  CHECK(render_report(to_json(sample()), now).find("  NTP:       not checked yet\n") != std::string::npos);
  auto negative = with_ntp(true, std::nullopt);
  negative.ntp.offset_ms = -1500;
  CHECK(render_report(to_json(negative), now).find("  NTP:       available via ntp1.inrim.it (offset -1500 ms)\n") !=
        std::string::npos);

  CHECK(status_line(with_ntp(true, true)).find("NTP") == std::string::npos);
  CHECK(status_line(with_ntp(true, true)).find("clock") == std::string::npos);
  std::string line = status_line(with_ntp(false, false));
  CHECK(line.find("; reconnects 7; NTP unavailable; clock not synchronized; last error: ") != std::string::npos);
  CHECK(status_line(sample()).find("NTP") == std::string::npos);  // not checked yet: nothing to say
}

TEST_CASE("status.json says how often it is rewritten") {
  CHECK(to_json(sample())["refresh_secs"] == kRefreshEvery.count());
}

TEST_CASE("freshness: a gone pid, or a file older than three refresh periods, is stale") {
  auto j = to_json(sample());  // updated at 1'700'000'100 s, every kRefreshEvery (60 s)
  REQUIRE(kRefreshEvery == 60s);
  const WallTime updated = WallTime{} + 1'700'000'100s;
  CHECK_FALSE(judge_freshness(j, updated + 5s, true).stale);
  CHECK_FALSE(judge_freshness(j, updated + 180s, true).stale);
  auto old = judge_freshness(j, updated + 181s, true);
  CHECK(old.stale);
  CHECK(old.why.find("not rewritten for 3 min, and the agent rewrites it every 60 s") != std::string::npos);
  auto gone = judge_freshness(j, updated + 1s, false);
  CHECK(gone.stale);
  CHECK(gone.why == "pid 4242 is gone");
  // The writer's own period decides: a 10 s writer is stale after 31 s.
  j["refresh_secs"] = 10;
  CHECK(judge_freshness(j, updated + 31s, true).stale);
  // A file from before refresh_secs: its agents' period, 10 s.
  j.erase("refresh_secs");
  CHECK_FALSE(judge_freshness(j, updated + 30s, true).stale);
  CHECK(judge_freshness(j, updated + 31s, true).stale);
  // Nothing to date it by: only the pid decides.
  CHECK_FALSE(judge_freshness(nlohmann::json{{"pid", 1}}, updated, true).stale);
}

TEST_CASE("a stale report says so first and marks every field as last known") {
  auto j = to_json(sample());
  const WallTime now = WallTime{} + 1'700'000'100s + 600s;
  std::string report = render_report(j, now, judge_freshness(j, now, false));
  CHECK(report.find("dunebugger-remote is not running (pid 4242 is gone)") == 0);
  int fields = 0;
  std::istringstream lines(report);
  for (std::string line; std::getline(lines, line);) {
    for (const char* label : {"state:", "hub:", "internet:", "NATS:", "NTP:", "last error:", "counters:"}) {
      if (line.rfind(std::string("  ") + label, 0) != 0) continue;
      ++fields;
      CHECK_MESSAGE(line.find("last known: ") != std::string::npos, line);
    }
  }
  CHECK(fields == 7);
  CHECK(report.find("recent transitions (last known):") != std::string::npos);
  // Its durations end when it was written: BackingOff for 100 s, not 700 s.
  CHECK(report.find("state:     last known: BackingOff for 100 s") != std::string::npos);
  CHECK(report.find("(updated 10 min ago)") != std::string::npos);
  // A fresh one carries no such mark.
  CHECK(render_report(j, WallTime{} + 1'700'000'110s).find("last known") == std::string::npos);
}

TEST_CASE("a status file with other types or values out of range is read as far as it makes sense") {
  // Found by status_fuzz: nlohmann's value()/get() threw on a field of
  // another type (`status` ended in std::terminate), and a date beyond 2262
  // or before 1970, or a huge refresh_secs, overflowed the nanosecond clock.
  const WallTime now = WallTime{} + 1'780'272'000s;  // 2026-06-01
  const auto wrong = nlohmann::json::parse(
      R"({"pid":"4242","updated_at":17,"refresh_secs":"10","state":["x"],"internet":{"online":"yes"},)"
      R"("nats_connected":"true","counters":{"reconnects":"3","messages_in":1e300,"messages_out":-2},)"
      R"("ntp":{"available":true,"offset_ms":1.5},"clock":[],"transitions":[1,"x",{"at":2}]})");
  CHECK(status_pid(wrong) == 0);
  const auto fresh = judge_freshness(wrong, now, true);
  CHECK_FALSE(fresh.stale);
  CHECK(judge_freshness(wrong, now, false).why == "the file names no pid");
  const std::string report = render_report(wrong, now, fresh);
  CHECK(report.find("(pid 0)") != std::string::npos);
  CHECK(report.find("  state:     ? (since unknown)\n") != std::string::npos);  // not "for 20 000 days"
  CHECK(report.find("internet:  not checked yet") != std::string::npos);
  CHECK(report.find("NATS:      not connected") != std::string::npos);
  CHECK(report.find("counters:  0 reconnects, 0 messages in, 0 out") != std::string::npos);
  CHECK(report.find("NTP:       available via ?\n") != std::string::npos);
  CHECK(render_report(nlohmann::json{{"counters", 5}, {"internet", true}, {"ntp", "x"}}, now).find("0 reconnects") !=
        std::string::npos);

  // Dates WallTime cannot hold are no date; a period beyond a day is not believed.
  const auto far = nlohmann::json::parse(
      R"({"pid":4242,"updated_at":"9999-12-31T23:59:59Z","since":"1900-01-01T00:00:00Z","refresh_secs":9223372036854775807})");
  CHECK_FALSE(judge_freshness(far, now, true).stale);
  CHECK(render_report(far, now).find("(updated ") != std::string::npos);
  auto old = nlohmann::json::parse(R"({"pid":4242,"updated_at":"2026-05-31T00:00:00Z","refresh_secs":4000000000})");
  CHECK(judge_freshness(old, now, true).stale);  // a day old, read with the old agents' 10 s
  CHECK(status_pid(nlohmann::json{{"pid", 18446744073709551615ULL}}) == 0);
  CHECK(status_pid(nlohmann::json{{"pid", -5}}) == 0);
  CHECK(status_pid(nlohmann::json{{"pid", 4242}}) == 4242);
}
