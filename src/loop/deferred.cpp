#include "loop/deferred.hpp"

#include <systemd/sd-event.h>

#include <cstring>
#include <stdexcept>
#include <string>

#include "loop/event_loop.hpp"

namespace dbr::loop {

Deferred::Deferred(EventLoop& loop, std::function<void()> on_run) : on_run_(std::move(on_run)) {
  int r = sd_event_add_defer(loop.raw(), &source_, &Deferred::on_defer, this);
  if (r < 0) throw std::runtime_error(std::string("sd_event_add_defer: ") + std::strerror(-r));
  (void)sd_event_source_set_enabled(source_, SD_EVENT_OFF);
}

Deferred::~Deferred() { sd_event_source_disable_unref(source_); }

void Deferred::arm() { (void)sd_event_source_set_enabled(source_, SD_EVENT_ONESHOT); }

void Deferred::cancel() { (void)sd_event_source_set_enabled(source_, SD_EVENT_OFF); }

bool Deferred::armed() const {
  int enabled = SD_EVENT_OFF;
  (void)sd_event_source_get_enabled(source_, &enabled);
  return enabled != SD_EVENT_OFF;
}

int Deferred::on_defer(sd_event_source*, void* userdata) {
  auto* self = static_cast<Deferred*>(userdata);
  // ONESHOT already disabled the source, so the callback may re-arm it.
  self->on_run_();
  return 0;
}

}  // namespace dbr::loop
