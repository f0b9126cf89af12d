#pragma once
// The opening handshake of RFC 6455 §4, client side, sans-IO: build the
// upgrade request, read the response incrementally, check it.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/random.hpp"

namespace dbr::ws {

// "a randomly selected 16-byte value that has been base64-encoded" (§4.1)
std::string make_client_key(Random& random);
// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")) (§4.2.2)
std::string accept_for_key(std::string_view client_key);

struct UpgradeRequest {
  std::string host_header;  // host[:port] as the URL gave it
  std::string target;       // path and query, e.g. /client/hubs/x?access_token=...
  std::string key;          // from make_client_key
  std::vector<std::string> subprotocols;
  std::vector<std::string> extra_headers;  // "Name: value"
};
// The request bytes. Returns nullopt if a field holds CR, LF or NUL, or a
// header lacks "Name:" (local misuse: header injection).
std::optional<std::string> build_upgrade_request(const UpgradeRequest& request);

struct HttpResponse {
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;  // names as sent
  // A refusal's body (not a 101's: WebSocket bytes follow that head), at
  // most ResponseReader::kMaxBodyBytes of it.
  std::string body;

  // Every value of `name` (case-insensitive), joined with ", " as RFC 9110
  // §5.3 allows for list fields; nullopt when absent.
  std::optional<std::string> header(std::string_view name) const;
};

// Reads the status line and headers; stops at the blank line. Bounded:
// more than kMaxHeadBytes before the blank line is an error. A refusal (any
// status but 101) also has its body read, because it holds the service's
// reason ("token expired"): up to Content-Length, at most kMaxBodyBytes (the
// rest is not needed: the connection is dropped), or without a
// Content-Length what arrived with the head.
class ResponseReader {
 public:
  static constexpr std::size_t kMaxHeadBytes = 16 * 1024;
  static constexpr std::size_t kMaxBodyBytes = 1024;
  enum class Status { NeedMore, Done, Error };

  // Consumes from the front of `input` up to the end of the head (and a
  // refusal's body); what is left in `input` after a 101's Done belongs to
  // the WebSocket stream.
  Status feed(std::span<const std::uint8_t>& input);
  // The stream ended (or the wait for it did) before Done: Done if the head
  // was whole, the body being cut short; Error otherwise.
  Status end_of_input();
  const HttpResponse& response() const { return response_; }
  const std::string& error() const { return error_; }

 private:
  bool parse();
  Status take_body(std::span<const std::uint8_t>& input);
  std::string head_;
  HttpResponse response_;
  std::string error_;
  bool head_done_ = false;
  bool done_ = false;
  std::size_t body_wanted_ = 0;
};

struct HandshakeOutcome {
  bool accepted = false;
  std::string subprotocol;  // when accepted; empty if the server chose none
  // The response's Date header (RFC 9110 §6.6.1: the origin's clock), for
  // every response: a device without a real-time clock checks its own
  // clock against it.
  std::optional<std::chrono::sys_seconds> server_date;
  // When refused with a status other than 101:
  int http_status = 0;
  std::optional<std::chrono::seconds> retry_after;
  // The service's own words: the body, else WWW-Authenticate's
  // error_description (RFC 6750 §3), sanitised by service_reason().
  std::string service_reason;
  std::string detail;  // why, without URL or header values that may be secret
};

// A refusal's reason as it may be logged: printable ASCII, whitespace
// collapsed, at most kMaxServiceReason characters, and any word that looks
// like a credential (a JWT, a long base64 run, an access_token=/token=/
// signature= value) replaced by "[redacted]".
inline constexpr std::size_t kMaxServiceReason = 200;
std::string service_reason(const HttpResponse& response);

// Checks a response against RFC 6455 §4.1's list of reasons a client "MUST
// _Fail the WebSocket Connection_".
HandshakeOutcome check_response(const HttpResponse& response, std::string_view client_key,
                                const std::vector<std::string>& offered_subprotocols);

}  // namespace dbr::ws
