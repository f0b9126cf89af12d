#include "common/failure_kind.hpp"

namespace dbr {

std::string_view failure_kind_name(FailureKind kind) {
  switch (kind) {
    case FailureKind::InvalidUrl: return "invalid URL";
    case FailureKind::Dns: return "DNS";
    case FailureKind::Tcp: return "TCP";
    case FailureKind::Tls: return "TLS";
    case FailureKind::HttpStatus: return "HTTP status";
    case FailureKind::Handshake: return "handshake";
    case FailureKind::Protocol: return "protocol";
    case FailureKind::Timeout: return "timeout";
    case FailureKind::SendQueueFull: return "send queue full";
    case FailureKind::Io: return "I/O";
  }
  return "?";
}

}  // namespace dbr
