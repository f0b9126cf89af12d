#pragma once
// The NATS connection's socket, read and written on the loop thread through
// libnats's external event-loop contract (natsOptions_SetEventLoop), so
// libnats starts no read-loop thread; with SendAsap, no flusher thread
// either (docs/app.md, "NATS bridge").
//
// The contract (nats.h, natsEvLoop_*): libnats calls attach(socket) after
// each (re)connect, read(add)/write(add) when it wants the loop to poll for
// readability/writability, and detach when the connection is closed. It
// calls them on whatever thread does the work (the connector, its
// reconnect thread, its timer thread for PINGs, the loop for our
// publishes), always under the connection's lock. The loop answers
// readable with natsConnection_ProcessReadEvent and writable with
// natsConnection_ProcessWriteEvent.
//
// Here the callbacks only record the request (SocketRequests, under the
// owner's mutex) and ask the loop to apply it: from another thread through
// an eventfd, signalled after the mutex is released; from the loop thread
// through a deferred call (they run inside a libnats call, which must
// return before the loop touches the socket). A write asked for from
// another thread waits for the socket's writability in the loop's next
// poll rather than being written at once: libnats still holds the
// connection's lock for a moment after the callback, and the loop would
// only wake to wait for it.
// Attach records a dup of the socket: libnats closes its descriptor on a
// disconnect before the loop hears of it, and a descriptor number the loop
// still watched could meanwhile be reused by another socket.
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "loop/deferred.hpp"
#include "loop/io_watch.hpp"
#include "loop/mailbox.hpp"

struct __natsConnection;

namespace dbr::loop {
class EventLoop;
}

namespace dbr::bus {

// What libnats asked for last.
struct SocketRequests {
  __natsConnection* connection = nullptr;
  int attached_fd = -1;  // our dup of a newly attached socket, not yet taken by the loop
  bool read = false;
  bool write = false;
};

class NatsSocket {
 public:
  // `mutex` guards `requests`; both belong to the context that libnats's
  // callbacks reach, which outlives this object. `after_read` runs on the
  // loop after each read event (the bridge takes the messages it parsed).
  NatsSocket(loop::EventLoop& loop, std::mutex& mutex, SocketRequests& requests, std::function<void()> after_read);
  ~NatsSocket();
  NatsSocket(const NatsSocket&) = delete;
  NatsSocket& operator=(const NatsSocket&) = delete;

  bool on_loop_thread() const { return std::this_thread::get_id() == loop_thread_; }
  // The callbacks changed `requests` (loop thread, `mutex` held).
  void requested_on_loop();
  // The eventfd that another thread writes (after releasing `mutex`) when
  // it changed `requests`.
  int wakeup_fd() const { return from_other_threads_.fd(); }

  // Loop thread, outside any libnats call: writes what libnats has
  // buffered now. Before closing the connection from the loop: libnats's
  // close flushes with a PING and waits for the PONG (up to 500 ms), which
  // only this loop could read.
  void write_now();

 private:
  void apply(bool write_at_once);
  void on_ready(std::uint32_t ready);
  void stop_watching();

  loop::EventLoop& loop_;
  std::mutex& mutex_;
  SocketRequests& requests_;
  std::function<void()> after_read_;
  const std::thread::id loop_thread_;
  loop::Wakeup from_other_threads_;
  loop::Deferred from_loop_thread_;
  __natsConnection* connection_ = nullptr;
  int fd_ = -1;  // our dup of the socket being watched
  std::unique_ptr<loop::IoWatch> watch_;
};

}  // namespace dbr::bus
