// libFuzzer target for the netlink watcher's reader: rtnetlink
// notifications from the kernel (NETLINK_ROUTE datagrams) into
// NetworkStateTable, which decides what counts as a change of the path to
// the internet.
//
// Input: datagrams, each a 2-byte little-endian length and that many bytes
// (0xffff: the socket reported ENOBUFS, so overrun() instead). Checked
// besides the sanitizers:
//   - the tables stay within their bound and the detail within its 200
//     characters; an overrun forgets everything;
//   - a datagram of new links, addresses and routes only (each link once),
//     read again at once, is no change: the second copy is what the kernel
//     sends again for what already exists (router advertisements, scans).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <set>
#include <span>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "monitor/netlink_changes.hpp"
#include "fuzz/require.hpp"

namespace {

using dbr::fuzz::require;

using dbr::monitor::NetlinkChanges;
using dbr::monitor::NetworkStateTable;

constexpr std::size_t kDetailBound = 200;

void check(const NetworkStateTable& table, const NetlinkChanges& changes) {
  require(table.size() <= 3 * NetworkStateTable::kMaxEntries);
  require(changes.detail.size() <= kDetailBound);
  require(changes.links >= 0 && changes.addresses >= 0 && changes.default_routes >= 0);
  require(changes.any() == (changes.links + changes.addresses + changes.default_routes > 0 || changes.overrun));
}

// Whether replaying `datagram` must be no change: only RTM_NEW* messages,
// each link index once, and room in the tables for all of them.
bool replay_is_no_change(std::span<const std::uint8_t> datagram, std::size_t table_size) {
  std::set<std::int32_t> links;
  std::size_t messages = 0;
  for (std::size_t at = 0; at + NLMSG_HDRLEN <= datagram.size();) {
    nlmsghdr header;
    std::memcpy(&header, datagram.data() + at, sizeof header);
    if (header.nlmsg_len < NLMSG_HDRLEN || header.nlmsg_len > datagram.size() - at) break;
    ++messages;
    switch (header.nlmsg_type) {
      case RTM_NEWLINK:
        if (header.nlmsg_len >= NLMSG_HDRLEN + sizeof(ifinfomsg)) {
          ifinfomsg info;
          std::memcpy(&info, datagram.data() + at + NLMSG_HDRLEN, sizeof info);
          if (!links.insert(info.ifi_index).second) return false;
        }
        break;
      case RTM_NEWADDR:
      case RTM_NEWROUTE: break;
      case RTM_DELLINK:
      case RTM_DELADDR:
      case RTM_DELROUTE:
      case NLMSG_OVERRUN: return false;
      default: break;
    }
    at += NLMSG_ALIGN(header.nlmsg_len);
  }
  return table_size + messages < NetworkStateTable::kMaxEntries;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  NetworkStateTable table;
  std::span<const std::uint8_t> input(data, size);
  while (input.size() >= 2) {
    const std::size_t length = input[0] | (std::size_t{input[1]} << 8);
    input = input.subspan(2);
    if (length == 0xffff) {
      const NetlinkChanges changes = table.overrun();
      require(changes.overrun && table.size() == 0);
      check(table, changes);
      continue;
    }
    const auto datagram = input.subspan(0, std::min(length, input.size()));
    input = input.subspan(datagram.size());
    const NetlinkChanges changes = table.parse_datagram(datagram);
    check(table, changes);
    const bool no_change_expected = replay_is_no_change(datagram, table.size());
    const NetlinkChanges again = table.parse_datagram(datagram);
    check(table, again);
    if (no_change_expected) require(!again.any());
  }
  return 0;
}
