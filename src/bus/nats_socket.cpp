#include "bus/nats_socket.hpp"

#include <nats/nats.h>
#include <sched.h>
#include <unistd.h>

#include "loop/event_loop.hpp"

namespace dbr::bus {

NatsSocket::NatsSocket(loop::EventLoop& loop, std::mutex& mutex, SocketRequests& requests,
                       std::function<void()> after_read)
    : loop_(loop),
      mutex_(mutex),
      requests_(requests),
      after_read_(std::move(after_read)),
      loop_thread_(std::this_thread::get_id()),
      from_other_threads_(loop, [this] {
        from_other_threads_.drain();
        // The thread that woke us (libnats's timer, after a PING) still
        // holds the connection's lock until it returns from libnats; the
        // kernel often runs us on its CPU at once, before it could. Let it
        // finish first, or the write below would sleep on that lock.
        (void)::sched_yield();
        apply(false);
      }),
      from_loop_thread_(loop, [this] { apply(true); }) {}

NatsSocket::~NatsSocket() {
  stop_watching();
  std::lock_guard lock(mutex_);
  if (requests_.attached_fd >= 0) ::close(requests_.attached_fd);
  requests_.attached_fd = -1;
}

void NatsSocket::requested_on_loop() { from_loop_thread_.arm(); }

void NatsSocket::stop_watching() {
  watch_.reset();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void NatsSocket::apply(bool write_at_once) {
  SocketRequests wanted;
  {
    std::lock_guard lock(mutex_);
    wanted = requests_;
    requests_.attached_fd = -1;  // taken
  }
  if (wanted.attached_fd >= 0) {
    stop_watching();
    fd_ = wanted.attached_fd;
  }
  connection_ = wanted.connection;
  // libnats stops reading only when it drops the socket (a disconnect or
  // the close): let it go at once rather than wait for the next attach.
  if (!wanted.read || connection_ == nullptr) {
    stop_watching();
    return;
  }
  if (fd_ < 0) return;
  if (!watch_) watch_ = std::make_unique<loop::IoWatch>(loop_, fd_, loop::IoWatch::kRead, [this](std::uint32_t r) {
    on_ready(r);
  });
  if (wanted.write && write_at_once) {
    // Most writes fit the socket buffer: write now instead of polling for
    // writability first. libnats asks again (write, add) if some is left.
    natsConnection_ProcessWriteEvent(connection_);
    std::lock_guard lock(mutex_);
    wanted.write = requests_.write;
  }
  if (watch_) watch_->set_events(loop::IoWatch::kRead | (wanted.write ? loop::IoWatch::kWrite : 0u));
}

void NatsSocket::on_ready(std::uint32_t ready) {
  natsConnection* nc = connection_;
  if (nc == nullptr) return;
  if (ready & loop::IoWatch::kRead) {
    natsConnection_ProcessReadEvent(nc);
    if (after_read_) after_read_();
  }
  if (ready & loop::IoWatch::kWrite) {
    // Only while libnats has something to write: with an empty buffer its
    // send() of 0 bytes would read as a closed connection.
    bool wanted = false;
    {
      std::lock_guard lock(mutex_);
      wanted = requests_.write;
    }
    if (wanted)
      natsConnection_ProcessWriteEvent(nc);
    else if (watch_)
      watch_->set_events(loop::IoWatch::kRead);
  }
}

void NatsSocket::write_now() {
  natsConnection* nc = nullptr;
  {
    std::lock_guard lock(mutex_);
    if (requests_.write && requests_.read) nc = requests_.connection;
  }
  if (nc != nullptr) natsConnection_ProcessWriteEvent(nc);
}

}  // namespace dbr::bus
