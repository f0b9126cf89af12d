#pragma once
// Why a connection attempt (or an open connection) failed: the WebSocket
// reports it, the Web PubSub client-URL sources too (Auth0 answers with an
// HTTP status), and the connection supervisor picks its retry policy from it.
#include <string_view>

namespace dbr {

enum class FailureKind {
  InvalidUrl,     // not a ws:// or wss:// URL we can use
  Dns,            // the host name did not resolve
  Tcp,            // TCP connect refused or unreachable
  Tls,            // TLS handshake or certificate verification failed
  HttpStatus,     // an HTTP status other than the expected one (101, 2xx)
  Handshake,      // a 101 that breaks RFC 6455 §4.1, or a malformed response
  Protocol,       // the peer broke its protocol (RFC 6455, or an answer without a needed field)
  Timeout,        // connect, upgrade, request or flush took too long
  SendQueueFull,  // the peer stopped reading: queued bytes hit the bound
  Io,             // any other transport error
};

std::string_view failure_kind_name(FailureKind kind);

}  // namespace dbr
