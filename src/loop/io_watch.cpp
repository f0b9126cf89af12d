#include "loop/io_watch.hpp"

#include <sys/epoll.h>
#include <systemd/sd-event.h>

#include <cstring>
#include <stdexcept>
#include <string>

#include "loop/event_loop.hpp"

namespace dbr::loop {

namespace {
std::uint32_t to_epoll(std::uint32_t events) {
  std::uint32_t e = 0;
  if (events & IoWatch::kRead) e |= EPOLLIN;
  if (events & IoWatch::kWrite) e |= EPOLLOUT;
  return e;
}
}  // namespace

IoWatch::IoWatch(EventLoop& loop, int fd, std::uint32_t events, Handler handler)
    : fd_(fd), events_(events), handler_(std::move(handler)) {
  int r = sd_event_add_io(loop.raw(), &source_, fd, to_epoll(events), &IoWatch::on_io, this);
  if (r < 0) throw std::runtime_error(std::string("sd_event_add_io: ") + std::strerror(-r));
  if (events == 0) (void)sd_event_source_set_enabled(source_, SD_EVENT_OFF);
}

IoWatch::~IoWatch() { sd_event_source_disable_unref(source_); }

void IoWatch::set_events(std::uint32_t events) {
  if (events == events_) return;
  events_ = events;
  if (events == 0) {
    (void)sd_event_source_set_enabled(source_, SD_EVENT_OFF);
    return;
  }
  (void)sd_event_source_set_io_events(source_, to_epoll(events));
  (void)sd_event_source_set_enabled(source_, SD_EVENT_ON);
}

int IoWatch::on_io(sd_event_source*, int, std::uint32_t revents, void* userdata) {
  auto* self = static_cast<IoWatch*>(userdata);
  std::uint32_t ready = 0;
  if (revents & (EPOLLIN | EPOLLPRI)) ready |= kRead;
  if (revents & EPOLLOUT) ready |= kWrite;
  if (revents & (EPOLLERR | EPOLLHUP)) ready |= kRead | kWrite;
  self->handler_(ready);
  return 0;
}

}  // namespace dbr::loop
