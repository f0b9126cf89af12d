#include "sysinfo/system_info_worker.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <stdexcept>

#include <spdlog/fmt/fmt.h>

#include "sysinfo/host_files.hpp"
#include "sysinfo/host_readers.hpp"
#include "sysinfo/net_probe.hpp"
#include "sysinfo/nl80211.hpp"
#include "log/log.hpp"

namespace dbr::sysinfo {

SlowFacts collect_slow_facts(const SystemInfoWorkerOptions& options, int cancel_fd) {
  SlowFacts facts;
  auto wifi = read_wifi_interfaces(options.root);
  if (!wifi.empty()) {
    nl80211::Client client(options.probe_timeout, cancel_fd);
    for (const auto& w : wifi) {
      auto ssid = client.ssid_of(w.index);
      facts.wifi_ssid[w.name] = ssid ? std::optional<std::string>(valid_utf8(*ssid)) : std::nullopt;
    }
  }
  if (auto gateway = read_default_route(options.root)) {
    auto latency = gateway_latency(gateway->address, gateway->interface, options.probe_timeout, cancel_fd);
    log::debug("system info: gateway {} latency {} ms ({})", gateway->address,
               latency.ms ? fmt::format("{:.1f}", *latency.ms) : std::string("n/a"), latency.method);
    facts.gateway = gateway->address;
    facts.gateway_latency_ms = latency.ms;
  }
  facts.internet_reachable =
      internet_reachable(options.reachability_host, options.reachability_port, options.probe_timeout, cancel_fd);
  return facts;
}

SystemInfoWorker::SystemInfoWorker(loop::EventLoop& loop, SystemInfoWorkerOptions options,
                                   std::function<void(SlowFacts&&)> on_facts)
    : options_(std::move(options)), mailbox_(loop, 2, std::move(on_facts)) {
  cancel_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (cancel_fd_ < 0) throw std::runtime_error("eventfd for the system-info worker failed");
}

SystemInfoWorker::~SystemInfoWorker() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  std::uint64_t one = 1;
  (void)!::write(cancel_fd_, &one, sizeof one);
  if (thread_.joinable()) thread_.join();
  ::close(cancel_fd_);
}

void SystemInfoWorker::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void SystemInfoWorker::request_refresh() {
  {
    std::lock_guard lock(mutex_);
    refresh_requested_ = true;
  }
  wake_.notify_all();
}

void SystemInfoWorker::run() {
  TimePoint last_start{};
  for (bool first = true;; first = false) {
    if (!first) {
      std::unique_lock lock(mutex_);
      // Wait for the period to pass or a request, and in any case until the
      // minimum gap since the last collection is over.
      wake_.wait_until(lock, last_start + options_.refresh_every, [&] { return stop_ || refresh_requested_; });
      if (stop_) return;
      if (wake_.wait_until(lock, last_start + options_.min_refresh_gap, [&] { return stop_; })) return;
      refresh_requested_ = false;
    }
    last_start = Clock::now();
    SlowFacts facts = collect_slow_facts(options_, cancel_fd_);
    {
      std::lock_guard lock(mutex_);
      if (stop_) return;
    }
    mailbox_.post(std::move(facts));
  }
}

}  // namespace dbr::sysinfo
