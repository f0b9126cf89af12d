#pragma once
// The NTP check's DNS answers, kept for their TTL (sans-IO, tested in
// virtual time). Upstream resolves every server name at every check, every
// 30 s: two queries and two answers a check, more than the SNTP exchange
// itself. A name is looked up again when its answer's TTL has run out
// ("the time interval that the resource record may be cached before the
// source of the information should again be consulted", RFC 1035 §3.2.1),
// or after its server failed to answer (it may have moved).
//
// Bounds: at most kMaxEntries names (ntpServers holds at most 16); at the
// bound the entry that expires first makes room. An answer is kept at most
// kMaxTtl whatever its TTL says, so a renumbered server is found within
// that; a TTL of 0 is not kept. The internet probe never uses this: a
// cached answer proves nothing about DNS.
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "common/time.hpp"

namespace dbr::monitor {

class AnswerCache {
 public:
  static constexpr std::size_t kMaxEntries = 16;
  static constexpr Duration kMaxTtl = std::chrono::hours(1);

  // The addresses stored for `host` (any case) if still valid at `now`;
  // null otherwise.
  const std::vector<std::string>* find(const std::string& host, TimePoint now) const;
  void store(const std::string& host, std::vector<std::string> addresses, std::chrono::seconds ttl, TimePoint now);
  void forget(const std::string& host);
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::string host;  // lower case
    std::vector<std::string> addresses;
    TimePoint expires{};
  };
  std::vector<Entry> entries_;
};

}  // namespace dbr::monitor
