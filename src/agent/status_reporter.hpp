#pragma once
// Keeps the agent's status current: on every state change it renders a
// status::Snapshot, sends a STATUS= line to systemd and rewrites
// status.json atomically. Changes within one loop iteration are coalesced;
// a slow timer refreshes the counters in between.
#include <chrono>
#include <string>

#include "loop/timer.hpp"
#include "monitor/report.hpp"
#include "status/snapshot.hpp"

namespace dbr::loop {
class EventLoop;
}
namespace dbr::pubsub {
class Client;
}

namespace dbr::agent {

// Where status.json goes: $RUNTIME_DIRECTORY (systemd's RuntimeDirectory=),
// else /run/dunebugger-remote when it exists; empty when neither.
std::string status_file_path(const char* runtime_directory);

class StatusReporter {
 public:
  StatusReporter(loop::EventLoop& loop, std::string path);
  StatusReporter(const StatusReporter&) = delete;
  StatusReporter& operator=(const StatusReporter&) = delete;

  void set_client(const pubsub::Client* client, std::string group);
  void set_internet(bool online, std::string reason);
  void set_nats(bool connected);
  // Kept for the next write; the caller says changed() when it matters.
  void set_ntp(const monitor::NtpReport& report);
  // Something changed: render and write soon (once per loop iteration).
  void changed();

 private:
  void write_now();
  status::Snapshot snapshot() const;

  loop::EventLoop& loop_;
  std::string path_;
  const pubsub::Client* client_ = nullptr;
  std::string group_;
  bool internet_known_ = false;
  bool internet_online_ = false;
  std::string internet_reason_;
  status::WallTime internet_checked_at_;
  bool nats_connected_ = false;
  status::NtpStatus ntp_;
  status::WallTime started_at_;
  std::string last_status_line_;
  bool write_failed_logged_ = false;
  loop::Timer soon_;
  loop::Timer refresh_;
};

}  // namespace dbr::agent
