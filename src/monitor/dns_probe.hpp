#pragma once
// The DNS half of a check: asks the DNS servers for the probe host's A and
// AAAA records with c-ares, on the monitor thread, without blocking it.
//
// "A cached answer must not count as success": every start() builds a new
// channel and runs ares_getaddrinfo() once per family on it, set to ask the
// DNS servers only (never /etc/hosts) for the host as given (no search
// list). The answer cache c-ares keeps from 1.23 on belongs to the channel,
// so it is empty every time. A new channel per check also picks up a
// resolv.conf that DHCP rewrote since the last one. The calls used exist,
// undeprecated, in both c-ares 1.18 (bookworm) and 1.34 (trixie).
#include <ares.h>
#include <poll.h>

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/time.hpp"
#include "monitor/outcome.hpp"

namespace dbr::monitor {

class DnsProbe {
 public:
  struct Options {
    std::vector<std::string> servers;  // "ip", "ip:port", "[ip6]:port"; empty: resolv.conf
    Duration timeout;                  // the whole lookup, both record types
    // Also /etc/hosts, as getaddrinfo() would (the NTP servers' names). The
    // internet probe leaves it off: a hosts entry proves nothing about DNS.
    bool hosts_file = false;
  };

  explicit DnsProbe(Options options);
  ~DnsProbe();
  DnsProbe(const DnsProbe&) = delete;
  DnsProbe& operator=(const DnsProbe&) = delete;

  // Starts a lookup; any lookup still running is cancelled first.
  void start(const std::string& host, TimePoint now);
  // Waits at most `max_wait` (and never past the lookup's deadline) for the
  // lookup's sockets or any of `extra` (whose revents are filled in), then
  // advances the lookup. Returns at once when done().
  void step(std::span<pollfd> extra, Duration max_wait);
  bool done() const { return done_; }
  // For a caller that waits on several things in one poll() (step() is
  // these three): the lookup's sockets now, the moment it next needs
  // process() even without traffic (a c-ares retry or the deadline), and
  // process() with the revents poll() filled in for poll_fds().
  std::vector<pollfd> poll_fds() const { return sockets_; }
  TimePoint next_deadline(TimePoint now) const;
  void process(std::span<const pollfd> fds);
  // Valid once done().
  const DnsOutcome& outcome() const { return outcome_; }
  // Abandons a running lookup (used when the monitor stops mid-check).
  void cancel();

 private:
  struct Channel;
  static void on_socket_state(void* arg, ares_socket_t fd, int readable, int writable);
  static void on_a_answer(void* arg, int status, int timeouts, ares_addrinfo* result);
  static void on_aaaa_answer(void* arg, int status, int timeouts, ares_addrinfo* result);
  void record(bool aaaa, int status, ares_addrinfo* result);
  void finish_if_complete();
  void fail_timeout();

  Options options_;
  std::unique_ptr<Channel> channel_;
  std::string host_;
  TimePoint started_{};
  TimePoint deadline_{};
  int pending_ = 0;
  int a_status_ = 0;
  int aaaa_status_ = 0;
  std::vector<std::string> a_answers_;
  std::vector<std::string> aaaa_answers_;
  std::optional<int> min_ttl_;  // seconds, over every record answered
  std::vector<pollfd> sockets_;  // the channel's open sockets, kept by on_socket_state
  bool done_ = true;
  DnsOutcome outcome_;
};

}  // namespace dbr::monitor
