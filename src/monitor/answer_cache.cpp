#include "monitor/answer_cache.hpp"

#include <algorithm>
#include <cctype>

namespace dbr::monitor {

namespace {

std::string lower(const std::string& host) {
  std::string out = host;
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

const std::vector<std::string>* AnswerCache::find(const std::string& host, TimePoint now) const {
  const auto key = lower(host);
  for (const auto& e : entries_)
    if (e.host == key && now < e.expires && !e.addresses.empty()) return &e.addresses;
  return nullptr;
}

void AnswerCache::store(const std::string& host, std::vector<std::string> addresses, std::chrono::seconds ttl,
                        TimePoint now) {
  forget(host);
  std::erase_if(entries_, [now](const Entry& e) { return now >= e.expires; });
  if (ttl <= std::chrono::seconds::zero() || addresses.empty()) return;
  if (entries_.size() >= kMaxEntries) {
    auto first_to_expire = std::min_element(entries_.begin(), entries_.end(),
                                            [](const Entry& a, const Entry& b) { return a.expires < b.expires; });
    entries_.erase(first_to_expire);
  }
  entries_.push_back({lower(host), std::move(addresses), now + std::min<Duration>(ttl, kMaxTtl)});
}

void AnswerCache::forget(const std::string& host) {
  const auto key = lower(host);
  std::erase_if(entries_, [&key](const Entry& e) { return e.host == key; });
}

}  // namespace dbr::monitor
