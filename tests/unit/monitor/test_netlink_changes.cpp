// Which rtnetlink notifications count as a change, from hand-built datagrams.
#include <doctest/doctest.h>

#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "monitor/netlink_changes.hpp"

using namespace dbr::monitor;

namespace {

constexpr std::uint32_t kLowerUp = 1u << 16;

using Bytes = std::vector<std::uint8_t>;

template <typename T>
void put(Bytes& b, T v) {
  auto at = b.size();
  b.resize(at + sizeof v);
  std::memcpy(b.data() + at, &v, sizeof v);
}

void pad4(Bytes& b) {
  while (b.size() % 4) b.push_back(0);
}

void attr(Bytes& b, std::uint16_t type, const Bytes& value) {
  put<std::uint16_t>(b, static_cast<std::uint16_t>(4 + value.size()));
  put<std::uint16_t>(b, type);
  b.insert(b.end(), value.begin(), value.end());
  pad4(b);
}

Bytes u32(std::uint32_t v) {
  Bytes b;
  put(b, v);
  return b;
}

// One netlink message: header + payload.
Bytes message(std::uint16_t type, const Bytes& payload) {
  Bytes b;
  put<std::uint32_t>(b, static_cast<std::uint32_t>(16 + payload.size()));
  put<std::uint16_t>(b, type);
  put<std::uint16_t>(b, 0);  // flags
  put<std::uint32_t>(b, 0);  // seq
  put<std::uint32_t>(b, 0);  // pid
  b.insert(b.end(), payload.begin(), payload.end());
  pad4(b);
  return b;
}

Bytes link(std::uint16_t type, std::int32_t index, std::uint32_t flags) {
  Bytes p;
  p.push_back(AF_UNSPEC);
  p.push_back(0);
  put<std::uint16_t>(p, 1);  // ARPHRD_ETHER
  put(p, index);
  put(p, flags);
  put<std::uint32_t>(p, 0xffffffff);
  attr(p, IFLA_IFNAME, Bytes{'e', 't', 'h', '0', 0});
  return message(type, p);
}

Bytes address(std::uint16_t type, std::uint8_t family, std::uint32_t index, const Bytes& addr) {
  Bytes p;
  p.push_back(family);
  p.push_back(family == AF_INET ? 24 : 64);
  p.push_back(0);
  p.push_back(RT_SCOPE_UNIVERSE);
  put(p, index);
  attr(p, IFA_ADDRESS, addr);
  attr(p, IFA_CACHEINFO, Bytes(16, 0));
  return message(type, p);
}

Bytes route(std::uint16_t type, std::uint8_t dst_len, const Bytes& gateway, std::uint32_t oif,
            std::uint8_t table = RT_TABLE_MAIN) {
  Bytes p;
  p.push_back(AF_INET);
  p.push_back(dst_len);
  p.push_back(0);  // src_len
  p.push_back(0);  // tos
  p.push_back(table);
  p.push_back(RTPROT_DHCP);
  p.push_back(RT_SCOPE_UNIVERSE);
  p.push_back(RTN_UNICAST);
  put<std::uint32_t>(p, 0);
  attr(p, RTA_TABLE, u32(table));
  if (!gateway.empty()) attr(p, RTA_GATEWAY, gateway);
  attr(p, RTA_OIF, u32(oif));
  return message(type, p);
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

NetlinkChanges parse(NetworkStateTable& t, const Bytes& d) { return t.parse_datagram(d); }

const Bytes kGw{192, 0, 2, 1};
const Bytes kAddr{192, 0, 2, 10};

}  // namespace

TEST_CASE("netlink: link up-state changes count, repeats with the same flags do not") {
  NetworkStateTable t;
  auto up = parse(t, link(RTM_NEWLINK, 3, IFF_UP | IFF_RUNNING | kLowerUp | IFF_BROADCAST));
  CHECK(up.links == 1);
  CHECK(up.detail == "link 3 up,carrier,running");
  // A Wi-Fi scan event or a stats update: same flags.
  CHECK_FALSE(parse(t, link(RTM_NEWLINK, 3, IFF_UP | IFF_RUNNING | kLowerUp | IFF_MULTICAST)).any());
  auto carrier_lost = parse(t, link(RTM_NEWLINK, 3, IFF_UP | IFF_BROADCAST));
  CHECK(carrier_lost.links == 1);
  CHECK(carrier_lost.detail == "link 3 up");
  CHECK(parse(t, link(RTM_NEWLINK, 3, IFF_BROADCAST)).detail == "link 3 down");
  auto removed = parse(t, link(RTM_DELLINK, 3, 0));
  CHECK(removed.links == 1);
  CHECK(removed.detail == "link 3 removed");
  CHECK(t.size() == 0);
}

TEST_CASE("netlink: address added/removed counts, a lifetime refresh does not") {
  NetworkStateTable t;
  CHECK(parse(t, address(RTM_NEWADDR, AF_INET, 2, kAddr)).addresses == 1);
  CHECK_FALSE(parse(t, address(RTM_NEWADDR, AF_INET, 2, kAddr)).any());  // refresh
  Bytes v6(16, 0);
  v6[0] = 0x20;
  v6[1] = 0x01;
  auto added6 = parse(t, address(RTM_NEWADDR, AF_INET6, 2, v6));
  CHECK(added6.addresses == 1);
  CHECK(added6.detail == "IPv6 address added on link 2");
  auto gone = parse(t, address(RTM_DELADDR, AF_INET, 2, kAddr));
  CHECK(gone.addresses == 1);
  CHECK(gone.detail == "IPv4 address removed on link 2");
  // The same address on another link is another address.
  CHECK(parse(t, address(RTM_NEWADDR, AF_INET, 5, kAddr)).addresses == 1);
}

TEST_CASE("netlink: only default routes in the main table count") {
  NetworkStateTable t;
  auto added = parse(t, route(RTM_NEWROUTE, 0, kGw, 2));
  CHECK(added.default_routes == 1);
  CHECK(added.detail == "IPv4 default route added via link 2");
  CHECK_FALSE(parse(t, route(RTM_NEWROUTE, 0, kGw, 2)).any());  // RA-style refresh
  CHECK_FALSE(parse(t, route(RTM_NEWROUTE, 24, {}, 2)).any());  // a subnet route
  CHECK_FALSE(parse(t, route(RTM_NEWROUTE, 0, kGw, 2, RT_TABLE_LOCAL)).any());
  CHECK(parse(t, route(RTM_NEWROUTE, 0, Bytes{192, 0, 2, 254}, 2)).default_routes == 1);  // new gateway
  CHECK(parse(t, route(RTM_DELROUTE, 0, kGw, 2)).default_routes == 1);
}

TEST_CASE("netlink: several messages in one datagram") {
  NetworkStateTable t;
  auto d = concat({link(RTM_NEWLINK, 4, IFF_UP | IFF_RUNNING), address(RTM_NEWADDR, AF_INET, 4, kAddr),
                   route(RTM_NEWROUTE, 0, kGw, 4), message(NLMSG_DONE, u32(0))});
  auto c = parse(t, d);
  CHECK(c.links == 1);
  CHECK(c.addresses == 1);
  CHECK(c.default_routes == 1);
  CHECK(c.detail == "link 4 up,running; IPv4 address added on link 4; IPv4 default route added via link 4");
}

TEST_CASE("netlink: every truncated prefix is parsed safely and never invents a change") {
  auto d = concat({link(RTM_NEWLINK, 4, IFF_UP | IFF_RUNNING), address(RTM_NEWADDR, AF_INET, 4, kAddr),
                   route(RTM_NEWROUTE, 0, kGw, 4)});
  NetworkStateTable whole;
  auto expected = whole.parse_datagram(d);
  for (std::size_t n = 0; n <= d.size(); ++n) {
    NetworkStateTable t;
    auto c = t.parse_datagram(std::span<const std::uint8_t>(d.data(), n));
    CHECK(c.links + c.addresses + c.default_routes <= expected.links + expected.addresses + expected.default_routes);
  }
  // A header claiming more bytes than the datagram holds stops parsing.
  Bytes lying = link(RTM_NEWLINK, 4, IFF_UP);
  lying[0] = 0xff;
  NetworkStateTable t;
  CHECK_FALSE(t.parse_datagram(lying).any());
  // An attribute whose length runs past the message is ignored, not read.
  Bytes bad_attr = route(RTM_NEWROUTE, 0, kGw, 4);
  bad_attr[16 + 12] = 0xf0;  // first rtattr length
  CHECK(t.parse_datagram(bad_attr).default_routes == 1);
}

TEST_CASE("netlink: an overrun forgets the tables and counts as a change") {
  NetworkStateTable t;
  parse(t, link(RTM_NEWLINK, 3, IFF_UP));
  auto c = t.overrun();
  CHECK(c.overrun);
  CHECK(c.any());
  CHECK(t.size() == 0);
  CHECK(parse(t, link(RTM_NEWLINK, 3, IFF_UP)).links == 1);  // seen again: counts once
  CHECK(parse(t, message(NLMSG_OVERRUN, u32(0))).overrun);
}

TEST_CASE("netlink: the tables are bounded") {
  NetworkStateTable t;
  for (std::uint32_t i = 0; i < 3 * NetworkStateTable::kMaxEntries; ++i) {
    Bytes a{10, static_cast<std::uint8_t>(i >> 16), static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)};
    CHECK(parse(t, address(RTM_NEWADDR, AF_INET, 1, a)).addresses == 1);
    REQUIRE(t.size() <= NetworkStateTable::kMaxEntries);
  }
}

TEST_CASE("netlink: the detail text is bounded") {
  NetworkStateTable t;
  Bytes d;
  for (int i = 1; i <= 100; ++i) {
    auto m = link(RTM_NEWLINK, i, IFF_UP);
    d.insert(d.end(), m.begin(), m.end());
  }
  auto c = t.parse_datagram(d);
  CHECK(c.links == 100);
  CHECK(c.detail.size() <= 200);
  NetlinkChanges merged;
  for (int i = 0; i < 50; ++i) merged.merge(c);
  CHECK(merged.detail.size() <= 200);
  CHECK(merged.links == 5000);
}
