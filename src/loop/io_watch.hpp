#pragma once
// Watches one file descriptor for readability/writability on the loop.
// Does not own the descriptor.
#include <cstdint>
#include <functional>

struct sd_event_source;

namespace dbr::loop {

class EventLoop;

class IoWatch {
 public:
  enum Events : std::uint32_t { kRead = 1u << 0, kWrite = 1u << 1 };
  // Called with the ready events (kRead/kWrite; errors and hang-ups are
  // reported as both, so the owner's read or write sees the error).
  using Handler = std::function<void(std::uint32_t ready)>;

  IoWatch(EventLoop& loop, int fd, std::uint32_t events, Handler handler);
  ~IoWatch();
  IoWatch(const IoWatch&) = delete;
  IoWatch& operator=(const IoWatch&) = delete;

  void set_events(std::uint32_t events);
  std::uint32_t events() const { return events_; }
  int fd() const { return fd_; }

 private:
  static int on_io(sd_event_source*, int, std::uint32_t, void*);
  int fd_;
  std::uint32_t events_;
  Handler handler_;
  sd_event_source* source_ = nullptr;
};

}  // namespace dbr::loop
