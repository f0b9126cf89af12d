#pragma once
// The device's wall clock against the Web PubSub service's. A Raspberry Pi
// has no real-time clock: after a power cut its clock is hours or days
// behind (fake-hwclock restores the last shutdown time) until NTP steps it.
// A token signed from a connection string carries iat/exp from that clock,
// and the service checks them against its own ("exp" with some skew,
// webpubsub-protocol.md §2), so a wrong clock reads as refused credentials.
// Sans-IO: the adapter reads the clocks (the wall clock, adjtimex, the
// upgrade response's Date header) and passes the readings in; this says
// what they mean and by how much to correct a token.
#include <chrono>
#include <optional>
#include <string>

#include "pubsub/core/events.hpp"

namespace dbr::pubsub {

// Past this difference from the service's Date the device clock is called
// wrong and tokens are signed with the service's time. The service allows
// 5 min of skew (§2); correcting from 1 min keeps every token well inside
// that, while Date's 1 s resolution and a response's travel time (far below
// 1 min) never make a right clock look wrong.
inline constexpr std::chrono::seconds kClockTolerance{60};

// "3 h 00 min", "42 s" (the size of a difference; the caller says which way)
std::string skew_text(std::chrono::seconds d);

// When a refusal may be the clock's doing (the service's Date differs by
// more than kClockTolerance, or, with no Date to compare, the kernel says
// the clock is not synchronized), the words that say so, for a person to act
// on; nullopt when the clock looks right.
std::optional<std::string> clock_suspicion(const ClockReading& reading);

// The offset to sign tokens with: the service's clock minus ours, from the
// last upgrade response that had a Date header, or zero while the two agree
// within kClockTolerance. One log line when it starts correcting and one
// when it stops.
class TokenClock {
 public:
  // `service`: a Date header; `local`: the wall clock when it arrived;
  // `synchronized`: the kernel's view, for the log line.
  std::optional<LogLine> observe(std::chrono::sys_seconds service, std::chrono::sys_seconds local,
                                 std::optional<bool> synchronized);
  // Add to the wall clock when signing.
  std::chrono::seconds offset() const { return offset_; }

 private:
  std::chrono::seconds offset_{0};
};

}  // namespace dbr::pubsub
