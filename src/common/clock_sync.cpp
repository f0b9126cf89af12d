#include "common/clock_sync.hpp"

#include <sys/timex.h>

namespace dbr {

bool clock_synchronized(int adjtimex_result, int status) {
  return adjtimex_result >= 0 && adjtimex_result != TIME_ERROR && (status & STA_UNSYNC) == 0;
}

std::optional<bool> read_clock_synchronized() {
  timex tx{};
  tx.modes = 0;  // read only
  int result = adjtimex(&tx);
  if (result < 0) return std::nullopt;
  return clock_synchronized(result, tx.status);
}

}  // namespace dbr
