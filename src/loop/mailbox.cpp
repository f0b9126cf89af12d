#include "loop/mailbox.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace dbr::loop {

Wakeup::Wakeup(EventLoop& loop, std::function<void()> on_wake) {
  fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd_ < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
  watch_ = std::make_unique<IoWatch>(loop, fd_, IoWatch::kRead, [cb = std::move(on_wake)](std::uint32_t) { cb(); });
}

Wakeup::~Wakeup() {
  watch_.reset();
  ::close(fd_);
}

void Wakeup::signal() {
  std::uint64_t one = 1;
  // EAGAIN means the counter is saturated: the loop is already due to wake.
  while (::write(fd_, &one, sizeof one) < 0 && errno == EINTR) {
  }
}

void Wakeup::drain() {
  std::uint64_t count = 0;
  while (::read(fd_, &count, sizeof count) < 0 && errno == EINTR) {
  }
}

}  // namespace dbr::loop
