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
nlohmann::json or_null(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

double round_to(double v, int decimals) {
  double scale = std::pow(10.0, decimals);
  return std::round(v * scale) / scale;
}

nlohmann::json round_or_null(const std::optional<double>& v, int decimals) {
  return v ? nlohmann::json(round_to(*v, decimals)) : nlohmann::json(nullptr);
}

std::string device_id_of(const SystemInfoIdentity& id) {
  return id.device_id.empty() ? kDeviceIdNotSet : id.device_id;
}

nlohmann::json hardware_json(const HardwareFacts& hw) {
  nlohmann::json cpu = {
      {"model", or_null(hw.cpu.model)},
      {"cores", or_null(hw.cpu.cores)},
      {"architecture", or_null(hw.cpu.architecture)},
      {"current_temp_c", round_or_null(hw.cpu.temperature_c, 1)},
      {"load", hw.cpu.load ? nlohmann::json(*hw.cpu.load) : nlohmann::json(nullptr)},
  };
  auto mib = [](const std::optional<std::uint64_t>& kib) {
    return kib ? nlohmann::json(static_cast<std::uint64_t>(std::llround(static_cast<double>(*kib) / 1024.0)))
               : nlohmann::json(nullptr);
  };
  auto gib = [](const std::optional<std::uint64_t>& bytes) {
    return bytes ? nlohmann::json(round_to(static_cast<double>(*bytes) / (1024.0 * 1024.0 * 1024.0), 1))
                 : nlohmann::json(nullptr);
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

nlohmann::json os_json(const OsFacts& os) {
  nlohmann::json boot = nullptr;
  if (os.boot_time_unix_s) boot = format_utc(WallClock::time_point(std::chrono::seconds(*os.boot_time_unix_s)), true);
  return {{"name", or_null(os.name)}, {"version", or_null(os.version)}, {"kernel", or_null(os.kernel)},
          {"boot_time_utc", boot}};
}

nlohmann::json interface_json(const InterfaceFacts& i, const SlowFacts* slow) {
  nlohmann::json j = {
      {"name", i.name},         {"type", interface_type_name(i.type)}, {"mac", or_null(i.mac)},
      {"ip_v4", or_null(i.ip_v4)}, {"ip_v6", or_null(i.ip_v6)},       {"state", link_state_name(i.state)},
  };
  if (i.speed_mbps && *i.speed_mbps > 0) j["speed_mbps"] = *i.speed_mbps;
  if (i.type == InterfaceType::Wifi) {
    nlohmann::json ssid = nullptr;
    if (slow) {
      auto it = slow->wifi_ssid.find(i.name);
      if (it != slow->wifi_ssid.end() && it->second) ssid = *it->second;
    }
    j["ssid"] = ssid;
    j["signal_strength_dbm"] = or_null(i.signal_dbm);
  }
  return j;
}

nlohmann::json network_json(const NetworkFacts& net, const SlowFacts* slow) {
  nlohmann::json interfaces = nlohmann::json::array();
  for (const auto& i : net.interfaces) interfaces.push_back(interface_json(i, slow));
  nlohmann::json latency = nullptr;
  // Only report a latency measured to the gateway that is current now.
  if (slow && slow->gateway_latency_ms && net.default_route && slow->gateway == net.default_route->address)
    latency = *slow->gateway_latency_ms;
  nlohmann::json connectivity = {
      {"default_route", net.default_route ? nlohmann::json(net.default_route->address) : nlohmann::json(nullptr)},
      {"dns_servers", net.dns_servers},
      {"internet_reachable", slow ? or_null(slow->internet_reachable) : nlohmann::json(nullptr)},
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

nlohmann::json compose_system_info(const SystemInfoIdentity& identity, WallClock::time_point wall_now,
                                   const HostFacts& host, const SlowFacts* slow, const nlohmann::json& components) {
  nlohmann::json info = {
      {"device_id", device_id_of(identity)},
      {"timestamp", format_utc(wall_now, false)},
      {"dunebugger_components", components},
      {"hardware", hardware_json(host.hardware)},
      {"os", os_json(host.os)},
      {"network", network_json(host.network, slow)},
      {"location",
       {{"description", identity.location_description.empty() ? kLocationNotSet : identity.location_description}}},
  };
  return {{"system_info", std::move(info)}};
}

nlohmann::json fallback_system_info(const SystemInfoIdentity& identity, WallClock::time_point wall_now) {
  return {{"system_info",
           {{"device_id", device_id_of(identity)},
            {"timestamp", format_utc(wall_now, false)},
            {"status", "error_collecting_info"}}}};
}

nlohmann::json system_info_or_fallback(const SystemInfoIdentity& identity, WallClock::time_point wall_now,
                                       const std::function<nlohmann::json()>& compose, std::string* error) {
  try {
    nlohmann::json info = compose();
    // The client serialises later; make sure it can (invalid UTF-8 throws).
    (void)info.dump();
    return info;
  } catch (const std::exception& e) {
    if (error) *error = e.what();
  } catch (...) {
    if (error) *error = "unknown exception";
  }
  return fallback_system_info(identity, wall_now);
}

}  // namespace dbr::sysinfo
