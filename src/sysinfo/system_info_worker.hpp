#pragma once
// The system-info worker: one thread that collects the slow facts (Wi-Fi
// SSIDs over nl80211, the gateway latency, the internet reachability probe)
// and posts each SlowFacts value to the loop through a Mailbox, so composing
// system_info on the loop never waits for the network.
//
// It collects once at start, then every `refresh_every`, and on
// request_refresh() (a system_info request), never more often than
// `min_refresh_gap`. Requests during a collection coalesce into one more.
//
// Bounds: the mailbox holds at most 2 reports and drops the OLDEST (only the
// newest facts matter); each probe waits at most `probe_timeout`. Stopping
// (the destructor) wakes the thread and any probe in progress through an
// eventfd, so it returns at once.
//
// Create it after the EventLoop: the thread inherits the loop's blocked
// signal mask, so SIGTERM/SIGINT/SIGHUP still reach the loop's signalfd.
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "sysinfo/facts.hpp"
#include "common/time.hpp"
#include "loop/mailbox.hpp"

namespace dbr::loop {
class EventLoop;
}

namespace dbr::sysinfo {

struct SystemInfoWorkerOptions {
  std::filesystem::path root = "/";
  Duration refresh_every = std::chrono::seconds(60);
  Duration min_refresh_gap = std::chrono::seconds(5);
  // §1.3 "internet_reachable (TCP 8.8.8.8:53)".
  std::string reachability_host = "8.8.8.8";
  std::uint16_t reachability_port = 53;
  Duration probe_timeout = std::chrono::seconds(2);
};

// One collection, on the calling thread (the worker's; tests and benches).
SlowFacts collect_slow_facts(const SystemInfoWorkerOptions& options, int cancel_fd = -1);

class SystemInfoWorker {
 public:
  SystemInfoWorker(loop::EventLoop& loop, SystemInfoWorkerOptions options, std::function<void(SlowFacts&&)> on_facts);
  ~SystemInfoWorker();
  SystemInfoWorker(const SystemInfoWorker&) = delete;
  SystemInfoWorker& operator=(const SystemInfoWorker&) = delete;

  void start();            // idempotent
  void request_refresh();  // any thread

 private:
  void run();
  SystemInfoWorkerOptions options_;
  loop::Mailbox<SlowFacts> mailbox_;
  int cancel_fd_ = -1;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  bool refresh_requested_ = false;
  std::thread thread_;
};

}  // namespace dbr::sysinfo
