#include "pubsub/client.hpp"

#include <spdlog/fmt/fmt.h>

#include "log/log.hpp"
#include "loop/event_loop.hpp"
#include "common/clock_sync.hpp"
#include "ws/connection.hpp"

namespace dbr::pubsub {

Client::Client(loop::EventLoop& loop, Random& random, ClientOptions options,
               std::unique_ptr<ClientUrlSource> url_source, Handler handler)
    : Client(loop, random, std::move(options), std::move(url_source), std::move(handler), TransportOptions{}) {}

Client::Client(loop::EventLoop& loop, Random& random, ClientOptions options,
               std::unique_ptr<ClientUrlSource> url_source, Handler handler, TransportOptions transport)
    : loop_(loop),
      random_(random),
      ca_file_(std::move(options.ca_file)),
      max_message_bytes_(options.max_message_bytes),
      transport_(transport),
      url_source_(std::move(url_source)),
      handler_(std::move(handler)),
      core_(std::move(options.core), random),
      timer_(loop, [this] {
        core_.on_timeout(loop_.now());
        pump();
      }) {}

Client::~Client() {
  if (url_source_) url_source_->cancel();
  connection_.reset();
}

void Client::start() {
  if (url_source_) log::info("Web PubSub client: client URLs from {}", url_source_->describe());
  core_.start(loop_.now());
  pump();
}

void Client::stop(std::function<void()> done) {
  stopped_ = std::move(done);
  if (url_source_) url_source_->cancel();
  core_.stop(loop_.now());
  pump();
  check_stopped();
}

void Client::check_stopped() {
  if (!stopped_ || connection_) return;
  auto done = std::move(stopped_);
  stopped_ = nullptr;
  done();
}

void Client::internet(bool online) {
  core_.internet(online, loop_.now());
  pump();
}

MessageId Client::send_to_group(std::string data_json) {
  MessageId id = core_.send_to_group(std::move(data_json), loop_.now());
  pump();
  return id;
}

void Client::retune(const ClientCoreOptions& options) {
  core_.retune(options, loop_.now());
  pump();  // a lowered outbox bound reports Dropped; deadlines may have moved
}

void Client::pump() {
  // Actions may not re-enter the core synchronously (ws::Connection and the
  // URL sources only call back from the loop), but stay safe if one does.
  if (pumping_) return;
  pumping_ = true;
  bool more = true;
  while (more) {
    more = false;
    while (auto action = core_.poll_action()) {
      execute(std::move(*action));
      more = true;
    }
    while (auto event = core_.poll_event()) {
      dispatch(std::move(*event));
      more = true;
    }
  }
  pumping_ = false;
  timer_.arm_at(core_.next_deadline());
}

void Client::execute(Action&& action) {
  std::visit(
      [this](auto&& a) {
        using T = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<T, OpenNew>) {
          open_new(a.subprotocol);
        } else if constexpr (std::is_same_v<T, OpenRecovery>) {
          if (base_url_.empty()) {
            core_.on_transport(ws::Failure{FailureKind::InvalidUrl, 0, std::nullopt, 0, "no URL to recover"},
                               loop_.now());
            return;
          }
          std::string url = base_url_ + (base_url_.find('?') == std::string::npos ? "?" : "&") + a.query;
          open_transport(url, a.subprotocol);
        } else if constexpr (std::is_same_v<T, SendText>) {
          // A false return means the connection failed (send queue full) or
          // is gone; the failure reaches the core through on_failed.
          if (connection_) (void)connection_->send_text(a.frame);
        } else if constexpr (std::is_same_v<T, Close>) {
          if (connection_) connection_->close(a.code, a.reason);
        } else if constexpr (std::is_same_v<T, Abort>) {
          log::debug("dropping the WebSocket: {}", a.reason);
          // The attempt may still be fetching its URL (Auth0): that fetch
          // must not open a transport the core has given up on.
          if (url_source_) url_source_->cancel();
          drop_transport();
          check_stopped();
        }
      },
      std::move(action));
}

void Client::open_new(const std::string& subprotocol) {
  drop_transport();
  if (!url_source_) {
    core_.credentials_failed({FailureKind::InvalidUrl, 0, std::nullopt, "no client URL source configured"},
                             loop_.now());
    return;
  }
  url_source_->fetch([this, subprotocol](UrlResult&& result) {
    if (!result.url) {
      last_error_ = describe(result.failure);
      core_.credentials_failed(result.failure, loop_.now());
    } else {
      base_url_ = std::move(*result.url);
      open_transport(base_url_, subprotocol);
    }
    pump();
  });
}

void Client::open_transport(const std::string& url, const std::string& subprotocol) {
  drop_transport();
  ws::Connection::Options options;
  options.url = url;
  options.subprotocols = {subprotocol};
  options.ca_file = ca_file_;
  options.connect_timeout = transport_.connect_timeout;
  options.handshake_timeout = transport_.handshake_timeout;
  options.close_timeout = transport_.close_timeout;
  options.max_message_bytes = max_message_bytes_;
  options.send_queue_max_bytes = transport_.send_queue_max_bytes;
  // The handler only forwards to a member function and touches nothing of
  // its closure afterwards: the member may destroy the Connection, and with
  // it this closure, while the closure is still on the stack.
  auto h = [this](ws::Event&& event) { on_transport(std::move(event)); };
  connection_ = std::make_unique<ws::Connection>(loop_, random_, std::move(options), std::move(h));
  hub_display_ = connection_->display_url();
  connection_->open();
}

void Client::on_transport(ws::Event&& event) {
  const bool terminal = std::holds_alternative<ws::Closed>(event) || std::holds_alternative<ws::Failure>(event);
  if (terminal) {
    if (const auto* closed = std::get_if<ws::Closed>(&event))
      last_error_ = fmt::format("WebSocket closed with {}{}{} by {}", closed->code, closed->reason.empty() ? "" : ": ",
                                closed->reason, closed->by_peer ? "the hub" : "us");
    else if (const auto* f = std::get_if<ws::Failure>(&event))
      last_error_ = describe(AttemptFailure{f->kind, f->http_status, f->retry_after, f->detail, f->service_reason, {}});
    // Allowed inside its own callback: `event` lives in the Connection's
    // caller frame, not in the Connection.
    connection_.reset();
  }
  std::optional<ClockReading> clocks = read_clocks(event);
  core_.on_transport(std::move(event), loop_.now(), std::move(clocks));
  pump();
  if (terminal) check_stopped();
}

std::optional<ClockReading> Client::read_clocks(const ws::Event& event) {
  std::optional<std::chrono::sys_seconds> service;
  if (const auto* opened = std::get_if<ws::Opened>(&event))
    service = opened->server_date;
  else if (const auto* failure = std::get_if<ws::Failure>(&event); failure && failure->kind == FailureKind::HttpStatus)
    service = failure->server_date;
  else
    return std::nullopt;
  ClockReading reading{std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()),
                       read_clock_synchronized(), service};
  if (service && url_source_ && url_source_->signs_with_wall_clock()) {
    if (auto line = token_clock_.observe(*service, reading.local, reading.synchronized)) log::write(*line);
    url_source_->set_clock_offset(token_clock_.offset());
  }
  return reading;
}

void Client::drop_transport() {
  if (!connection_) return;
  connection_->abort();
  connection_.reset();
}

void Client::dispatch(Event&& event) {
  // Log lines are the core's words, written here at the edge; the rest is
  // the owner's business.
  if (const auto* line = std::get_if<LogLine>(&event)) {
    log::write(*line);
    return;
  }
  if (handler_) handler_(std::move(event));
}

}  // namespace dbr::pubsub
