#include "status/render.hpp"

#include <spdlog/fmt/fmt.h>

#include <sys/types.h>

#include <cstdint>
#include <ctime>
#include <limits>
#include <optional>

#include "log/redact.hpp"

namespace dbr::status {

std::string iso8601(WallTime t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

namespace {

std::string age(WallTime then, WallTime now) {
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(now - then).count();
  if (secs < 0) secs = 0;
  if (secs < 120) return fmt::format("{} s", secs);
  if (secs < 7200) return fmt::format("{} min", secs / 60);
  if (secs < 172800) return fmt::format("{} h {} min", secs / 3600, (secs % 3600) / 60);
  return fmt::format("{} days", secs / 86400);
}

// A time the file gives; {} when unparsable, or before 1970 or beyond what
// WallTime holds (year 2262): from_time_t would overflow.
WallTime parse_iso8601(const std::string& text) {
  std::tm tm{};
  if (!strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm)) return {};
  const std::time_t secs = timegm(&tm);
  constexpr auto kLatest = std::chrono::duration_cast<std::chrono::seconds>(WallTime::duration::max());
  if (secs < 0 || secs >= kLatest.count()) return {};
  return std::chrono::system_clock::from_time_t(secs);
}

// The file's fields as the agent writes them; anything else a file may hold
// reads as absent, never as an exception (nlohmann's get and value throw on
// a type they cannot convert, and a double too big for an integer is
// undefined behaviour to convert).
std::string str(const nlohmann::json& j, const char* key, const char* fallback = "?") {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string(fallback);
}

std::optional<std::int64_t> integer(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return std::nullopt;
  if (it->is_number_unsigned())
    return it->get<std::uint64_t>() <= std::uint64_t{INT64_MAX} ? std::optional(it->get<std::int64_t>()) : std::nullopt;
  if (it->is_number_integer()) return it->get<std::int64_t>();
  return std::nullopt;
}

std::uint64_t count(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
}

std::optional<bool> flag(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_boolean()) return std::nullopt;
  return it->get<bool>();
}

// j[key] when it is an object, else an empty one.
const nlohmann::json& object(const nlohmann::json& j, const char* key) {
  static const nlohmann::json kEmpty = nlohmann::json::object();
  auto it = j.find(key);
  return it != j.end() && it->is_object() ? *it : kEmpty;
}

nlohmann::json optional_json(const auto& value) { return value ? nlohmann::json(*value) : nlohmann::json(); }

nlohmann::json ntp_json(const NtpStatus& n) {
  return {{"available", n.known ? nlohmann::json(n.available) : nlohmann::json()},
          {"server", n.server},
          {"offset_ms", optional_json(n.offset_ms)},
          {"delay_ms", optional_json(n.delay_ms)},
          {"detail", log::redact(n.detail)},
          {"checked_at", n.known ? nlohmann::json(iso8601(n.checked_at)) : nlohmann::json()}};
}

// "available via ntp1.inrim.it (offset +12 ms); clock synchronized"
std::string ntp_text(const nlohmann::json& j) {
  const auto& ntp = object(j, "ntp");
  auto available = flag(ntp, "available");
  if (!available) return "not checked yet";
  std::string text;
  auto offset = integer(ntp, "offset_ms");
  if (*available)
    text = "available via " + str(ntp, "server") + (offset ? fmt::format(" (offset {:+} ms)", *offset) : std::string());
  else
    text = "unavailable (" + str(ntp, "detail") + ")";
  if (auto synced = flag(object(j, "clock"), "synchronized"))
    text += *synced ? "; clock synchronized" : "; clock not synchronized";
  return text;
}

}  // namespace

std::string status_line(const Snapshot& s) {
  std::string line = fmt::format("{}", s.state);
  if (!s.hub_host.empty()) line += fmt::format(" to {}", s.hub_host);
  if (!s.group.empty()) line += fmt::format(" group {}", s.group);
  if (s.internet_known && !s.internet_online) line += fmt::format("; internet offline ({})", s.internet_reason);
  line += fmt::format("; reconnects {}", s.counters.reconnects);
  // Problems only, as for the internet: the offset moves with every check.
  if (s.ntp.known && !s.ntp.available) line += "; NTP unavailable";
  if (s.ntp.clock_synchronized == false) line += "; clock not synchronized";
  if (!s.last_error.empty()) line += fmt::format("; last error: {}", s.last_error);
  return log::redact(line);
}

nlohmann::json to_json(const Snapshot& s) {
  nlohmann::json transitions = nlohmann::json::array();
  for (const auto& t : s.transitions)
    transitions.push_back({{"at", iso8601(t.at)}, {"from", t.from}, {"to", t.to}, {"reason", log::redact(t.reason)}});
  nlohmann::json internet = {{"online", s.internet_known ? nlohmann::json(s.internet_online) : nlohmann::json()},
                             {"reason", log::redact(s.internet_reason)},
                             {"checked_at", s.internet_known ? nlohmann::json(iso8601(s.internet_checked_at))
                                                             : nlohmann::json()}};
  return {
      {"version", s.version},
      {"pid", s.pid},
      {"updated_at", iso8601(s.updated_at)},
      {"refresh_secs", s.refresh_every.count()},
      {"state", s.state},
      {"since", iso8601(s.since)},
      {"hub", s.hub_host},
      {"group", s.group},
      {"internet", internet},
      {"nats_connected", s.nats_connected},
      {"ntp", ntp_json(s.ntp)},
      {"clock", {{"synchronized", optional_json(s.ntp.clock_synchronized)}}},
      {"last_error", log::redact(s.last_error)},
      {"counters",
       {{"reconnects", s.counters.reconnects},
        {"messages_in", s.counters.messages_in},
        {"messages_out", s.counters.messages_out},
        {"outbox_dropped", s.counters.outbox_dropped}}},
      {"transitions", transitions},
  };
}

namespace {

// The writer's period; 10 s, the old agents' period, for a file from before
// the field and for a value beyond a day (no agent writes one; a bound
// keeps the arithmetic on it in range).
std::chrono::seconds refresh_period(const nlohmann::json& j) {
  constexpr std::int64_t kLongestSecs = 86400;
  auto secs = integer(j, "refresh_secs");
  if (secs && *secs > 0 && *secs <= kLongestSecs) return std::chrono::seconds(*secs);
  // A file from before the field: its agent rewrote it every 10 s.
  return std::chrono::seconds(10);
}

}  // namespace

long status_pid(const nlohmann::json& j) {
  auto pid = integer(j, "pid");
  return pid && *pid > 0 && *pid <= std::numeric_limits<pid_t>::max() ? static_cast<long>(*pid) : 0;
}

Freshness judge_freshness(const nlohmann::json& j, WallTime now, bool pid_alive) {
  if (!pid_alive) {
    long pid = status_pid(j);
    return {true, pid > 0 ? fmt::format("pid {} is gone", pid) : std::string("the file names no pid")};
  }
  WallTime updated = parse_iso8601(str(j, "updated_at", ""));
  if (updated == WallTime{}) return {};
  auto period = refresh_period(j);
  if (now - updated > kStaleAfterPeriods * period)
    return {true, fmt::format("the file was not rewritten for {}, and the agent rewrites it every {} s",
                              age(updated, now), period.count())};
  return {};
}

std::string render_report(const nlohmann::json& j, WallTime now, const Freshness& freshness) {
  WallTime updated = parse_iso8601(str(j, "updated_at", ""));
  // A stale file's durations end when it was written, not now.
  WallTime as_of = freshness.stale && updated != WallTime{} ? updated : now;
  const std::string mark = freshness.stale ? "last known: " : "";
  std::string out;
  if (freshness.stale)
    out += fmt::format("dunebugger-remote is not running ({}); stale status follows, every field as last known\n",
                       freshness.why);
  out += fmt::format("dunebugger-remote {} (pid {})\n", str(j, "version"), status_pid(j));
  // A file without a readable "since" (not the agent's) has no duration to show.
  const WallTime since = parse_iso8601(str(j, "since", ""));
  out += fmt::format("  state:     {}{} {}\n", mark, str(j, "state"),
                     since == WallTime{} ? std::string("(since unknown)") : "for " + age(since, as_of));
  auto or_dash = [](std::string v) { return v.empty() ? std::string("-") : v; };
  out += fmt::format("  hub:       {}{}  group: {}\n", mark, or_dash(str(j, "hub", "")), or_dash(str(j, "group", "")));
  const auto& internet = object(j, "internet");
  auto online = flag(internet, "online");
  // "online" when the probes passed ("ok"); "online (keepalive answered 12 s
  // ago)" when the hub connection's answer was the evidence.
  const std::string reason = str(internet, "reason", "");
  std::string verdict = !online                           ? "not checked yet"
                        : !*online                        ? "offline (" + reason + ")"
                        : reason.empty() || reason == "ok" ? "online"
                                                          : "online (" + reason + ")";
  out += fmt::format("  internet:  {}{}\n", mark, verdict);
  out += fmt::format("  NATS:      {}{}\n", mark, flag(j, "nats_connected").value_or(false) ? "connected" : "not connected");
  out += fmt::format("  NTP:       {}{}\n", mark, ntp_text(j));
  if (!str(j, "last_error", "").empty()) out += fmt::format("  last error: {}{}\n", mark, str(j, "last_error"));
  const auto& c = object(j, "counters");
  out += fmt::format("  counters:  {}{} reconnects, {} messages in, {} out, {} dropped from the outbox\n", mark,
                     count(c, "reconnects"), count(c, "messages_in"), count(c, "messages_out"),
                     count(c, "outbox_dropped"));
  if (j.contains("transitions") && j["transitions"].is_array() && !j["transitions"].empty()) {
    out += freshness.stale ? "  recent transitions (last known):\n" : "  recent transitions:\n";
    for (const auto& t : j["transitions"])
      out += fmt::format("    {}  {} -> {}  {}\n", str(t, "at"), str(t, "from"), str(t, "to"), str(t, "reason", ""));
  }
  out += fmt::format("  (updated {} ago)\n", age(updated, now));
  return out;
}

}  // namespace dbr::status
