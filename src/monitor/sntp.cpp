#include "monitor/sntp.hpp"

#include <fmt/format.h>

namespace dbr::monitor::sntp {

namespace {

constexpr std::int64_t kNanosPerSecond = 1'000'000'000;
constexpr int kModeClient = 3;
constexpr int kModeServer = 4;
constexpr int kLeapAlarm = 3;  // "clock unsynchronized" (RFC 5905 Figure 9)
constexpr int kMaxSyncedStratum = 15;  // 16: unsynchronized; 17-255 reserved

// Field offsets in the 48-byte header (RFC 5905 Figure 8).
constexpr std::size_t kReferenceId = 12;
constexpr std::size_t kOriginTimestamp = 24;
constexpr std::size_t kReceiveTimestamp = 32;
constexpr std::size_t kTransmitTimestamp = 40;

std::uint32_t read_u32(std::span<const std::uint8_t> b, std::size_t at) {
  return (std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) | (std::uint32_t{b[at + 2]} << 8) |
         std::uint32_t{b[at + 3]};
}

Timestamp read_timestamp(std::span<const std::uint8_t> b, std::size_t at) {
  return {read_u32(b, at), read_u32(b, at + 4)};
}

void write_u32(Packet& p, std::size_t at, std::uint32_t v) {
  p[at] = static_cast<std::uint8_t>(v >> 24);
  p[at + 1] = static_cast<std::uint8_t>(v >> 16);
  p[at + 2] = static_cast<std::uint8_t>(v >> 8);
  p[at + 3] = static_cast<std::uint8_t>(v);
}

// "RATE", "DENY": four ASCII letters (RFC 5905 §7.4); anything else in hex.
std::string kiss_code_of(std::uint32_t reference_id) {
  std::string code;
  for (int shift = 24; shift >= 0; shift -= 8) {
    auto c = static_cast<char>((reference_id >> shift) & 0xff);
    if (c == '\0') break;
    if (c < 0x20 || c > 0x7e) return fmt::format("0x{:08x}", reference_id);
    code += c;
  }
  while (!code.empty() && code.back() == ' ') code.pop_back();
  return code.empty() ? fmt::format("0x{:08x}", reference_id) : code;
}

Reply rejected(Rejection why, std::string detail) {
  Reply r;
  r.rejection = why;
  r.detail = std::move(detail);
  return r;
}

}  // namespace

Timestamp to_ntp(std::chrono::system_clock::time_point t) {
  const std::int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  std::int64_t unix_seconds = ns / kNanosPerSecond;
  std::int64_t rest_ns = ns % kNanosPerSecond;
  if (rest_ns < 0) {  // before 1970: floor, so the fraction stays positive
    rest_ns += kNanosPerSecond;
    --unix_seconds;
  }
  // The era is not on the wire: seconds are taken modulo 2^32.
  auto seconds = static_cast<std::uint32_t>(static_cast<std::uint64_t>(unix_seconds + kUnixEpochInNtpSeconds));
  auto fraction = static_cast<std::uint32_t>((static_cast<std::uint64_t>(rest_ns) << 32) / kNanosPerSecond);
  return {seconds, fraction};
}

std::chrono::nanoseconds difference(Timestamp a, Timestamp b) {
  // Modulo 2^64, then read as a signed 32.32 fixed-point number.
  const auto d = static_cast<std::int64_t>(b.raw() - a.raw());
  const std::int64_t whole_seconds = d >> 32;  // arithmetic shift (C++20): floor
  const std::uint64_t fraction = static_cast<std::uint64_t>(d) & 0xffffffffu;
  const auto fraction_ns = static_cast<std::int64_t>((fraction * kNanosPerSecond) >> 32);
  return std::chrono::nanoseconds(whole_seconds * kNanosPerSecond + fraction_ns);
}

Packet build_request(Timestamp transmit, int version) {
  Packet p{};
  p[0] = static_cast<std::uint8_t>((0 << 6) | ((version & 0x7) << 3) | kModeClient);
  write_u32(p, kTransmitTimestamp, transmit.seconds);
  write_u32(p, kTransmitTimestamp + 4, transmit.fraction);
  return p;
}

std::string_view rejection_name(Rejection r) {
  switch (r) {
    case Rejection::None: return "accepted";
    case Rejection::Short: return "short";
    case Rejection::NotServer: return "not a server reply";
    case Rejection::OriginMismatch: return "origin mismatch";
    case Rejection::KissOfDeath: return "kiss-o'-death";
    case Rejection::Unsynchronized: return "unsynchronized";
    case Rejection::NoTransmitTime: return "no transmit time";
  }
  return "unknown";
}

bool ends_attempt(Rejection r) {
  switch (r) {
    case Rejection::None:
    case Rejection::KissOfDeath:
    case Rejection::Unsynchronized:
    case Rejection::NoTransmitTime: return true;
    case Rejection::Short:
    case Rejection::NotServer:
    case Rejection::OriginMismatch: return false;
  }
  return false;
}

Reply parse_reply(std::span<const std::uint8_t> bytes, Timestamp t1, Timestamp t4) {
  if (bytes.size() < kPacketBytes)
    return rejected(Rejection::Short, fmt::format("reply of {} bytes, {} expected", bytes.size(), kPacketBytes));
  const int leap = bytes[0] >> 6;
  const int mode = bytes[0] & 0x7;
  const int stratum = bytes[1];
  if (mode != kModeServer)
    return rejected(Rejection::NotServer, fmt::format("reply in mode {}, 4 (server) expected", mode));
  const Timestamp origin = read_timestamp(bytes, kOriginTimestamp);
  if (origin != t1)
    return rejected(Rejection::OriginMismatch, fmt::format("origin timestamp {:#018x} is not our transmit "
                                                           "timestamp {:#018x}",
                                                           origin.raw(), t1.raw()));
  if (stratum == 0) {
    Reply r = rejected(Rejection::KissOfDeath, "");
    r.kiss_code = kiss_code_of(read_u32(bytes, kReferenceId));
    r.detail = fmt::format("kiss-o'-death {}", r.kiss_code);
    return r;
  }
  if (leap == kLeapAlarm)
    return rejected(Rejection::Unsynchronized, "server clock not synchronized (leap indicator 3)");
  if (stratum > kMaxSyncedStratum)
    return rejected(Rejection::Unsynchronized, fmt::format("server clock not synchronized (stratum {})", stratum));
  const Timestamp t2 = read_timestamp(bytes, kReceiveTimestamp);
  const Timestamp t3 = read_timestamp(bytes, kTransmitTimestamp);
  if (t3.raw() == 0) return rejected(Rejection::NoTransmitTime, "transmit timestamp is zero");

  Reply r;
  r.stratum = stratum;
  r.leap = leap;
  // Each difference is at most 2^31 s in magnitude, so the sums fit.
  r.offset = (difference(t1, t2) + difference(t4, t3)) / 2;
  r.delay = difference(t1, t4) - difference(t2, t3);
  return r;
}

}  // namespace dbr::monitor::sntp
