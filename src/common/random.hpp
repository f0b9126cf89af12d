#pragma once
// Injected randomness: cores take a Random& so tests can pin it.
#include <cstddef>
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
// mask keys ("The masking key needs to be unpredictable"). Taken from the
// kernel 256 bytes at a time, so a 4-byte mask key costs no system call;
// each byte is handed out once and wiped from the pool as it goes, and a
// forked child discards what it inherited (a pthread_atfork handler counts
// forks), so parent and child never draw the same bytes. One instance per
// thread (the loop's is the agent's).
class SystemRandom final : public Random {
 public:
  SystemRandom() = default;
  ~SystemRandom() override;
  SystemRandom(const SystemRandom&) = delete;
  SystemRandom& operator=(const SystemRandom&) = delete;
  void fill(std::span<std::uint8_t> out) override;

 private:
  void refill();
  std::uint8_t pool_[256] = {};
  std::size_t left_ = 0;  // unread bytes at the end of pool_
  unsigned forks_seen_ = 0;
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
