#pragma once
// The HTTP(S) half of a check: GET the probe URL with libcurl, pinned to the
// addresses the DNS probe just returned, on the monitor thread.
//
// One easy handle (and its multi) lives as long as the probe, so repeated
// probes reuse the kept-alive connection, or at least the TLS session: a
// full handshake every minute costs megabytes a day on a metered link. A
// check can ask for a fresh connection (after a link change the old one may
// be silently dead, and a reused connection would only fail by timeout).
//
// Bounds: the response body is discarded; after max_body_bytes the transfer
// is cut (the status line is already known, so that is no failure). The
// transfer is bounded by `timeout` (curl's own, plus a hard stop 1 s later).
#include <poll.h>

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/time.hpp"
#include "monitor/outcome.hpp"
#include "monitor/probe_url.hpp"

#include "net/tls.hpp"

namespace dbr::monitor {

class HttpProbe {
 public:
  struct Options {
    std::string url;         // http:// or https://
    Duration timeout;
    std::string ca_file;     // extra trusted CAs, on top of the system's
    std::string user_agent;
    std::size_t max_body_bytes = 64 * 1024;
  };

  // Throws std::invalid_argument for a URL parse_probe_url rejects, and
  // std::runtime_error when curl cannot be set up.
  explicit HttpProbe(Options options);
  ~HttpProbe();
  HttpProbe(const HttpProbe&) = delete;
  HttpProbe& operator=(const HttpProbe&) = delete;

  const ProbeTarget& target() const { return target_; }

  // Starts the GET. `addresses` pin the host (CURLOPT_RESOLVE, replacing the
  // previous pin); empty for an IP-literal URL. `fresh_connection` forbids
  // reusing a kept-alive connection (TLS sessions are still resumed).
  void start(const std::vector<std::string>& addresses, bool fresh_connection);
  // Waits at most `max_wait` for curl's sockets or any of `extra` (revents
  // filled in), then advances the transfer. Returns at once when done().
  void step(std::span<pollfd> extra, Duration max_wait);
  bool done() const { return done_; }
  const HttpOutcome& outcome() const { return outcome_; }
  void cancel();

 private:
  struct Curl;
  static std::size_t on_body(char* data, std::size_t size, std::size_t count, void* self);
  void collect();
  void finish(HttpOutcome outcome);

  Options options_;
  net::TrustSources trust_;  // read by curl during each TLS handshake
  ProbeTarget target_;
  std::unique_ptr<Curl> curl_;
  TimePoint started_{};
  std::size_t body_bytes_ = 0;
  bool body_cut_ = false;
  bool running_ = false;
  bool done_ = true;
  HttpOutcome outcome_;
};

}  // namespace dbr::monitor
