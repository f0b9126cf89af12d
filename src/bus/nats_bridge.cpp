#include "bus/nats_bridge.hpp"

#include <fcntl.h>
#include <nats/nats.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

#include "bus/nats_socket.hpp"
#include "common/small_file.hpp"
#include "common/thread_name.hpp"
#include "log/log.hpp"
#include "loop/event_loop.hpp"

namespace dbr::bus {

// What libnats callbacks may touch: the link-note mailbox and the socket
// requests, while attached. The bridge detaches (under the mutex) before it
// destroys the mailbox and the NatsSocket, so a callback either acts before
// that or sees `attached == false`.
//
// Lifetime: libnats gets raw pointers to heap-allocated shared_ptr copies
// ("tickets"). The connection's ticket is NOT freed by the closed callback:
// that is not libnats's last call. When the server goes away during a
// drain, libnats posts "closed" and then the drain's failed-flush error (an
// ASan heap-use-after-free in on_async_error;
// tests/unit/bus/test_callback_lifetime), and the event-loop callbacks may
// still run on its threads. Only nats_CloseAndWait knows that every callback
// has run, so the closed callback retires the ticket and ~NatsLibrary frees
// it after that wait. So the Context outlives every callback.
struct NatsBridge::Context {
  std::mutex mutex;
  bool attached = true;
  loop::Mailbox<LinkNote>* notes = nullptr;
  NatsSocket* socket = nullptr;
  SocketRequests requests;
  // A dup of the socket's eventfd: written after `mutex` is released, so it
  // must stay valid even if the bridge is gone by then (then nobody reads
  // it). Closed with the Context, after the last callback.
  int wake_fd = -1;

  ~Context() {
    if (wake_fd >= 0) ::close(wake_fd);
  }

  void post(LinkNote note) {
    std::lock_guard lock(mutex);
    if (attached) notes->post(std::move(note));
  }

  // With `mutex` held, after changing `requests`: true when the caller, on
  // another thread, must wake the loop (wake()) once it released `mutex`.
  bool requested() {
    if (!socket->on_loop_thread()) return true;
    socket->requested_on_loop();
    return false;
  }
  void wake() const {
    std::uint64_t one = 1;
    (void)!::write(wake_fd, &one, sizeof one);
  }
};

namespace {

using Ticket = std::shared_ptr<NatsBridge::Context>;

NatsBridge::Context& context_of(void* closure) { return **static_cast<Ticket*>(closure); }

// Connection tickets whose closed callback ran. Bound: one per connection,
// i.e. one per NatsBridge (a reload that changes [MessageQueue] makes one
// more); freed by ~NatsLibrary.
std::mutex retired_mutex;
std::vector<Ticket*> retired_tickets;

void retire(Ticket* ticket) {
  std::lock_guard lock(retired_mutex);
  retired_tickets.push_back(ticket);
}

void free_retired_tickets() {
  std::lock_guard lock(retired_mutex);
  for (Ticket* t : retired_tickets) delete t;
  retired_tickets.clear();
}

std::int64_t to_ms(Duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

// Copied messages are freed in batches of up to kRetiredMessages or
// kRetiredBytes, or after kRetiredWait (+ kRetiredSlack, so with another
// wakeup): libnats frees a message on its GC thread and wakes that thread
// for each one otherwise.
constexpr std::size_t kRetiredMessages = 64;
constexpr std::size_t kRetiredBytes = 64 * 1024;
constexpr std::chrono::seconds kRetiredWait{30};
constexpr std::chrono::seconds kRetiredSlack{30};

// How long the connector thread waits for the server to confirm the
// subscription (a PING/PONG round trip) before it reports "connected".
constexpr std::chrono::milliseconds kSubscriptionConfirmTimeout{2000};

std::string describe_status(natsStatus s) {
  std::string out = natsStatus_GetText(s);
  const char* text = nats_GetLastError(nullptr);
  if (text && *text && out != text) out.append(" (").append(text).append(")");
  return out;
}

void check(natsStatus s, const char* what) {
  if (s != NATS_OK) throw std::runtime_error(std::string(what) + ": " + natsStatus_GetText(s));
}

// ---- libnats callbacks: libnats threads; copy values, post, return. ----

// libnats's external event loop (NatsSocket): record, ask the loop, return.
// They run under the connection's lock, so one at a time.

natsStatus on_attach(void** user_data, void* ticket, natsConnection* nc, natsSock socket) {
  *user_data = ticket;
  auto& c = context_of(ticket);
  bool wake = false;
  {
    std::lock_guard lock(c.mutex);
    if (!c.attached) return NATS_OK;
    int watched = ::fcntl(socket, F_DUPFD_CLOEXEC, 0);
    if (watched < 0) return NATS_SYS_ERROR;
    if (c.requests.attached_fd >= 0) ::close(c.requests.attached_fd);  // never taken by the loop
    c.requests = {nc, watched, true, false};
    wake = c.requested();
  }
  if (wake) c.wake();
  return NATS_OK;
}

// read(add) and write(add): `field` is the request they change.
natsStatus on_interest(void* ticket, bool SocketRequests::*field, bool add) {
  auto& c = context_of(ticket);
  bool wake = false;
  {
    std::lock_guard lock(c.mutex);
    if (!c.attached || c.requests.*field == add) return NATS_OK;
    c.requests.*field = add;
    wake = c.requested();
  }
  if (wake) c.wake();
  return NATS_OK;
}

natsStatus on_read_request(void* ticket, bool add) { return on_interest(ticket, &SocketRequests::read, add); }

natsStatus on_write_request(void* ticket, bool add) { return on_interest(ticket, &SocketRequests::write, add); }

natsStatus on_detach(void* ticket) {
  auto& c = context_of(ticket);
  bool wake = false;
  {
    std::lock_guard lock(c.mutex);
    if (!c.attached) return NATS_OK;
    c.requests.read = false;
    c.requests.write = false;
    wake = c.requested();
  }
  if (wake) c.wake();
  return NATS_OK;
}

void on_connected(natsConnection*, void* closure) { context_of(closure).post({LinkNote::Kind::Event, LinkEvent::Connected, {}}); }

void on_disconnected(natsConnection*, void* closure) {
  context_of(closure).post({LinkNote::Kind::Event, LinkEvent::Disconnected, {}});
}

void on_reconnected(natsConnection*, void* closure) {
  context_of(closure).post({LinkNote::Kind::Event, LinkEvent::Reconnected, {}});
}

void on_closed(natsConnection*, void* closure) {
  context_of(closure).post({LinkNote::Kind::Event, LinkEvent::Closed, {}});
  retire(static_cast<Ticket*>(closure));  // a drain error may still follow
}

void on_async_error(natsConnection*, natsSubscription*, natsStatus err, void* closure) {
  context_of(closure).post({LinkNote::Kind::Error, LinkEvent::Connected, natsStatus_GetText(err)});
}

}  // namespace

NatsBridge::NatsBridge(loop::EventLoop& loop, NatsOptions options, Handler handler)
    : loop_(loop),
      options_(std::move(options)),
      handler_(std::move(handler)),
      context_(std::make_shared<Context>()),
      socket_(std::make_unique<NatsSocket>(loop, context_->mutex, context_->requests, [this] { take_messages(); })),
      free_retired_(loop, [this] { free_retired(); }, kRetiredSlack),
      deliver_soon_(loop, [this] { deliver(); }),
      inbox_drops_(loop, options_.drop_summary_every,
                   [this](std::uint64_t more) {
                     log::warn("NATS inbox full: {} more message(s) dropped in the last {} s, oldest first", more,
                               std::chrono::duration_cast<std::chrono::seconds>(options_.drop_summary_every).count());
                   }),
      notes_(loop, 64, [this](LinkNote&& n) { on_link_note(std::move(n)); }),
      probe_timer_(loop, [this] { on_probe_timer(); }),
      drain_guard_(loop, [this] {
        log::warn("NATS drain did not finish within {} ms; closing", to_ms(options_.drain_timeout));
        close_connection();
        finish_shutdown();
      }) {
  context_->notes = &notes_;
  context_->socket = socket_.get();
  context_->wake_fd = ::fcntl(socket_->wakeup_fd(), F_DUPFD_CLOEXEC, 0);
  if (context_->wake_fd < 0) throw std::runtime_error("cannot dup the NATS socket's eventfd");

  check(natsOptions_Create(&nats_options_), "natsOptions_Create");
  std::vector<const char*> servers;
  for (const auto& s : options_.servers) servers.push_back(s.c_str());
  check(natsOptions_SetServers(nats_options_, servers.data(), static_cast<int>(servers.size())),
        "natsOptions_SetServers");
  // Keep the configured order (the Python client did not shuffle either).
  check(natsOptions_SetNoRandomize(nats_options_, true), "natsOptions_SetNoRandomize");
  check(natsOptions_SetName(nats_options_, options_.name.c_str()), "natsOptions_SetName");
  check(natsOptions_SetPingInterval(nats_options_, to_ms(options_.ping_interval)), "natsOptions_SetPingInterval");
  check(natsOptions_SetMaxPingsOut(nats_options_, options_.max_pings_out), "natsOptions_SetMaxPingsOut");
  check(natsOptions_SetAllowReconnect(nats_options_, true), "natsOptions_SetAllowReconnect");
  // §4.4: "max_reconnect_attempts=-1: with the library default the client
  // eventually gives up for good."
  check(natsOptions_SetMaxReconnect(nats_options_, -1), "natsOptions_SetMaxReconnect");
  check(natsOptions_SetReconnectWait(nats_options_, to_ms(options_.reconnect_wait)), "natsOptions_SetReconnectWait");
  check(natsOptions_SetTimeout(nats_options_, to_ms(options_.connect_timeout)), "natsOptions_SetTimeout");
  check(natsOptions_SetReconnectBufSize(nats_options_, options_.reconnect_buffer_bytes),
        "natsOptions_SetReconnectBufSize");
  // Publishes are written by the loop (NatsSocket) when they are made,
  // not batched for up to 1 ms by a flusher thread.
  check(natsOptions_SetSendAsap(nats_options_, true), "natsOptions_SetSendAsap");
}

NatsBridge::~NatsBridge() {
  if (connector_.joinable()) connector_.join();
  free_retired();
  // Written out now, so the close below does not wait for a PONG.
  socket_->write_now();
  {
    std::lock_guard lock(context_->mutex);
    context_->attached = false;
  }
  if (subscription_) natsSubscription_Destroy(subscription_);
  if (connection_) natsConnection_Destroy(connection_);  // closes first if still open
  natsOptions_Destroy(nats_options_);
}

void NatsBridge::start() {
  if (started_) return;
  started_ = true;
  connector_ = std::thread([this] { connect_in_background(); });
  name_thread(connector_, "dbr-nats-conn");
  // §2: "Liveness probes go out every 30 s, the first one 30 s after start".
  next_probe_ = loop_.now() + options_.probe_every;
  probe_timer_.arm_at(next_probe_);
}

// Connector thread: natsConnection_Connect's first pass (DNS, TCP connect)
// blocks, so it does not run on the loop.
void NatsBridge::connect_in_background() {
  auto* conn_ticket = new Ticket(context_);
  natsOptions* opts = nats_options_;
  natsStatus s = natsOptions_SetRetryOnFailedConnect(opts, true, on_connected, conn_ticket);
  if (s == NATS_OK) s = natsOptions_SetDisconnectedCB(opts, on_disconnected, conn_ticket);
  if (s == NATS_OK) s = natsOptions_SetReconnectedCB(opts, on_reconnected, conn_ticket);
  if (s == NATS_OK) s = natsOptions_SetClosedCB(opts, on_closed, conn_ticket);
  if (s == NATS_OK) s = natsOptions_SetErrorHandler(opts, on_async_error, conn_ticket);
  // The ticket stands for "the loop" in libnats's event-loop contract: it
  // hands it back to on_attach.
  if (s == NATS_OK)
    s = natsOptions_SetEventLoop(opts, conn_ticket, on_attach, on_read_request, on_write_request, on_detach);
  if (s != NATS_OK) {
    context_->post({LinkNote::Kind::Error, LinkEvent::Connected, "cannot set NATS options: " + describe_status(s)});
    delete conn_ticket;
    return;
  }
  natsConnection* nc = nullptr;
  s = natsConnection_Connect(&nc, opts);
  if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) {
    // No connection object, so no callback will ever use the ticket.
    context_->post({LinkNote::Kind::Error, LinkEvent::Connected, "connect failed: " + describe_status(s)});
    if (nc) natsConnection_Destroy(nc);
    delete conn_ticket;
    return;
  }
  // Subscribe before reporting "connected", so nothing the loop publishes
  // on that news can get an answer before the SUB reached the server.
  // While not yet connected libnats keeps the SUB and sends it on connect.
  // Synchronous: its messages wait in libnats until the loop takes them
  // (take_messages), so libnats runs no delivery thread for it.
  natsSubscription* sub = nullptr;
  natsStatus sub_status = natsConnection_SubscribeSync(&sub, nc, options_.subscription.c_str());
  if (sub_status != NATS_OK)
    context_->post({LinkNote::Kind::Error, LinkEvent::Connected,
                    "cannot subscribe to " + options_.subscription + ": " + describe_status(sub_status)});
  {
    std::lock_guard lock(handles_mutex_);
    connection_ = nc;
    subscription_ = sub;
  }
  if (s == NATS_OK) {
    // natsConnection_Subscribe only queues the SUB. A PING/PONG round trip
    // makes sure the server holds it before we say "subscribed": a
    // component that publishes on that news (from its own connection) is
    // then heard, not dropped by the server. Bounded; this thread may block.
    if (sub_status == NATS_OK) {
      natsStatus flushed = natsConnection_FlushTimeout(nc, to_ms(kSubscriptionConfirmTimeout));
      if (flushed != NATS_OK)
        context_->post({LinkNote::Kind::Error, LinkEvent::Connected,
                        "the server did not confirm the subscription to " + options_.subscription + " within " +
                            std::to_string(to_ms(kSubscriptionConfirmTimeout)) + " ms: " + describe_status(flushed)});
    }
    // The connected callback only reports connects that succeed after the
    // first pass; a first-pass success is reported here.
    context_->post({LinkNote::Kind::Event, LinkEvent::Connected, {}});
  } else {
    context_->post({LinkNote::Kind::Error, LinkEvent::Connected,
                    "no server reachable yet; retrying every " + std::to_string(to_ms(options_.reconnect_wait)) +
                        " ms in the background"});
  }
}

natsConnection* NatsBridge::connection() const {
  std::lock_guard lock(handles_mutex_);
  return connection_;
}

natsSubscription* NatsBridge::subscription() const {
  std::lock_guard lock(handles_mutex_);
  return subscription_;
}

// Loop thread, after each read event (and once the subscription is known):
// the messages libnats parsed into the subscription go to the inbox.
void NatsBridge::take_messages() {
  natsSubscription* sub = subscription();
  if (sub == nullptr) return;
  int waiting = 0;
  if (natsSubscription_GetPending(sub, &waiting, nullptr) != NATS_OK) return;
  for (; waiting > 0; --waiting) {
    natsMsg* msg = nullptr;
    if (natsSubscription_NextMsg(&msg, sub, 0) != NATS_OK) break;
    const auto size = static_cast<std::size_t>(natsMsg_GetDataLength(msg));
    while (!inbox_.empty() &&
           (inbox_.size() >= options_.inbox_capacity || inbox_bytes_ + size > options_.inbox_capacity_bytes)) {
      inbox_bytes_ -= inbox_.front().payload.size();
      inbox_.pop_front();
      ++inbox_dropped_;
    }
    inbox_.push_back(BusMessage{natsMsg_GetSubject(msg), std::string(natsMsg_GetData(msg), size)});
    inbox_bytes_ += size;
    retire(msg);
  }
  deliver();
}

void NatsBridge::retire(natsMsg* msg) {
  retired_.push_back(msg);
  retired_bytes_ += static_cast<std::size_t>(natsMsg_GetDataLength(msg));
  if (retired_.size() >= kRetiredMessages || retired_bytes_ >= kRetiredBytes)
    free_retired();
  else if (!free_retired_.armed())
    free_retired_.arm_in(kRetiredWait);
}

void NatsBridge::free_retired() {
  free_retired_.cancel();
  for (natsMsg* msg : retired_) natsMsg_Destroy(msg);
  retired_.clear();
  retired_bytes_ = 0;
}

// Hands on at most deliver_batch messages, then lets the loop turn: a
// burst from NATS does not hold up the WebSocket and the timers. (An
// elapsed Timer, unlike a Deferred, waits for the loop's next poll, so the
// loop reads what arrived meanwhile, and the inbox bound applies.)
void NatsBridge::deliver() {
  if (inbox_dropped_ != inbox_dropped_reported_) {
    const std::uint64_t dropped = inbox_dropped_ - inbox_dropped_reported_;
    if (inbox_drops_.event(dropped))
      log::warn("NATS inbox full: {} message(s) dropped, oldest first (more are summed up every {} s)", dropped,
                std::chrono::duration_cast<std::chrono::seconds>(inbox_drops_.period()).count());
    inbox_dropped_reported_ = inbox_dropped_;
  }
  for (std::size_t n = 0; n < options_.deliver_batch && !inbox_.empty(); ++n) {
    BusMessage message = std::move(inbox_.front());
    inbox_.pop_front();
    inbox_bytes_ -= message.payload.size();
    if (handler_) handler_(std::move(message));
  }
  if (!inbox_.empty()) deliver_soon_.arm_in(Duration::zero());
}

void NatsBridge::on_link_note(LinkNote&& note) {
  if (note.kind == LinkNote::Kind::Error) {
    log::warn("NATS: {}", note.text);
    return;
  }
  auto t = transition(state_, note.event);
  if (!t.expected) {
    log::debug("NATS: event '{}' in state '{}' is not in the table; staying '{}'", link_event_name(note.event),
               link_state_name(state_), link_state_name(t.next));
    if (t.next == state_) return;
  }
  LinkState before = state_;
  state_ = t.next;
  switch (state_) {
    case LinkState::Connected: {
      char url[256] = {};
      if (auto* nc = connection()) (void)natsConnection_GetConnectedUrl(nc, url, sizeof url);
      log::info("NATS {} as '{}'{}{}; subscribed to {}", before == LinkState::Connecting ? "connected" : "reconnected",
                options_.name, *url ? " to " : "", url, options_.subscription);
      // Messages that came in before the connector handed over the
      // subscription are waiting in it.
      take_messages();
      break;
    }
    case LinkState::Reconnecting:
      // A drain at shutdown passes through "disconnected" on its way out.
      if (shutting_down_)
        log::debug("NATS disconnected while shutting down");
      else
        log::warn("NATS connection lost; reconnecting every {} ms", to_ms(options_.reconnect_wait));
      break;
    case LinkState::Closed:
      if (shutting_down_)
        log::info("NATS connection closed");
      else
        log::error("NATS connection closed for good; the bus bridge is stopped");
      break;
    case LinkState::Connecting:
      break;
  }
  if (handler_) handler_(state_);
  if (state_ == LinkState::Closed && shutting_down_) finish_shutdown();
}

PublishResult NatsBridge::publish(const std::string& subject, std::string_view payload) {
  auto* nc = connection();
  if (!nc || state_ != LinkState::Connected || natsConnection_Status(nc) != NATS_CONN_STATUS_CONNECTED)
    return PublishResult::NotConnected;
  natsStatus s = natsConnection_Publish(nc, subject.c_str(), payload.data(), static_cast<int>(payload.size()));
  if (s == NATS_OK) return PublishResult::Sent;
  if (s == NATS_INSUFFICIENT_BUFFER || s == NATS_CONNECTION_DISCONNECTED || s == NATS_CONNECTION_CLOSED)
    return PublishResult::NotConnected;
  log::warn("NATS publish to {} failed: {}", subject, describe_status(s));
  return PublishResult::Failed;
}


void NatsBridge::on_probe_timer() {
  if (state_ == LinkState::Connected) {
    for (const auto& p : options_.probes)
      (void)publish(p.subject, p.payload);
  } else {
    log::debug("NATS {}: component probes skipped", link_state_name(state_));
  }
  // Keep the period's phase (no drift); never schedule into the past.
  next_probe_ += options_.probe_every;
  if (next_probe_ <= loop_.now()) next_probe_ = loop_.now() + options_.probe_every;
  probe_timer_.arm_at(next_probe_);
}

void NatsBridge::begin_shutdown(std::function<void()> done) {
  shutting_down_ = true;
  probe_timer_.cancel();
  shutdown_done_ = std::move(done);
  auto* nc = connection();
  if (!nc || state_ == LinkState::Closed) {
    finish_shutdown();
    return;
  }
  // End the subscription first (UNSUB): libnats's drain of a synchronous
  // subscription waits for a NextMsg call that finds it empty, which the
  // loop never makes. What was received is still handed on.
  take_messages();
  if (auto* sub = subscription()) (void)natsSubscription_Unsubscribe(sub);
  // The drain's thread flushes the publishes (a PING, and the PONG this
  // loop reads), then closes.
  if (natsConnection_Status(nc) == NATS_CONN_STATUS_CONNECTED &&
      natsConnection_DrainTimeout(nc, to_ms(options_.drain_timeout)) == NATS_OK) {
    // Finished by the closed callback (on_link_note), or by the guard.
    drain_guard_.arm_in(options_.drain_timeout + std::chrono::milliseconds(250));
    return;
  }
  close_connection();
  finish_shutdown();
}

void NatsBridge::close_connection() {
  auto* nc = connection();
  if (nc == nullptr) return;
  socket_->write_now();  // else the close waits up to 500 ms for a PONG only this loop could read
  natsConnection_Close(nc);
}

void NatsBridge::finish_shutdown() {
  drain_guard_.cancel();
  if (auto done = std::move(shutdown_done_)) {
    shutdown_done_ = nullptr;
    done();
  }
}

namespace {

// nats_Open starts three threads, in this order (libnats's nats.c): the
// timer thread (PINGs, reconnect waits), the one that runs connection
// callbacks, the garbage collector. The kernel hands out TIDs in creation
// order, unless its counter wrapped in between: the first thread is then
// the one after the largest gap (counting the wrap from the last back to
// the first).
void name_library_threads(const std::vector<int>& before) {
  std::vector<int> started;
  for (int tid : thread_ids())
    if (std::find(before.begin(), before.end(), tid) == before.end()) started.push_back(tid);
  std::sort(started.begin(), started.end());
  static const char* const kNames[] = {"dbr-nats-timer", "dbr-nats-cb", "dbr-nats-gc"};
  if (started.size() != std::size(kNames)) {
    for (int tid : started) name_thread_id(tid, "dbr-nats");
    return;
  }
  long pid_max = 1L << 22;  // the kernel's largest, if /proc does not say
  if (auto text = read_small_file("/proc/sys/kernel/pid_max", 32)) {
    const long read = std::strtol(text->c_str(), nullptr, 10);
    if (read > 0) pid_max = read;
  }
  std::size_t first = 0;
  long widest = pid_max - (started.back() - started.front());
  for (std::size_t i = 1; i < started.size(); ++i) {
    if (started[i] - started[i - 1] > widest) {
      widest = started[i] - started[i - 1];
      first = i;
    }
  }
  for (std::size_t i = 0; i < started.size(); ++i) name_thread_id(started[(first + i) % started.size()], kNames[i]);
}

}  // namespace

NatsLibrary::NatsLibrary() {
  // nats_Open starts libnats's timer, callback and GC threads. They inherit
  // this thread's signal mask: block the loop's signals first, or SIGTERM
  // could land on one of them and kill the process instead of reaching the
  // loop's signalfd.
  loop::EventLoop::block_handled_signals();
  const std::vector<int> before = thread_ids();
  natsStatus s = nats_Open(-1);
  if (s != NATS_OK) throw std::runtime_error(std::string("nats_Open: ") + natsStatus_GetText(s));
  name_library_threads(before);
}

NatsLibrary::~NatsLibrary() {
  // Waits for libnats's threads (and so its last callbacks) to finish.
  natsStatus s = nats_CloseAndWait(2000);
  if (s != NATS_OK) {
    // A callback may still be pending: keep the retired tickets.
    log::warn("NATS library did not shut down cleanly: {}", natsStatus_GetText(s));
    return;
  }
  free_retired_tickets();
}

}  // namespace dbr::bus
