#pragma once
// A peer server started by a test or a benchmark: `python3 script`, which
// prints one JSON line with its ports once it listens and exits when its
// stdin closes.
#include <sys/types.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

namespace dbr::test {

class PeerProcess {
 public:
  // Waits up to 30 s for the ready line; throws std::runtime_error when the
  // peer exits first or stays silent.
  PeerProcess(const std::string& python, const std::string& script);
  // Closes the peer's stdin and waits up to 3 s for it to exit, then kills it.
  ~PeerProcess();
  PeerProcess(const PeerProcess&) = delete;
  PeerProcess& operator=(const PeerProcess&) = delete;

  int port(const char* name) const { return info_.at(name).get<int>(); }
  std::string str(const char* name) const { return info_.at(name).get<std::string>(); }

 private:
  std::string read_line(std::chrono::milliseconds timeout);

  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
  nlohmann::json info_;
};

// The peer of this program: the script that dbr_peer_process() in
// cmake/DbrTesting.cmake names, run by DBR_PYTHON; started at first use,
// stopped at exit.
PeerProcess& peer();

}  // namespace dbr::test
