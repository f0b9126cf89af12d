#include "common/failure_kind.hpp"

#include "common/enum_names.hpp"

namespace dbr {

constexpr auto kFailureKindNames = enum_names<FailureKind>({
    {FailureKind::InvalidUrl, "invalid URL"}, {FailureKind::Dns, "DNS"}, {FailureKind::Tcp, "TCP"},
    {FailureKind::Tls, "TLS"}, {FailureKind::HttpStatus, "HTTP status"}, {FailureKind::Handshake, "handshake"},
    {FailureKind::Protocol, "protocol"}, {FailureKind::Timeout, "timeout"},
    {FailureKind::SendQueueFull, "send queue full"}, {FailureKind::Io, "I/O"}});
std::string_view failure_kind_name(FailureKind kind) { return kFailureKindNames.name(kind, "?"); }

}  // namespace dbr
