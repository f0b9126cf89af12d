#include "common/small_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace dbr {

std::optional<std::string> read_small_file(const std::string& path, std::size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buffer[4096];
  int failure = 0;
  while (out.size() < max_bytes) {
    std::size_t want = std::min(sizeof buffer, max_bytes - out.size());
    ssize_t n = ::read(fd, buffer, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      failure = errno;
      break;
    }
    if (n == 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (failure != 0) {
    errno = failure;
    return std::nullopt;
  }
  return out;
}

bool write_small_file(const std::string& path, std::string_view text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return false;
  ssize_t n;
  do n = ::write(fd, text.data(), text.size());
  while (n < 0 && errno == EINTR);
  int failure = n < 0 ? errno : 0;
  ::close(fd);
  errno = failure;
  return n >= 0 && static_cast<std::size_t>(n) == text.size();
}

}  // namespace dbr
