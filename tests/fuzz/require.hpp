#pragma once
// How a fuzz target states a property beyond the sanitizers: a false one
// aborts, which libFuzzer reports as a crash, keeping the input.
#include <cstdlib>

namespace dbr::fuzz {

inline void require(bool condition) {
  if (!condition) std::abort();
}

}  // namespace dbr::fuzz
