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

// The report for a person, from the JSON (so it works on any file the agent
// wrote, and tolerates fields it does not know). `now` decides ages.
std::string render_report(const nlohmann::json& j, WallTime now);

// "2026-11-22T21:06:05Z"
std::string iso8601(WallTime t);

}  // namespace dbr::status
