// Network facts: interfaces, addresses, Wi-Fi signal, default route, DNS.
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <map>
#include <system_error>

#include "sysinfo/host_files.hpp"
#include "sysinfo/host_readers.hpp"

namespace dbr::sysinfo {

namespace {

constexpr std::int64_t kArphrdEther = 1;   // <linux/if_arp.h> ARPHRD_ETHER
constexpr std::int64_t kArphrdPpp = 512;   // ARPHRD_PPP
constexpr unsigned kRtfUp = 0x1;           // <linux/route.h> RTF_UP
constexpr unsigned kRtfGateway = 0x2;      // RTF_GATEWAY

// Hex without a "0x" ("0003", "010200C0"), or with one ("0x1003").
std::optional<unsigned long> parse_hex(std::string_view s) {
  if (s.starts_with("0x") || s.starts_with("0X")) s.remove_prefix(2);
  if (s.empty() || s.size() > 16) return std::nullopt;
  unsigned long v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

bool starts_with_any(std::string_view name, std::initializer_list<std::string_view> prefixes) {
  return std::any_of(prefixes.begin(), prefixes.end(), [&](std::string_view p) { return name.starts_with(p); });
}

bool exists_quietly(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::exists(p, ec);
}

std::optional<std::int64_t> read_int_file(const std::filesystem::path& p) {
  auto text = read_small_file(p, 64);
  if (!text) return std::nullopt;
  return parse_i64(*text);
}

bool is_wifi_in_sysfs(const std::filesystem::path& dir) {
  return exists_quietly(dir / "wireless") || exists_quietly(dir / "phy80211");
}

// §1.3 "type wifi|ethernet|usb|ppp|other". The kernel knows Wi-Fi and PPP;
// "usb" is the Python agent's name rule (usb0 is a USB gadget link, while a
// Raspberry Pi 3's eth0 also sits on USB and must stay "ethernet").
InterfaceType classify(const std::filesystem::path& dir, const std::string& name) {
  if (is_wifi_in_sysfs(dir) || starts_with_any(name, {"wlan", "wifi", "wlp"})) return InterfaceType::Wifi;
  auto arp_type = read_int_file(dir / "type");
  if (arp_type == kArphrdPpp || name.starts_with("ppp")) return InterfaceType::Ppp;
  if (name.starts_with("usb")) return InterfaceType::Usb;
  if (starts_with_any(name, {"eth", "en"})) return InterfaceType::Ethernet;
  if (arp_type == kArphrdEther && exists_quietly(dir / "device")) return InterfaceType::Ethernet;
  return InterfaceType::Other;
}

// operstate (RFC 2863 names); "unknown" (tun, some drivers) falls back to
// the IFF_UP and IFF_RUNNING flags, which is what psutil's isup looked at.
LinkState read_state(const std::filesystem::path& dir) {
  auto oper = read_small_file(dir / "operstate", 64);
  if (!oper) return LinkState::Unknown;
  auto s = trim_view(*oper);
  if (s == "up") return LinkState::Up;
  if (s == "down" || s == "lowerlayerdown" || s == "notpresent" || s == "dormant") return LinkState::Down;
  auto flags_text = read_small_file(dir / "flags", 64);
  auto flags = flags_text ? parse_hex(trim_view(*flags_text)) : std::nullopt;
  if (!flags) return LinkState::Unknown;
  if (!(*flags & IFF_UP)) return LinkState::Down;
  return (*flags & IFF_RUNNING) ? LinkState::Up : LinkState::Unknown;
}

// /proc/net/wireless: "wlan0: 0000   54.  -56.  -256 ...": status, link,
// level, noise. The level is in dBm on cfg80211 drivers; old wext drivers
// printed it as an unsigned byte (200 for -56 dBm).
std::map<std::string, int> read_wireless_levels(const std::filesystem::path& root) {
  std::map<std::string, int> levels;
  auto text = read_small_file(under_root(root, "/proc/net/wireless"), 64 * 1024);
  if (!text) return levels;
  for (auto line : split_lines(*text)) {
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    auto name = trim_view(line.substr(0, colon));
    auto fields = split_ws(line.substr(colon + 1));
    if (name.empty() || fields.size() < 3) continue;
    auto level = parse_double(fields[2]);
    if (!level) continue;
    double dbm = *level;
    if (dbm > 63 && dbm < 256) dbm -= 256;
    if (dbm < 0 && dbm >= -150) levels[std::string(name)] = static_cast<int>(dbm);
  }
  return levels;
}

std::vector<std::string> read_dns_servers(const std::filesystem::path& root) {
  std::vector<std::string> servers;
  auto text = read_small_file(under_root(root, "/etc/resolv.conf"), 64 * 1024);
  if (!text) return servers;
  for (auto line : split_lines(*text)) {
    auto fields = split_ws(line);
    if (fields.size() >= 2 && fields[0] == "nameserver") servers.push_back(valid_utf8(fields[1]));
  }
  return servers;
}

std::optional<std::string> ipv6_from_hex(std::string_view hex) {
  if (hex.size() != 32) return std::nullopt;
  std::array<unsigned char, 16> bytes{};
  for (std::size_t i = 0; i < 16; ++i) {
    unsigned value = 0;
    for (std::size_t k = 0; k < 2; ++k) {
      char c = hex[2 * i + k];
      unsigned digit = 0;
      if (c >= '0' && c <= '9') digit = static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f') digit = static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') digit = static_cast<unsigned>(c - 'A' + 10);
      else return std::nullopt;
      value = value * 16 + digit;
    }
    bytes[i] = static_cast<unsigned char>(value);
  }
  char text[INET6_ADDRSTRLEN] = {};
  if (!::inet_ntop(AF_INET6, bytes.data(), text, sizeof text)) return std::nullopt;
  return std::string(text);
}

}  // namespace

std::vector<IfAddress> read_if_addresses() {
  std::vector<IfAddress> out;
  struct ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (auto* ifa = list; ifa; ifa = ifa->ifa_next) {
    if (!ifa->ifa_addr || !ifa->ifa_name) continue;
    char text[INET6_ADDRSTRLEN] = {};
    IfAddress a;
    a.interface = ifa->ifa_name;
    // memcpy, not a pointer cast: sockaddr_in* may need more alignment than
    // the sockaddr* getifaddrs hands out.
    if (ifa->ifa_addr->sa_family == AF_INET) {
      sockaddr_in sin{};
      std::memcpy(&sin, ifa->ifa_addr, sizeof sin);
      if (!::inet_ntop(AF_INET, &sin.sin_addr, text, sizeof text)) continue;
    } else if (ifa->ifa_addr->sa_family == AF_INET6) {
      sockaddr_in6 sin6{};
      std::memcpy(&sin6, ifa->ifa_addr, sizeof sin6);
      if (!::inet_ntop(AF_INET6, &sin6.sin6_addr, text, sizeof text)) continue;
      a.ipv6 = true;
      a.link_local = sin6.sin6_addr.s6_addr[0] == 0xfe && (sin6.sin6_addr.s6_addr[1] & 0xc0) == 0x80;
    } else {
      continue;
    }
    a.address = text;
    out.push_back(std::move(a));
  }
  ::freeifaddrs(list);
  return out;
}

bool running_in_docker(const std::filesystem::path& root) {
  if (exists_quietly(under_root(root, "/.dockerenv"))) return true;
  auto cgroup = read_small_file(under_root(root, "/proc/1/cgroup"), 64 * 1024);
  return cgroup && cgroup->find("docker") != std::string::npos;
}

std::vector<WifiInterface> read_wifi_interfaces(const std::filesystem::path& root) {
  std::vector<WifiInterface> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(under_root(root, "/sys/class/net"), ec)) {
    std::string name = entry.path().filename().string();
    if (name == "lo" || !is_wifi_in_sysfs(entry.path())) continue;
    out.push_back({name, static_cast<int>(read_int_file(entry.path() / "ifindex").value_or(0))});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

std::optional<Gateway> read_default_route(const std::filesystem::path& root) {
  // /proc/net/route: Iface Destination Gateway Flags RefCnt Use Metric Mask ...
  // Addresses are the raw network-order bytes printed as a host-order u32.
  if (auto text = read_small_file(under_root(root, "/proc/net/route"), 256 * 1024)) {
    std::optional<Gateway> best;
    std::int64_t best_metric = 0;
    for (auto line : split_lines(*text)) {
      auto f = split_ws(line);
      if (f.size() < 8 || f[0] == "Iface") continue;
      auto dest = parse_hex(f[1]), gw = parse_hex(f[2]), flags = parse_hex(f[3]), mask = parse_hex(f[7]);
      auto metric = parse_i64(f[6]);
      if (!dest || !gw || !flags || !mask || *dest != 0 || *mask != 0) continue;
      if ((*flags & kRtfUp) == 0 || (*flags & kRtfGateway) == 0) continue;
      if (best && metric.value_or(0) >= best_metric) continue;
      in_addr addr{};
      addr.s_addr = static_cast<in_addr_t>(*gw);
      char buf[INET_ADDRSTRLEN] = {};
      if (!::inet_ntop(AF_INET, &addr, buf, sizeof buf)) continue;
      best = Gateway{buf, std::string(f[0])};
      best_metric = metric.value_or(0);
    }
    if (best) return best;
  }
  // /proc/net/ipv6_route: dest destlen src srclen nexthop metric refcnt use flags dev
  if (auto text = read_small_file(under_root(root, "/proc/net/ipv6_route"), 1024 * 1024)) {
    for (auto line : split_lines(*text)) {
      auto f = split_ws(line);
      if (f.size() < 10) continue;
      if (f[0] != std::string(32, '0') || f[1] != "00" || f[4] == std::string(32, '0')) continue;
      auto flags = parse_hex(f[8]);
      if (!flags || (*flags & kRtfGateway) == 0 || (*flags & kRtfUp) == 0) continue;
      if (auto nexthop = ipv6_from_hex(f[4])) return Gateway{*nexthop, std::string(f[9])};
    }
  }
  return std::nullopt;
}

NetworkFacts read_network(const std::filesystem::path& root, const Uname& uname,
                          const std::vector<IfAddress>& addresses) {
  NetworkFacts net;
  if (!uname.nodename.empty()) net.hostname = valid_utf8(uname.nodename);
  const bool in_docker = running_in_docker(root);
  const auto levels = read_wireless_levels(root);

  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(under_root(root, "/sys/class/net"), ec)) {
    std::string name = entry.path().filename().string();
    if (name == "lo") continue;
    // §1.3: "Excludes lo, and inside Docker also docker*, br-*, veth*."
    if (in_docker && starts_with_any(name, {"docker", "br-", "veth"})) continue;
    const auto& dir = entry.path();
    InterfaceFacts i;
    i.name = valid_utf8(name);
    i.index = static_cast<int>(read_int_file(dir / "ifindex").value_or(0));
    i.type = classify(dir, name);
    if (auto mac = read_small_file(dir / "address", 128)) {
      auto m = trim_view(*mac);
      if (!m.empty()) i.mac = valid_utf8(m);
    }
    i.state = read_state(dir);
    if (auto speed = read_int_file(dir / "speed"); speed && *speed > 0) i.speed_mbps = *speed;
    if (i.type == InterfaceType::Wifi)
      if (auto it = levels.find(name); it != levels.end()) i.signal_dbm = it->second;
    for (const auto& a : addresses) {
      if (a.interface != name) continue;
      if (!a.ipv6) {
        if (!i.ip_v4) i.ip_v4 = a.address;
      } else if (!a.link_local) {
        // A global address wins over a link-local one (the Python rule).
        if (!i.ip_v6 || i.ip_v6->starts_with("fe80")) i.ip_v6 = a.address;
      } else if (!i.ip_v6) {
        i.ip_v6 = a.address;
      }
    }
    net.interfaces.push_back(std::move(i));
  }
  std::sort(net.interfaces.begin(), net.interfaces.end(), [](const auto& a, const auto& b) {
    return a.index != b.index ? a.index < b.index : a.name < b.name;
  });
  net.default_route = read_default_route(root);
  net.dns_servers = read_dns_servers(root);
  return net;
}

}  // namespace dbr::sysinfo
