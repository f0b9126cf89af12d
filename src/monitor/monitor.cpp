#include "monitor/monitor.hpp"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "common/thread_name.hpp"
#include "log/log.hpp"
#include "common/clock_sync.hpp"
#include "monitor/dns_probe.hpp"
#include "monitor/http_probe.hpp"
#include "monitor/netlink_watcher.hpp"
#include "monitor/outcome.hpp"
#include "monitor/schedule.hpp"

namespace dbr::monitor {

namespace {

// Longest single poll() while idle; a deadline further away is re-read
// after it (the schedule always has one, this only bounds each wait).
constexpr Duration kMaxIdleWait = std::chrono::seconds(60);
// Longest single wait inside a probe step.
constexpr Duration kMaxProbeWait = std::chrono::milliseconds(500);

int timeout_ms_until(TimePoint deadline, TimePoint now) {
  auto wait = std::clamp(deadline - now, Duration::zero(), kMaxIdleWait);
  // Round up: waking a hair early would spin on a zero timeout.
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(wait).count();
  return static_cast<int>(ms);
}

std::optional<TimePoint> earliest(std::optional<TimePoint> a, std::optional<TimePoint> b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

}  // namespace

struct Monitor::Impl {
  Impl(MonitorOptions o, Post p, PostNtp pn)
      : options(std::move(o)),
        post(std::move(p)),
        post_ntp(std::move(pn)),
        schedule({options.interval, options.link_debounce, options.link_max_delay}),
        // Only its start and interval apply: NTP checks have no other trigger.
        ntp_schedule({options.ntp.interval, Duration::zero(), Duration::zero()}),
        dns({options.dns_servers, options.timeout}),
        http({options.probe_url, options.timeout, options.ca_file, options.user_agent, options.max_body_bytes,
              options.dns_servers}) {
    if (post_ntp && !options.ntp.servers.empty())
      // The whole check ends by the next one's time (at least one turn), so a
      // result reaches the loop at least once per interval + check.
      ntp.emplace(NtpCheck::Options{options.ntp.servers, options.ntp.timeout,
                                    std::max<Duration>(options.ntp.interval, options.ntp.timeout),
                                    options.dns_servers});
    wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd < 0) throw std::system_error(errno, std::generic_category(), "monitor eventfd");
    if (options.watch_links) {
      try {
        netlink = std::make_unique<NetlinkWatcher>();
      } catch (const std::system_error& e) {
        log::warn("internet monitor: cannot watch link changes ({}); checking every {} s only, continuing",
                  e.what(), options.interval.count());
      }
    }
  }
  ~Impl() {
    if (wake_fd >= 0) close(wake_fd);
  }

  void wake() {
    std::uint64_t one = 1;
    // EAGAIN only when the counter is about to overflow: already signalled.
    (void)!write(wake_fd, &one, sizeof one);
  }

  // The fds every wait watches besides the probe's own: [0] wakeup, [1]
  // netlink (if any), then the running NTP check's.
  std::vector<pollfd> wait_fds() const {
    std::vector<pollfd> fds{{wake_fd, POLLIN, 0}};
    if (netlink) fds.push_back({netlink->fd(), POLLIN, 0});
    if (ntp && ntp->running()) {
      auto more = ntp->poll_fds();
      fds.insert(fds.end(), more.begin(), more.end());
    }
    return fds;
  }
  std::size_t control_fd_count() const { return netlink ? 2 : 1; }

  // When the NTP side next needs the thread: the running check's next
  // deadline, or the next check's start.
  std::optional<TimePoint> ntp_deadline(TimePoint now) const {
    if (!ntp) return std::nullopt;
    if (ntp->running()) return ntp->next_deadline(now);
    return ntp_schedule.next_deadline();
  }

  // How long a wait may last: `cap`, or less so the NTP side's next
  // deadline is met.
  Duration max_wait(Duration cap) const {
    auto now = Clock::now();
    auto due = ntp_deadline(now);
    return due ? std::clamp(*due - now, Duration::zero(), cap) : cap;
  }

  // After every wait (idle or inside a probe): the control fds, then the
  // NTP side. False: stop was requested.
  bool after_wait(std::vector<pollfd>& fds) {
    if (!handle_control(fds)) return false;
    if (ntp && ntp->running()) {
      ntp->process(std::span<const pollfd>(fds).subspan(control_fd_count()), Clock::now());
      if (!ntp->running()) finish_ntp();
    }
    begin_ntp_if_due();
    return true;
  }

  void begin_ntp_if_due() {
    if (!ntp || ntp->running() || !ntp_schedule.begin_if_due(Clock::now())) return;
    ntp->start(Clock::now());
    if (!ntp->running()) finish_ntp();  // every server failed at once
  }

  void finish_ntp() {
    ntp_schedule.check_finished(Clock::now());
    NtpReport report = build_ntp_report(ntp->outcome(), read_clock_synchronized(), Clock::now(), previous_ntp);
    previous_ntp = report.available;
    if (!report.changed)
      log::debug("NTP check: {}", describe(report));
    else if (report.available)
      log::info("NTP check: {}", describe(report));
    else
      log::warn("NTP check: {}", describe(report));
    post_ntp(std::move(report));
  }

  // Handles what the control fds reported. False: stop was requested.
  bool handle_control(const std::vector<pollfd>& fds) {
    auto now = Clock::now();
    if (fds[0].revents & POLLIN) {
      std::uint64_t count = 0;
      (void)!read(wake_fd, &count, sizeof count);
    }
    if (stop_requested.load()) return false;
    if (check_requested.exchange(false)) schedule.request(now);
    if (netlink && fds[1].revents) {
      auto changes = netlink->drain();
      if (changes.any()) {
        log::debug("internet monitor: network change: {}", changes.detail);
        schedule.link_changed(now);
      }
    }
    return true;
  }

  void thread_main() {
    try {
      checks();
    } catch (const std::exception& e) {
      // Only a programmer error or an allocation failure lands here.
      log::critical("internet monitor: stopped by an internal error: {}; no further checks", e.what());
    }
  }

  void checks() {
    check_requested.store(false);  // the initial check answers any earlier request
    schedule.start(Clock::now());
    if (ntp) ntp_schedule.start(Clock::now());
    while (!stop_requested.load()) {
      // First: starting an NTP check costs nothing, and it runs alongside.
      begin_ntp_if_due();
      schedule.connection(posted_evidence());
      if (auto trigger = schedule.begin_if_due(Clock::now())) {
        auto report = run_check(*trigger);
        if (!report) break;  // stopped mid-check
        schedule.check_finished(Clock::now(), report->online);
        publish(std::move(*report));
        continue;
      }
      auto fds = wait_fds();
      auto deadline = earliest(schedule.next_deadline(), ntp_deadline(Clock::now()));
      int n = poll(fds.data(), static_cast<nfds_t>(fds.size()),
                   timeout_ms_until(deadline.value_or(Clock::now() + kMaxIdleWait), Clock::now()));
      if (n < 0 && errno != EINTR) {
        log::error("internet monitor: poll failed: {}; stopping the monitor", std::strerror(errno));
        break;
      }
      if (n < 0)
        for (auto& p : fds) p.revents = 0;
      if (!after_wait(fds)) break;
    }
  }

  std::optional<TimePoint> posted_evidence() {
    std::lock_guard lock(evidence_lock);
    return evidence;
  }

  // Steps a started probe (DnsProbe, HttpProbe) until it is done, watching
  // the control fds meanwhile. False, with the probe cancelled, when stop()
  // came first.
  template <typename Probe>
  bool step_until_done(Probe& probe) {
    while (!probe.done()) {
      auto fds = wait_fds();
      probe.step(fds, max_wait(kMaxProbeWait));
      if (!after_wait(fds)) {
        probe.cancel();
        return false;
      }
    }
    return true;
  }

  // One check; empty when stop() interrupted it.
  std::optional<ConnectivityReport> run_check(CheckTrigger trigger) {
    if (auto age = schedule.evidence_for(trigger, Clock::now()))
      return build_evidence_report(*age, trigger, Clock::now(), previous_online);
    const auto& target = http.target();
    DnsOutcome dns_outcome;
    if (target.host_is_ip) {
      dns_outcome.ok = true;  // nothing to resolve
      dns_outcome.addresses = {target.host};
    } else {
      dns.start(target.host, Clock::now());
      if (!step_until_done(dns)) return std::nullopt;
      dns_outcome = dns.outcome();
    }
    std::optional<HttpOutcome> http_outcome;
    if (dns_outcome.ok) {
      // A kept-alive connection may be silently dead after a link change or
      // a failure, and would then fail only by timeout; so is one to an
      // address DNS no longer returns.
      bool fresh = trigger == CheckTrigger::LinkChange || trigger == CheckTrigger::Request ||
                   !previous_online.value_or(false) ||
                   std::find(dns_outcome.addresses.begin(), dns_outcome.addresses.end(), last_address) ==
                       dns_outcome.addresses.end();
      http.start(target.host_is_ip ? std::vector<std::string>{} : dns_outcome.addresses, fresh);
      if (!step_until_done(http)) return std::nullopt;
      http_outcome = http.outcome();
    }
    return build_report(dns_outcome, http_outcome, trigger, Clock::now(), previous_online);
  }

  void publish(ConnectivityReport report) {
    previous_online = report.online;
    if (!report.keepalive_age) last_address = report.address;  // no probe, no address
    if (!report.changed)
      log::debug("internet monitor: {}", describe(report));
    else if (report.online)
      log::info("internet monitor: {}", describe(report));
    else
      log::warn("internet monitor: {}", describe(report));
    post(std::move(report));
  }

  MonitorOptions options;
  Post post;
  PostNtp post_ntp;
  CheckSchedule schedule;
  CheckSchedule ntp_schedule;
  std::optional<NtpCheck> ntp;  // empty: no NTP checks
  std::optional<bool> previous_ntp;
  DnsProbe dns;
  HttpProbe http;
  std::unique_ptr<NetlinkWatcher> netlink;
  int wake_fd = -1;
  std::atomic<bool> stop_requested{false};
  std::atomic<bool> check_requested{false};
  std::mutex evidence_lock;
  std::optional<TimePoint> evidence;  // connection_evidence()'s latest value
  std::optional<bool> previous_online;
  std::string last_address;
  std::thread thread;
  std::mutex lifecycle;  // start()/stop() from different threads
  bool started = false;
};

Monitor::Monitor(MonitorOptions options, Post post, PostNtp post_ntp)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(post), std::move(post_ntp))) {}

Monitor::~Monitor() { stop(); }

void Monitor::start() {
  std::lock_guard lock(impl_->lifecycle);
  if (impl_->started) throw std::logic_error("internet monitor: start() called twice");
  impl_->started = true;
  // The thread inherits the signal mask: block everything around its
  // creation, so no signal is ever delivered to it (the loop reads SIGTERM
  // and friends through its signalfd).
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  impl_->thread = std::thread([impl = impl_.get()] { impl->thread_main(); });
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  name_thread(impl_->thread, "dbr-monitor");
}

void Monitor::request_check() {
  impl_->check_requested.store(true);
  impl_->wake();
}

void Monitor::connection_evidence(std::optional<TimePoint> alive_at) {
  std::lock_guard lock(impl_->evidence_lock);
  impl_->evidence = alive_at;
}

void Monitor::stop() {
  std::lock_guard lock(impl_->lifecycle);
  if (impl_->thread.get_id() == std::this_thread::get_id())
    throw std::logic_error("internet monitor: stop() called from the monitor thread (from `post`)");
  impl_->stop_requested.store(true);
  impl_->wake();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace dbr::monitor
