#pragma once
// The Web PubSub core's vocabulary: what ClientCore asks of its adapter
// (actions) and tells it (events), the counters it keeps for status output,
// log lines (cores return them; the adapter writes them) and the failures
// the adapter reports.
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <variant>

#include "common/json_text.hpp"

#include "common/failure_kind.hpp"
#include "common/log_level.hpp"
#include "common/time.hpp"
#include "pubsub/core/transitions.hpp"

namespace dbr::pubsub {

using LogLevel = log::Level;
using LogLine = log::LogLine;

// The agent's one list of failure kinds, shared with the WebSocket.
using dbr::FailureKind;
using dbr::failure_kind_name;

// The clocks as the adapter read them when the service refused a
// connection: the service checks a token's iat/exp against its own clock,
// so a wrong device clock reads as refused credentials (core/clock_skew.hpp).
struct ClockReading {
  std::chrono::sys_seconds local{};                  // the device's wall clock
  std::optional<bool> synchronized{};                // the kernel's view (adjtimex); empty: unknown
  std::optional<std::chrono::sys_seconds> service{};  // the refusal's Date header
};

struct AttemptFailure {
  FailureKind kind = FailureKind::Io;
  int http_status = 0;                  // HttpStatus only
  std::optional<Duration> retry_after;  // HttpStatus only: the parsed Retry-After header
  std::string detail;                   // short text for logs; never a URL or a token
  std::string service_reason{};         // HttpStatus only: the service's words, sanitised (ws/codec/handshake.hpp)
  std::optional<ClockReading> clock{};  // HttpStatus only, when the adapter read the clocks
};

// How the supervisor treats a failure.
enum class FailureClass {
  Transient,    // network, TLS, 5xx, protocol: exponential backoff
  RetryAfter,   // 429 or 503 carrying Retry-After: wait at least that long
  AuthRefused,  // 401 or 403. From the hub: one immediate retry with fresh credentials, then the
                // max delay; from the URL source (Auth0 sign-in): the backoff
};

FailureClass classify(const AttemptFailure& failure);
// "HTTP 503 (retry after 20 s)", "TLS: certificate expired", ...
std::string describe(const AttemptFailure& failure);

// Identifies an application message from send_to_group() to its
// Delivered/Dropped event. Local to one ClientCore; not an ackId.
using MessageId = std::uint64_t;

// ---- actions: the adapter executes them in order --------------------------
// Fetch a fresh client URL (sign a token / ask Auth0) and open a WebSocket
// offering `subprotocol`. Report the WebSocket's events (on_transport), or
// credentials_failed when no URL could be had.
struct OpenNew {
  std::string subprotocol;
};
// Reopen the URL of the last new connection with `query` appended ("&" +
// query, or "?" + query if that URL has no query string). The query holds
// the reconnection token: never log it.
struct OpenRecovery {
  std::string subprotocol;
  std::string query;
};
struct SendText {
  std::string frame;
};
// Start the close handshake; report the WebSocket's Closed when it completes
// (or its Failure when the close times out).
struct Close {
  std::uint16_t code = 1000;
  std::string reason;
};
// Drop the transport at once, without a close frame, and report nothing more
// about it.
struct Abort {
  std::string reason;
};
using Action = std::variant<OpenNew, OpenRecovery, SendText, Close, Abort>;

// ---- events ----------------------------------------------------------------
// A connection is usable. is_new: a new connection (the group is being
// joined); false: a recovered session (groups and messages kept).
struct Connected {
  std::string connection_id;
  std::optional<std::string> user_id;
  bool is_new = true;
};
struct Joined {
  std::string group;
};
struct GroupMessage {
  std::string group;
  std::optional<std::string> from_user_id;
  std::string data_type;  // json, text, binary or protobuf (the last two base64 strings)
  json_text::OwnedValue data;  // the exact bytes the service sent
};
struct ServerMessage {
  std::string data_type;
  json_text::OwnedValue data;
};
// The service acknowledged the message (success, or Duplicate).
struct Delivered {
  MessageId id = 0;
};
// The message will never be sent: refused by the service (Forbidden,
// BadRequest), pushed out of the full outbox, or not buffered (outbox 0).
struct Dropped {
  MessageId id = 0;
  std::string reason;
};
struct StateChanged {
  State from = State::Stopped;
  State to = State::Stopped;
  std::string reason;
};
// A connection attempt failed or a connection was lost in a way that may be
// our internet going away: the owner asks the internet monitor for a check
// now instead of at its next interval.
struct InternetCheckWanted {
  std::string reason;
};

// The open connection showed a sign of life at `at` (webpubsub-protocol.md
// §5: "Any inbound message counts as proof of life"): the hub's keepalive
// ping, the answer to ours, any frame. For the internet monitor, which
// takes a recent one as evidence instead of probing. At most one per
// kProofOfLifeEvery, and one at once when the connection comes up.
struct ProofOfLife {
  TimePoint at{};
};
inline constexpr Duration kProofOfLifeEvery = std::chrono::seconds(1);

using Event = std::variant<Connected, Joined, GroupMessage, ServerMessage, Delivered, Dropped, StateChanged,
                           InternetCheckWanted, ProofOfLife, LogLine>;

struct Counters {
  std::uint64_t attempts = 0;           // new connection attempts (OpenNew)
  std::uint64_t recovery_attempts = 0;  // OpenRecovery
  std::uint64_t connections = 0;        // new connections established
  std::uint64_t recoveries = 0;         // sessions recovered
  std::uint64_t drops = 0;              // established connections lost
  std::uint64_t messages_in = 0;        // group and server messages passed to the application
  std::uint64_t duplicates_in = 0;      // reliable messages dropped as already seen
  std::uint64_t messages_out = 0;       // application messages acknowledged by the service
  std::uint64_t resends = 0;            // frames sent again with the same ackId
  std::uint64_t outbox_drops = 0;       // pushed out of the full outbox or not buffered
  std::uint64_t refused = 0;            // messages the service refused (Forbidden, BadRequest, ...)
  std::uint64_t malformed_frames = 0;   // service frames that were not valid protocol JSON
  std::uint64_t unknown_frames = 0;     // well-formed frames of unknown types, ignored
  std::uint64_t unexpected_inputs = 0;  // inputs the supervisor did not expect in its state
};

// The queues and counters ClientCore and its parts write to.
struct Outputs {
  std::deque<Action> actions;
  std::deque<Event> events;
  Counters counters;
};

}  // namespace dbr::pubsub
