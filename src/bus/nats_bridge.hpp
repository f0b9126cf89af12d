#pragma once
// The NATS bridge: one libnats connection to the local bus.
//
// dunebugger-protocol.md §2: connect as mQueueClientID with ping interval
// 5 s, 3 outstanding pings, reconnect wait 2 s and unlimited reconnects;
// subscribe <root>.<clientId>.*; probe <root>.core.heartbeat and
// <root>.scheduler.heartbeat every componentHeartbeatSecs, "the first one
// 30 s after start". §5: NATS missing at start must not stop the agent, so
// the connect is retried in the background (natsOptions_SetRetryOnFailedConnect)
// and runs on a connector thread, since its first attempt blocks (DNS,
// TCP connect timeout).
//
// Threads: the connection's socket is read and written on the loop thread
// (NatsSocket: libnats's external event loop, SendAsap), and the
// subscription is synchronous, drained on the loop after each read: libnats
// runs no read-loop, flusher or delivery thread for it. Its own timer,
// callback and GC threads remain (NatsLibrary); the link callbacks they run
// only copy a LinkNote into a loop::Mailbox. Every handler below runs on the
// loop thread.
//
// Bounds and what happens at them:
// - Inbound messages: each read event's messages go to an inbox of
//   `inbox_capacity` (1024) messages and `inbox_capacity_bytes` (4 MiB) of
//   payload that the loop hands on `deliver_batch` (128) at a time, letting
//   other work run between batches; when either bound is reached, the OLDEST
//   waiting messages are dropped and counted (a message alone over the byte
//   bound is kept: NATS's max_payload, 1 MiB by default, stays below it), and
//   a warning says how many: once per burst, then a summary a minute.
//   (libnats's own per-subscription limit, 65536 messages, is never reached:
//   the subscription is emptied after every read of at most 32 KiB.)
// - Outbound while NATS is down: publish() returns NotConnected and sends
//   nothing. A front-end command replayed minutes later (a relay switched
//   after the user gave up) is worse than a lost one, and the front end
//   refreshes on reconnect anyway. libnats's reconnect buffer, which catches
//   publishes racing a disconnect, is cut to `reconnect_buffer_bytes`
//   (64 KiB); beyond it libnats refuses them (NATS_INSUFFICIENT_BUFFER),
//   reported as NotConnected too.
// - Shutdown: a loop shutdown step ends the subscription and drains the
//   connection (pending publishes flushed) for at most `drain_timeout`,
//   then closes.
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include "bus/link_state.hpp"
#include "common/time.hpp"
#include "loop/burst_timer.hpp"
#include "loop/mailbox.hpp"
#include "loop/timer.hpp"

struct __natsConnection;
struct __natsMsg;
struct __natsSubscription;
struct __natsOptions;

namespace dbr::loop {
class EventLoop;
}

namespace dbr::bus {

struct Probe {
  std::string subject;
  std::string payload;
  bool operator==(const Probe&) const = default;
};

// The bus knows no message rules: the owner passes the subscription and the
// probes (subjects and payload) as plain values.

struct NatsOptions {
  std::vector<std::string> servers{"nats://nats-server:4222"};
  std::string name = "remote";                   // connection name (mQueueClientID)
  std::string subscription = "dunebugger.remote.*";
  Duration ping_interval = std::chrono::seconds(5);
  int max_pings_out = 3;
  Duration reconnect_wait = std::chrono::seconds(2);
  Duration connect_timeout = std::chrono::seconds(2);
  std::vector<Probe> probes;  // sent every probe_every while connected
  Duration probe_every = std::chrono::seconds(30);
  std::size_t inbox_capacity = 1024;
  std::size_t inbox_capacity_bytes = 4 * 1024 * 1024;  // payload bytes waiting; 4 x NATS's default max_payload
  Duration drop_summary_every = std::chrono::seconds(60);  // after a burst's first "inbox full" line
  std::size_t deliver_batch = 128;  // inbound messages handed on per loop turn
  int reconnect_buffer_bytes = 64 * 1024;
  Duration drain_timeout = std::chrono::seconds(1);
  bool operator==(const NatsOptions&) const = default;
};

struct BusMessage {
  std::string subject;
  std::string payload;
};

enum class PublishResult { Sent, NotConnected, Failed };

class NatsSocket;

// What libnats reports about the link, carried from its threads to the loop.
struct LinkNote {
  enum class Kind { Event, Error } kind = Kind::Event;
  LinkEvent event = LinkEvent::Connected;
  std::string text;  // Error: libnats's description
};

// What the bridge tells its owner, on the loop thread: each inbound message
// (moved), and the link's state on every change.
using BusEvent = std::variant<BusMessage, LinkState>;

class NatsBridge {
 public:
  using Handler = std::function<void(BusEvent&&)>;

  NatsBridge(loop::EventLoop& loop, NatsOptions options, Handler handler);
  ~NatsBridge();
  NatsBridge(const NatsBridge&) = delete;
  NatsBridge& operator=(const NatsBridge&) = delete;

  // Starts connecting in the background, arms the probe timer and registers
  // the shutdown step. Never fails for a missing server. Idempotent.
  void start();

  // Loop thread: drains (bounded by drain_timeout) or closes the
  // connection, then calls `done`. The owner runs it as its "nats" shutdown
  // step, once, for the bridge alive at shutdown.
  void begin_shutdown(std::function<void()> done);

  // Loop thread. NotConnected while the link is not up (nothing is queued).
  PublishResult publish(const std::string& subject, std::string_view payload);

  LinkState state() const { return state_; }
  // Inbound messages the inbox bound dropped so far.
  std::uint64_t inbox_dropped() const { return inbox_dropped_; }

  struct Context;  // shared with libnats callbacks (defined in the .cpp)

 private:
  void connect_in_background();
  void on_link_note(LinkNote&& note);
  void take_messages();
  void deliver();
  void retire(__natsMsg* msg);
  void free_retired();
  void on_probe_timer();
  void finish_shutdown();
  void close_connection();
  __natsConnection* connection() const;
  __natsSubscription* subscription() const;

  loop::EventLoop& loop_;
  NatsOptions options_;
  Handler handler_;
  __natsOptions* nats_options_ = nullptr;
  std::shared_ptr<Context> context_;
  std::unique_ptr<NatsSocket> socket_;
  std::deque<BusMessage> inbox_;
  std::size_t inbox_bytes_ = 0;  // payload bytes in inbox_
  std::uint64_t inbox_dropped_ = 0;
  std::uint64_t inbox_dropped_reported_ = 0;
  // Messages read and copied, to be freed together (retire()).
  std::vector<__natsMsg*> retired_;
  std::size_t retired_bytes_ = 0;
  loop::Timer free_retired_;
  loop::Timer deliver_soon_;  // a timer, not a Deferred: it lets the loop poll first
  loop::BurstTimer inbox_drops_;  // "NATS inbox full", once per burst
  loop::Mailbox<LinkNote> notes_;
  loop::Timer probe_timer_;
  loop::Timer drain_guard_;
  TimePoint next_probe_{};
  LinkState state_ = LinkState::Connecting;
  bool started_ = false;
  bool shutting_down_ = false;
  std::function<void()> shutdown_done_;

  mutable std::mutex handles_mutex_;  // the connector thread sets these once
  __natsConnection* connection_ = nullptr;
  __natsSubscription* subscription_ = nullptr;
  std::thread connector_;
};

// Owns libnats's global state: nats_Open at construction (which starts
// its timer, callback and GC threads, named here dbr-nats-timer,
// dbr-nats-cb and dbr-nats-gc), and at
// destruction nats_CloseAndWait, which waits for the library's threads so
// LeakSanitizer sees its memory released; only then it frees the bridges'
// retired callback tickets (libnats may call back after "closed"). Create one in main() before any
// NatsBridge and destroy it after the last one. It blocks the loop's
// signals (EventLoop::block_handled_signals) before libnats starts its
// threads, so SIGTERM/SIGINT/SIGHUP still reach the loop.
class NatsLibrary {
 public:
  NatsLibrary();
  ~NatsLibrary();
  NatsLibrary(const NatsLibrary&) = delete;
  NatsLibrary& operator=(const NatsLibrary&) = delete;
};

}  // namespace dbr::bus
