#pragma once
// Whether the kernel considers the local clock synchronized: the view of
// whatever keeps the time here (systemd-timesyncd, chrony, ntpd), read with
// adjtimex(2). Not upstream's: upstream only asks whether an NTP server
// answers; a device can reach one and still run on a clock nobody sets.
#include <optional>

namespace dbr {

// The rule, on adjtimex()'s return value and its `status` bits: TIME_ERROR
// ("the system clock is not synchronized to a reliable server", adjtimex(2))
// or STA_UNSYNC set means not synchronized; -1 (the call failed) too.
bool clock_synchronized(int adjtimex_result, int status);

// Reads the kernel's state (modes = 0 only reads, and needs no privilege).
// Empty when the call fails.
std::optional<bool> read_clock_synchronized();

}  // namespace dbr
