#pragma once
// SNTP client packets (RFC 4330, RFC 5905), sans-IO: builds the 48-byte
// request and judges a reply. Times come in as values; no clock, no socket.
//
// Stricter than upstream (which counts any reply as "available"): a reply
// counts only if it is a server's answer to *our* request, from a server
// that says its clock is synchronized (parse_reply lists the rules).
#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace dbr::monitor::sntp {

inline constexpr std::size_t kPacketBytes = 48;
inline constexpr std::uint16_t kPort = 123;
using Packet = std::array<std::uint8_t, kPacketBytes>;

// RFC 5905 §6: 32 bits of seconds since 1900-01-01 (the era's start) and 32
// bits of fraction. Era 1 starts 2036-02-07T06:28:16Z, where the seconds
// wrap to 0.
struct Timestamp {
  std::uint32_t seconds = 0;
  std::uint32_t fraction = 0;  // units of 2^-32 s
  std::uint64_t raw() const { return (std::uint64_t{seconds} << 32) | fraction; }
  bool operator==(const Timestamp&) const = default;
};

// Seconds from 1900-01-01 to 1970-01-01 (RFC 868's 2208988800).
inline constexpr std::int64_t kUnixEpochInNtpSeconds = 2208988800;

// A wall-clock time as an NTP timestamp (the era is dropped, as on the
// wire; the fraction is truncated to 2^-32 s).
Timestamp to_ntp(std::chrono::system_clock::time_point t);

// b - a for timestamps within 68 years of each other, in nanoseconds.
// "The 64-bit timestamps ... differences are computed in 64-bit two's
// complement arithmetic" (RFC 4330 §3 / RFC 5905 §6), so an era wrap
// between a and b does not matter.
std::chrono::nanoseconds difference(Timestamp a, Timestamp b);

// LI 0 (no warning), VN `version` (3 or 4), mode 3 (client); every other
// field zero but the Transmit Timestamp, which the server echoes back as
// the Originate Timestamp of its reply (RFC 4330 §5).
Packet build_request(Timestamp transmit, int version = 4);

enum class Rejection {
  None,
  Short,           // fewer than 48 bytes
  NotServer,       // mode is not 4 (server)
  OriginMismatch,  // Originate Timestamp is not our Transmit Timestamp
  KissOfDeath,     // stratum 0: a kiss code in the Reference ID (RATE, DENY, ...)
  Unsynchronized,  // LI 3 (alarm) or stratum above 15
  NoTransmitTime,  // Transmit Timestamp zero
};
std::string_view rejection_name(Rejection r);

// Whether a rejected reply ends the attempt with that server. A reply that
// echoes our timestamp is the server's own answer (a kiss-o'-death, an
// unsynchronized clock); anything else may be stale, stray or forged, so it
// is dropped and the wait for the real answer goes on.
bool ends_attempt(Rejection r);

struct Reply {
  Rejection rejection = Rejection::None;
  std::string detail;  // why, for logs and status; empty when accepted
  // Valid when accepted:
  std::chrono::nanoseconds offset{0};  // server clock minus ours: ((T2-T1)+(T3-T4))/2
  std::chrono::nanoseconds delay{0};   // round trip: (T4-T1)-(T3-T2)
  int stratum = 0;
  int leap = 0;
  std::string kiss_code;  // the Reference ID's four letters when stratum is 0
  bool accepted() const { return rejection == Rejection::None; }
};

// Judges `bytes` received for the request sent with Transmit Timestamp
// `t1`; `t4` is when it arrived (the caller's clock, as t1). Rules, in
// order (RFC 4330 §5, RFC 5905 §8 and §7.4):
//   at least 48 bytes (more: extension fields or a MAC, ignored);
//   mode 4;
//   Originate Timestamp == t1, bit for bit (RFC 5905: "bogus" otherwise);
//   stratum not 0 ("kiss-o'-death ... the client MUST discard");
//   LI not 3 and stratum at most 15 ("LI = 3 ... the server clock is not
//   synchronized"; stratum 16 means unsynchronized);
//   Transmit Timestamp not zero.
Reply parse_reply(std::span<const std::uint8_t> bytes, Timestamp t1, Timestamp t4);

}  // namespace dbr::monitor::sntp
