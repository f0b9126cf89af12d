#pragma once
// What a WebSocket connection reports to its owner.
//
// Per open() exactly one terminal event: Closed or Failure. The owner (the
// Web PubSub client) treats a Closed with code 1008 as "do not recover" and
// any other Closed or Failure as recoverable.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "common/failure_kind.hpp"

namespace dbr::ws {

struct Opened {
  std::string subprotocol;  // the one the server chose; empty if none
  // The 101's Date header: the service's clock (common/retry_after.hpp).
  std::optional<std::chrono::sys_seconds> server_date{};
};

struct Message {
  bool text = false;
  std::string payload;
};

struct Closed {
  // The peer's status code (1005 if its Close had none), or 1006 when the
  // connection ended without a Close frame from the peer (abrupt EOF or
  // reset after open, or our close timing out).
  std::uint16_t code = 0;
  std::string reason;
  bool by_peer = false;  // the peer started the close (or the EOF)
  bool clean = false;    // both Close frames were exchanged
};

// The agent's one list of failure kinds (common/failure_kind.hpp). Here:
// HttpStatus = the upgrade got a status other than 101 (http_status);
// Protocol = the server broke RFC 6455 after open (close_code sent).
using dbr::FailureKind;
using dbr::failure_kind_name;

struct Failure {
  FailureKind kind = FailureKind::Io;
  int http_status = 0;                               // HttpStatus only
  std::optional<std::chrono::seconds> retry_after;  // HttpStatus with Retry-After
  std::uint16_t close_code = 0;                      // Protocol: the code we sent
  std::string detail;  // for logs; never holds the URL's path or query
  // HttpStatus: the refusal's own reason (body or WWW-Authenticate,
  // sanitised: codec/handshake.hpp) and its Date header.
  std::string service_reason{};
  std::optional<std::chrono::sys_seconds> server_date{};
};

// Proof of life: bytes of the WebSocket stream arrived (at most one per read).
struct Activity {};

// Everything a connection reports, in order: Opened once, then Message and
// Activity, then exactly one terminal Closed or Failure.
using Event = std::variant<Opened, Message, Activity, Closed, Failure>;

}  // namespace dbr::ws
