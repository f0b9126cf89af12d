#pragma once
// One NTP check on the monitor thread: the configured servers in turn, each
// resolved (c-ares, /etc/hosts first; the answer kept for its TTL,
// answer_cache.hpp) and asked once over UDP (sntp.hpp); the first valid
// answer wins. It never blocks: the monitor polls its fds
// together with everything else (poll_fds / next_deadline / process), so a
// check runs alongside the internet probes instead of between them.
//
// Bounds: one server's turn (resolving and the exchange) ends at `attempt`
// after it began; the whole check at `check_bound`. One socket at a time;
// at most kMaxDatagramsPerWake replies read per process() call, each into a
// fixed buffer (anything past 48 bytes is ignored).
#include <poll.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/time.hpp"
#include "monitor/answer_cache.hpp"
#include "monitor/dns_probe.hpp"
#include "monitor/report.hpp"
#include "monitor/sntp.hpp"

namespace dbr::monitor {

struct NtpServer {
  std::string name;  // as configured ("ntp1.inrim.it", "192.0.2.1:1123"), for reports
  std::string host;  // a name or an IP literal, without brackets
  std::uint16_t port = sntp::kPort;
  bool operator==(const NtpServer&) const = default;
};

struct NtpOptions {
  std::vector<NtpServer> servers;  // empty: no NTP checks
  std::chrono::seconds interval{30};  // ntpCheckIntervalSecs: from the end of one check to the next
  std::chrono::seconds timeout{5};    // ntpTimeout: one server's turn
  bool operator==(const NtpOptions&) const = default;
};

struct NtpOutcome {
  bool available = false;
  std::string server;   // the entry that answered
  std::string address;  // the address it answered from
  std::chrono::nanoseconds offset{0};
  std::chrono::nanoseconds delay{0};
  int stratum = 0;
  std::vector<std::string> failures;  // "<entry>: <reason>", one per server that did not answer validly
};

// The report for the loop (pure): offset and delay rounded to milliseconds,
// the failures joined into `detail`, `changed` against the previous
// report's `available` (empty before the first).
NtpReport build_ntp_report(const NtpOutcome& outcome, std::optional<bool> clock_synchronized, TimePoint at,
                           std::optional<bool> previous_available);

class NtpCheck {
 public:
  struct Options {
    std::vector<NtpServer> servers;
    Duration attempt;      // one server's turn
    Duration check_bound;  // the whole check
    std::vector<std::string> dns_servers;  // as the internet probe's; empty: resolv.conf
  };

  explicit NtpCheck(Options options);
  ~NtpCheck();
  NtpCheck(const NtpCheck&) = delete;
  NtpCheck& operator=(const NtpCheck&) = delete;

  // Begins a check with the first server (a running one is abandoned).
  void start(TimePoint now);
  bool running() const { return state_ != State::Idle; }
  // What to wait on now; empty when idle.
  std::vector<pollfd> poll_fds() const;
  // When process() is due even without traffic (a retry, a turn's end, the
  // check's bound). Only meaningful while running().
  TimePoint next_deadline(TimePoint now) const;
  // After poll(): `fds` as poll_fds() gave them, revents filled in. Reads
  // replies, moves on to the next server, finishes the check.
  void process(std::span<const pollfd> fds, TimePoint now);
  // Valid once a started check is no longer running().
  const NtpOutcome& outcome() const { return outcome_; }
  // Abandons a running check (the monitor is stopping); no outcome.
  void cancel();

  static constexpr int kMaxDatagramsPerWake = 16;

 private:
  enum class State { Idle, Resolving, Exchanging };
  void begin_turn(TimePoint now);
  void after_resolving(TimePoint now);
  void send_request(const std::string& address);
  void read_replies();
  void end_turn(std::string failure);
  void succeed(const sntp::Reply& reply);
  void close_socket();

  Options options_;
  DnsProbe dns_;
  AnswerCache answers_;  // kept across checks
  State state_ = State::Idle;
  std::size_t next_server_ = 0;  // the one whose turn is next (or running: next_server_ - 1)
  TimePoint check_deadline_{};
  TimePoint turn_deadline_{};
  bool turn_cut_by_bound_ = false;  // the check's bound comes before the turn's own end
  int socket_ = -1;
  std::string address_;
  sntp::Timestamp sent_{};  // T1 as sent
  std::chrono::system_clock::time_point sent_wall_{};
  TimePoint sent_mono_{};
  int ignored_replies_ = 0;
  std::string last_ignored_;  // why the last ignored reply was ignored
  NtpOutcome outcome_;
};

}  // namespace dbr::monitor
