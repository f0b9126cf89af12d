#include "monitor/netlink_changes.hpp"

#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include <cstring>
#include <optional>

#include <fmt/format.h>

namespace dbr::monitor {

namespace {

constexpr std::size_t kHeaderBytes = 16;     // struct nlmsghdr
constexpr std::size_t kIfInfoBytes = 16;     // struct ifinfomsg
constexpr std::size_t kIfAddrBytes = 8;      // struct ifaddrmsg
constexpr std::size_t kRtMsgBytes = 12;      // struct rtmsg
constexpr std::size_t kAttrHeaderBytes = 4;  // struct rtattr
constexpr std::size_t kMaxDetailChars = 200;
// IFF_LOWER_UP (carrier) lives in <linux/if.h>, which clashes with <net/if.h>.
constexpr std::uint32_t kLowerUp = 1u << 16;
constexpr std::uint32_t kUpFlags = IFF_UP | IFF_RUNNING | kLowerUp;

constexpr std::size_t align4(std::size_t n) { return (n + 3) & ~std::size_t{3}; }

template <typename T>
T read_at(std::span<const std::uint8_t> bytes, std::size_t offset) {
  T value{};
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

// Calls f(type, value) for each well-formed rtattr in `attrs`.
template <typename F>
void for_each_attr(std::span<const std::uint8_t> attrs, F&& f) {
  std::size_t at = 0;
  while (at + kAttrHeaderBytes <= attrs.size()) {
    auto len = read_at<std::uint16_t>(attrs, at);
    auto type = read_at<std::uint16_t>(attrs, at + 2);
    if (len < kAttrHeaderBytes || at + len > attrs.size()) return;
    f(static_cast<std::uint16_t>(type & NLA_TYPE_MASK), attrs.subspan(at + kAttrHeaderBytes, len - kAttrHeaderBytes));
    at += align4(len);
  }
}

void append_detail(NetlinkChanges& out, std::string_view text) {
  if (out.detail.size() >= kMaxDetailChars) return;
  if (!out.detail.empty()) out.detail += "; ";
  out.detail += text;
  if (out.detail.size() > kMaxDetailChars) out.detail.resize(kMaxDetailChars);
}

std::string flags_text(std::uint32_t flags) {
  std::string s;
  if (flags & IFF_UP) s += "up";
  else s += "down";
  if (flags & kLowerUp) s += ",carrier";
  if (flags & IFF_RUNNING) s += ",running";
  return s;
}

template <typename Table>
void bound(Table& table) {
  if (table.size() >= NetworkStateTable::kMaxEntries) table.clear();
}

// Records `key` as added to or removed from `seen`. False for an addition
// already seen: a lifetime refresh (an IPv6 router advertisement resends its
// addresses and routes), not a change.
bool record(std::set<std::string>& seen, bool added, const std::string& key) {
  if (!added) {
    seen.erase(key);
    return true;
  }
  if (seen.count(key)) return false;
  bound(seen);
  seen.insert(key);
  return true;
}

std::string_view family_name(std::uint8_t family) { return family == AF_INET6 ? "IPv6" : "IPv4"; }

}  // namespace

void NetlinkChanges::merge(const NetlinkChanges& other) {
  links += other.links;
  addresses += other.addresses;
  default_routes += other.default_routes;
  overrun = overrun || other.overrun;
  if (!other.detail.empty()) append_detail(*this, other.detail);
}

NetlinkChanges NetworkStateTable::overrun() {
  links_.clear();
  addresses_.clear();
  routes_.clear();
  NetlinkChanges out;
  out.overrun = true;
  out.detail = "notifications lost (overrun)";
  return out;
}

NetlinkChanges NetworkStateTable::parse_datagram(std::span<const std::uint8_t> datagram) {
  NetlinkChanges out;
  std::size_t at = 0;
  while (at + kHeaderBytes <= datagram.size()) {
    auto len = read_at<std::uint32_t>(datagram, at);
    auto type = read_at<std::uint16_t>(datagram, at + 4);
    if (len < kHeaderBytes || len > datagram.size() - at) break;  // truncated: stop
    auto payload = datagram.subspan(at + kHeaderBytes, len - kHeaderBytes);
    switch (type) {
      case RTM_NEWLINK: on_link(true, payload, out); break;
      case RTM_DELLINK: on_link(false, payload, out); break;
      case RTM_NEWADDR: on_address(true, payload, out); break;
      case RTM_DELADDR: on_address(false, payload, out); break;
      case RTM_NEWROUTE: on_route(true, payload, out); break;
      case RTM_DELROUTE: on_route(false, payload, out); break;
      case NLMSG_OVERRUN: out.merge(overrun()); break;
      default: break;  // NLMSG_NOOP, NLMSG_DONE, NLMSG_ERROR, others
    }
    at += align4(len);
  }
  return out;
}

void NetworkStateTable::on_link(bool added, std::span<const std::uint8_t> payload, NetlinkChanges& out) {
  if (payload.size() < kIfInfoBytes) return;
  auto index = read_at<std::int32_t>(payload, 4);
  auto flags = read_at<std::uint32_t>(payload, 8) & kUpFlags;
  if (!added) {
    links_.erase(index);
    ++out.links;
    append_detail(out, fmt::format("link {} removed", index));
    return;
  }
  auto it = links_.find(index);
  if (it != links_.end() && it->second == flags) return;  // scan event, stats, rename...
  if (it == links_.end()) bound(links_);
  links_[index] = flags;
  ++out.links;
  append_detail(out, fmt::format("link {} {}", index, flags_text(flags)));
}

void NetworkStateTable::on_address(bool added, std::span<const std::uint8_t> payload, NetlinkChanges& out) {
  if (payload.size() < kIfAddrBytes) return;
  auto family = payload[0];
  auto prefix = payload[1];
  auto index = read_at<std::uint32_t>(payload, 4);
  std::string key;
  key.push_back(static_cast<char>(family));
  key.push_back(static_cast<char>(prefix));
  key.append(reinterpret_cast<const char*>(&index), sizeof index);
  std::optional<std::span<const std::uint8_t>> local, address;
  for_each_attr(payload.subspan(kIfAddrBytes), [&](std::uint16_t t, std::span<const std::uint8_t> v) {
    if (t == IFA_LOCAL) local = v;
    if (t == IFA_ADDRESS) address = v;
  });
  // IFA_LOCAL is the interface's own address on point-to-point links.
  auto bytes = local ? *local : address ? *address : std::span<const std::uint8_t>{};
  key.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (!record(addresses_, added, key)) return;
  ++out.addresses;
  append_detail(out, fmt::format("{} address {} on link {}", family_name(family), added ? "added" : "removed", index));
}

void NetworkStateTable::on_route(bool added, std::span<const std::uint8_t> payload, NetlinkChanges& out) {
  if (payload.size() < kRtMsgBytes) return;
  auto family = payload[0];
  auto dst_len = payload[1];
  std::uint32_t table = payload[4];
  auto type = payload[7];
  if (dst_len != 0 || type != RTN_UNICAST) return;  // not a default route
  std::string gateway;
  std::uint32_t oif = 0, metric = 0;
  for_each_attr(payload.subspan(kRtMsgBytes), [&](std::uint16_t t, std::span<const std::uint8_t> v) {
    if (t == RTA_TABLE && v.size() >= 4) table = read_at<std::uint32_t>(v, 0);
    if (t == RTA_GATEWAY) gateway.assign(reinterpret_cast<const char*>(v.data()), v.size());
    if (t == RTA_OIF && v.size() >= 4) oif = read_at<std::uint32_t>(v, 0);
    if (t == RTA_PRIORITY && v.size() >= 4) metric = read_at<std::uint32_t>(v, 0);
  });
  if (table != RT_TABLE_MAIN) return;
  std::string key;
  key.push_back(static_cast<char>(family));
  key.append(reinterpret_cast<const char*>(&oif), sizeof oif);
  key.append(reinterpret_cast<const char*>(&metric), sizeof metric);
  key += gateway;
  if (!record(routes_, added, key)) return;
  ++out.default_routes;
  append_detail(out, fmt::format("{} default route {} via link {}", family_name(family), added ? "added" : "removed",
                                 oif));
}

}  // namespace dbr::monitor
