#pragma once
// Why a connection attempt (or an open connection) failed, as the adapter
// reports it: the WebSocket's failure kinds, also used by the client-URL
// source (Auth0 answers with an HTTP status too). The supervisor picks its
// retry policy from the class of the failure.
#include <optional>
#include <string>
#include <string_view>

#include "common/time.hpp"

#include "common/failure_kind.hpp"

namespace dbr::pubsub {

// The agent's one list of failure kinds, shared with the WebSocket.
using dbr::FailureKind;
using dbr::failure_kind_name;

struct AttemptFailure {
  FailureKind kind = FailureKind::Io;
  int http_status = 0;                  // HttpStatus only
  std::optional<Duration> retry_after;  // HttpStatus only: the parsed Retry-After header
  std::string detail;                   // short text for logs; never a URL or a token
};

// How the supervisor treats a failure.
enum class FailureClass {
  Transient,    // network, TLS, 5xx, protocol: exponential backoff
  RetryAfter,   // 429 or 503 carrying Retry-After: wait at least that long
  AuthRefused,  // 401 or 403: one immediate retry with fresh credentials, then the max delay
};

FailureClass classify(const AttemptFailure& failure);
// "HTTP 503 (retry after 20 s)", "TLS: certificate expired", ...
std::string describe(const AttemptFailure& failure);

}  // namespace dbr::pubsub
