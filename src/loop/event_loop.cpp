#include "loop/event_loop.hpp"

#include <signal.h>
#include <sys/signalfd.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "loop/usec.hpp"
#include "log/log.hpp"

namespace dbr::loop {

namespace {

void check(int r, const char* what) {
  if (r < 0) throw std::runtime_error(std::string(what) + ": " + std::strerror(-r));
}

constexpr int kHandledSignals[] = {SIGTERM, SIGINT, SIGHUP};
// Steps that finish later than this are named at info level.
constexpr std::chrono::milliseconds kSlowShutdownStep{250};

}  // namespace

void EventLoop::block_handled_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : kHandledSignals) sigaddset(&set, s);
  // SIGPIPE: a peer closing a socket must be an error return, not a death.
  // libcurl sets MSG_NOSIGNAL where it can; OpenSSL writes do not always.
  sigaddset(&set, SIGPIPE);
  int r = pthread_sigmask(SIG_BLOCK, &set, nullptr);
  if (r != 0) throw std::runtime_error(std::string("pthread_sigmask: ") + std::strerror(r));
}

EventLoop::EventLoop() {
  // sd-event reads signals through a signalfd, which only sees blocked ones.
  block_handled_signals();
  check(sd_event_new(&event_), "sd_event_new");
  for (int s : kHandledSignals) {
    sd_event_source* source = nullptr;
    check(sd_event_add_signal(event_, &source, s, &EventLoop::on_signal, this), "sd_event_add_signal");
    signal_sources_.push_back(source);
  }
  // Pings the service manager from this thread at half of WATCHDOG_USEC, so a
  // stuck loop stops the pings and systemd restarts the service. No-op when
  // the watchdog is not enabled.
  check(sd_event_set_watchdog(event_, 1), "sd_event_set_watchdog");
}

EventLoop::~EventLoop() {
  if (grace_timer_) sd_event_source_disable_unref(grace_timer_);
  for (auto* s : signal_sources_) sd_event_source_disable_unref(s);
  sd_event_unref(event_);
}

int EventLoop::run() {
  int r = sd_event_loop(event_);
  if (r < 0) {
    log::error("event loop failed: {}", std::strerror(-r));
    return 1;
  }
  return r;
}

TimePoint EventLoop::now() const {
  std::uint64_t usec = 0;
  if (sd_event_now(event_, CLOCK_MONOTONIC, &usec) < 0) return Clock::now();
  return from_usec(usec);
}

void EventLoop::add_shutdown_step(std::string name, std::function<void(Done)> step) {
  steps_.push_back(Step{std::move(name), std::move(step)});
}

void EventLoop::request_shutdown(std::string_view why) {
  if (shutting_down_) return;
  shutting_down_ = true;
  shutdown_started_ = Clock::now();
  log::info("shutting down ({})", why);
  (void)sd_notify(0, "STOPPING=1");
  check(sd_event_add_time_relative(event_, &grace_timer_, CLOCK_MONOTONIC, to_usec(shutdown_grace_), 1000,
                                   &EventLoop::on_grace_expired, this),
        "sd_event_add_time_relative");
  if (steps_.empty()) {
    finish_shutdown(0);
    return;
  }
  // Steps may finish synchronously, so index rather than iterate.
  for (std::size_t i = 0; i < steps_.size(); ++i) {
    steps_[i].start([this, i] { step_finished(i); });
  }
}

void EventLoop::step_finished(std::size_t index) {
  if (index >= steps_.size() || steps_[index].done) return;
  steps_[index].done = true;
  // A stop that keeps systemd (or a user) waiting says which part did it.
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - shutdown_started_);
  if (took >= kSlowShutdownStep)
    log::info("shutdown step '{}' took {} ms", steps_[index].name, took.count());
  else
    log::debug("shutdown step '{}' finished after {} ms", steps_[index].name, took.count());
  for (const auto& s : steps_)
    if (!s.done) return;
  finish_shutdown(0);
}

void EventLoop::finish_shutdown(int code) {
  if (exited_) return;
  exited_ = true;
  (void)sd_event_exit(event_, code);
}

int EventLoop::on_grace_expired(sd_event_source*, std::uint64_t, void* userdata) {
  auto* self = static_cast<EventLoop*>(userdata);
  std::string pending;
  for (const auto& s : self->steps_) {
    if (s.done) continue;
    if (!pending.empty()) pending += ", ";
    pending += s.name;
  }
  log::warn("shutdown grace of {} ms over; exiting without waiting for: {}",
            std::chrono::duration_cast<std::chrono::milliseconds>(self->shutdown_grace_).count(), pending);
  self->finish_shutdown(0);
  return 0;
}

int EventLoop::on_signal(sd_event_source*, const struct signalfd_siginfo* info, void* userdata) {
  auto* self = static_cast<EventLoop*>(userdata);
  int signo = static_cast<int>(info->ssi_signo);
  if (signo == SIGHUP) {
    if (self->reload_handler_) self->reload_handler_();
    return 0;
  }
  self->request_shutdown(signo == SIGTERM ? "SIGTERM" : "SIGINT");
  return 0;
}

void EventLoop::notify_ready() { (void)sd_notify(0, "READY=1"); }

void EventLoop::notify_status(std::string_view status) {
  std::string line = "STATUS=";
  line.append(status);
  (void)sd_notify(0, line.c_str());
}

}  // namespace dbr::loop
