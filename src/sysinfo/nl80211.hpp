#pragma once
// The SSID of a Wi-Fi station interface, asked of nl80211 (the kernel's
// Wi-Fi configuration interface) over generic netlink, as `iw dev wlan0
// info` does. It needs no privileges and runs no command. These are the
// messages, encoded and decoded by pure functions (tests check them byte
// for byte without a Wi-Fi card); SlowFactsProbe exchanges them with the
// kernel on a non-blocking socket the loop watches.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>


namespace dbr::sysinfo::nl80211 {

// Requests (netlink header + generic netlink header + attributes).
std::vector<std::uint8_t> family_request(std::uint32_t seq);  // CTRL_CMD_GETFAMILY "nl80211"
std::vector<std::uint8_t> get_interface_request(std::uint16_t family_id, std::uint32_t seq, std::uint32_t ifindex);

// One decoded reply: the first message matching `seq`.
struct Reply {
  int error = 0;  // negative errno from an NLMSG_ERROR, else 0
  bool found = false;  // a message with `seq` was in the buffer
  std::vector<std::pair<std::uint16_t, std::vector<std::uint8_t>>> attributes;
  const std::vector<std::uint8_t>* find(std::uint16_t type) const;
};
// Decodes a datagram of netlink messages; a malformed buffer gives an empty
// Reply (found == false), never a read past the end.
Reply parse_reply(std::span<const std::uint8_t> datagram, std::uint32_t seq);

// Attribute helpers on a decoded reply.
std::optional<std::uint16_t> family_id(const Reply& reply);  // CTRL_ATTR_FAMILY_ID
std::optional<std::string> ssid(const Reply& reply);         // NL80211_ATTR_SSID, raw bytes

// A non-blocking generic netlink socket, or -1.
int open_socket();
// Sends one request to the kernel; false if it did not go.
bool send_request(int fd, const std::vector<std::uint8_t>& request);

}  // namespace dbr::sysinfo::nl80211
