// Runs a real Monitor posting into a real loop::EventLoop and prints what the
// loop receives as JSON lines on stdout, for the Python tests and the
// benchmark. Commands on stdin (one per line):
//   request      Monitor::request_check()
//   stats        print loop-timer lateness and CPU time used so far
//   reset        reset the lateness figures
//   evidence on     the hub connection answers: Monitor::connection_evidence(now)
//                   every 200 ms from the loop, as the agent posts ProofOfLife
//   evidence quiet  the connection stays open but says nothing (no more posts)
//   evidence down   no connection: connection_evidence(nullopt)
//   stop         Monitor::stop() from the loop thread, print how long it took
//                and the open fds/threads before the Monitor and after it, exit
// EOF on stdin acts as "stop".
//
// Options: --url U --dns ip[:port] (repeatable) --timeout S --interval S
//          --ca-file F --tick-ms N (a loop timer measuring lateness) --no-netlink
//          --ntp host[:port] (repeatable: NTP checks, printed as "ntp" events)
//          --ntp-interval S --ntp-timeout S
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "config/parsers.hpp"
#include "log/log.hpp"
#include "loop/event_loop.hpp"
#include "loop/io_watch.hpp"
#include "loop/mailbox.hpp"
#include "loop/timer.hpp"
#include "monitor/monitor.hpp"

using namespace dbr;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

double monotonic_seconds(TimePoint t) { return to_seconds(t.time_since_epoch()); }

double cpu_ms() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto ms = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) * 1e3 + static_cast<double>(tv.tv_usec) / 1e3; };
  return ms(usage.ru_utime) + ms(usage.ru_stime);
}

void emit(const json& j) {
  std::cout << j.dump() << std::endl;  // flushed: the test reads line by line
}

// Open descriptors and threads of this process, to show the monitor leaves none.
std::size_t count_entries(const char* dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr, "monitor_driver: %s\n", why);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  monitor::MonitorOptions options;
  options.user_agent = "dunebugger-remote/test";
  long tick_ms = 10;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value for " + arg).c_str());
      return argv[++i];
    };
    if (arg == "--url") options.probe_url = value();
    else if (arg == "--dns") options.dns_servers.push_back(value());
    else if (arg == "--timeout") options.timeout = std::chrono::seconds(std::stol(value()));
    else if (arg == "--interval") options.interval = std::chrono::seconds(std::stol(value()));
    else if (arg == "--ca-file") options.ca_file = value();
    else if (arg == "--tick-ms") tick_ms = std::stol(value());
    else if (arg == "--no-netlink") options.watch_links = false;
    else if (arg == "--ntp") {
      auto entry = value();
      auto parts = config::parse_host_port(entry);
      if (!parts) usage(("not host[:port]: " + entry).c_str());
      options.ntp.servers.push_back({entry, parts->host, parts->port.value_or(monitor::sntp::kPort)});
    }
    else if (arg == "--ntp-interval") options.ntp.interval = std::chrono::seconds(std::stol(value()));
    else if (arg == "--ntp-timeout") options.ntp.timeout = std::chrono::seconds(std::stol(value()));
    else usage(("unknown argument " + arg).c_str());
  }
  if (options.probe_url.empty()) usage("--url is required");
  log::setup(log::Level::Debug, log::Format::Console);

  loop::EventLoop ev;
  const auto started = Clock::now();
  std::uint64_t reports = 0;
  loop::Mailbox<monitor::ConnectivityReport> inbox(ev, 16, [&](monitor::ConnectivityReport&& r) {
    ++reports;
    auto received = Clock::now();
    emit({{"event", "report"},
          {"online", r.online},
          {"dns_ok", r.dns_ok},
          {"https_ok", r.https_ok},
          {"dns_ms", r.dns_ms.count()},
          {"https_ms", r.https_ms.count()},
          {"failure", std::string(monitor::failure_name(r.failure))},
          {"http_status", r.http_status},
          {"error", r.error},
          {"address", r.address},
          {"trigger", std::string(monitor::trigger_name(r.trigger))},
          {"changed", r.changed},
          {"at", monotonic_seconds(r.at)},
          {"received", monotonic_seconds(received)},
          {"since_start", to_seconds(received - started)},
          {"keepalive_age_ms", r.keepalive_age ? json(r.keepalive_age->count()) : json()},
          {"cpu_ms", cpu_ms()}});
  });
  std::uint64_t ntp_reports = 0;
  loop::Mailbox<monitor::NtpReport> ntp_inbox(ev, 16, [&](monitor::NtpReport&& r) {
    ++ntp_reports;
    auto received = Clock::now();
    emit({{"event", "ntp"},
          {"available", r.available},
          {"changed", r.changed},
          {"server", r.server},
          {"offset_ms", r.offset ? json(r.offset->count()) : json()},
          {"delay_ms", r.delay ? json(r.delay->count()) : json()},
          {"detail", r.detail},
          {"clock_synchronized", r.clock_synchronized ? json(*r.clock_synchronized) : json()},
          {"at", monotonic_seconds(r.at)},
          {"received", monotonic_seconds(received)},
          {"since_start", to_seconds(received - started)}});
  });
  std::unique_ptr<monitor::Monitor> mon;  // created last, so the fd count before it is complete
  std::size_t fds_before = 0, threads_before = 0;

  // A loop timer every tick_ms: its lateness shows whether anything blocks
  // the loop thread while probes run.
  Duration tick = std::chrono::milliseconds(tick_ms);
  TimePoint tick_due = Clock::now() + tick;
  double max_late_ms = 0;
  std::uint64_t ticks = 0;
  loop::Timer ticker(ev, [&] {
    auto late = Clock::now() - tick_due;
    max_late_ms = std::max(max_late_ms, std::chrono::duration<double, std::milli>(late).count());
    ++ticks;
    tick_due += tick;
    if (tick_due < Clock::now()) tick_due = Clock::now() + tick;  // skip missed ticks
    ticker.arm_at(tick_due);
  });
  ticker.arm_at(tick_due);

  // The hub connection's answers, as the agent's loop posts them.
  loop::Timer answers(ev, [&] {
    if (mon) mon->connection_evidence(Clock::now());
    answers.arm_in(200ms);
  });

  bool stopped = false;
  auto stop_and_exit = [&] {
    if (stopped) return;
    stopped = true;
    auto t0 = Clock::now();
    mon->stop();
    auto stop_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    mon.reset();
    emit({{"event", "stopped"},
          {"stop_ms", stop_ms},
          {"reports", reports},
          {"ntp_reports", ntp_reports},
          {"fds_before", fds_before},
          {"fds_after", count_entries("/proc/self/fd")},
          {"threads_before", threads_before},
          {"threads_after", count_entries("/proc/self/task")}});
    ticker.cancel();
    answers.cancel();
    ev.request_shutdown("stop command");
  };

  std::string pending;
  loop::IoWatch commands(ev, STDIN_FILENO, loop::IoWatch::kRead, [&](std::uint32_t) {
    char buffer[256];
    ssize_t n = read(STDIN_FILENO, buffer, sizeof buffer);
    if (n <= 0) {
      stop_and_exit();
      return;
    }
    pending.append(buffer, static_cast<std::size_t>(n));
    std::size_t eol;
    while ((eol = pending.find('\n')) != std::string::npos) {
      auto line = pending.substr(0, eol);
      pending.erase(0, eol + 1);
      if (line == "request") {
        mon->request_check();
        emit({{"event", "requested"}, {"at", monotonic_seconds(Clock::now())}});
      } else if (line == "stats") {
        emit({{"event", "stats"}, {"ticks", ticks}, {"max_late_ms", max_late_ms}, {"cpu_ms", cpu_ms()},
              {"reports", reports}, {"dropped", inbox.dropped()}});
      } else if (line == "reset") {
        max_late_ms = 0;
        ticks = 0;
      } else if (line == "evidence on") {
        mon->connection_evidence(Clock::now());
        answers.arm_in(200ms);
        emit({{"event", "evidence"}, {"mode", "on"}, {"at", monotonic_seconds(Clock::now())}});
      } else if (line == "evidence quiet" || line == "evidence down") {
        answers.cancel();
        if (line == "evidence down") mon->connection_evidence(std::nullopt);
        emit({{"event", "evidence"}, {"mode", line.substr(9)}, {"at", monotonic_seconds(Clock::now())}});
      } else if (line == "stop") {
        stop_and_exit();
      }
    }
  });

  fds_before = count_entries("/proc/self/fd");
  threads_before = count_entries("/proc/self/task");
  mon = std::make_unique<monitor::Monitor>(
      options, [&inbox](monitor::ConnectivityReport r) { inbox.post(std::move(r)); },
      [&ntp_inbox](monitor::NtpReport r) { ntp_inbox.post(std::move(r)); });
  mon->start();
  emit({{"event", "started"}, {"at", monotonic_seconds(started)}});
  return ev.run();
}
