// libFuzzer target for the NTP check's reply reader: a UDP datagram from
// an NTP server into sntp::parse_reply (RFC 4330, RFC 5905).
//
// Input: byte 0 holds flags (bit 0: the reply echoes our Transmit
// Timestamp, as a real answer does; else T1 comes from the input), then
// T4 (8 bytes, when the reply arrived), T1 (8 bytes, when bit 0 is clear),
// then the datagram. Checked besides the sanitizers:
//   - the verdict follows RFC 4330 §5's rules in their order: short, mode,
//     origin, stratum 0 (with a kiss code of printable ASCII), leap 3 or
//     stratum above 15, zero transmit time; anything else is accepted;
//   - an accepted reply's offset and delay are those of RFC 5905 §8 for the
//     four timestamps, computed here in 128-bit arithmetic, to the
//     nanosecond;
//   - a rejection has a detail, an acceptance none; ends_attempt and
//     rejection_name answer for every verdict.
#include <cstddef>
#include <cstdint>
#include <span>

#include "monitor/sntp.hpp"
#include "fuzz/require.hpp"

namespace {

using dbr::fuzz::require;

namespace sntp = dbr::monitor::sntp;

std::uint64_t read_u64(std::span<const std::uint8_t> b, std::size_t at) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | b[at + i];
  return v;
}

sntp::Timestamp timestamp(std::uint64_t raw) {
  return {static_cast<std::uint32_t>(raw >> 32), static_cast<std::uint32_t>(raw)};
}

// b - a in nanoseconds, as RFC 5905 §6 says: the 64-bit difference read as
// signed 32.32 fixed point. Floor of the fraction, as the code under test.
__int128 difference_ns(std::uint64_t a, std::uint64_t b) {
  const auto d = static_cast<__int128>(static_cast<std::int64_t>(b - a));
  return (d * 1'000'000'000) >> 32;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 9) return 0;
  std::span<const std::uint8_t> input(data, size);
  const bool echo = (input[0] & 1) != 0;
  const std::uint64_t t4 = read_u64(input, 1);
  std::size_t at = 9;
  std::uint64_t t1 = 0;
  if (!echo) {
    if (size < 17) return 0;
    t1 = read_u64(input, 9);
    at = 17;
  }
  const auto packet = input.subspan(at);
  if (echo && packet.size() >= 32) t1 = read_u64(packet, 24);

  const sntp::Reply reply = sntp::parse_reply(packet, timestamp(t1), timestamp(t4));
  require(!sntp::rejection_name(reply.rejection).empty());
  (void)sntp::ends_attempt(reply.rejection);
  require(reply.accepted() == reply.detail.empty());

  using R = sntp::Rejection;
  if (packet.size() < sntp::kPacketBytes) {
    require(reply.rejection == R::Short);
    return 0;
  }
  const int leap = packet[0] >> 6, mode = packet[0] & 7, stratum = packet[1];
  if (mode != 4) {
    require(reply.rejection == R::NotServer);
    return 0;
  }
  if (read_u64(packet, 24) != t1) {
    require(reply.rejection == R::OriginMismatch);
    return 0;
  }
  if (stratum == 0) {
    require(reply.rejection == R::KissOfDeath && !reply.kiss_code.empty());
    for (char c : reply.kiss_code) require(c >= 0x20 && c <= 0x7e);
    return 0;
  }
  if (leap == 3 || stratum > 15) {
    require(reply.rejection == R::Unsynchronized);
    return 0;
  }
  const std::uint64_t t2 = read_u64(packet, 32), t3 = read_u64(packet, 40);
  if (t3 == 0) {
    require(reply.rejection == R::NoTransmitTime);
    return 0;
  }
  require(reply.accepted() && reply.stratum == stratum && reply.leap == leap);
  // offset = ((T2 - T1) + (T3 - T4)) / 2, delay = (T4 - T1) - (T3 - T2),
  // each difference floored to a nanosecond on its own.
  const __int128 offset = (difference_ns(t1, t2) + difference_ns(t4, t3)) / 2;
  const __int128 delay = difference_ns(t1, t4) - difference_ns(t2, t3);
  require(reply.offset.count() == offset && reply.delay.count() == delay);
  return 0;
}
