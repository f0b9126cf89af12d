#pragma once
// Keeps the agent's status current: on every state change it renders a
// status::Snapshot, sends a STATUS= line to systemd and rewrites
// status.json atomically. Changes within one loop iteration are coalesced.
// Counters and check times that moved are written at most every
// status::kCountersEvery; with nothing new, the file is rewritten once per
// status::kRefreshEvery (the heartbeat its readers judge staleness by).
#include <chrono>
#include <string>

#include "loop/deferred.hpp"
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

// How often status.json is written (status::kRefreshEvery and friends;
// tests shorten them).
struct StatusTimings {
  std::chrono::seconds refresh_every = status::kRefreshEvery;  // the heartbeat
  Duration refresh_slack = status::kRefreshSlack;
  Duration counters_every = status::kCountersEvery;
};

class StatusReporter {
 public:
  StatusReporter(loop::EventLoop& loop, std::string path, StatusTimings timings = {});
  StatusReporter(const StatusReporter&) = delete;
  StatusReporter& operator=(const StatusReporter&) = delete;

  void set_client(const pubsub::Client* client, std::string group);
  void set_internet(bool online, std::string reason);
  void set_nats(bool connected);
  // Kept for the next write; the caller says changed() when it matters.
  void set_ntp(const monitor::NtpReport& report);
  // Something changed: render and write soon (once per loop iteration).
  void changed();
  // A counter or a check time moved: written within kCountersEvery.
  void moved();

 private:
  void write_now();
  status::Snapshot snapshot() const;

  loop::EventLoop& loop_;
  std::string path_;
  StatusTimings timings_;
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
  TimePoint last_write_{};
  loop::Deferred soon_;
  loop::Timer counters_;
  loop::Timer heartbeat_;
};

}  // namespace dbr::agent
