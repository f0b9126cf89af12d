// The SNTP codec on hand-built packets: the request's bytes, each rule a
// reply must pass, the clock offset and delay, and the NTP fixed-point and
// era arithmetic at its edges.
#include <doctest/doctest.h>

#include <vector>

#include "monitor/sntp.hpp"

using namespace dbr::monitor;
using namespace std::chrono_literals;
using sntp::Rejection;
using sntp::Timestamp;
using WallTime = std::chrono::system_clock::time_point;

namespace {

// Unix seconds (and nanoseconds) as a wall time.
WallTime wall(std::int64_t unix_seconds, std::int64_t ns = 0) {
  return WallTime(std::chrono::duration_cast<WallTime::duration>(std::chrono::seconds(unix_seconds) +
                                                                  std::chrono::nanoseconds(ns)));
}

// 2036-02-07T06:28:16Z: NTP era 1 begins, the seconds field wraps to 0.
constexpr std::int64_t kEra1UnixSeconds = (std::int64_t{1} << 32) - sntp::kUnixEpochInNtpSeconds;

struct ServerReply {
  int leap = 0;
  int version = 4;
  int mode = 4;
  int stratum = 2;
  std::uint32_t reference_id = 0xc1cc72e8;  // an IPv4 address, as a stratum-2 server sends
  Timestamp origin;
  Timestamp receive;
  Timestamp transmit;
  std::size_t size = sntp::kPacketBytes;

  std::vector<std::uint8_t> bytes() const {
    std::vector<std::uint8_t> b(size, 0);
    auto put = [&](std::size_t at, std::uint32_t v) {
      for (int i = 0; i < 4; ++i)
        if (at + static_cast<std::size_t>(i) < b.size())
          b[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
    };
    if (!b.empty()) b[0] = static_cast<std::uint8_t>((leap << 6) | (version << 3) | mode);
    if (b.size() > 1) b[1] = static_cast<std::uint8_t>(stratum);
    put(12, reference_id);
    put(24, origin.seconds);
    put(28, origin.fraction);
    put(32, receive.seconds);
    put(36, receive.fraction);
    put(40, transmit.seconds);
    put(44, transmit.fraction);
    return b;
  }
};

// T1 and T4 on our clock, T2 and T3 on the server's; a reply to a request
// sent at T1.
struct Exchange {
  Timestamp t1, t2, t3, t4;
  ServerReply reply() const {
    ServerReply r;
    r.origin = t1;
    r.receive = t2;
    r.transmit = t3;
    return r;
  }
  sntp::Reply judge(const ServerReply& r) const {
    auto b = r.bytes();
    return sntp::parse_reply(b, t1, t4);
  }
};

// The server's clock is `offset` ahead of ours; 20 ms each way, 1 ms inside
// the server.
Exchange exchange_at(WallTime t1, std::chrono::nanoseconds offset) {
  auto t2 = t1 + 20ms + offset;
  auto t3 = t2 + 1ms;
  auto t4 = t1 + 41ms;
  return {sntp::to_ntp(t1), sntp::to_ntp(t2), sntp::to_ntp(t3), sntp::to_ntp(t4)};
}

// Truncation to 2^-32 s loses under a nanosecond per timestamp.
void check_near(std::chrono::nanoseconds got, std::chrono::nanoseconds want) {
  CAPTURE(got.count());
  CAPTURE(want.count());
  CHECK(got - want <= 2ns);
  CHECK(want - got <= 2ns);
}

}  // namespace

TEST_CASE("to_ntp: seconds since 1900 and a 2^-32 s fraction") {
  CHECK(sntp::to_ntp(wall(0)) == Timestamp{2208988800u, 0});
  CHECK(sntp::to_ntp(wall(0, 500'000'000)) == Timestamp{2208988800u, 0x80000000u});
  CHECK(sntp::to_ntp(wall(0, 250'000'000)) == Timestamp{2208988800u, 0x40000000u});
  // 1 ns = 4.29 units, truncated; the last nanosecond of a second stays in it.
  CHECK(sntp::to_ntp(wall(0, 1)) == Timestamp{2208988800u, 4});
  CHECK(sntp::to_ntp(wall(0, 999'999'999)) == Timestamp{2208988800u, 0xfffffffbu});
  // 2026-01-01T00:00:00Z
  CHECK(sntp::to_ntp(wall(1767225600)) == Timestamp{3976214400u, 0});
}

TEST_CASE("to_ntp: before 1970 the fraction stays positive, 1900 is zero") {
  // -0.75 s = -1 s + 0.25 s.
  CHECK(sntp::to_ntp(wall(0, -750'000'000)) == Timestamp{2208988799u, 0x40000000u});
  CHECK(sntp::to_ntp(wall(-sntp::kUnixEpochInNtpSeconds)) == Timestamp{0, 0});
}

TEST_CASE("to_ntp: the era wraps in 2036 and the seconds start again at 0") {
  CHECK(kEra1UnixSeconds == 2085978496);
  CHECK(sntp::to_ntp(wall(kEra1UnixSeconds - 1, 999'999'999)) == Timestamp{0xffffffffu, 0xfffffffbu});
  CHECK(sntp::to_ntp(wall(kEra1UnixSeconds)) == Timestamp{0, 0});
  CHECK(sntp::to_ntp(wall(kEra1UnixSeconds + 1, 500'000'000)) == Timestamp{1, 0x80000000u});
}

TEST_CASE("difference: signed 32.32 fixed point, modulo 2^64") {
  const Timestamp a{1000, 0};
  CHECK(sntp::difference(a, {1000, 0x80000000u}) == 500ms);
  CHECK(sntp::difference({1000, 0x80000000u}, a) == -500ms);
  CHECK(sntp::difference(a, {1003, 0}) == 3s);
  CHECK(sntp::difference(a, a) == 0ns);
  // One unit is 0.23 ns; the largest fraction is just under a second.
  CHECK(sntp::difference(a, {1000, 1}) == 0ns);
  CHECK(sntp::difference(a, {1000, 0xffffffffu}) == 999'999'999ns);
  CHECK(sntp::difference({1000, 1}, a) == -1ns);  // floor of -0.23 ns
  // Across the era boundary: 0.5 s before the wrap to 0.25 s after it.
  CHECK(sntp::difference({0xffffffffu, 0x80000000u}, {0, 0x40000000u}) == 750ms);
  CHECK(sntp::difference({0, 0x40000000u}, {0xffffffffu, 0x80000000u}) == -750ms);
  // The limit: 2^31 s apart is still read as positive, one unit less than
  // -2^31 s as negative.
  CHECK(sntp::difference({0, 0}, {0x7fffffffu, 0}) == std::chrono::seconds(0x7fffffff));
  CHECK(sntp::difference({0, 0}, {0x80000000u, 0}) == -std::chrono::seconds(std::int64_t{1} << 31));
}

TEST_CASE("build_request: LI 0, the version, mode 3, our transmit timestamp and zeros") {
  const Timestamp t{0xe8f1a2b3u, 0x01020304u};
  auto p = sntp::build_request(t);
  CHECK(p.size() == 48);
  CHECK(p[0] == 0x23);  // 00 100 011
  CHECK(p[40] == 0xe8);
  CHECK(p[41] == 0xf1);
  CHECK(p[42] == 0xa2);
  CHECK(p[43] == 0xb3);
  CHECK(p[44] == 0x01);
  CHECK(p[47] == 0x04);
  for (std::size_t i = 1; i < 40; ++i) CHECK_MESSAGE(p[i] == 0, "byte ", i);
  // Upstream's request byte: 00 011 011.
  CHECK(sntp::build_request(t, 3)[0] == 0x1b);
}

TEST_CASE("an answer to our request: offset ((T2-T1)+(T3-T4))/2 and delay (T4-T1)-(T3-T2)") {
  auto x = exchange_at(wall(1767225600, 123'456'789), 12ms);
  auto r = x.judge(x.reply());
  REQUIRE_MESSAGE(r.accepted(), r.detail);
  check_near(r.offset, 12ms);
  check_near(r.delay, 40ms);
  CHECK(r.stratum == 2);
  CHECK(r.detail.empty());

  x = exchange_at(wall(1767225600), -2500ms);
  r = x.judge(x.reply());
  REQUIRE(r.accepted());
  check_near(r.offset, -2500ms);
  check_near(r.delay, 40ms);
}

TEST_CASE("an exchange across the 2036 era boundary measures as any other") {
  // T1 is 10 ms before the wrap; T2, T3 and T4 are after it.
  auto x = exchange_at(wall(kEra1UnixSeconds - 1, 990'000'000), 300ms);
  CHECK(x.t1.seconds == 0xffffffffu);
  CHECK(x.t2.seconds == 0);
  auto r = x.judge(x.reply());
  REQUIRE(r.accepted());
  check_near(r.offset, 300ms);
  check_near(r.delay, 40ms);
  // And a server 70 years ahead is outside the arithmetic's reach: it reads
  // as behind, which is what RFC 4330's 68-year limit means.
  x = exchange_at(wall(1767225600), std::chrono::hours(24 * 365 * 70));
  r = x.judge(x.reply());
  REQUIRE(r.accepted());
  CHECK(r.offset < 0s);
}

TEST_CASE("a reply shorter than 48 bytes is rejected; a longer one is read") {
  auto x = exchange_at(wall(1767225600), 0ms);
  auto reply = x.reply();
  reply.size = 47;
  auto r = x.judge(reply);
  CHECK(r.rejection == Rejection::Short);
  CHECK(r.detail == "reply of 47 bytes, 48 expected");
  reply.size = 0;
  CHECK(x.judge(reply).rejection == Rejection::Short);
  reply.size = 48 + 20;  // a MAC: key id and digest
  CHECK(x.judge(reply).accepted());
}

TEST_CASE("only mode 4 (server) counts") {
  auto x = exchange_at(wall(1767225600), 0ms);
  for (int mode : {0, 1, 2, 3, 5, 6, 7}) {
    CAPTURE(mode);
    auto reply = x.reply();
    reply.mode = mode;
    auto r = x.judge(reply);
    CHECK(r.rejection == Rejection::NotServer);
    CHECK(r.detail == "reply in mode " + std::to_string(mode) + ", 4 (server) expected");
  }
}

TEST_CASE("the originate timestamp must echo our transmit timestamp exactly") {
  auto x = exchange_at(wall(1767225600), 0ms);
  auto reply = x.reply();
  reply.origin.fraction ^= 1;  // one unit off
  auto r = x.judge(reply);
  CHECK(r.rejection == Rejection::OriginMismatch);
  CHECK(r.detail.find("is not our transmit timestamp") != std::string::npos);
  reply.origin = {};  // a server that ignores the request
  CHECK(x.judge(reply).rejection == Rejection::OriginMismatch);
  reply.origin = {x.t1.seconds + 1, x.t1.fraction};
  CHECK(x.judge(reply).rejection == Rejection::OriginMismatch);
}

TEST_CASE("stratum 0 is a kiss-o'-death; its code is reported") {
  auto x = exchange_at(wall(1767225600), 0ms);
  auto reply = x.reply();
  reply.stratum = 0;
  reply.leap = 3;  // as ntpd sends a kiss
  reply.reference_id = 0x52415445;  // "RATE"
  auto r = x.judge(reply);
  CHECK(r.rejection == Rejection::KissOfDeath);
  CHECK(r.kiss_code == "RATE");
  CHECK(r.detail == "kiss-o'-death RATE");
  reply.reference_id = 0x44454e59;  // "DENY"
  CHECK(x.judge(reply).kiss_code == "DENY");
  reply.reference_id = 0x58000000;  // "X", NUL-padded
  CHECK(x.judge(reply).kiss_code == "X");
  reply.reference_id = 0x0a000001;  // not letters
  r = x.judge(reply);
  CHECK(r.rejection == Rejection::KissOfDeath);
  CHECK(r.kiss_code == "0x0a000001");
  reply.reference_id = 0;
  CHECK(x.judge(reply).kiss_code == "0x00000000");
}

TEST_CASE("a kiss that does not echo our timestamp is ignored as any stray reply") {
  auto x = exchange_at(wall(1767225600), 0ms);
  auto reply = x.reply();
  reply.stratum = 0;
  reply.reference_id = 0x44454e59;
  reply.origin = {};
  CHECK(x.judge(reply).rejection == Rejection::OriginMismatch);
}

TEST_CASE("an unsynchronized server is rejected: LI 3 or stratum above 15") {
  auto x = exchange_at(wall(1767225600), 0ms);
  auto reply = x.reply();
  reply.leap = 3;
  auto r = x.judge(reply);
  CHECK(r.rejection == Rejection::Unsynchronized);
  CHECK(r.detail == "server clock not synchronized (leap indicator 3)");
  reply.leap = 0;
  reply.stratum = 16;
  r = x.judge(reply);
  CHECK(r.rejection == Rejection::Unsynchronized);
  CHECK(r.detail == "server clock not synchronized (stratum 16)");
  reply.stratum = 15;
  CHECK(x.judge(reply).accepted());
  // A leap second announced (LI 1 or 2) is a synchronized clock.
  for (int leap : {1, 2}) {
    reply.leap = leap;
    CHECK(x.judge(reply).accepted());
  }
}

TEST_CASE("a zero transmit timestamp is rejected") {
  auto x = exchange_at(wall(1767225600), 0ms);
  auto reply = x.reply();
  reply.transmit = {};
  CHECK(x.judge(reply).rejection == Rejection::NoTransmitTime);
}

TEST_CASE("version 3 replies count as version 4 ones") {
  auto x = exchange_at(wall(1767225600), 5ms);
  auto reply = x.reply();
  reply.version = 3;
  CHECK(x.judge(reply).accepted());
}

TEST_CASE("which rejections end the attempt: the server's own answers, not stray packets") {
  CHECK(sntp::ends_attempt(Rejection::None));
  CHECK(sntp::ends_attempt(Rejection::KissOfDeath));
  CHECK(sntp::ends_attempt(Rejection::Unsynchronized));
  CHECK(sntp::ends_attempt(Rejection::NoTransmitTime));
  CHECK_FALSE(sntp::ends_attempt(Rejection::Short));
  CHECK_FALSE(sntp::ends_attempt(Rejection::NotServer));
  CHECK_FALSE(sntp::ends_attempt(Rejection::OriginMismatch));
}
