#include "sysinfo/slow_facts_probe.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include <spdlog/fmt/fmt.h>

#include "sysinfo/host_files.hpp"
#include "log/log.hpp"
#include "loop/event_loop.hpp"
#include "sysinfo/host_readers.hpp"
#include "sysinfo/net_probe.hpp"
#include "sysinfo/nl80211.hpp"

namespace dbr::sysinfo {

// A descriptor this probe owns and the loop's watch on it; the watch goes
// before the descriptor is closed.
struct SlowFactsProbe::Socket {
  int fd;
  std::unique_ptr<loop::IoWatch> watch;
  Socket(loop::EventLoop& loop, int fd_, std::uint32_t events, loop::IoWatch::Handler handler)
      : fd(fd_), watch(std::make_unique<loop::IoWatch>(loop, fd_, events, std::move(handler))) {}
  ~Socket() {
    watch.reset();
    ::close(fd);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
};

namespace {

double ms_since(TimePoint start) { return std::chrono::duration<double, std::milli>(Clock::now() - start).count(); }

// nl80211 replies are small (an interface's attributes, the family's
// operations list); a datagram that does not fit is cut and then fails to
// decode, which reads as "no answer".
constexpr std::size_t kNetlinkDatagramBytes = 16 * 1024;

}  // namespace

SlowFactsProbe::SlowFactsProbe(loop::EventLoop& loop, SlowFactsOptions options,
                               std::function<void(SlowFacts&&)> on_facts)
    : loop_(loop),
      options_(std::move(options)),
      on_facts_(std::move(on_facts)),
      deadline_(loop, [this] {
        log::debug("system info: {} slow fact(s) unanswered after {} ms", ssid_seq_.size() + (gateway_ ? 1 : 0),
                   std::chrono::duration_cast<std::chrono::milliseconds>(options_.timeout).count());
        finish();
      }),
      after_gap_(loop, [this] { refresh(); }) {}

SlowFactsProbe::~SlowFactsProbe() = default;

void SlowFactsProbe::start() {
  if (started_) return;
  started_ = true;
  collect();
}

void SlowFactsProbe::refresh() {
  if (!started_) return start();
  if (collecting_) {
    refresh_pending_ = true;
    return;
  }
  TimePoint allowed = last_start_ + options_.min_gap;
  if (loop_.now() < allowed) {
    if (!after_gap_.armed()) after_gap_.arm_at(allowed);
    return;
  }
  collect();
}

void SlowFactsProbe::collect() {
  after_gap_.cancel();
  collecting_ = true;
  last_start_ = loop_.now();
  facts_ = {};
  deadline_.arm_in(options_.timeout);
  start_wifi();
  start_gateway();
  finish_if_done();
}

void SlowFactsProbe::start_wifi() {
  wifi_index_.clear();
  for (const auto& w : read_wifi_interfaces(options_.root)) {
    facts_.wifi_ssid[w.name] = std::nullopt;
    wifi_index_[w.name] = w.index;
  }
  if (wifi_index_.empty() || nl80211_missing_) return;
  int fd = nl80211::open_socket();
  if (fd < 0) return;
  wifi_ = std::make_unique<Socket>(loop_, fd, loop::IoWatch::kRead, [this](std::uint32_t) { on_wifi_readable(); });
  if (nl80211_family_) {
    ask_ssids();
    return;
  }
  family_seq_ = next_seq_++;
  if (!nl80211::send_request(fd, nl80211::family_request(family_seq_))) {
    family_seq_ = 0;
    wifi_.reset();
  }
}

void SlowFactsProbe::ask_ssids() {
  for (const auto& [name, index] : wifi_index_) {
    if (index <= 0) continue;
    std::uint32_t seq = next_seq_++;
    if (nl80211::send_request(wifi_->fd, nl80211::get_interface_request(*nl80211_family_, seq,
                                                                         static_cast<std::uint32_t>(index))))
      ssid_seq_[seq] = name;
  }
  if (ssid_seq_.empty()) wifi_.reset();
}

void SlowFactsProbe::on_wifi_readable() {
  std::vector<std::uint8_t> buffer(kNetlinkDatagramBytes);
  for (;;) {
    ssize_t n = ::recv(wifi_->fd, buffer.data(), buffer.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EAGAIN: all read
    std::span<const std::uint8_t> datagram(buffer.data(), static_cast<std::size_t>(n));
    if (family_seq_ != 0) {
      auto reply = nl80211::parse_reply(datagram, family_seq_);
      if (reply.found) {
        family_seq_ = 0;
        nl80211_family_ = nl80211::family_id(reply);
        // ENOENT: no cfg80211 in this kernel; no point asking again.
        nl80211_missing_ = !nl80211_family_ && reply.error != 0;
        if (nl80211_family_) ask_ssids();
        if (!wifi_) break;
      }
    }
    for (auto it = ssid_seq_.begin(); it != ssid_seq_.end();) {
      auto reply = nl80211::parse_reply(datagram, it->first);
      if (!reply.found) {
        ++it;
        continue;
      }
      auto ssid = reply.error == 0 ? nl80211::ssid(reply) : std::nullopt;
      facts_.wifi_ssid[it->second] = ssid ? std::optional<std::string>(valid_utf8(*ssid)) : std::nullopt;
      it = ssid_seq_.erase(it);
    }
  }
  if (family_seq_ == 0 && ssid_seq_.empty()) wifi_.reset();
  finish_if_done();
}

void SlowFactsProbe::start_gateway() {
  auto route = read_default_route(options_.root);
  if (!route) return;
  facts_.gateway = route->address;
  auto target = make_address(route->address, 0, route->interface);
  if (!target) return;
  gateway_tcp_ = false;
  bool unavailable = false;
  gateway_sent_ = Clock::now();
  int fd = send_icmp_echo(*target, unavailable);
  if (fd >= 0) {
    gateway_ = std::make_unique<Socket>(loop_, fd, loop::IoWatch::kRead,
                                        [this](std::uint32_t r) { on_gateway_ready(r); });
    return;
  }
  if (!unavailable) return;  // the echo could not be sent: no latency
  gateway_tcp_ = true;
  target = make_address(route->address, options_.gateway_tcp_port, route->interface);
  std::optional<TcpOutcome> at_once;
  gateway_sent_ = Clock::now();
  fd = start_tcp_connect(*target, at_once);
  if (fd >= 0) {
    gateway_ = std::make_unique<Socket>(loop_, fd, loop::IoWatch::kWrite,
                                        [this](std::uint32_t r) { on_gateway_ready(r); });
    return;
  }
  if (at_once && *at_once != TcpOutcome::Failed) facts_.gateway_latency_ms = round_tenth(ms_since(gateway_sent_));
}

void SlowFactsProbe::on_gateway_ready(std::uint32_t) {
  if (gateway_tcp_) {
    if (tcp_connect_result(gateway_->fd) != TcpOutcome::Failed)
      facts_.gateway_latency_ms = round_tenth(ms_since(gateway_sent_));
  } else {
    if (!read_icmp_echo_reply(gateway_->fd)) return;  // not our reply: keep waiting
    facts_.gateway_latency_ms = round_tenth(ms_since(gateway_sent_));
  }
  gateway_.reset();
  finish_if_done();
}

void SlowFactsProbe::finish_if_done() {
  if (collecting_ && !wifi_ && !gateway_) finish();
}

void SlowFactsProbe::finish() {
  deadline_.cancel();
  wifi_.reset();
  gateway_.reset();
  family_seq_ = 0;
  ssid_seq_.clear();
  collecting_ = false;
  if (facts_.gateway)
    log::debug("system info: gateway {} latency {} ms ({})", *facts_.gateway,
               facts_.gateway_latency_ms ? fmt::format("{:.1f}", *facts_.gateway_latency_ms) : std::string("n/a"),
               gateway_tcp_ ? "tcp" : "icmp");
  SlowFacts facts = std::move(facts_);
  facts_ = {};
  if (on_facts_) on_facts_(std::move(facts));
  if (refresh_pending_) {
    refresh_pending_ = false;
    refresh();
  }
}

}  // namespace dbr::sysinfo
