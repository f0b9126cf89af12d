// libFuzzer target for the Web PubSub client as a whole: frames from the
// hub into a ClientCore that is connected and has joined its group, in
// virtual time, with the adapter's side played as the contract in
// client_core.hpp says (opens succeed at once, a new connection's service
// sends `connected`, Close is answered with Closed).
//
// Input: lines. A line is a text frame from the service, except
//   !t<ms>     virtual time passes (timers fire in order)
//   !s<json>   the application sends <json> to the group
//   !c<code>   the service closes the WebSocket with <code>
//   !f         the transport fails (I/O error)
//   !a         WebSocket activity (a ping) without a message
//   !b         a binary message
//   !o / !O    the monitor says offline / online
//   !x / !X    stop / start
// In a frame, $J stands for the ackId of the last joinGroup sent, and $0..$9
// for the ackId of the n-th sendToGroup in flight (ackIds come from a
// process-wide counter, so the input cannot spell them).
//
// Checked besides the sanitizers, after every line:
//   - every frame the client sends is a JSON object of a type it may send
//     (joinGroup, sendToGroup, sequenceAck, ping);
//   - every message id from send_to_group ends at most once, as Delivered or
//     Dropped, and only ids that were handed out;
//   - the outbox stays within its bound, and so does each line's output;
//   - group and server messages carry a JSON value;
//   - timers make progress: a deadline at or before now is gone after a few
//     on_timeout(now) calls (else the adapter's timer would spin).
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/json_text.hpp"
#include "common/random.hpp"
#include "pubsub/core/client_core.hpp"
#include "fuzz/require.hpp"

namespace {

using dbr::fuzz::require;

using namespace dbr;
using namespace dbr::pubsub;
using namespace std::chrono_literals;
namespace jt = dbr::json_text;

constexpr std::size_t kOutbox = 8;
constexpr std::size_t kMaxOutputsPerLine = 10000;
constexpr int kMaxTimeoutsAtOneTime = 20;

ClientCoreOptions options() {
  ClientCoreOptions o;
  o.supervisor.backoff = BackoffPolicy{2s, 60s, 0.3, 100ms};
  o.supervisor.network_settle = 0s;
  o.session.protocol = Protocol::JsonReliable;
  o.session.group = std::string("dunebugger-1");
  o.session.outbox_max_messages = kOutbox;
  o.keepalive_interval = 20s;
  o.keepalive_timeout = 60s;
  return o;
}

class Driver {
 public:
  Driver() : core_(options(), random_) {}

  void begin() {
    core_.internet(true, now_);
    core_.start(now_);
    pump();
  }

  void line(std::string_view text) {
    if (text.size() >= 2 && text[0] == '!') {
      command(text[1], text.substr(2));
    } else if (link_open_) {
      core_.on_transport(ws::Message{true, substitute(text)}, now_);
    }
    pump();
  }

 private:
  void command(char c, std::string_view arg) {
    switch (c) {
      case 't': advance(std::chrono::milliseconds(number(arg, 600000))); break;
      case 's': handed_out_.insert(core_.send_to_group(std::string(arg), now_)); break;
      case 'c':
        if (link_open_) {
          link_open_ = false;
          core_.on_transport(ws::Closed{static_cast<std::uint16_t>(number(arg, 4999)), {}, true, true}, now_);
        }
        break;
      case 'f':
        if (link_open_) {
          link_open_ = false;
          core_.on_transport(ws::Failure{FailureKind::Io, 0, std::nullopt, 0, "reset"}, now_);
        }
        break;
      case 'a':
        if (link_open_) core_.on_transport(ws::Activity{}, now_);
        break;
      case 'b':
        if (link_open_) core_.on_transport(ws::Message{false, std::string(arg)}, now_);
        break;
      case 'o': core_.internet(false, now_); break;
      case 'O': core_.internet(true, now_); break;
      case 'x': core_.stop(now_); break;
      case 'X': core_.start(now_); break;
      default: break;
    }
  }

  static std::int64_t number(std::string_view digits, std::int64_t max) {
    std::int64_t n = 0;
    for (char d : digits) {
      if (d < '0' || d > '9') break;
      n = std::min(max, n * 10 + (d - '0'));
    }
    return n;
  }

  std::string substitute(std::string_view frame) const {
    std::string out;
    for (std::size_t i = 0; i < frame.size(); ++i) {
      if (frame[i] == '$' && i + 1 < frame.size()) {
        const char k = frame[i + 1];
        if (k == 'J') {
          out += std::to_string(join_ack_id_);
          ++i;
          continue;
        }
        if (k >= '0' && k <= '9') {
          out += send_ack_ids_.empty() ? "0" : std::to_string(send_ack_ids_[static_cast<std::size_t>(k - '0') % send_ack_ids_.size()]);
          ++i;
          continue;
        }
      }
      out += frame[i];
    }
    return out;
  }

  // Fires the core's timers in order up to now + d, as the adapter's timer
  // would. A deadline at or before now is fired again at once (a state
  // change in on_timeout may make one due), but not forever.
  void advance(Duration d) {
    const TimePoint until = now_ + d;
    int fired_without_progress = 0;
    while (auto next = core_.next_deadline()) {
      if (*next > until) break;
      require(*next > now_ || ++fired_without_progress < kMaxTimeoutsAtOneTime);
      if (*next > now_) fired_without_progress = 0;
      now_ = std::max(now_, *next);
      core_.on_timeout(now_);
      pump();
    }
    now_ = until;
  }

  void pump() {
    std::size_t outputs = 0;
    for (bool any = true; any;) {
      any = false;
      while (auto action = core_.poll_action()) {
        any = true;
        require(++outputs < kMaxOutputsPerLine);
        execute(std::move(*action));
      }
      while (auto event = core_.poll_event()) {
        any = true;
        require(++outputs < kMaxOutputsPerLine);
        check(*event);
      }
    }
    require(core_.outbox_size() <= kOutbox);
  }

  void execute(Action&& action) {
    if (auto* send = std::get_if<SendText>(&action)) {
      sent(send->frame);
    } else if (std::holds_alternative<OpenNew>(action) || std::holds_alternative<OpenRecovery>(action)) {
      const bool recovery = std::holds_alternative<OpenRecovery>(action);
      link_open_ = true;
      send_ack_ids_.clear();
      core_.on_transport(ws::Opened{core_.subprotocol()}, now_);
      if (!recovery) {
        ++connections_;
        const std::string n = std::to_string(connections_);
        core_.on_transport(ws::Message{true, R"({"type":"system","event":"connected","userId":"device-1",)"
                                             R"("connectionId":"conn-)" + n + R"(","reconnectionToken":"token-)" +
                                                 n + R"("})"},
                           now_);
      }
    } else if (auto* close = std::get_if<Close>(&action)) {
      if (link_open_) {
        link_open_ = false;
        core_.on_transport(ws::Closed{close->code, close->reason, false, true}, now_);
      }
    } else if (std::holds_alternative<Abort>(action)) {
      link_open_ = false;  // and nothing more is reported about it
    }
  }

  void sent(const std::string& frame) {
    const auto value = jt::parse(frame);
    require(value && value->kind == jt::Kind::Object);
    const auto members = jt::members(*value);
    const jt::Member* type = jt::find(members, "type");
    require(type != nullptr);
    const auto name = jt::string_of(type->value);
    require(name == "joinGroup" || name == "sendToGroup" || name == "sequenceAck" || name == "ping");
    const jt::Member* ack = jt::find(members, "ackId");
    if (name == "joinGroup") join_ack_id_ = *jt::uint_of(ack->value);
    if (name == "sendToGroup") {
      send_ack_ids_.push_back(*jt::uint_of(ack->value));
      if (send_ack_ids_.size() > 10) send_ack_ids_.erase(send_ack_ids_.begin());
    }
  }

  void check(const Event& event) {
    if (const auto* delivered = std::get_if<Delivered>(&event)) ended(delivered->id);
    if (const auto* dropped = std::get_if<Dropped>(&event)) ended(dropped->id);
    if (const auto* message = std::get_if<GroupMessage>(&event)) require(jt::parse(message->data.text()).has_value());
    if (const auto* message = std::get_if<ServerMessage>(&event)) require(jt::parse(message->data.text()).has_value());
  }

  void ended(MessageId id) {
    require(handed_out_.count(id) == 1);
    require(ended_.insert(id).second);
  }

  SeededRandom random_{1};
  ClientCore core_;
  TimePoint now_ = TimePoint{} + std::chrono::hours(1000);
  bool link_open_ = false;
  int connections_ = 0;
  std::uint64_t join_ack_id_ = 0;
  std::vector<std::uint64_t> send_ack_ids_;
  std::set<MessageId> handed_out_;
  std::set<MessageId> ended_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Driver driver;
  driver.begin();
  std::string_view input(reinterpret_cast<const char*>(data), size);
  while (!input.empty()) {
    const std::size_t end = input.find('\n');
    driver.line(input.substr(0, end));
    if (end == std::string_view::npos) break;
    input.remove_prefix(end + 1);
  }
  return 0;
}
