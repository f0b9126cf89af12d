#pragma once
// Renders a Snapshot: the sd_notify STATUS= text, status.json, and the
// human report printed by `dunebugger-remote status`.
#include <nlohmann/json.hpp>
#include <string>

#include "status/snapshot.hpp"

namespace dbr::status {

// One line for `systemctl status`: state, hub and group, reconnects, last
// error. Redacted, never a token.
std::string status_line(const Snapshot& s);

nlohmann::json to_json(const Snapshot& s);

// Whether a status file still describes a running agent. Stale: its
// writer's pid is gone, or it was not rewritten for more than
// kStaleAfterPeriods of the writer's refresh period (its "refresh_secs",
// else 10 s, the period of the agents that wrote no such field), so the
// pid is probably another process's by now.
struct Freshness {
  bool stale = false;
  std::string why;  // for a stale file: "pid 4242 is gone", ...
};
inline constexpr int kStaleAfterPeriods = 3;
// The pid a status file names; 0 when it names none (or not a pid).
long status_pid(const nlohmann::json& j);
Freshness judge_freshness(const nlohmann::json& j, WallTime now, bool pid_alive);

// The report for a person, from the JSON (so it works on any file the agent
// wrote, and tolerates fields it does not know). `now` decides ages. For a
// stale file it says so first and marks every field as last known.
std::string render_report(const nlohmann::json& j, WallTime now, const Freshness& freshness = {});

// "2026-11-22T21:06:05Z"
std::string iso8601(WallTime t);

}  // namespace dbr::status
