#pragma once
// Plain values describing the host, read from /proc, /sys, /etc and the
// kernel. std::nullopt means "could not be read" and becomes JSON null.
//
// HostFacts are cheap file reads done on the loop thread when system_info is
// composed; SlowFacts (Wi-Fi SSIDs over nl80211, gateway latency) come from
// the SlowFactsProbe, which asks the network without blocking the loop;
// internet_reachable is the internet monitor's verdict.
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dbr::sysinfo {

struct CpuFacts {
  std::optional<std::string> model;         // cpuinfo "model name" / "Model"
  std::optional<int> cores;                 // physical cores, else logical
  std::optional<std::string> architecture;  // uname machine
  std::optional<double> temperature_c;      // thermal_zone0, unrounded
  std::optional<std::array<double, 3>> load;  // 1/5/15-min loadavg
};

struct HardwareFacts {
  std::optional<std::string> model;     // device-tree model, else uname machine
  std::optional<std::string> revision;  // cpuinfo "Revision"
  CpuFacts cpu;
  std::optional<std::uint64_t> memory_total_kib;
  std::optional<std::uint64_t> memory_used_kib;
  std::optional<std::string> root_device;  // /proc/mounts source of "/"
  std::optional<std::uint64_t> storage_total_bytes;
  std::optional<std::uint64_t> storage_used_bytes;
};

struct OsFacts {
  std::optional<std::string> name;     // os-release PRETTY_NAME
  std::optional<std::string> version;  // os-release VERSION, else VERSION_ID
  std::optional<std::string> kernel;   // uname release
  std::optional<std::int64_t> boot_time_unix_s;  // /proc/stat btime
};

enum class InterfaceType { Wifi, Ethernet, Usb, Ppp, Other };
enum class LinkState { Up, Down, Unknown };

struct InterfaceFacts {
  std::string name;
  int index = 0;  // ifindex, 0 if unknown
  InterfaceType type = InterfaceType::Other;
  std::optional<std::string> mac;
  std::optional<std::string> ip_v4;
  std::optional<std::string> ip_v6;
  LinkState state = LinkState::Unknown;
  std::optional<std::int64_t> speed_mbps;  // only reported when > 0
  std::optional<int> signal_dbm;           // Wi-Fi, from /proc/net/wireless
};

struct Gateway {
  std::string address;    // "192.168.1.1" or an IPv6 address
  std::string interface;  // the route's device (scope of a link-local next hop)
};

struct NetworkFacts {
  std::optional<std::string> hostname;
  std::vector<InterfaceFacts> interfaces;  // lo (and Docker's in Docker) left out
  std::optional<Gateway> default_route;
  std::vector<std::string> dns_servers;  // resolv.conf nameservers
};

struct HostFacts {
  HardwareFacts hardware;
  OsFacts os;
  NetworkFacts network;
};

struct SlowFacts {
  // SSID per Wi-Fi interface name; nullopt: not associated or not readable.
  std::map<std::string, std::optional<std::string>> wifi_ssid;
  std::optional<bool> internet_reachable;  // the internet monitor's last verdict
  std::optional<double> gateway_latency_ms;
  std::optional<std::string> gateway;      // what the latency was measured to
};

}  // namespace dbr::sysinfo
