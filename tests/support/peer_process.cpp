#include "support/peer_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>

namespace dbr::test {

PeerProcess::PeerProcess(const std::string& python, const std::string& script) {
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // The event loop blocked SIGTERM, SIGPIPE & co. in this process; the
    // peer must not inherit that mask.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    dup2(in[0], 0);
    dup2(out[1], 1);
    execl(python.c_str(), python.c_str(), script.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  stdin_ = in[1];
  stdout_ = out[0];
  std::string line = read_line(std::chrono::seconds(30));
  info_ = nlohmann::json::parse(line);
}

PeerProcess::~PeerProcess() {
  close(stdin_);  // the peer exits on EOF
  for (int i = 0; i < 300; ++i) {
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
      close(stdout_);
      return;
    }
    usleep(10000);
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  close(stdout_);
}

std::string PeerProcess::read_line(std::chrono::milliseconds timeout) {
  std::string line;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) throw std::runtime_error("peer did not start in time");
    pollfd p{stdout_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char c;
    ssize_t n = read(stdout_, &c, 1);
    if (n <= 0) throw std::runtime_error("peer exited before it was ready");
    if (c == '\n') return line;
    line.push_back(c);
  }
}

PeerProcess& peer() {
  static PeerProcess p(DBR_PYTHON, DBR_PEER_SCRIPT);
  return p;
}

}  // namespace dbr::test
