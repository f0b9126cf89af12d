#include "status/status_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "status/render.hpp"

namespace dbr::status {

bool write_atomically(const std::string& path, const std::string& content, std::string& error) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = "cannot create " + tmp + ": " + std::strerror(errno);
    return false;
  }
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = "cannot write " + tmp + ": " + std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  // /run is tmpfs: no fsync needed for durability, only rename for atomicity.
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    error = "cannot rename " + tmp + " to " + path + ": " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

int print_status(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    int err = errno;
    if (err == ENOENT) {
      std::printf("dunebugger-remote is not running (no %s)\n", path.c_str());
      return 3;
    }
    std::fprintf(stderr, "dunebugger-remote status: cannot read %s: %s\n", path.c_str(), std::strerror(err));
    return 1;
  }
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    std::fprintf(stderr, "dunebugger-remote status: %s is not a status file\n", path.c_str());
    return 1;
  }
  long pid = j.value("pid", 0L);
  bool alive = pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
  std::string report = render_report(j, std::chrono::system_clock::now());
  if (!alive) {
    std::printf("dunebugger-remote is not running (stale status from pid %ld follows)\n%s", pid, report.c_str());
    return 3;
  }
  std::printf("%s", report.c_str());
  return 0;
}

}  // namespace dbr::status
