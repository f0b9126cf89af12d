#pragma once
// A NETLINK_ROUTE socket subscribed to link, IPv4/IPv6 address and IPv4/IPv6
// route notifications. The monitor thread polls fd() and calls drain().
#include <memory>

#include "monitor/netlink_changes.hpp"

namespace dbr::monitor {

class NetlinkWatcher {
 public:
  // Throws std::system_error when the socket cannot be opened or bound.
  NetlinkWatcher();
  ~NetlinkWatcher();
  NetlinkWatcher(const NetlinkWatcher&) = delete;
  NetlinkWatcher& operator=(const NetlinkWatcher&) = delete;

  int fd() const { return fd_; }
  // Reads what is waiting without blocking (at most kMaxDatagramsPerDrain
  // datagrams per call; the fd stays readable if more remain) and returns
  // the relevant changes. A kernel overrun (ENOBUFS) counts as a change.
  NetlinkChanges drain();

  static constexpr int kMaxDatagramsPerDrain = 64;

 private:
  int fd_ = -1;
  NetworkStateTable table_;
};

}  // namespace dbr::monitor
