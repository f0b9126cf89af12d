#pragma once
// A call the loop makes once it finishes what it is doing (an sd-event
// defer source): for work a handler wants done after it returns, without a
// syscall (a Timer at "now" reprograms the timerfd, a Wakeup writes an
// eventfd). Loop thread only. arm() while armed changes nothing.
#include <functional>

struct sd_event_source;

namespace dbr::loop {

class EventLoop;

class Deferred {
 public:
  Deferred(EventLoop& loop, std::function<void()> on_run);
  ~Deferred();
  Deferred(const Deferred&) = delete;
  Deferred& operator=(const Deferred&) = delete;

  void arm();
  void cancel();
  bool armed() const;

 private:
  static int on_defer(sd_event_source*, void*);
  std::function<void()> on_run_;
  sd_event_source* source_ = nullptr;
};

}  // namespace dbr::loop
