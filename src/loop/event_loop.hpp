#pragma once
// The agent's one event-loop thread, on sd-event.
//
// Everything that owns connection state runs here. Other threads never touch
// loop objects: they post values through a Mailbox (mailbox.hpp). Time is
// CLOCK_MONOTONIC, the clock behind dbr::Clock, sampled once per dispatch.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.hpp"

struct sd_event;
struct sd_event_source;
struct signalfd_siginfo;

namespace dbr::loop {

class EventLoop {
 public:
  // Blocks the handled signals in the calling thread (see below): create the
  // loop before starting any other thread.
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Blocks SIGTERM, SIGINT and SIGHUP in the calling thread (threads created
  // afterwards inherit the mask) and delivers them through the loop.
  // Call before starting any thread.
  static void block_handled_signals();

  // Runs until shutdown completes; returns the exit code (0 after a graceful
  // shutdown).
  int run();

  // The loop's cached "now" for this dispatch.
  TimePoint now() const;

  // A part that needs time to close (a WebSocket close handshake, NATS drain)
  // registers a step. On shutdown each step is started and must call done();
  // after `grace` the loop exits anyway, naming the steps that did not finish.
  using Done = std::function<void()>;
  void add_shutdown_step(std::string name, std::function<void(Done)> step);
  void set_shutdown_grace(Duration grace) { shutdown_grace_ = grace; }
  // Starts a graceful shutdown (what SIGTERM and SIGINT do). Idempotent.
  void request_shutdown(std::string_view why);
  bool shutting_down() const { return shutting_down_; }

  // SIGHUP handler (config reload); runs on the loop thread.
  void on_reload(std::function<void()> handler) { reload_handler_ = std::move(handler); }

  // sd_notify wrappers. They are no-ops when NOTIFY_SOCKET is unset.
  void notify_ready();
  void notify_status(std::string_view status);

  sd_event* raw() const { return event_; }

 private:
  struct Step {
    std::string name;
    std::function<void(Done)> start;
    bool done = false;
  };
  void step_finished(std::size_t index);
  void finish_shutdown(int code);
  static int on_signal(sd_event_source*, const signalfd_siginfo*, void*);
  static int on_grace_expired(sd_event_source*, std::uint64_t, void*);

  sd_event* event_ = nullptr;
  std::vector<sd_event_source*> signal_sources_;
  sd_event_source* grace_timer_ = nullptr;
  std::vector<Step> steps_;
  Duration shutdown_grace_ = std::chrono::milliseconds(1500);
  TimePoint shutdown_started_{};
  bool shutting_down_ = false;
  bool exited_ = false;
  std::function<void()> reload_handler_;
};

}  // namespace dbr::loop
