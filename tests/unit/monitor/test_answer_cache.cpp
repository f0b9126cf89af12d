// The NTP check's DNS answer cache in virtual time.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "monitor/answer_cache.hpp"

using namespace dbr;
using namespace dbr::monitor;
using namespace std::chrono_literals;

namespace {
const TimePoint t0 = TimePoint{} + 1000s;
const std::vector<std::string> kAddresses{"192.0.2.1", "2001:db8::1"};
}  // namespace

TEST_CASE("answer cache: an answer is used until its TTL runs out, then looked up again") {
  AnswerCache c;
  CHECK(c.find("ntp1.inrim.it", t0) == nullptr);
  c.store("ntp1.inrim.it", kAddresses, 150s, t0);
  REQUIRE(c.find("ntp1.inrim.it", t0) != nullptr);
  CHECK(*c.find("ntp1.inrim.it", t0 + 149s) == kAddresses);
  CHECK(c.find("NTP1.INRIM.IT", t0 + 10s) != nullptr);  // names are case-insensitive (RFC 4343)
  CHECK(c.find("ntp1.inrim.it", t0 + 150s) == nullptr);
  CHECK(c.find("ntp2.inrim.it", t0) == nullptr);
}

TEST_CASE("answer cache: a TTL of 0 is not kept; a long one is kept at most an hour") {
  AnswerCache c;
  c.store("a.test", kAddresses, 0s, t0);
  CHECK(c.find("a.test", t0) == nullptr);
  CHECK(c.size() == 0);
  c.store("b.test", kAddresses, 86400s, t0);
  CHECK(c.find("b.test", t0 + 1h - 1s) != nullptr);
  CHECK(c.find("b.test", t0 + 1h) == nullptr);
  c.store("c.test", {}, 60s, t0);  // nothing to keep
  CHECK(c.find("c.test", t0) == nullptr);
}

TEST_CASE("answer cache: forget drops a name (its server did not answer), a new answer replaces the old") {
  AnswerCache c;
  c.store("a.test", kAddresses, 300s, t0);
  c.forget("A.test");
  CHECK(c.find("a.test", t0) == nullptr);
  c.store("a.test", {"192.0.2.7"}, 300s, t0);
  c.store("a.test", {"192.0.2.8"}, 300s, t0 + 10s);
  CHECK(c.size() == 1);
  CHECK(*c.find("a.test", t0 + 20s) == std::vector<std::string>{"192.0.2.8"});
}

TEST_CASE("answer cache: bounded; at the bound the entry that expires first makes room, expired ones go first") {
  AnswerCache c;
  for (std::size_t i = 0; i < AnswerCache::kMaxEntries; ++i)
    c.store("n" + std::to_string(i) + ".test", kAddresses, std::chrono::seconds(100 + i), t0);
  CHECK(c.size() == AnswerCache::kMaxEntries);
  c.store("new.test", kAddresses, 500s, t0);
  CHECK(c.size() == AnswerCache::kMaxEntries);
  CHECK(c.find("n0.test", t0) == nullptr);  // expired first: made room
  CHECK(c.find("n1.test", t0) != nullptr);
  CHECK(c.find("new.test", t0) != nullptr);
  // Later, the expired entries are swept when something is stored.
  c.store("later.test", kAddresses, 500s, t0 + 120s);  // n1..n15 expire at 101..115 s
  CHECK(c.size() == 2);
}
