#pragma once
// ackIds for joinGroup/sendToGroup. The service requires an ackId to be
// "unique within a connectionId session" and answers a repeat with
// Duplicate; we make every id unique within the process, so only a
// deliberate resend of the same request (after a recovery or an ack timeout)
// ever reuses one.
#include <cstdint>

namespace dbr::pubsub {

// Thread-safe; starts at 1 and never repeats within the process.
std::uint64_t allocate_ack_id();

}  // namespace dbr::pubsub
