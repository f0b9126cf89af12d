#include "monitor/dns_probe.hpp"

#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include <fmt/format.h>

namespace dbr::monitor {

namespace {

// Two tries of half the budget each: c-ares' wait for the second is longer
// (doubled in 1.18; between one and two times, jittered, in 1.34), so c-ares
// never gives up before the budget is spent, and our own deadline ends the
// lookup (fail_timeout) at the budget on every version.
constexpr int kTries = 2;

void init_library_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    int r = ares_library_init(ARES_LIB_INIT_ALL);
    if (r != ARES_SUCCESS) throw std::runtime_error(std::string("ares_library_init: ") + ares_strerror(r));
  });
}

std::chrono::milliseconds ms_since(TimePoint start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out += ',';
    out += s;
  }
  return out;
}

}  // namespace

struct DnsProbe::Channel {
  ares_channel raw = nullptr;
  ~Channel() {
    if (raw) ares_destroy(raw);
  }
};

DnsProbe::DnsProbe(Options options) : options_(std::move(options)) { init_library_once(); }

DnsProbe::~DnsProbe() { cancel(); }

void DnsProbe::cancel() {
  // ares_destroy runs the pending callbacks with ARES_EDESTRUCTION while this
  // object is still whole; they only record the status.
  channel_.reset();
  pending_ = 0;
  if (!done_) {
    done_ = true;
    outcome_ = DnsOutcome{};
    outcome_.failure = ProbeFailure::Dns;
    outcome_.error = fmt::format("dns: {}: cancelled", host_);
    outcome_.elapsed = ms_since(started_);
  }
}

void DnsProbe::start(const std::string& host, TimePoint now) {
  cancel();
  host_ = host;
  started_ = now;
  deadline_ = now + options_.timeout;
  a_answers_.clear();
  aaaa_answers_.clear();
  min_ttl_.reset();
  sockets_.clear();
  a_status_ = aaaa_status_ = ARES_SUCCESS;
  outcome_ = DnsOutcome{};
  done_ = false;

  auto channel = std::make_unique<Channel>();
  ares_options opts{};
  const auto budget_ms = std::chrono::duration_cast<std::chrono::milliseconds>(options_.timeout).count();
  opts.timeout = static_cast<int>(std::max<long long>(100, budget_ms / kTries));
  opts.tries = kTries;
  // The DNS servers only ("b": never /etc/hosts) unless asked for the
  // hosts file too ("fb"), for the host as given (no resolv.conf search list).
  char dns_only[] = "b";
  char hosts_then_dns[] = "fb";
  opts.lookups = options_.hosts_file ? hosts_then_dns : dns_only;
  opts.domains = nullptr;
  opts.ndomains = 0;
  // c-ares reports the sockets it opens and closes; step() polls them.
  opts.sock_state_cb = &DnsProbe::on_socket_state;
  opts.sock_state_cb_data = this;
  int r = ares_init_options(&channel->raw, &opts,
                            ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_LOOKUPS | ARES_OPT_DOMAINS |
                                ARES_OPT_SOCK_STATE_CB);
  if (r == ARES_SUCCESS && !options_.servers.empty())
    r = ares_set_servers_ports_csv(channel->raw, join(options_.servers).c_str());
  if (r != ARES_SUCCESS) {
    done_ = true;
    outcome_.failure = ProbeFailure::Dns;
    outcome_.error = fmt::format("dns: cannot set up the resolver: {}", ares_strerror(r));
    return;
  }
  channel_ = std::move(channel);
  pending_ = 2;
  // One lookup per family, so A answers still count when the AAAA query goes
  // unanswered (some resolvers drop it). NOSORT keeps the servers' order.
  ares_addrinfo_hints hints{};
  hints.ai_flags = ARES_AI_NOSORT;
  hints.ai_family = AF_INET;
  ares_getaddrinfo(channel_->raw, host_.c_str(), nullptr, &hints, &DnsProbe::on_a_answer, this);
  hints.ai_family = AF_INET6;
  ares_getaddrinfo(channel_->raw, host_.c_str(), nullptr, &hints, &DnsProbe::on_aaaa_answer, this);
  finish_if_complete();
}

void DnsProbe::on_socket_state(void* arg, ares_socket_t fd, int readable, int writable) {
  auto& sockets = static_cast<DnsProbe*>(arg)->sockets_;
  auto it = std::find_if(sockets.begin(), sockets.end(), [fd](const pollfd& p) { return p.fd == fd; });
  short events = static_cast<short>((readable ? POLLIN : 0) | (writable ? POLLOUT : 0));
  if (events == 0) {  // c-ares closed it
    if (it != sockets.end()) sockets.erase(it);
  } else if (it != sockets.end()) {
    it->events = events;
  } else {
    sockets.push_back(pollfd{fd, events, 0});
  }
}

void DnsProbe::on_a_answer(void* arg, int status, int /*timeouts*/, ares_addrinfo* result) {
  static_cast<DnsProbe*>(arg)->record(false, status, result);
}

void DnsProbe::on_aaaa_answer(void* arg, int status, int /*timeouts*/, ares_addrinfo* result) {
  static_cast<DnsProbe*>(arg)->record(true, status, result);
}

// Runs inside c-ares: only records. Completion is decided by step()/start(),
// so the channel is never destroyed under c-ares' own feet.
void DnsProbe::record(bool aaaa, int status, ares_addrinfo* result) {
  if (pending_ > 0) --pending_;
  auto& answers = aaaa ? aaaa_answers_ : a_answers_;
  auto note_ttl = [this](int ttl) { min_ttl_ = std::min(min_ttl_.value_or(ttl), std::max(ttl, 0)); };
  for (auto* cname = result ? result->cnames : nullptr; status == ARES_SUCCESS && cname; cname = cname->next)
    note_ttl(cname->ttl);
  for (auto* node = result ? result->nodes : nullptr; status == ARES_SUCCESS && node; node = node->ai_next) {
    note_ttl(node->ai_ttl);
    char text[INET6_ADDRSTRLEN] = {};
    // Copied out rather than cast: a sockaddr* may be less aligned than a
    // sockaddr_in6 (-Wcast-align on 32-bit Arm).
    sockaddr_in v4{};
    sockaddr_in6 v6{};
    const void* address = nullptr;
    if (node->ai_family == AF_INET && node->ai_addrlen >= sizeof v4) {
      std::memcpy(&v4, node->ai_addr, sizeof v4);
      address = &v4.sin_addr;
    } else if (node->ai_family == AF_INET6 && node->ai_addrlen >= sizeof v6) {
      std::memcpy(&v6, node->ai_addr, sizeof v6);
      address = &v6.sin6_addr;
    }
    if (address && inet_ntop(node->ai_family, address, text, sizeof text)) answers.emplace_back(text);
  }
  if (result) ares_freeaddrinfo(result);
  (aaaa ? aaaa_status_ : a_status_) = status;
}

void DnsProbe::finish_if_complete() {
  if (done_ || pending_ > 0) return;
  done_ = true;
  outcome_.elapsed = ms_since(started_);
  outcome_.addresses = a_answers_;
  outcome_.addresses.insert(outcome_.addresses.end(), aaaa_answers_.begin(), aaaa_answers_.end());
  if (!outcome_.addresses.empty()) {
    outcome_.ok = true;
    if (min_ttl_) outcome_.ttl = std::chrono::seconds(*min_ttl_);
  } else {
    outcome_.failure = ProbeFailure::Dns;
    // The most telling status: a server failure beats "no records of this type".
    int status = a_status_;
    if (status == ARES_SUCCESS || status == ARES_ENODATA) status = aaaa_status_;
    if (status == ARES_SUCCESS || status == ARES_ENODATA)
      outcome_.error = fmt::format("dns: {}: no A or AAAA records", host_);
    else if (status == ARES_ETIMEOUT)
      outcome_.error = fmt::format("dns: {}: no answer within {} ms", host_,
                                   std::chrono::duration_cast<std::chrono::milliseconds>(options_.timeout).count());
    else
      outcome_.error = fmt::format("dns: {}: {}", host_, ares_strerror(status));
  }
  channel_.reset();
}

void DnsProbe::fail_timeout() {
  // Our own deadline: c-ares' per-try timeouts may add up to a little more.
  // Answers that did arrive still count (some resolvers drop AAAA queries).
  channel_.reset();  // callbacks see ARES_EDESTRUCTION
  pending_ = 0;
  if (a_answers_.empty() && aaaa_answers_.empty()) a_status_ = aaaa_status_ = ARES_ETIMEOUT;
  finish_if_complete();
}

TimePoint DnsProbe::next_deadline(TimePoint now) const {
  if (done_ || !channel_ || now >= deadline_) return now;
  auto left_us = std::chrono::duration_cast<std::chrono::microseconds>(deadline_ - now).count();
  timeval max_tv{};
  max_tv.tv_sec = static_cast<time_t>(left_us / 1000000);
  max_tv.tv_usec = static_cast<suseconds_t>(left_us % 1000000);
  timeval tv{};
  const timeval* next = ares_timeout(channel_->raw, &max_tv, &tv);
  return now + std::chrono::seconds(next->tv_sec) + std::chrono::microseconds(next->tv_usec);
}

void DnsProbe::process(std::span<const pollfd> fds) {
  if (done_) return;
  for (const auto& p : fds) {
    if (!channel_) break;
    auto r = p.revents;
    if (r == 0) continue;
    // Errors are handed to c-ares as readable, so its read sees them (e.g.
    // ECONNREFUSED from an ICMP port unreachable).
    bool readable = (r & (POLLIN | POLLERR | POLLHUP)) != 0;
    bool writable = (r & POLLOUT) != 0;
    ares_process_fd(channel_->raw, readable ? p.fd : ARES_SOCKET_BAD, writable ? p.fd : ARES_SOCKET_BAD);
  }
  if (channel_ && pending_ > 0) ares_process_fd(channel_->raw, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // timeouts
  finish_if_complete();
  if (!done_ && Clock::now() >= deadline_) fail_timeout();
}

void DnsProbe::step(std::span<pollfd> extra, Duration max_wait) {
  for (auto& p : extra) p.revents = 0;
  if (done_) return;
  auto now = Clock::now();
  if (now >= deadline_) {
    fail_timeout();
    return;
  }
  // A copy: process() below may open or close sockets (sockets_ changes).
  std::vector<pollfd> fds(extra.begin(), extra.end());
  fds.insert(fds.end(), sockets_.begin(), sockets_.end());
  auto wait = std::min(now + max_wait, next_deadline(now)) - now;
  // Round up so we never spin with a zero timeout just before a deadline.
  int timeout_ms = static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(wait).count());
  int n = poll(fds.data(), static_cast<nfds_t>(fds.size()), timeout_ms);
  if (n < 0)  // EINTR: treat as a timeout pass
    for (auto& p : fds) p.revents = 0;
  for (std::size_t i = 0; i < extra.size(); ++i) extra[i].revents = fds[i].revents;
  process(std::span<const pollfd>(fds).subspan(extra.size()));
}

}  // namespace dbr::monitor
