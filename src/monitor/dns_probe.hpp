#pragma once
// The DNS half of a check: asks the DNS servers for the probe host's A and
// AAAA records with c-ares, on the monitor thread, without blocking it.
//
// "A cached answer must not count as success": every start() builds a new
// channel and sends ares_query() for both types, which goes to the servers
// (unlike ares_gethostbyname/ares_getaddrinfo, it never reads /etc/hosts, and
// c-ares 1.18 keeps no answer cache). A new channel per check also picks up a
// resolv.conf that DHCP rewrote since the last one.
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
  // Valid once done().
  const DnsOutcome& outcome() const { return outcome_; }
  // Abandons a running lookup (used when the monitor stops mid-check).
  void cancel();

 private:
  struct Channel;
  static void on_a_answer(void* arg, int status, int timeouts, unsigned char* answer, int length);
  static void on_aaaa_answer(void* arg, int status, int timeouts, unsigned char* answer, int length);
  void record(bool aaaa, int status, const unsigned char* answer, int length);
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
  bool done_ = true;
  DnsOutcome outcome_;
};

}  // namespace dbr::monitor
