#pragma once
// Readers for the system_info facts. Each takes the root of the tree to read
// ("/" in the agent; a fake tree in tests) and never throws for missing or
// malformed data: what cannot be read stays nullopt.
//
// Sources (dunebugger-protocol.md §1.3), no external commands:
//   hardware  /proc/device-tree/model, /proc/cpuinfo, /sys/class/thermal,
//             /proc/loadavg, /proc/meminfo, /proc/mounts, statvfs(root)
//   os        /etc/os-release (or /usr/lib/os-release), uname, /proc/stat btime
//   network   uname nodename, /sys/class/net/*, getifaddrs, /proc/net/wireless,
//             /proc/net/route (+ /proc/net/ipv6_route), /etc/resolv.conf
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "sysinfo/facts.hpp"

namespace dbr::sysinfo {

struct Uname {
  std::string machine;   // "aarch64"
  std::string release;   // "6.1.0-rpi7-rpi-v8"
  std::string nodename;  // the host name
};
Uname read_uname();  // uname(2); empty strings if it fails

// One address of one interface, as getifaddrs reports it.
struct IfAddress {
  std::string interface;
  bool ipv6 = false;
  std::string address;  // textual, without a %scope suffix
  bool link_local = false;
};
std::vector<IfAddress> read_if_addresses();  // getifaddrs; empty on failure

HardwareFacts read_hardware(const std::filesystem::path& root, const Uname& uname);
OsFacts read_os(const std::filesystem::path& root, const Uname& uname);
NetworkFacts read_network(const std::filesystem::path& root, const Uname& uname,
                          const std::vector<IfAddress>& addresses);

// Everything above from this host (uname and getifaddrs included).
HostFacts read_host_facts(const std::filesystem::path& root);

// Parts shared with the SlowFactsProbe and the tests.
std::optional<Gateway> read_default_route(const std::filesystem::path& root);
// /.dockerenv, or "docker" in /proc/1/cgroup.
bool running_in_docker(const std::filesystem::path& root);
// Wi-Fi interfaces under /sys/class/net (those with wireless/ or phy80211).
struct WifiInterface {
  std::string name;
  int index = 0;
};
std::vector<WifiInterface> read_wifi_interfaces(const std::filesystem::path& root);

}  // namespace dbr::sysinfo
