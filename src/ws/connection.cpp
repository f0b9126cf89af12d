#include "ws/connection.hpp"

#include <string>

#include "log/log.hpp"
#include "net/curl_error.hpp"
#include "loop/event_loop.hpp"

namespace dbr::ws {

namespace {

// One recv() worth; a readable event reads at most kReadBudget before
// yielding to the rest of the loop (and resumes on the next iteration,
// since TLS may hold decrypted bytes that epoll will not announce again).
constexpr std::size_t kReadChunk = 64 * 1024;
constexpr std::size_t kReadBudget = 1024 * 1024;

CodecOptions codec_options(const Connection::Options& o, const std::optional<WsUrl>& url) {
  CodecOptions c;
  if (url) {
    c.host_header = url->host_header();
    c.target = url->target;
  }
  c.subprotocols = o.subprotocols;
  c.extra_headers = o.extra_headers;
  c.connect_timeout = o.connect_timeout;
  c.handshake_timeout = o.handshake_timeout;
  c.close_timeout = o.close_timeout;
  c.max_message_bytes = o.max_message_bytes;
  c.send_queue_max_bytes = o.send_queue_max_bytes;
  return c;
}

}  // namespace

Connection::Connection(loop::EventLoop& loop, Random& random, Options options, Handler handler)
    : loop_(loop),
      options_(std::move(options)),
      handler_(std::move(handler)),
      url_(parse_ws_url(options_.url)),
      transport_url_(url_ ? url_->transport_url() : std::string()),
      display_url_(url_ ? url_->display() : std::string("(invalid URL)")),
      trust_(net::TrustSources::system_plus(options_.ca_file)),
      codec_(random, codec_options(options_, url_)),
      deadline_timer_(loop, [this] {
        codec_.on_timeout(loop_.now());
        pump();
      }),
      kick_(loop,
            [this] {
              retired_watch_.reset();
              if (resume_read_) {
                resume_read_ = false;
                read_input();
              }
              pump();
            }),
      read_buffer_(kReadChunk) {}

Connection::~Connection() {
  *alive_ = false;
  codec_.abandon();
  teardown_transport();
}

void Connection::open() {
  if (opened_) throw std::logic_error("ws::Connection::open called twice");
  opened_ = true;
  const TimePoint now = loop_.now();
  codec_.start(now);
  kick_.arm_in(Duration::zero());
  if (!url_) {
    Failure f;
    f.kind = FailureKind::InvalidUrl;
    f.detail = "not a ws:// or wss:// URL with a host";
    codec_.on_connect_failed(now, std::move(f));
    return;
  }
  multi_ = std::make_unique<net::CurlMulti>(loop_);
  easy_ = curl_easy_init();
  if (easy_ == nullptr) {
    codec_.on_connect_failed(now, Failure{FailureKind::Io, 0, std::nullopt, 0, "curl_easy_init failed"});
    return;
  }
  (void)curl_easy_setopt(easy_, CURLOPT_URL, transport_url_.c_str());
  (void)curl_easy_setopt(easy_, CURLOPT_CONNECT_ONLY, 1L);
  (void)curl_easy_setopt(easy_, CURLOPT_PROTOCOLS_STR, "http,https");
  // ALPN must not offer h2: the upgrade is an HTTP/1.1 request.
  (void)curl_easy_setopt(easy_, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  // Through an HTTP proxy (from http_proxy/https_proxy/no_proxy), tunnel
  // with CONNECT for ws:// as well: the proxy must not see our request.
  (void)curl_easy_setopt(easy_, CURLOPT_HTTPPROXYTUNNEL, 1L);
  (void)curl_easy_setopt(easy_, CURLOPT_CONNECTTIMEOUT_MS,
                         static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                               options_.connect_timeout)
                                               .count()));
  (void)curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
  (void)curl_easy_setopt(easy_, CURLOPT_ERRORBUFFER, curl_error_);
  net::set_tls_verification(easy_, trust_);
  multi_->add(easy_, [this](CURLcode rc) { on_connect_done(rc); });
}

bool Connection::send_text(std::string_view text) {
  const bool queued = codec_.send_text(loop_.now(), text);
  if (queued) flush_output();
  kick_.arm_in(Duration::zero());
  return queued;
}

bool Connection::send_binary(std::span<const std::uint8_t> bytes) {
  const bool queued = codec_.send_binary(loop_.now(), bytes);
  if (queued) flush_output();
  kick_.arm_in(Duration::zero());
  return queued;
}

void Connection::close(std::uint16_t code, std::string_view reason) {
  codec_.close(loop_.now(), code, reason);
  flush_output();
  kick_.arm_in(Duration::zero());
}

void Connection::abort() {
  codec_.abandon();
  teardown_transport();
}

Failure Connection::classify_connect_error(CURLcode rc) const {
  Failure f;
  f.kind = net::failure_kind_of(net::classify_curl_error(rc));
  // curl only ever saw scheme://host:port/, so its message holds no token.
  f.detail = display_url_ + ": " + net::curl_error_text(rc, curl_error_);
  if (f.kind == FailureKind::Timeout) f.detail = "connect (DNS, TCP, TLS) timed out: " + f.detail;
  return f;
}

void Connection::on_connect_done(CURLcode rc) {
  const TimePoint now = loop_.now();
  if (rc != CURLE_OK) {
    codec_.on_connect_failed(now, classify_connect_error(rc));
    pump();
    return;
  }
  curl_socket_t fd = CURL_SOCKET_BAD;
  if (curl_easy_getinfo(easy_, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK || fd == CURL_SOCKET_BAD) {
    codec_.on_connect_failed(now, Failure{FailureKind::Io, 0, std::nullopt, 0, "no socket after connect"});
    pump();
    return;
  }
  socket_ = fd;
  // curl stopped watching the socket when the transfer completed, so this
  // watch is the only one on it.
  watch_ = std::make_unique<loop::IoWatch>(loop_, fd, loop::IoWatch::kRead, [this](std::uint32_t ready) { on_io(ready); });
  codec_.on_connected(now);
  pump();
}

void Connection::on_io(std::uint32_t ready) {
  retired_watch_.reset();
  // A blocked TLS write may wait on a read (a TLS 1.3 key update), so any
  // readiness retries it.
  if ((ready & loop::IoWatch::kWrite) || want_write_) flush_output();
  if (ready & loop::IoWatch::kRead) read_input();
  pump();
}

void Connection::read_input() {
  std::size_t total = 0;
  while (easy_ != nullptr && !codec_.finished()) {
    std::size_t n = 0;
    CURLcode rc = curl_easy_recv(easy_, read_buffer_.data(), read_buffer_.size(), &n);
    if (rc == CURLE_AGAIN) return;
    const TimePoint now = loop_.now();
    if (rc != CURLE_OK) {
      codec_.on_transport_error(now, std::string("receive failed: ") + curl_easy_strerror(rc));
      return;
    }
    if (n == 0) {
      codec_.on_eof(now);
      return;
    }
    codec_.on_bytes(now, {read_buffer_.data(), n});
    total += n;
    if (total >= kReadBudget) {
      // Resume on the next iteration even if epoll stays quiet.
      resume_read_ = true;
      kick_.arm_in(Duration::zero());
      return;
    }
  }
}

void Connection::flush_output() {
  if (easy_ == nullptr || socket_ == CURL_SOCKET_BAD) return;
  while (!codec_.finished()) {
    auto out = codec_.pending_output();
    if (out.empty()) break;
    std::size_t n = 0;
    CURLcode rc = curl_easy_send(easy_, out.data(), out.size(), &n);
    if (rc == CURLE_AGAIN) {
      codec_.pin_output();
      want_write_ = true;
      return;
    }
    if (rc != CURLE_OK) {
      codec_.on_transport_error(loop_.now(), std::string("send failed: ") + curl_easy_strerror(rc));
      break;
    }
    codec_.consume_output(loop_.now(), n);
  }
  want_write_ = false;
}

void Connection::pump() {
  std::shared_ptr<bool> alive = alive_;
  flush_output();
  while (auto event = codec_.poll_event()) {
    std::visit(
        [this](auto&& e) {
          using T = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<T, UnexpectedInput>) {
            // This adapter's mistake, not the peer's: the codec changed nothing.
            ++unexpected_inputs_;
            log::warn("{} ({}), ignoring", describe(e), display_url_);
          } else {
            if constexpr (std::is_same_v<T, Opened>)
              log::debug("websocket open to {} (subprotocol '{}')", display_url_, e.subprotocol);
            // May destroy this Connection: nothing of it is touched after.
            handler_(Event{std::move(e)});
          }
        },
        std::move(*event));
    if (!*alive) return;  // the owner destroyed us
  }
  if (codec_.finished()) {
    teardown_transport();
    return;
  }
  deadline_timer_.arm_at(codec_.next_deadline());
  if (watch_) watch_->set_events(loop::IoWatch::kRead | (want_write_ ? loop::IoWatch::kWrite : 0u));
}

void Connection::teardown_transport() {
  deadline_timer_.cancel();
  if (watch_) {
    // Possibly called from inside this watch's handler: disable it now,
    // destroy it later.
    watch_->set_events(0);
    retired_watch_ = std::move(watch_);
  }
  socket_ = CURL_SOCKET_BAD;
  want_write_ = false;
  if (easy_ != nullptr) {
    multi_->remove(easy_);
    // Cleaning the multi closes the connection it cached (the socket).
    multi_.reset();
    curl_easy_cleanup(easy_);
    easy_ = nullptr;
  }
  multi_.reset();
}

}  // namespace dbr::ws
