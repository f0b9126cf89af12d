// SystemRandom hands out kernel randomness from a pool: across refills,
// in pieces of any size, never the same bytes twice.
#include <doctest/doctest.h>

#include <cstdint>
#include <set>
#include <vector>

#include "common/random.hpp"

using namespace dbr;

TEST_CASE("SystemRandom: 4-byte keys across several pool refills are all different") {
  SystemRandom random;
  std::set<std::uint32_t> keys;
  for (int i = 0; i < 1000; ++i) {  // 4000 bytes: about 16 refills of the 256-byte pool
    std::uint8_t key[4];
    random.fill(key);
    keys.insert(static_cast<std::uint32_t>(key[0]) | static_cast<std::uint32_t>(key[1]) << 8 |
                static_cast<std::uint32_t>(key[2]) << 16 | static_cast<std::uint32_t>(key[3]) << 24);
  }
  // 1000 uniform 32-bit values collide with probability about 1e-4; a pool
  // handed out twice would repeat 64 keys at once.
  CHECK(keys.size() >= 999);
}

TEST_CASE("SystemRandom: a fill larger than the pool, and an empty one") {
  SystemRandom random;
  std::vector<std::uint8_t> big(1000, 0);
  random.fill(big);
  std::set<std::uint8_t> values(big.begin(), big.end());
  CHECK(values.size() > 200);  // 1000 uniform bytes take nearly all 256 values
  std::vector<std::uint8_t> none;
  random.fill(none);
  CHECK(random.uniform01() < 1.0);
}
