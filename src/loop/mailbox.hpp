#pragma once
// Cross-thread value messages into the loop: a bounded queue plus an eventfd.
//
// Any thread may post(); the handler runs on the loop thread, once per
// message, in posting order. The bound: when `capacity` messages are waiting,
// posting drops the OLDEST waiting message and counts it in dropped(). Every
// current producer sends state (connectivity reports, bus traffic that the
// outbox would also age out first), where the newest value matters most.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>

#include "loop/io_watch.hpp"

namespace dbr::loop {

class EventLoop;

// The eventfd half, shared by every Mailbox<T>.
class Wakeup {
 public:
  Wakeup(EventLoop& loop, std::function<void()> on_wake);
  ~Wakeup();
  Wakeup(const Wakeup&) = delete;
  Wakeup& operator=(const Wakeup&) = delete;
  void signal();  // any thread
  void drain();   // loop thread, before taking the queue
  int fd() const { return fd_; }  // the eventfd (a writer may keep a dup)

 private:
  int fd_;
  std::unique_ptr<IoWatch> watch_;
};

template <typename T>
class Mailbox {
 public:
  Mailbox(EventLoop& loop, std::size_t capacity, std::function<void(T&&)> handler)
      : capacity_(capacity == 0 ? 1 : capacity),
        handler_(std::move(handler)),
        wakeup_(loop, [this] { deliver(); }) {}

  // Thread-safe. Returns false when the bound made it drop an older message.
  bool post(T value) {
    bool was_empty = false;
    bool dropped_one = false;
    {
      std::lock_guard lock(mutex_);
      if (queue_.size() >= capacity_) {
        queue_.pop_front();
        ++dropped_;
        dropped_one = true;
      }
      was_empty = queue_.empty();
      queue_.push_back(std::move(value));
    }
    // Only the empty -> non-empty edge needs a wakeup; the loop drains all.
    if (was_empty) wakeup_.signal();
    return !dropped_one;
  }

  std::uint64_t dropped() const {
    std::lock_guard lock(mutex_);
    return dropped_;
  }
  std::size_t capacity() const { return capacity_; }

 private:
  void deliver() {
    // Drain the eventfd before taking the queue: a post that lands between
    // the two then leaves the eventfd set, so it is never stranded.
    wakeup_.drain();
    std::deque<T> batch;
    {
      std::lock_guard lock(mutex_);
      batch.swap(queue_);
    }
    for (auto& message : batch) handler_(std::move(message));
  }

  const std::size_t capacity_;
  std::function<void(T&&)> handler_;
  mutable std::mutex mutex_;
  std::deque<T> queue_;
  std::uint64_t dropped_ = 0;
  Wakeup wakeup_;
};

}  // namespace dbr::loop
