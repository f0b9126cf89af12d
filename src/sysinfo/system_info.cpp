#include "sysinfo/system_info.hpp"

#include <cmath>
#include <ctime>

#include <spdlog/fmt/fmt.h>

#include "common/enum_names.hpp"

namespace dbr::sysinfo {

namespace {

constexpr const char* kDeviceIdNotSet = "Environment Variable DEVICE_ID Not Set";
constexpr const char* kLocationNotSet = "Environment Variable LOCATION_DESCRIPTION Not Set";

template <typename T>
Json or_null(const std::optional<T>& v) {
  return v ? Json(*v) : Json(nullptr);
}

double round_to(double v, int decimals) {
  double scale = std::pow(10.0, decimals);
  return std::round(v * scale) / scale;
}

Json round_or_null(const std::optional<double>& v, int decimals) {
  return v ? Json(round_to(*v, decimals)) : Json(nullptr);
}

std::string device_id_of(const SystemInfoIdentity& id) {
  return id.device_id.empty() ? kDeviceIdNotSet : id.device_id;
}

Json hardware_json(const HardwareFacts& hw) {
  Json cpu = {
      {"model", or_null(hw.cpu.model)},
      {"cores", or_null(hw.cpu.cores)},
      {"architecture", or_null(hw.cpu.architecture)},
      {"current_temp_c", round_or_null(hw.cpu.temperature_c, 1)},
      {"load", hw.cpu.load ? Json(*hw.cpu.load) : Json(nullptr)},
  };
  auto mib = [](const std::optional<std::uint64_t>& kib) {
    return kib ? Json(static_cast<std::uint64_t>(std::llround(static_cast<double>(*kib) / 1024.0)))
               : Json(nullptr);
  };
  auto gib = [](const std::optional<std::uint64_t>& bytes) {
    return bytes ? Json(round_to(static_cast<double>(*bytes) / (1024.0 * 1024.0 * 1024.0), 1))
                 : Json(nullptr);
  };
  return {
      {"model", or_null(hw.model)},
      // §1.3 "revision (cpuinfo Revision, else "Unknown")".
      {"revision", hw.revision.value_or("Unknown")},
      {"cpu", std::move(cpu)},
      {"memory", {{"total_mb", mib(hw.memory_total_kib)}, {"used_mb", mib(hw.memory_used_kib)}}},
      {"storage",
       {{"root_device", or_null(hw.root_device)},
        {"total_gb", gib(hw.storage_total_bytes)},
        {"used_gb", gib(hw.storage_used_bytes)}}},
  };
}

Json os_json(const OsFacts& os) {
  Json boot = nullptr;
  if (os.boot_time_unix_s) boot = format_utc(WallClock::time_point(std::chrono::seconds(*os.boot_time_unix_s)), true);
  return {{"name", or_null(os.name)}, {"version", or_null(os.version)}, {"kernel", or_null(os.kernel)},
          {"boot_time_utc", boot}};
}

Json interface_json(const InterfaceFacts& i, const SlowFacts* slow) {
  Json j = {
      {"name", i.name},         {"type", interface_type_name(i.type)}, {"mac", or_null(i.mac)},
      {"ip_v4", or_null(i.ip_v4)}, {"ip_v6", or_null(i.ip_v6)},       {"state", link_state_name(i.state)},
  };
  if (i.speed_mbps && *i.speed_mbps > 0) j["speed_mbps"] = *i.speed_mbps;
  if (i.type == InterfaceType::Wifi) {
    Json ssid = nullptr;
    if (slow) {
      auto it = slow->wifi_ssid.find(i.name);
      if (it != slow->wifi_ssid.end() && it->second) ssid = *it->second;
    }
    j["ssid"] = ssid;
    j["signal_strength_dbm"] = or_null(i.signal_dbm);
  }
  return j;
}

Json network_json(const NetworkFacts& net, const SlowFacts* slow) {
  Json interfaces = Json::array();
  for (const auto& i : net.interfaces) interfaces.push_back(interface_json(i, slow));
  Json latency = nullptr;
  // Only report a latency measured to the gateway that is current now.
  if (slow && slow->gateway_latency_ms && net.default_route && slow->gateway == net.default_route->address)
    latency = *slow->gateway_latency_ms;
  Json connectivity = {
      {"default_route", net.default_route ? Json(net.default_route->address) : Json(nullptr)},
      {"dns_servers", net.dns_servers},
      {"internet_reachable", slow ? or_null(slow->internet_reachable) : Json(nullptr)},
      {"latency_ms_to_gateway", latency},
  };
  return {{"hostname", or_null(net.hostname)}, {"interfaces", std::move(interfaces)},
          {"connectivity", std::move(connectivity)}};
}

}  // namespace

std::string format_utc(WallClock::time_point t, bool zulu) {
  std::time_t seconds = WallClock::to_time_t(std::chrono::floor<std::chrono::seconds>(t));
  std::tm tm{};
  if (!::gmtime_r(&seconds, &tm)) return zulu ? "1970-01-01T00:00:00Z" : "1970-01-01T00:00:00";
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec, zulu ? "Z" : "");
}

constexpr auto kInterfaceTypeNames = enum_names<InterfaceType>({
    {InterfaceType::Wifi, "wifi"}, {InterfaceType::Ethernet, "ethernet"}, {InterfaceType::Usb, "usb"},
    {InterfaceType::Ppp, "ppp"}, {InterfaceType::Other, "other"}});
std::string interface_type_name(InterfaceType t) { return std::string(kInterfaceTypeNames.name(t, "other")); }

constexpr auto kLinkStateNames = enum_names<LinkState>({
    {LinkState::Up, "up"}, {LinkState::Down, "down"}, {LinkState::Unknown, "unknown"}});
std::string link_state_name(LinkState s) { return std::string(kLinkStateNames.name(s, "unknown")); }

Json compose_system_info(const SystemInfoIdentity& identity, WallClock::time_point wall_now, const HostFacts& host,
                         const SlowFacts* slow, const AgentFacts& agent) {
  Json info = {
      {"device_id", device_id_of(identity)},
      {"timestamp", format_utc(wall_now, false)},
      {"ntp_available", agent.ntp_available},
      {"dunebugger_components", agent.components},
      {"hardware", hardware_json(host.hardware)},
      {"os", os_json(host.os)},
      {"network", network_json(host.network, slow)},
      {"location",
       {{"description", identity.location_description.empty() ? kLocationNotSet : identity.location_description}}},
  };
  return {{"system_info", std::move(info)}};
}

Json fallback_system_info(const SystemInfoIdentity& identity, WallClock::time_point wall_now) {
  return {{"system_info",
           {{"device_id", device_id_of(identity)},
            {"timestamp", format_utc(wall_now, false)},
            {"status", "error_collecting_info"}}}};
}

std::string system_info_or_fallback(const SystemInfoIdentity& identity, WallClock::time_point wall_now,
                                    const std::function<Json()>& compose, std::string* error) {
  try {
    // Written here, where a failure can still fall back (invalid UTF-8 throws).
    return compose().dump();
  } catch (const std::exception& e) {
    if (error) *error = e.what();
  } catch (...) {
    if (error) *error = "unknown exception";
  }
  return fallback_system_info(identity, wall_now).dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace dbr::sysinfo
