#pragma once
// Injected randomness: cores take a Random& so tests can pin it.
#include <cstdint>
#include <span>

namespace dbr {

class Random {
 public:
  virtual ~Random() = default;
  virtual void fill(std::span<std::uint8_t> out) = 0;

  std::uint64_t next_u64();
  // Uniform in [0, 1).
  double uniform01();
};

// Kernel randomness (getrandom); unpredictable, as RFC 6455 §5.3 requires of
// mask keys ("The masking key needs to be unpredictable").
class SystemRandom final : public Random {
 public:
  void fill(std::span<std::uint8_t> out) override;
};

// Deterministic generator (splitmix64) for tests and simulations.
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(std::uint64_t seed) : state_(seed) {}
  void fill(std::span<std::uint8_t> out) override;

 private:
  std::uint64_t state_;
};

}  // namespace dbr
