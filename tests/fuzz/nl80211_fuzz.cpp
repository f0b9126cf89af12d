// libFuzzer target for the nl80211 reader of the system-info worker: a
// generic netlink datagram from the kernel into nl80211::parse_reply, and
// the attribute readers family_id and ssid.
//
// Input: the sequence number asked for (4 bytes, little-endian), then the
// datagram. Checked besides the sanitizers:
//   - nothing is read past the datagram: the attributes together are not
//     bigger than it, and an empty reply (found false) has no attributes
//     and no error;
//   - family_id and ssid read only what an attribute holds;
//   - the requests the reader sends decode back through parse_reply to the
//     attribute they carry (the family name, the interface index).
#include <linux/genetlink.h>
#include <linux/nl80211.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "sysinfo/nl80211.hpp"
#include "fuzz/require.hpp"

namespace {

using dbr::fuzz::require;

namespace nl = dbr::sysinfo::nl80211;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  std::uint32_t seq = 0;
  std::memcpy(&seq, data, sizeof seq);
  std::span<const std::uint8_t> datagram(data + 4, size - 4);

  const nl::Reply reply = nl::parse_reply(datagram, seq);
  if (!reply.found) require(reply.attributes.empty() && reply.error == 0);
  std::size_t attribute_bytes = 0;
  for (const auto& [type, value] : reply.attributes) attribute_bytes += 4 + value.size();
  require(attribute_bytes <= datagram.size());
  if (const auto id = nl::family_id(reply)) require(reply.find(CTRL_ATTR_FAMILY_ID)->size() >= 2);
  if (const auto name = nl::ssid(reply)) {
    const auto* value = reply.find(NL80211_ATTR_SSID);
    require(!name->empty() && value && name->size() == value->size());
  }

  // The requests, with the sequence and index the input gives.
  const auto family = nl::parse_reply(nl::family_request(seq), seq);
  require(family.found && family.error == 0);
  const auto* name = family.find(CTRL_ATTR_FAMILY_NAME);
  require(name && std::memcmp(name->data(), "nl80211", 8) == 0);
  // Generic netlink family ids start at GENL_MIN_ID (below are NOOP, ERROR, DONE...).
  const auto family_id = static_cast<std::uint16_t>(GENL_MIN_ID + seq % 0x1000);
  const std::uint32_t ifindex = seq ^ 0x5a5a5a5a;
  const auto request = nl::parse_reply(nl::get_interface_request(family_id, seq, ifindex), seq);
  const auto* index = request.find(NL80211_ATTR_IFINDEX);
  require(request.found && index && index->size() == 4 && std::memcmp(index->data(), &ifindex, 4) == 0);
  return 0;
}
