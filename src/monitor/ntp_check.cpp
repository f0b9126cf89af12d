#include "monitor/ntp_check.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <string_view>

#include <fmt/format.h>

namespace dbr::monitor {

namespace {

// Room for a reply with a MAC or extension fields; only 48 bytes are read.
constexpr std::size_t kReceiveBuffer = 512;

bool is_ip_literal(const std::string& host) {
  in6_addr scratch{};
  return inet_pton(AF_INET, host.c_str(), &scratch) == 1 || inet_pton(AF_INET6, host.c_str(), &scratch) == 1;
}

// An IPv4 or IPv6 literal and a port as a socket address; false otherwise.
bool socket_address(const std::string& ip, std::uint16_t port, sockaddr_storage& out, socklen_t& length) {
  out = {};
  sockaddr_in v4{};
  if (inet_pton(AF_INET, ip.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    v4.sin_port = htons(port);
    std::memcpy(&out, &v4, sizeof v4);
    length = sizeof v4;
    return true;
  }
  sockaddr_in6 v6{};
  if (inet_pton(AF_INET6, ip.c_str(), &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(port);
    std::memcpy(&out, &v6, sizeof v6);
    length = sizeof v6;
    return true;
  }
  return false;
}

// "Name resolution APIs and libraries SHOULD recognize localhost names as
// special and SHOULD always return the IP loopback address" (RFC 6761 §6.3).
// Answered here, not by c-ares: bookworm's 1.18.1 leaks a copy of the name
// on every "localhost" lookup (fixed in 1.19.0), and a board may well run
// its own NTP server.
bool is_localhost(std::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  if (host.size() != 9) return false;
  for (std::size_t i = 0; i < host.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(host[i])) != "localhost"[i]) return false;
  return true;
}

std::string seconds_text(Duration d) { return fmt::format("{:g} s", to_seconds(d)); }

}  // namespace

NtpReport build_ntp_report(const NtpOutcome& outcome, std::optional<bool> clock_synchronized, TimePoint at,
                           std::optional<bool> previous_available) {
  NtpReport r;
  r.available = outcome.available;
  r.changed = !previous_available || *previous_available != outcome.available;
  r.clock_synchronized = clock_synchronized;
  r.at = at;
  if (outcome.available) {
    r.server = outcome.server;
    r.offset = std::chrono::round<std::chrono::milliseconds>(outcome.offset);
    r.delay = std::chrono::round<std::chrono::milliseconds>(outcome.delay);
    r.detail = fmt::format("stratum {} at {}", outcome.stratum, outcome.address);
  } else {
    for (const auto& failure : outcome.failures) r.detail += (r.detail.empty() ? "" : "; ") + failure;
    if (r.detail.empty()) r.detail = "no servers";
  }
  return r;
}

NtpCheck::NtpCheck(Options options)
    : options_(std::move(options)), dns_({options_.dns_servers, options_.attempt, /*hosts_file=*/true}) {}

NtpCheck::~NtpCheck() { cancel(); }

void NtpCheck::cancel() {
  dns_.cancel();
  close_socket();
  state_ = State::Idle;
}

void NtpCheck::close_socket() {
  if (socket_ >= 0) ::close(socket_);
  socket_ = -1;
}

void NtpCheck::start(TimePoint now) {
  cancel();
  outcome_ = NtpOutcome{};
  next_server_ = 0;
  check_deadline_ = now + options_.check_bound;
  begin_turn(now);
}

void NtpCheck::begin_turn(TimePoint now) {
  // A turn that ends at once (a resolver that cannot start, an unreachable
  // network) passes straight to the next server.
  while (state_ == State::Idle && !outcome_.available && next_server_ < options_.servers.size() &&
         now < check_deadline_) {
    const NtpServer& server = options_.servers[next_server_++];
    turn_deadline_ = std::min(now + options_.attempt, check_deadline_);
    turn_cut_by_bound_ = now + options_.attempt > check_deadline_;
    ignored_replies_ = 0;
    last_ignored_.clear();
    if (is_ip_literal(server.host)) {
      send_request(server.host);
    } else if (is_localhost(server.host)) {
      send_request("127.0.0.1");
    } else if (const auto* cached = answers_.find(server.host, now)) {
      send_request(cached->front());
    } else {
      state_ = State::Resolving;
      dns_.start(server.host, now);
      if (dns_.done()) after_resolving(now);
    }
  }
  if (state_ == State::Idle && !outcome_.available && next_server_ < options_.servers.size()) {
    std::string untried;
    for (; next_server_ < options_.servers.size(); ++next_server_)
      untried += (untried.empty() ? "" : ", ") + options_.servers[next_server_].name;
    outcome_.failures.push_back(
        fmt::format("not tried within the check's bound ({}): {}", seconds_text(options_.check_bound), untried));
  }
}

void NtpCheck::after_resolving(TimePoint now) {
  const DnsOutcome& resolved = dns_.outcome();
  if (!resolved.ok) {
    end_turn(resolved.error);
    return;
  }
  if (resolved.ttl) answers_.store(options_.servers[next_server_ - 1].host, resolved.addresses, *resolved.ttl, now);
  // The first answer, as upstream's sendto(host) uses getaddrinfo()'s first
  // (A records come first).
  send_request(resolved.addresses.front());
}

void NtpCheck::send_request(const std::string& address) {
  const NtpServer& server = options_.servers[next_server_ - 1];
  address_ = address;
  sockaddr_storage to{};
  socklen_t length = 0;
  if (!socket_address(address, server.port, to, length)) {
    end_turn(fmt::format("not an IP address: {}", address));
    return;
  }
  // Connected: the kernel delivers only the server's datagrams, and reports
  // an ICMP port unreachable as ECONNREFUSED.
  socket_ = ::socket(to.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (socket_ < 0 || ::connect(socket_, reinterpret_cast<const sockaddr*>(&to), length) != 0) {
    end_turn(fmt::format("cannot reach {}: {}", address, std::strerror(errno)));
    return;
  }
  // T1 on the wall clock, as the server's timestamps are; the arrival time
  // T4 is T1 plus the monotonic time elapsed, so a step of the wall clock
  // in between cannot distort the delay.
  sent_wall_ = std::chrono::system_clock::now();
  sent_mono_ = Clock::now();
  sent_ = sntp::to_ntp(sent_wall_);
  const sntp::Packet request = sntp::build_request(sent_);
  if (::send(socket_, request.data(), request.size(), 0) != static_cast<ssize_t>(request.size())) {
    end_turn(fmt::format("cannot send to {}: {}", address, std::strerror(errno)));
    return;
  }
  state_ = State::Exchanging;
}

std::vector<pollfd> NtpCheck::poll_fds() const {
  switch (state_) {
    case State::Resolving: return dns_.poll_fds();
    case State::Exchanging: return {pollfd{socket_, POLLIN, 0}};
    case State::Idle: break;
  }
  return {};
}

TimePoint NtpCheck::next_deadline(TimePoint now) const {
  if (state_ == State::Resolving) return std::min(dns_.next_deadline(now), turn_deadline_);
  return turn_deadline_;
}

void NtpCheck::process(std::span<const pollfd> fds, TimePoint now) {
  if (state_ == State::Resolving) {
    dns_.process(fds);
    if (dns_.done()) after_resolving(now);
  } else if (state_ == State::Exchanging) {
    bool ready = std::any_of(fds.begin(), fds.end(), [this](const pollfd& p) { return p.fd == socket_ && p.revents; });
    if (ready) read_replies();
  }
  if (state_ != State::Idle && now >= turn_deadline_) {
    dns_.cancel();
    std::string why = turn_cut_by_bound_
                          ? "no valid reply before the check's bound (" + seconds_text(options_.check_bound) + ")"
                      : state_ == State::Resolving ? "no address within " + seconds_text(options_.attempt)
                                                   : "no reply within " + seconds_text(options_.attempt);
    if (ignored_replies_ > 0)
      why += fmt::format(" ({} replies ignored, the last: {})", ignored_replies_, last_ignored_);
    end_turn(std::move(why));
  }
  begin_turn(now);
}

void NtpCheck::read_replies() {
  std::array<std::uint8_t, kReceiveBuffer> buffer{};
  for (int i = 0; i < kMaxDatagramsPerWake && state_ == State::Exchanging; ++i) {
    ssize_t n = ::recv(socket_, buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
      end_turn(errno == ECONNREFUSED ? fmt::format("{} refused the request (port unreachable)", address_)
                                     : fmt::format("receiving from {}: {}", address_, std::strerror(errno)));
      return;
    }
    const auto arrived_wall = sent_wall_ + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                               Clock::now() - sent_mono_);
    auto length = std::min(static_cast<std::size_t>(n), buffer.size());
    sntp::Reply reply = sntp::parse_reply(std::span(buffer.data(), length), sent_, sntp::to_ntp(arrived_wall));
    if (reply.accepted()) {
      succeed(reply);
      return;
    }
    if (sntp::ends_attempt(reply.rejection)) {
      end_turn(reply.detail);
      return;
    }
    ++ignored_replies_;  // stray, stale or forged: the real answer may still come
    last_ignored_ = reply.detail;
  }
}

void NtpCheck::succeed(const sntp::Reply& reply) {
  close_socket();
  state_ = State::Idle;
  outcome_.available = true;
  outcome_.server = options_.servers[next_server_ - 1].name;
  outcome_.address = address_;
  outcome_.offset = reply.offset;
  outcome_.delay = reply.delay;
  outcome_.stratum = reply.stratum;
}

void NtpCheck::end_turn(std::string failure) {
  close_socket();
  // A server that did not answer may have moved: resolve it again next time.
  answers_.forget(options_.servers[next_server_ - 1].host);
  outcome_.failures.push_back(fmt::format("{}: {}", options_.servers[next_server_ - 1].name, failure));
  state_ = State::Idle;
}

}  // namespace dbr::monitor
