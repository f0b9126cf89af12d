#pragma once
// A WebSocket client connection over libcurl, on the event loop: the thin
// adapter around ws::Codec (codec.hpp), which holds every protocol rule.
//
// Transport: curl connects to http(s)://host:port with CURLOPT_CONNECT_ONLY
// (bookworm's libcurl has no ws:// support), through its own CurlMulti, so
// DNS, TCP and TLS never block the loop; then curl_easy_send/recv carry the
// upgrade request and the frames. TLS is always verified (system CAs plus
// Options::ca_file). Proxies come from the usual environment variables
// (curl reads them), always through a CONNECT tunnel.
//
// Why a private CurlMulti per connection: a CONNECT_ONLY connection lives in
// its multi's connection cache, where another transfer on the same multi
// prunes it as "too old" once it has been idle past that transfer's
// CURLOPT_MAXAGE_CONN (118 s by default), and curl_easy_send then fails;
// tests/integration/net checks that libcurl behaviour.
//
// Events: one handler gets every ws::Event (events.hpp) as the codec made
// it, moved: Opened once, Message per message, Activity when bytes arrive
// (proof of life), then exactly one terminal Closed or Failure per open().
// None after abort() or destruction. Events are only delivered from loop
// callbacks, never from inside open(), send_text() or close(). The owner may
// destroy the Connection inside the handler.
//
// Send queue bound: encoded frames wait in a queue of at most
// send_queue_max_bytes of data. When send_text() would take it over the
// bound, the peer is not reading: send_text() returns false and the
// connection fails with FailureKind::SendQueueFull (reported on the next
// loop iteration); the owner's reconnect path takes over and resends what
// was not acknowledged. Pongs and the Close frame are exempt (one of each
// at most). A message larger than the bound can never be sent and fails
// the same way.
//
// Closing: close() sends a Close frame behind the queued data and waits up
// to close_timeout for the server's Close, then reports
// Closed{by_peer=false} (clean, with the server's code; or code 1006 when
// the server did not answer). A server's Close is echoed and reported as
// Closed{by_peer=true}. EOF or reset after open: Closed{1006, clean=false}.
#include <curl/curl.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/random.hpp"
#include "common/time.hpp"
#include "loop/io_watch.hpp"
#include "loop/timer.hpp"
#include "net/curl_multi.hpp"
#include "net/tls.hpp"
#include "ws/codec/codec.hpp"
#include "ws/codec/events.hpp"
#include "ws/codec/url.hpp"

namespace dbr::loop {
class EventLoop;
}

namespace dbr::ws {

class Connection {
 public:
  struct Options {
    std::string url;  // ws:// or wss://; its query may hold a token: never logged
    std::vector<std::string> subprotocols;
    std::vector<std::string> extra_headers;  // "Name: value"
    std::string ca_file;                     // extra trusted CAs (PEM); empty: system CAs only
    Duration connect_timeout = std::chrono::seconds(10);    // DNS + TCP + TLS
    Duration handshake_timeout = std::chrono::seconds(10);  // request sent -> 101
    Duration close_timeout = std::chrono::seconds(3);
    std::size_t max_message_bytes = 1 << 20;
    std::size_t send_queue_max_bytes = 4 << 20;
  };
  using Handler = std::function<void(Event&&)>;

  Connection(loop::EventLoop& loop, Random& random, Options options, Handler handler);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Starts connecting. Call once.
  void open();
  // Queues a text message. False when it was not queued: not open, invalid
  // UTF-8, or the send queue is full (then the connection fails, see above).
  bool send_text(std::string_view text);
  bool send_binary(std::span<const std::uint8_t> bytes);
  // Starts the close handshake (or ends a connection that is not open yet).
  void close(std::uint16_t code, std::string_view reason);
  // Drops the connection at once, without any further event.
  void abort();

  bool is_open() const { return codec_.phase() == Codec::Phase::Open; }
  std::size_t queued_bytes() const { return codec_.queued_bytes(); }
  // "ws(s)://host:port": safe to log.
  const std::string& display_url() const { return display_url_; }
  // Inputs the codec did not expect in its phase (each logged as a WARNING).
  std::uint64_t unexpected_inputs() const { return unexpected_inputs_; }

 private:
  void on_connect_done(CURLcode rc);
  void on_io(std::uint32_t ready);
  // Reads until CURLE_AGAIN, EOF, an error or the per-callback budget.
  void read_input();
  void flush_output();
  // Delivers events, then re-arms the timer and watch or tears down.
  void pump();
  void teardown_transport();
  Failure classify_connect_error(CURLcode rc) const;

  loop::EventLoop& loop_;
  Options options_;
  Handler handler_;
  std::optional<WsUrl> url_;
  std::string transport_url_;
  std::string display_url_;
  net::TrustSources trust_;  // read by curl during each TLS handshake
  Codec codec_;
  bool opened_ = false;
  std::uint64_t unexpected_inputs_ = 0;

  std::unique_ptr<net::CurlMulti> multi_;
  CURL* easy_ = nullptr;
  char curl_error_[CURL_ERROR_SIZE] = {};
  curl_socket_t socket_ = CURL_SOCKET_BAD;
  std::unique_ptr<loop::IoWatch> watch_;
  // A watch torn down from inside its own handler; destroyed later.
  std::unique_ptr<loop::IoWatch> retired_watch_;
  bool want_write_ = false;
  bool resume_read_ = false;

  loop::Timer deadline_timer_;  // the codec's next deadline
  loop::Timer kick_;            // zero-delay: deliver events outside the caller's stack
  std::vector<std::uint8_t> read_buffer_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace dbr::ws
