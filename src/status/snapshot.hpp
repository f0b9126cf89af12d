#pragma once
// What the agent tells about itself: a value the agent fills on the loop
// thread after every state change, rendered three ways (a STATUS= line for
// systemctl status, status.json for machines, a report for people).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dbr::status {

using WallTime = std::chrono::system_clock::time_point;

struct Transition {
  WallTime at;
  std::string from;
  std::string to;
  std::string reason;
};

struct Counters {
  std::uint64_t reconnects = 0;
  std::uint64_t messages_in = 0;
  std::uint64_t messages_out = 0;
  std::uint64_t outbox_dropped = 0;
};

// The monitor's last NTP check and the kernel's clock state.
struct NtpStatus {
  bool known = false;  // false until the first check ends (NTP counts as unavailable)
  bool available = false;
  std::string server;  // the entry that answered
  std::optional<std::int64_t> offset_ms;  // its clock minus ours
  std::optional<std::int64_t> delay_ms;
  std::string detail;  // unavailable: each server's reason
  WallTime checked_at;
  std::optional<bool> clock_synchronized;  // adjtimex(); empty: unknown
};

// The longest the agent leaves status.json unwritten: a state change is
// written at once, counters and check times at most every kCountersEvery,
// and with nothing new the file is rewritten once per kRefreshEvery as a
// heartbeat. The file says it ("refresh_secs"), so a reader judges
// staleness by the writer's own period. The heartbeat is the one timer an
// idle agent keeps for the file; it is allowed kRefreshSlack, so it
// usually fires with another wakeup (a NATS PING) rather than its own.
inline constexpr std::chrono::seconds kRefreshEvery{60};
inline constexpr std::chrono::seconds kRefreshSlack{10};
inline constexpr std::chrono::seconds kCountersEvery{10};

struct Snapshot {
  std::string version;
  long pid = 0;
  WallTime updated_at;
  std::chrono::seconds refresh_every = kRefreshEvery;
  std::string state;  // the connection supervisor's state
  WallTime since;     // when it entered that state
  std::string hub_host;  // host[:port] only: never the URL's query
  std::string group;
  bool internet_online = false;
  bool internet_known = false;  // false until the first probe result
  std::string internet_reason;  // why offline (or "ok")
  WallTime internet_checked_at;
  bool nats_connected = false;
  NtpStatus ntp;
  std::string last_error;
  Counters counters;
  std::vector<Transition> transitions;  // newest last, at most kMaxTransitions
};

inline constexpr std::size_t kMaxTransitions = 20;

}  // namespace dbr::status
