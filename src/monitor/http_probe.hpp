#pragma once
// The HTTP(S) half of a check: HEAD the probe URL with libcurl, pinned to the
// addresses the DNS probe just returned, on the monitor thread, following
// redirects that stay on the probe's own site (redirects.hpp).
//
// The smallest answer: HEAD, so no body crosses the link (RFC 9110 §9.3.2:
// "identical to GET except that the server MUST NOT send content"), and no
// Accept-Encoding. A HEAD answered 4xx or 5xx is asked again with GET in
// the same check (servers refuse HEAD with 405, 501, 400 or 404); when GET
// succeeds there, the probe asks that server with GET from then on.
//
// One easy handle (and its multi) lives as long as the probe, so repeated
// probes reuse the kept-alive connection, or at least the TLS session: a
// full handshake every minute costs megabytes a day on a metered link. A
// check can ask for a fresh connection (after a link change the old one may
// be silently dead, and a reused connection would only fail by timeout).
//
// Every host the probe connects to is pinned with CURLOPT_RESOLVE, so curl
// never resolves a name itself: the probe host to the answer given to
// start(), another host of the same site (a redirect to www.<domain>) to
// the answer of its own c-ares lookup (DnsProbe, the same servers).
//
// Bounds: a response body (GET only) is discarded; after max_body_bytes the transfer
// is cut (the status line is already known, so that is no failure). All the
// hops and their lookups share one `timeout` (curl's own, plus a hard stop
// 1 s later).
#include <poll.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/time.hpp"
#include "monitor/dns_probe.hpp"
#include "monitor/outcome.hpp"
#include "monitor/probe_url.hpp"
#include "monitor/redirects.hpp"

#include "net/tls.hpp"

namespace dbr::monitor {

class HttpProbe {
 public:
  struct Options {
    std::string url;         // http:// or https://
    Duration timeout;        // the whole request, redirects and their lookups included
    std::string ca_file;     // extra trusted CAs, on top of the system's
    std::string user_agent;
    std::size_t max_body_bytes = 64 * 1024;
    std::vector<std::string> dns_servers;  // for redirect hosts; as DnsProbe's
  };

  // Throws std::invalid_argument for a URL parse_probe_url rejects, and
  // std::runtime_error when curl cannot be set up.
  explicit HttpProbe(Options options);
  ~HttpProbe();
  HttpProbe(const HttpProbe&) = delete;
  HttpProbe& operator=(const HttpProbe&) = delete;

  const ProbeTarget& target() const { return target_; }

  // Starts the request. `addresses` pin the probe host (CURLOPT_RESOLVE,
  // replacing the previous pins); empty for an IP-literal URL.
  // `fresh_connection` forbids reusing a kept-alive connection for the first
  // request (TLS sessions are still resumed).
  void start(const std::vector<std::string>& addresses, bool fresh_connection);
  // Waits at most `max_wait` for curl's (or a redirect lookup's) sockets or
  // any of `extra` (revents filled in), then advances the probe. Returns at
  // once when done().
  void step(std::span<pollfd> extra, Duration max_wait);
  bool done() const { return done_; }
  const HttpOutcome& outcome() const { return outcome_; }
  void cancel();

 private:
  struct Curl;
  using Resolved = std::pair<std::string, std::vector<std::string>>;  // normalized host, addresses
  static std::size_t on_body(char* data, std::size_t size, std::size_t count, void* self);
  void begin_request(const std::string& url, const ProbeTarget& target, bool fresh_connection);
  const std::vector<std::string>* addresses_of(const std::string& host) const;  // null: not resolved yet
  void pin(const ProbeTarget& target);
  void follow(RedirectVerdict redirect);
  void step_lookup(std::span<pollfd> extra, Duration max_wait);
  void collect();
  void finish(HttpOutcome outcome);
  HttpOutcome timed_out() const;

  Options options_;
  net::TrustSources trust_;  // read by curl during each TLS handshake
  ProbeTarget target_;
  std::unique_ptr<Curl> curl_;
  TimePoint started_{};
  TimePoint deadline_{};     // started_ + timeout: every hop and lookup ends by it
  std::size_t body_bytes_ = 0;
  bool body_cut_ = false;
  bool done_ = true;
  HttpOutcome outcome_;
  // This check's redirects: the chain, the hosts resolved so far, the
  // lookup running for the next hop and that hop.
  std::optional<RedirectChain> chain_;
  std::vector<Resolved> resolved_;
  std::optional<DnsProbe> lookup_;
  RedirectVerdict pending_hop_;
  std::vector<std::string> pinned_;  // "host:port" entries in curl's DNS cache
  std::string hop_url_;              // the request in flight, to ask again with GET
  ProbeTarget hop_target_;
  bool use_get_ = false;             // ask with GET: the server refused HEAD
  bool get_on_trial_ = false;        // this check switched to GET; kept only if GET succeeds
};

}  // namespace dbr::monitor
