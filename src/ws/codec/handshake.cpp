#include "ws/codec/handshake.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "common/retry_after.hpp"

namespace dbr::ws {

namespace {

// "The |Sec-WebSocket-Accept| header field ... the base64-encoded SHA-1 of
// the concatenation of the |Sec-WebSocket-Key| (as a string, not
// base64-decoded) with the string "258EAFA5-E914-47DA-95CA-C5AB0DC85B11""
// (§1.3, §4.2.2)
constexpr std::string_view kAcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

std::string base64(std::span<const std::uint8_t> bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return lower(x) == lower(y);
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Comma-separated list elements, trimmed, empty ones skipped (RFC 9110 §5.6.1).
std::vector<std::string_view> list_elements(std::string_view value) {
  std::vector<std::string_view> out;
  while (!value.empty()) {
    std::size_t comma = value.find(',');
    std::string_view element = trim(value.substr(0, comma));
    if (!element.empty()) out.push_back(element);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return out;
}

bool has_forbidden_char(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

// Server text quoted in a detail: printable ASCII only, bounded.
std::string printable(std::string_view s, std::size_t max = 80) {
  std::string out;
  for (char c : s.substr(0, max)) out.push_back(std::isprint(static_cast<unsigned char>(c)) ? c : '?');
  return out;
}

}  // namespace

std::string make_client_key(Random& random) {
  std::array<std::uint8_t, 16> nonce;
  random.fill(nonce);
  return base64(nonce);
}

std::string accept_for_key(std::string_view client_key) {
  std::string input(client_key);
  input.append(kAcceptGuid);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_len = 0;
  if (EVP_Digest(input.data(), input.size(), digest.data(), &digest_len, EVP_sha1(), nullptr) != 1) return {};
  return base64({digest.data(), digest_len});
}

std::optional<std::string> build_upgrade_request(const UpgradeRequest& request) {
  if (has_forbidden_char(request.host_header) || has_forbidden_char(request.target) || request.target.empty() ||
      request.target.find(' ') != std::string::npos)
    return std::nullopt;
  // The fields of §4.1's client handshake, in its order.
  std::string out;
  out.reserve(256 + request.target.size());
  out += "GET ";
  out += request.target;
  out += " HTTP/1.1\r\nHost: ";
  out += request.host_header;
  out += "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ";
  out += request.key;
  out += "\r\nSec-WebSocket-Version: 13\r\n";
  if (!request.subprotocols.empty()) {
    out += "Sec-WebSocket-Protocol: ";
    for (std::size_t i = 0; i < request.subprotocols.size(); ++i) {
      const std::string& p = request.subprotocols[i];
      if (p.empty() || has_forbidden_char(p) || p.find_first_of(", ") != std::string::npos) return std::nullopt;
      if (i > 0) out += ", ";
      out += p;
    }
    out += "\r\n";
  }
  for (const std::string& h : request.extra_headers) {
    std::size_t colon = h.find(':');
    if (colon == std::string::npos || colon == 0 || has_forbidden_char(h)) return std::nullopt;
    out += h;
    out += "\r\n";
  }
  out += "\r\n";
  return out;
}

std::optional<std::string> HttpResponse::header(std::string_view name) const {
  std::optional<std::string> out;
  for (const auto& [n, v] : headers) {
    if (!iequals(n, name)) continue;
    if (out)
      *out += ", " + v;
    else
      out = v;
  }
  return out;
}

ResponseReader::Status ResponseReader::feed(std::span<const std::uint8_t>& input) {
  if (done_) return error_.empty() ? Status::Done : Status::Error;
  if (head_done_) return take_body(input);
  // Take bytes up to and including the blank line that ends the head. A
  // bare LF is accepted as a line end (RFC 9112 §2.2 allows recipients to).
  while (!input.empty()) {
    char c = static_cast<char>(input.front());
    input = input.subspan(1);
    head_.push_back(c);
    const std::size_t n = head_.size();
    bool end = c == '\n' && ((n >= 2 && head_[n - 2] == '\n') || (n >= 3 && head_[n - 2] == '\r' && head_[n - 3] == '\n'));
    if (end) {
      head_done_ = true;
      if (!parse()) {
        done_ = true;
        return Status::Error;
      }
      if (response_.status == 101) {
        done_ = true;
        return Status::Done;
      }
      // "Content-Length = 1*DIGIT" (RFC 9110 §8.6); anything else, or none
      // (chunked, or a body ended by the close): what came with the head.
      auto length = response_.header("Content-Length");
      std::size_t wanted = 0;
      bool digits = length && !length->empty() && length->size() <= 9;
      if (digits)
        for (char d : *length) digits = digits && std::isdigit(static_cast<unsigned char>(d));
      if (digits)
        wanted = static_cast<std::size_t>(std::stoul(*length));
      else
        wanted = input.size();
      body_wanted_ = std::min(wanted, kMaxBodyBytes);
      return take_body(input);
    }
    if (n >= kMaxHeadBytes) {
      done_ = true;
      error_ = "upgrade response head over 16 KiB";
      return Status::Error;
    }
  }
  return Status::NeedMore;
}

ResponseReader::Status ResponseReader::take_body(std::span<const std::uint8_t>& input) {
  std::size_t take = std::min(input.size(), body_wanted_ - response_.body.size());
  response_.body.append(reinterpret_cast<const char*>(input.data()), take);
  input = input.subspan(take);
  if (response_.body.size() < body_wanted_) return Status::NeedMore;
  done_ = true;
  return Status::Done;
}

ResponseReader::Status ResponseReader::end_of_input() {
  if (!done_ && head_done_) done_ = true;
  if (done_) return error_.empty() ? Status::Done : Status::Error;
  return Status::Error;
}

bool ResponseReader::parse() {
  std::vector<std::string_view> lines;
  std::string_view rest(head_);
  while (!rest.empty()) {
    std::size_t lf = rest.find('\n');
    std::string_view line = rest.substr(0, lf);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (lf == std::string_view::npos) break;
    rest.remove_prefix(lf + 1);
  }
  // status-line = HTTP-version SP status-code SP [ reason-phrase ]
  std::string_view status_line = lines.empty() ? std::string_view() : lines.front();
  if (status_line.substr(0, 7) != "HTTP/1." || status_line.size() < 12 || status_line[8] != ' ' ||
      !std::isdigit(static_cast<unsigned char>(status_line[9])) ||
      !std::isdigit(static_cast<unsigned char>(status_line[10])) ||
      !std::isdigit(static_cast<unsigned char>(status_line[11])) ||
      (status_line.size() > 12 && status_line[12] != ' ')) {
    error_ = "malformed status line '" + printable(status_line) + "'";
    return false;
  }
  response_.status = (status_line[9] - '0') * 100 + (status_line[10] - '0') * 10 + (status_line[11] - '0');
  response_.reason = std::string(trim(status_line.size() > 13 ? status_line.substr(13) : std::string_view()));
  for (std::size_t i = 1; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (line.empty()) break;
    // "A server MUST reject ... obs-fold"; as a client we unfold it, as
    // RFC 9112 §5.2 permits a user agent to.
    if ((line.front() == ' ' || line.front() == '\t') && !response_.headers.empty()) {
      response_.headers.back().second += ' ';
      response_.headers.back().second += trim(line);
      continue;
    }
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      error_ = "malformed header line in the upgrade response";
      return false;
    }
    response_.headers.emplace_back(std::string(line.substr(0, colon)), std::string(trim(line.substr(colon + 1))));
  }
  return true;
}

namespace {

// The body of a chunked response starts with its first chunk's size line
// (RFC 9112 §7.1): the text is that chunk.
std::string_view first_chunk(std::string_view body) {
  std::size_t line_end = body.find('\n');
  if (line_end == std::string_view::npos) return body;
  std::string_view size_line = body.substr(0, line_end);
  std::size_t size = 0;
  std::size_t digits = 0;
  for (char c : size_line) {
    int v = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
            : (c >= 'a' && c <= 'f')                    ? c - 'a' + 10
            : (c >= 'A' && c <= 'F')                    ? c - 'A' + 10
                                                        : -1;
    if (v < 0 || digits == 6) break;
    size = size * 16 + static_cast<std::size_t>(v);
    ++digits;
  }
  if (digits == 0) return body;
  return body.substr(line_end + 1, size);
}

// error_description="..." of a Bearer challenge (RFC 6750 §3).
std::string_view error_description(std::string_view challenge) {
  constexpr std::string_view kKey = "error_description=\"";
  std::size_t at = challenge.find(kKey);
  if (at == std::string_view::npos) return {};
  std::string_view rest = challenge.substr(at + kKey.size());
  return rest.substr(0, rest.find('"'));
}

bool base64url_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '+' || c == '/' || c == '=';
}

// A word that may be a credential: a JWT ("eyJ" starts the base64 of '{"'),
// a run of 32+ base64 characters, or a key=value naming a token.
bool looks_secret(std::string_view word) {
  if (word.find("eyJ") != std::string_view::npos) return true;
  std::string lowered;
  for (char c : word) lowered.push_back(lower(c));
  for (std::string_view key : {"token", "signature", "sig=", "accesskey", "password", "secret"})
    if (lowered.find(key) != std::string::npos && lowered.find('=') != std::string::npos) return true;
  std::size_t run = 0;
  for (char c : word) {
    run = base64url_char(c) ? run + 1 : 0;
    if (run >= 32) return true;
  }
  return false;
}

}  // namespace

std::string service_reason(const HttpResponse& response) {
  std::string_view raw = response.body;
  auto encoding = response.header("Transfer-Encoding");
  if (encoding && iequals(trim(*encoding), "chunked")) raw = first_chunk(raw);
  std::optional<std::string> challenge;
  if (trim(raw).empty()) {
    challenge = response.header("WWW-Authenticate");
    if (challenge) raw = error_description(*challenge);
  }
  // Words of printable ASCII, one space between them.
  std::string out;
  std::string word;
  auto flush = [&] {
    if (word.empty()) return;
    if (!out.empty()) out.push_back(' ');
    if (looks_secret(word))
      out += "[redacted]";
    else
      out += word;
    word.clear();
  };
  for (char c : raw) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
      flush();
    else
      word.push_back(std::isprint(static_cast<unsigned char>(c)) ? c : '?');
    if (out.size() > kMaxServiceReason) break;
  }
  flush();
  if (out.size() > kMaxServiceReason) {
    out.resize(kMaxServiceReason - 3);
    out += "...";
  }
  return out;
}

HandshakeOutcome check_response(const HttpResponse& response, std::string_view client_key,
                                const std::vector<std::string>& offered_subprotocols) {
  HandshakeOutcome out;
  if (auto date = response.header("Date")) out.server_date = parse_http_date(*date);
  // "If the status code received from the server is not 101, the client
  // handles the response per HTTP [RFC2616] procedures." (§4.1)
  if (response.status != 101) {
    out.http_status = response.status;
    out.service_reason = service_reason(response);
    if (auto retry = response.header("Retry-After")) {
      auto date = response.header("Date");
      out.retry_after = parse_retry_after(*retry, date ? std::optional<std::string_view>(*date) : std::nullopt);
    }
    out.detail = "upgrade refused: HTTP " + std::to_string(response.status);
    if (!response.reason.empty()) out.detail += " " + printable(response.reason);
    return out;
  }
  // "If the response lacks an |Upgrade| header field or the |Upgrade| header
  // field contains a value that is not an ASCII case-insensitive match for
  // the value "websocket", the client MUST _Fail the WebSocket Connection_."
  auto upgrade = response.header("Upgrade");
  if (!upgrade || !iequals(trim(*upgrade), "websocket")) {
    out.detail = "101 response without 'Upgrade: websocket'";
    return out;
  }
  // "If the response lacks a |Connection| header field or the |Connection|
  // header field doesn't contain a token that is an ASCII case-insensitive
  // match for the value "Upgrade", the client MUST _Fail the WebSocket
  // Connection_."
  auto connection = response.header("Connection");
  bool has_upgrade_token = false;
  if (connection)
    for (auto token : list_elements(*connection)) has_upgrade_token = has_upgrade_token || iequals(token, "upgrade");
  if (!has_upgrade_token) {
    out.detail = "101 response without 'Connection: Upgrade'";
    return out;
  }
  // "If the response lacks a |Sec-WebSocket-Accept| header field or the
  // |Sec-WebSocket-Accept| contains a value other than the base64-encoded
  // SHA-1 of the concatenation of the |Sec-WebSocket-Key| ... the client
  // MUST _Fail the WebSocket Connection_."
  auto accept = response.header("Sec-WebSocket-Accept");
  if (!accept || trim(*accept) != accept_for_key(client_key)) {
    out.detail = accept ? "Sec-WebSocket-Accept does not match the key" : "101 response without Sec-WebSocket-Accept";
    return out;
  }
  // "If the response includes a |Sec-WebSocket-Extensions| header field and
  // this header field indicates the use of an extension that was not present
  // in the client's handshake ... the client MUST _Fail the WebSocket
  // Connection_." We offer none.
  auto extensions = response.header("Sec-WebSocket-Extensions");
  if (extensions && !list_elements(*extensions).empty()) {
    out.detail = "server selected an extension that was not offered";
    return out;
  }
  // "If the response includes a |Sec-WebSocket-Protocol| header field and
  // this header field indicates the use of a subprotocol that was not
  // present in the client's handshake ... the client MUST _Fail the
  // WebSocket Connection_."
  if (auto protocol = response.header("Sec-WebSocket-Protocol")) {
    std::string_view chosen = trim(*protocol);
    if (std::find(offered_subprotocols.begin(), offered_subprotocols.end(), chosen) == offered_subprotocols.end()) {
      out.detail = "server selected subprotocol '" + printable(chosen) + "' that was not offered";
      return out;
    }
    out.subprotocol = std::string(chosen);
  }
  out.accepted = true;
  return out;
}

}  // namespace dbr::ws
