#include "monitor/netlink_watcher.hpp"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <system_error>

namespace dbr::monitor {

NetlinkWatcher::NetlinkWatcher() {
  fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "netlink socket");
  sockaddr_nl address{};
  address.nl_family = AF_NETLINK;
  address.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE |
                      RTMGRP_IPV6_ROUTE;
  if (bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    int err = errno;
    close(fd_);
    throw std::system_error(err, std::generic_category(), "netlink bind");
  }
}

NetlinkWatcher::~NetlinkWatcher() {
  if (fd_ >= 0) close(fd_);
}

NetlinkChanges NetlinkWatcher::drain() {
  NetlinkChanges changes;
  // Route notifications are a few hundred bytes; 16 KiB holds many per read.
  std::array<std::uint8_t, 16384> buffer{};
  for (int i = 0; i < kMaxDatagramsPerDrain; ++i) {
    sockaddr_nl sender{};
    socklen_t sender_len = sizeof sender;
    ssize_t n = recvfrom(fd_, buffer.data(), buffer.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&sender),
                         &sender_len);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOBUFS) {
        changes.merge(table_.overrun());
        continue;
      }
      break;  // EAGAIN: drained
    }
    if (n == 0) break;
    if (sender.nl_pid != 0) continue;  // only the kernel speaks for the routing tables
    changes.merge(table_.parse_datagram(std::span<const std::uint8_t>(buffer.data(), static_cast<std::size_t>(n))));
  }
  return changes;
}

}  // namespace dbr::monitor
