#include "sysinfo/nl80211.hpp"

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/nl80211.h>
#include <sys/socket.h>

#include <cstring>

namespace dbr::sysinfo::nl80211 {

namespace {

constexpr std::size_t kNlmsgHeader = 16;  // sizeof(struct nlmsghdr)
constexpr std::size_t kGenlHeader = 4;    // sizeof(struct genlmsghdr)
constexpr std::size_t kAttrHeader = 4;    // sizeof(struct nlattr)

constexpr std::size_t align4(std::size_t n) { return (n + 3) & ~std::size_t(3); }

template <typename T>
void put(std::vector<std::uint8_t>& out, std::size_t at, T value) {
  std::memcpy(out.data() + at, &value, sizeof value);
}

template <typename T>
T get(std::span<const std::uint8_t> in, std::size_t at) {
  T value{};
  std::memcpy(&value, in.data() + at, sizeof value);
  return value;
}

// Header for a generic netlink request with room for `attrs_bytes`.
std::vector<std::uint8_t> genl_message(std::uint16_t type, std::uint8_t cmd, std::uint8_t version, std::uint32_t seq,
                                       std::size_t attrs_bytes) {
  std::vector<std::uint8_t> msg(kNlmsgHeader + kGenlHeader + attrs_bytes, 0);
  put<std::uint32_t>(msg, 0, static_cast<std::uint32_t>(msg.size()));  // nlmsg_len
  put<std::uint16_t>(msg, 4, type);                                     // nlmsg_type
  put<std::uint16_t>(msg, 6, static_cast<std::uint16_t>(NLM_F_REQUEST));
  put<std::uint32_t>(msg, 8, seq);
  put<std::uint32_t>(msg, 12, 0);  // nlmsg_pid: the kernel
  msg[16] = cmd;
  msg[17] = version;
  return msg;
}

void put_attr(std::vector<std::uint8_t>& msg, std::size_t at, std::uint16_t type, const void* data, std::size_t len) {
  put<std::uint16_t>(msg, at, static_cast<std::uint16_t>(kAttrHeader + len));
  put<std::uint16_t>(msg, at + 2, type);
  std::memcpy(msg.data() + at + kAttrHeader, data, len);
}

}  // namespace

std::vector<std::uint8_t> family_request(std::uint32_t seq) {
  static const char kName[] = "nl80211";  // with its NUL, as the kernel wants
  auto msg = genl_message(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, seq, align4(kAttrHeader + sizeof kName));
  put_attr(msg, kNlmsgHeader + kGenlHeader, CTRL_ATTR_FAMILY_NAME, kName, sizeof kName);
  return msg;
}

std::vector<std::uint8_t> get_interface_request(std::uint16_t family, std::uint32_t seq, std::uint32_t ifindex) {
  auto msg = genl_message(family, NL80211_CMD_GET_INTERFACE, 0, seq, align4(kAttrHeader + sizeof ifindex));
  put_attr(msg, kNlmsgHeader + kGenlHeader, NL80211_ATTR_IFINDEX, &ifindex, sizeof ifindex);
  return msg;
}

const std::vector<std::uint8_t>* Reply::find(std::uint16_t type) const {
  for (const auto& [t, value] : attributes)
    if (t == type) return &value;
  return nullptr;
}

Reply parse_reply(std::span<const std::uint8_t> datagram, std::uint32_t seq) {
  Reply reply;
  std::size_t offset = 0;
  while (offset + kNlmsgHeader <= datagram.size()) {
    auto len = get<std::uint32_t>(datagram, offset);
    auto type = get<std::uint16_t>(datagram, offset + 4);
    auto msg_seq = get<std::uint32_t>(datagram, offset + 8);
    if (len < kNlmsgHeader || len > datagram.size() - offset) return {};
    auto message = datagram.subspan(offset, len);
    offset += align4(len);
    if (msg_seq != seq) continue;
    reply.found = true;
    if (type == NLMSG_ERROR) {
      if (message.size() >= kNlmsgHeader + 4) reply.error = get<std::int32_t>(message, kNlmsgHeader);
      return reply;
    }
    if (type == NLMSG_DONE || type == NLMSG_NOOP) continue;
    if (message.size() < kNlmsgHeader + kGenlHeader) return {};
    std::size_t at = kNlmsgHeader + kGenlHeader;
    while (at + kAttrHeader <= message.size()) {
      auto attr_len = get<std::uint16_t>(message, at);
      auto attr_type = static_cast<std::uint16_t>(get<std::uint16_t>(message, at + 2) & NLA_TYPE_MASK);
      if (attr_len < kAttrHeader || attr_len > message.size() - at) return {};
      auto value = message.subspan(at + kAttrHeader, attr_len - kAttrHeader);
      reply.attributes.emplace_back(attr_type, std::vector<std::uint8_t>(value.begin(), value.end()));
      at += align4(attr_len);
    }
    return reply;
  }
  return reply;
}

std::optional<std::uint16_t> family_id(const Reply& reply) {
  const auto* v = reply.find(CTRL_ATTR_FAMILY_ID);
  if (!v || v->size() < 2) return std::nullopt;
  std::uint16_t id = 0;
  std::memcpy(&id, v->data(), sizeof id);
  return id;
}

std::optional<std::string> ssid(const Reply& reply) {
  const auto* v = reply.find(NL80211_ATTR_SSID);
  if (!v || v->empty()) return std::nullopt;
  return std::string(v->begin(), v->end());
}

int open_socket() { return ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_GENERIC); }

bool send_request(int fd, const std::vector<std::uint8_t>& request) {
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  ssize_t sent = ::sendto(fd, request.data(), request.size(), 0, reinterpret_cast<const sockaddr*>(&kernel),
                          sizeof kernel);
  return sent == static_cast<ssize_t>(request.size());
}

}  // namespace dbr::sysinfo::nl80211
