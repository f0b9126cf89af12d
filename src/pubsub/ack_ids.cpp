#include "pubsub/ack_ids.hpp"

#include <atomic>

namespace dbr::pubsub {

std::uint64_t allocate_ack_id() {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace dbr::pubsub
