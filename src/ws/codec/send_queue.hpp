#pragma once
// Encoded frames waiting for the socket, in order, with a byte bound.
//
// Data frames queue at the back. Control frames (pong, close) go ahead of
// every data frame not yet started, but never split a frame already partly
// written: "control frames ... MAY be injected in the middle of a fragmented
// message" (RFC 6455 §5.4), and we never fragment, so a frame boundary is
// the first place one can go.
//
// The bound: data frames may hold at most `max_data_bytes`; push_data()
// refuses a frame that would go over it (the caller fails the connection:
// the peer is not reading). Control frames are bounded by count instead, at
// most one waiting pong (a newer ping replaces the waiting answer, which
// §5.5.3 allows: "an endpoint MAY elect to send a Pong frame for only the
// most recently processed Ping frame") and one close, so the queue never
// holds more than max_data_bytes + 2 * 131 bytes.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <string>

namespace dbr::ws {

class SendQueue {
 public:
  explicit SendQueue(std::size_t max_data_bytes) : max_data_bytes_(max_data_bytes) {}

  // False (and nothing queued) when the frame would take the data bytes
  // over the bound.
  bool push_data(std::string frame);
  // Raw bytes that are not a WebSocket frame (the upgrade request); bounded
  // like data.
  bool push_raw(std::string bytes) { return push_data(std::move(bytes)); }
  // A pong, replacing a pong that is still waiting untouched.
  void push_pong(std::string frame);
  // A close frame. `urgent` drops every data frame not yet started (after a
  // protocol violation or a peer's close nothing else is worth sending);
  // otherwise the close waits behind the queued data.
  void push_close(std::string frame, bool urgent);

  // The next bytes to write (empty when idle). Valid until the next call
  // that changes the queue.
  std::span<const std::uint8_t> front() const;
  // `n` bytes of front() were written.
  void consume(std::size_t n);
  // A write of front() was attempted and must be retried with the same
  // bytes (OpenSSL requires it after SSL_ERROR_WANT_WRITE), so the front
  // frame may no longer be displaced by a control frame.
  void pin_front() { pinned_ = !frames_.empty(); }

  bool empty() const { return frames_.empty(); }
  std::size_t queued_bytes() const { return queued_bytes_; }
  std::size_t data_bytes() const { return data_bytes_; }
  std::size_t max_data_bytes() const { return max_data_bytes_; }

 private:
  enum class Kind { Data, Pong, Close };
  struct Frame {
    Kind kind;
    std::string bytes;
  };
  // Index of the first frame that has not started and may be displaced.
  std::size_t first_unstarted() const { return written_ > 0 || pinned_ ? 1 : 0; }
  void insert_control(Frame frame);

  const std::size_t max_data_bytes_;
  std::deque<Frame> frames_;
  std::size_t written_ = 0;  // bytes of frames_.front() already written
  bool pinned_ = false;      // frames_.front() is being written
  std::size_t queued_bytes_ = 0;
  std::size_t data_bytes_ = 0;
};

}  // namespace dbr::ws
