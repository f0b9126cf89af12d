// nl80211 over generic netlink: request bytes, reply decoding, and a live
// exchange with this kernel (which may have no Wi-Fi at all).
#include <doctest/doctest.h>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <span>
#include <vector>

#include "sysinfo/nl80211.hpp"

using namespace dbr;
using namespace dbr::sysinfo;
using namespace std::chrono_literals;
using Bytes = std::vector<std::uint8_t>;

namespace {

void u16(Bytes& b, std::uint16_t v) {
  std::uint8_t raw[2];
  std::memcpy(raw, &v, 2);
  b.insert(b.end(), raw, raw + 2);
}
void u32(Bytes& b, std::uint32_t v) {
  std::uint8_t raw[4];
  std::memcpy(raw, &v, 4);
  b.insert(b.end(), raw, raw + 4);
}
void attr(Bytes& b, std::uint16_t type, const Bytes& value) {
  u16(b, static_cast<std::uint16_t>(4 + value.size()));
  u16(b, type);
  b.insert(b.end(), value.begin(), value.end());
  while (b.size() % 4) b.push_back(0);
}
Bytes str(const char* s, bool nul) {
  Bytes b(s, s + std::strlen(s));
  if (nul) b.push_back(0);
  return b;
}
// A whole netlink message: header, genl header, then `attrs`.
Bytes message(std::uint16_t type, std::uint32_t seq, std::uint8_t cmd, const Bytes& attrs) {
  Bytes b;
  u32(b, static_cast<std::uint32_t>(16 + 4 + attrs.size()));
  u16(b, type);
  u16(b, 0);
  u32(b, seq);
  u32(b, 1234);
  b.push_back(cmd);
  b.push_back(1);
  u16(b, 0);
  b.insert(b.end(), attrs.begin(), attrs.end());
  return b;
}

}  // namespace

TEST_CASE("the family request is CTRL_CMD_GETFAMILY with the name nl80211") {
  Bytes expected;
  u32(expected, 32);   // length
  u16(expected, 0x10);  // GENL_ID_CTRL
  u16(expected, 1);     // NLM_F_REQUEST
  u32(expected, 7);     // seq
  u32(expected, 0);     // pid: the kernel
  expected.insert(expected.end(), {3, 1, 0, 0});  // CTRL_CMD_GETFAMILY, version 1
  attr(expected, 2, str("nl80211", true));        // CTRL_ATTR_FAMILY_NAME
  CHECK(nl80211::family_request(7) == expected);
}

TEST_CASE("the interface request carries NL80211_ATTR_IFINDEX") {
  Bytes expected;
  u32(expected, 28);
  u16(expected, 0x1c);
  u16(expected, 1);
  u32(expected, 9);
  u32(expected, 0);
  expected.insert(expected.end(), {5, 0, 0, 0});  // NL80211_CMD_GET_INTERFACE
  Bytes ifindex;
  u32(ifindex, 3);
  attr(expected, 3, ifindex);  // NL80211_ATTR_IFINDEX
  CHECK(nl80211::get_interface_request(0x1c, 9, 3) == expected);
}

TEST_CASE("replies decode: family id, SSID, errors, other sequence numbers, garbage") {
  Bytes family_attrs;
  attr(family_attrs, 2, str("nl80211", true));
  Bytes id;
  u16(id, 0x1c);
  attr(family_attrs, 1, id);
  auto family = nl80211::parse_reply(message(0x10, 5, 1, family_attrs), 5);
  CHECK(family.found);
  CHECK(nl80211::family_id(family) == 0x1c);

  Bytes iface_attrs;
  Bytes idx;
  u32(idx, 3);
  attr(iface_attrs, 3, idx);
  attr(iface_attrs, 4, str("wlan0", true));
  attr(iface_attrs, 52, str("DuneNet", false));  // NL80211_ATTR_SSID
  Bytes reply = message(0x1c, 6, 7, iface_attrs);
  auto iface = nl80211::parse_reply(reply, 6);
  CHECK(nl80211::ssid(iface) == "DuneNet");
  // Fed one byte at a time, every prefix is either incomplete or the reply.
  for (std::size_t n = 0; n < reply.size(); ++n) {
    auto partial = nl80211::parse_reply(std::span(reply.data(), n), 6);
    CHECK_FALSE(nl80211::ssid(partial));
  }

  // Not associated: no SSID attribute.
  Bytes no_ssid;
  attr(no_ssid, 3, idx);
  CHECK_FALSE(nl80211::ssid(nl80211::parse_reply(message(0x1c, 6, 7, no_ssid), 6)));

  // A stale reply with another sequence number is skipped; the right one found.
  Bytes two = message(0x1c, 5, 7, no_ssid);
  Bytes second = message(0x1c, 6, 7, iface_attrs);
  two.insert(two.end(), second.begin(), second.end());
  CHECK(nl80211::ssid(nl80211::parse_reply(two, 6)) == "DuneNet");
  CHECK_FALSE(nl80211::parse_reply(two, 99).found);

  // NLMSG_ERROR with -ENOENT (no nl80211 in the kernel).
  Bytes err;
  u32(err, 36);
  u16(err, 2);
  u16(err, 0);
  u32(err, 8);
  u32(err, 0);
  u32(err, static_cast<std::uint32_t>(-2));
  err.resize(36, 0);
  auto e = nl80211::parse_reply(err, 8);
  CHECK(e.found);
  CHECK(e.error == -2);
  CHECK_FALSE(nl80211::family_id(e));

  // An attribute claiming more bytes than there are: nothing, no overread.
  Bytes bad = message(0x1c, 6, 7, iface_attrs);
  bad[20] = 0xff;  // first attribute's length
  CHECK_FALSE(nl80211::parse_reply(bad, 6).found);
  Bytes short_len = reply;
  short_len[0] = 8;  // nlmsg_len below the header size
  CHECK_FALSE(nl80211::parse_reply(short_len, 6).found);
}

TEST_CASE("this kernel answers the family request on a non-blocking socket") {
  // Whether or not it has cfg80211: an answer either names the family or
  // is an error (ENOENT), never silence.
  int fd = nl80211::open_socket();
  REQUIRE(fd >= 0);
  REQUIRE(nl80211::send_request(fd, nl80211::family_request(7)));
  pollfd p{fd, POLLIN, 0};
  REQUIRE(::poll(&p, 1, 2000) == 1);
  std::vector<std::uint8_t> buffer(16 * 1024);
  ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
  REQUIRE(n > 0);
  auto reply = nl80211::parse_reply(std::span(buffer.data(), static_cast<std::size_t>(n)), 7);
  CHECK(reply.found);
  CHECK((nl80211::family_id(reply).has_value() || reply.error < 0));
  ::close(fd);
}
