#pragma once
// Decides which rtnetlink notifications mean "the path to the internet may
// have changed" (pure; the socket is in netlink_watcher.hpp).
//
// Relevant: a link appearing, disappearing or changing IFF_UP / IFF_RUNNING /
// IFF_LOWER_UP; an address added or removed; a default route (destination
// length 0, main table) added or removed. Not relevant, and filtered by
// remembering what was seen: Wi-Fi scan events on a link whose flags did not
// change, and the lifetime refreshes that every IPv6 router advertisement
// sends for addresses and routes that already exist.
//
// Bounds: each table holds at most kMaxEntries; at the bound it is cleared
// (the next notification for a cleared entry then counts as a change, which
// only costs one extra check).
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <span>
#include <string>

namespace dbr::monitor {

struct NetlinkChanges {
  int links = 0;           // link appeared/disappeared/changed up-state
  int addresses = 0;       // address added/removed
  int default_routes = 0;  // default route added/removed
  bool overrun = false;    // the kernel dropped notifications (ENOBUFS)
  std::string detail;      // short text for a DEBUG line, bounded

  bool any() const { return links + addresses + default_routes > 0 || overrun; }
  void merge(const NetlinkChanges& other);
};

class NetworkStateTable {
 public:
  static constexpr std::size_t kMaxEntries = 512;

  // Parses one datagram read from a NETLINK_ROUTE socket (one or more
  // messages). Truncated or malformed messages are skipped, never read past.
  NetlinkChanges parse_datagram(std::span<const std::uint8_t> datagram);
  // The kernel dropped notifications: forget everything seen.
  NetlinkChanges overrun();

  std::size_t size() const { return links_.size() + addresses_.size() + routes_.size(); }

 private:
  void on_link(bool added, std::span<const std::uint8_t> payload, NetlinkChanges& out);
  void on_address(bool added, std::span<const std::uint8_t> payload, NetlinkChanges& out);
  void on_route(bool added, std::span<const std::uint8_t> payload, NetlinkChanges& out);

  std::map<std::int32_t, std::uint32_t> links_;  // ifindex -> up-state flags
  std::set<std::string> addresses_;              // family, ifindex, prefix, bytes
  std::set<std::string> routes_;                 // family, table, gateway, oif, metric
};

}  // namespace dbr::monitor
