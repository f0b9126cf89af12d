#pragma once
// The system_info message body, dunebugger-protocol.md §1.3, with
// upstream develop's ntp_available (§6), keys in upstream's order (an
// ordered_json keeps insertion order; Python dicts do too):
//   {"system_info": {device_id, timestamp, ntp_available,
//                    dunebugger_components, hardware, os, network, location}}
// composed from facts (no I/O here). Missing facts are null. Formats:
//   timestamp       UTC "YYYY-MM-DDTHH:MM:SS" (no Z; the front end adds it)
//   boot_time_utc   UTC "YYYY-MM-DDTHH:MM:SSZ"
//   current_temp_c  1 decimal; memory *_mb integers (MiB, rounded);
//   storage *_gb    GiB, 1 decimal; speed_mbps only when > 0;
//   ssid and signal_strength_dbm only on wifi interfaces.
// "If collection fails, the fallback is {"system_info":{device_id,timestamp,
// status:"error_collecting_info"}}".
#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <string>

#include "sysinfo/facts.hpp"

namespace dbr::sysinfo {

using Json = nlohmann::ordered_json;
using WallClock = std::chrono::system_clock;

struct SystemInfoIdentity {
  std::string device_id;             // "" -> "Environment Variable DEVICE_ID Not Set"
  std::string location_description;  // "" -> "Environment Variable LOCATION_DESCRIPTION Not Set"
  bool operator==(const SystemInfoIdentity&) const = default;
};

// What the agent knows beside the host facts.
struct AgentFacts {
  bool ntp_available = false;  // the NTP check's verdict; false until its first answer (as upstream)
  Json components;             // Components::to_json()
};

// `slow` may be null (its fields are then null).
Json compose_system_info(const SystemInfoIdentity& identity, WallClock::time_point wall_now, const HostFacts& host,
                         const SlowFacts* slow, const AgentFacts& agent);

Json fallback_system_info(const SystemInfoIdentity& identity, WallClock::time_point wall_now);

// Runs `compose` and returns its JSON text; if it throws (or its text cannot
// be written), returns the fallback's and puts the reason in `*error` (for
// the caller's one ERROR line).
std::string system_info_or_fallback(const SystemInfoIdentity& identity, WallClock::time_point wall_now,
                                    const std::function<Json()>& compose, std::string* error);

// "YYYY-MM-DDTHH:MM:SS" in UTC, with a trailing "Z" if `zulu`.
std::string format_utc(WallClock::time_point t, bool zulu);
std::string interface_type_name(InterfaceType t);  // wifi|ethernet|usb|ppp|other
std::string link_state_name(LinkState s);          // up|down|unknown

}  // namespace dbr::sysinfo
