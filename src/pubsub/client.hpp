#pragma once
// The Web PubSub client on the loop: the thin adapter that drives ClientCore
// (core/client_core.hpp) with a real WebSocket (ws::Connection), a
// client-URL source and one timer. It executes the core's actions in order,
// hands the WebSocket's events to the core as they come (with the loop's
// `now`), writes the core's log lines, and hands every other event to its
// owner. It decides no policy.
#include <functional>
#include <memory>
#include <string>

#include "common/random.hpp"
#include "loop/timer.hpp"
#include "pubsub/core/client_core.hpp"
#include "pubsub/core/clock_skew.hpp"
#include "ws/codec/events.hpp"
#include "pubsub/url_source.hpp"

namespace dbr::loop {
class EventLoop;
}
namespace dbr::ws {
class Connection;
}

namespace dbr::pubsub {

// What the client reads from the config (the agent builds it).
struct ClientOptions {
  ClientCoreOptions core;
  std::string ca_file;                           // extra CAs on top of the system's
  std::size_t max_message_bytes = 1024 * 1024;  // a larger message closes with 1009
  bool operator==(const ClientOptions&) const = default;
};

class Client {
 public:
  // Every event of the core but its log lines (which the client writes):
  // one type, handed on once, moved.
  using Handler = std::function<void(Event&&)>;
  struct TransportOptions {
    Duration connect_timeout = std::chrono::seconds(15);
    Duration handshake_timeout = std::chrono::seconds(15);
    // Short: on shutdown the whole close must fit the 2 s the service gets.
    Duration close_timeout = std::chrono::milliseconds(1000);
    std::size_t send_queue_max_bytes = 4 << 20;
  };

  Client(loop::EventLoop& loop, Random& random, ClientOptions options, std::unique_ptr<ClientUrlSource> url_source,
         Handler handler);
  Client(loop::EventLoop& loop, Random& random, ClientOptions options, std::unique_ptr<ClientUrlSource> url_source,
         Handler handler, TransportOptions transport);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void start();
  // Clears the intent and closes with 1000; `done` runs once the transport
  // is gone (at once when none is open).
  void stop(std::function<void()> done);
  void internet(bool online);
  // `data_json`: one JSON value, sent as its text (dataType json).
  MessageId send_to_group(std::string data_json);
  // A config reload changed only timings (backoff, settle, keepalive) or the
  // outbox bound: applied without dropping the connection.
  void retune(const ClientCoreOptions& options);

  const ClientCore& core() const { return core_; }
  // scheme://host:port of the last connection attempt (safe to log).
  const std::string& hub_display() const { return hub_display_; }
  // The last failure or close, for status (no secrets).
  const std::string& last_error() const { return last_error_; }

 private:
  void open_new(const std::string& subprotocol);
  void open_transport(const std::string& url, const std::string& subprotocol);
  void drop_transport();
  void pump();
  void execute(Action&& action);
  void dispatch(Event&& event);
  // The current WebSocket's events; may destroy the Connection that reports them.
  void on_transport(ws::Event&& event);
  // The clocks when an upgrade response came: its Date against ours.
  std::optional<ClockReading> read_clocks(const ws::Event& event);
  void check_stopped();

  loop::EventLoop& loop_;
  Random& random_;
  std::string ca_file_;
  std::size_t max_message_bytes_;
  TransportOptions transport_;
  std::unique_ptr<ClientUrlSource> url_source_;
  Handler handler_;
  ClientCore core_;
  TokenClock token_clock_;
  loop::Timer timer_;
  std::unique_ptr<ws::Connection> connection_;
  std::string base_url_;  // the last new connection's URL: recoveries extend it
  std::string hub_display_;
  std::string last_error_;
  std::function<void()> stopped_;
  bool pumping_ = false;
};

}  // namespace dbr::pubsub
