#include "common/random.hpp"

#include <pthread.h>
#include <sys/random.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <mutex>
#include <cstring>
#include <stdexcept>
#include <string>

namespace dbr {

std::uint64_t Random::next_u64() {
  std::uint8_t bytes[8];
  fill(bytes);
  std::uint64_t value = 0;
  for (std::uint8_t b : bytes) value = (value << 8) | b;
  return value;
}

double Random::uniform01() {
  // 53 random bits give every double in [0, 1) with a step of 2^-53.
  return static_cast<double>(next_u64() >> 11) * 0x1.0p-53;
}

namespace {

// Forks this process has been through (in the child: one more than its
// parent had). Written only by the atfork handler, in a child that has
// one thread.
std::atomic<unsigned> forks{0};

unsigned forks_so_far() {
  static std::once_flag registered;
  std::call_once(registered, [] { (void)pthread_atfork(nullptr, nullptr, [] { forks.fetch_add(1); }); });
  return forks.load();
}

}  // namespace

SystemRandom::~SystemRandom() { explicit_bzero(pool_, sizeof pool_); }

void SystemRandom::refill() {
  std::size_t done = 0;
  while (done < sizeof pool_) {
    ssize_t n = getrandom(pool_ + done, sizeof pool_ - done, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("getrandom failed: ") + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  left_ = sizeof pool_;
}

void SystemRandom::fill(std::span<std::uint8_t> out) {
  if (unsigned f = forks_so_far(); f != forks_seen_) {
    explicit_bzero(pool_, sizeof pool_);  // the parent's: never ours to hand out
    left_ = 0;
    forks_seen_ = f;
  }
  std::size_t done = 0;
  while (done < out.size()) {
    if (left_ == 0) refill();
    std::size_t n = std::min(left_, out.size() - done);
    std::uint8_t* from = pool_ + (sizeof pool_ - left_);
    std::memcpy(out.data() + done, from, n);
    explicit_bzero(from, n);
    left_ -= n;
    done += n;
  }
}

void SeededRandom::fill(std::span<std::uint8_t> out) {
  std::size_t i = 0;
  while (i < out.size()) {
    state_ += 0x9e3779b97f4a7c15ULL;
    std::uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    for (int b = 0; b < 8 && i < out.size(); ++b, ++i) {
      out[i] = static_cast<std::uint8_t>(z >> (8 * b));
    }
  }
}

}  // namespace dbr
