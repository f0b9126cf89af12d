#include "status/status_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include "common/small_file.hpp"
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

std::string status_file_in(const char* runtime_directory) {
  std::string dir = runtime_directory && *runtime_directory ? runtime_directory : kDefaultRuntimeDirectory;
  dir = dir.substr(0, dir.find(':'));  // systemd lists several with ':'
  return dir + "/status.json";
}

namespace {

void print_not_found(const StatusQuery& q) {
  std::printf("dunebugger-remote is not running: no status file at %s\n", q.path.c_str());
  if (q.path_given) return;
  std::printf(
      "The agent writes status.json in $RUNTIME_DIRECTORY (under systemd, %s). For an agent started\n"
      "another way, such as scripts/run-demo's (it prints where its file is), point at its file:\n"
      "  dunebugger-remote status --file PATH\n",
      kDefaultRuntimeDirectory);
}

bool pid_alive(long pid) {
  // EPERM: alive, but another user's (the service runs as a dynamic user).
  return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
}

}  // namespace

StatusOutput status_output(std::string_view text, const StatusQuery& q, WallTime now,
                           const std::function<bool(long)>& alive) {
  StatusOutput output;
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    output.err = "dunebugger-remote status: " + q.path + " is not a status file\n";
    output.exit_code = 1;
    return output;
  }
  Freshness freshness = judge_freshness(j, now, alive(status_pid(j)));
  output.out = render_report(j, now, freshness);
  auto group = j.find("group");
  std::string running_group = group != j.end() && group->is_string() ? group->get<std::string>() : std::string();
  // An empty group may just be in the service's environment file, which
  // this shell has not read: only a named group is compared.
  if (!q.config_group.empty() && !freshness.stale && q.config_group != running_group)
    output.out += "  note: " + q.config_path + " names group '" + q.config_group + "' but the agent joined '" +
                  running_group +
                  "' (WS_GROUP_NAME in its environment wins;\n"
                  "        a changed file takes effect on systemctl reload dunebugger-remote)\n";
  output.exit_code = freshness.stale ? 3 : 0;
  return output;
}

int print_status(const StatusQuery& q) {
  // The agent writes a few KiB; a file far larger is not its.
  const std::optional<std::string> text = read_small_file(q.path, 1024 * 1024);
  if (!text) {
    int err = errno;
    if (err == ENOENT) {
      print_not_found(q);
      return 3;
    }
    std::fprintf(stderr, "dunebugger-remote status: cannot read %s: %s\n", q.path.c_str(), std::strerror(err));
    return 1;
  }
  const StatusOutput output = status_output(*text, q, std::chrono::system_clock::now(), pid_alive);
  std::fputs(output.out.c_str(), stdout);
  std::fputs(output.err.c_str(), stderr);
  return output.exit_code;
}

}  // namespace dbr::status
