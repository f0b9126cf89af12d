// libFuzzer target for the WebSocket upgrade response: the server's bytes
// before the WebSocket stream (RFC 6455 §4.1, RFC 9112), read by
// ResponseReader (the head, and a refusal's body) and judged by
// check_response (with the service's reason and the Date).
//
// Input: byte 0 picks how the rest is cut into reads (1..255 bytes, or 0:
// all at once); the rest is what the server sends, then the stream ends.
// Checked besides the sanitizers:
//   - cut into reads or fed whole, the reader ends the same way, with the
//     same head or error; a refusal's body is the same when Content-Length
//     gives it, and without one the cut run's is a prefix of the whole run's
//     (the reader keeps what came with the head, as its header says);
//   - it takes the head, then only a refusal's body: at most
//     kMaxBodyBytes, the bytes that follow the head; a 101 leaves every byte
//     after its head to the WebSocket; never more than the head's bound;
//   - header names are not empty and nothing holds a line end;
//   - an accepted handshake was a 101 with Upgrade: websocket, Connection:
//     Upgrade, the Sec-WebSocket-Accept of our key and no extension (read
//     here independently, RFC 6455 §4.1), naming an offered subprotocol or
//     none; a refusal keeps the status; a detail is printable ASCII (it is
//     logged, and never quotes the server raw);
//   - the service's reason is printable ASCII, at most kMaxServiceReason
//     characters, made of the service's own words (the body's, or the
//     challenge's), and holds nothing that looks like a credential (a JWT,
//     a run of 32 base64 characters, a token=/secret=... pair).
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ws/codec/handshake.hpp"
#include "fuzz/require.hpp"

namespace {

using dbr::fuzz::require;

using dbr::ws::ResponseReader;

// RFC 6455 §1.3's worked example; the seeds carry its accept value.
constexpr const char* kClientKey = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr const char* kAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

struct Read {
  ResponseReader::Status status = ResponseReader::Status::NeedMore;
  std::size_t consumed = 0;  // bytes the reader took
  ResponseReader reader;
};

// Feeds the stream in reads of `read_size` (0: whole), then ends it.
Read read(std::span<const std::uint8_t> stream, std::size_t read_size) {
  Read r;
  std::size_t pos = 0;
  while (pos < stream.size() && r.status == ResponseReader::Status::NeedMore) {
    const std::size_t n = read_size == 0 ? stream.size() - pos : std::min(read_size, stream.size() - pos);
    std::span<const std::uint8_t> input = stream.subspan(pos, n);
    r.status = r.reader.feed(input);
    // The reader consumes from the front.
    require(input.data() == stream.data() + pos + (n - input.size()));
    require(r.status != ResponseReader::Status::NeedMore || input.empty());
    pos += n - input.size();
  }
  r.consumed = pos;
  if (r.status == ResponseReader::Status::NeedMore) r.status = r.reader.end_of_input();
  return r;
}

// Where the head ends: after the first empty line (LF or CRLF line ends).
std::size_t head_length(const std::string& stream) {
  for (std::size_t i = 1; i < stream.size(); ++i) {
    if (stream[i] != '\n') continue;
    if (stream[i - 1] == '\n' || (i >= 2 && stream[i - 1] == '\r' && stream[i - 2] == '\n')) return i + 1;
  }
  return std::string::npos;
}

// Content-Length when it is 1 to 9 digits, as the reader takes it.
std::optional<std::size_t> content_length(const dbr::ws::HttpResponse& response) {
  const auto value = response.header("Content-Length");
  if (!value || value->empty() || value->size() > 9) return std::nullopt;
  for (char d : *value)
    if (d < '0' || d > '9') return std::nullopt;
  return std::stoul(*value);
}

bool printable(const std::string& s) {
  for (char c : s)
    if (c < 0x20 || c > 0x7e) return false;
  return true;
}

bool has_line_end(const std::string& s) { return s.find_first_of("\r\n") != std::string::npos; }

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trimmed(const std::string& s) {
  const auto first = s.find_first_not_of(" \t");
  return first == std::string::npos ? std::string() : s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

// Every value of a header, lowercased and split at commas into trimmed
// elements, empty ones dropped (RFC 9110 §5.6.1).
std::vector<std::string> elements(const dbr::ws::HttpResponse& response, const char* name) {
  std::vector<std::string> out;
  for (const auto& [n, v] : response.headers) {
    if (lower(n) != lower(name)) continue;
    std::size_t start = 0;
    while (start <= v.size()) {
      const std::size_t comma = std::min(v.find(',', start), v.size());
      if (auto e = trimmed(v.substr(start, comma - start)); !e.empty()) out.push_back(e);
      start = comma + 1;
    }
  }
  return out;
}

// RFC 6455 §4.1's conditions for accepting a 101, read independently.
bool acceptable_101(const dbr::ws::HttpResponse& response) {
  const auto upgrade = elements(response, "Upgrade");
  const auto connection = elements(response, "Connection");
  const auto accept = elements(response, "Sec-WebSocket-Accept");
  return upgrade.size() == 1 && lower(upgrade[0]) == "websocket" &&
         std::count_if(connection.begin(), connection.end(), [](const std::string& t) { return lower(t) == "upgrade"; }) > 0 &&
         accept.size() == 1 && accept[0] == kAccept && elements(response, "Sec-WebSocket-Extensions").empty();
}

// What the service said, as check_reason compares it: the body and the
// WWW-Authenticate challenge, each unprintable byte as the '?' it becomes.
std::string service_words(const dbr::ws::HttpResponse& response) {
  std::string out = response.body + ' ' + response.header("WWW-Authenticate").value_or("");
  for (char& c : out)
    if (c < 0x20 || c > 0x7e) c = '?';
  return out;
}

// The reason is printable, bounded, quotes the service (each word but a
// redaction and the "..." of a cut is the service's own), and holds
// nothing the header calls a credential: no "eyJ" (a JWT), no run of 32
// base64 characters, no key=value naming a token or secret.
void check_reason(const std::string& reason, const dbr::ws::HttpResponse& response) {
  require(printable(reason) && reason.size() <= dbr::ws::kMaxServiceReason);
  require(reason.find("eyJ") == std::string::npos);
  std::size_t run = 0;
  for (char c : reason) {
    run = std::isalnum(static_cast<unsigned char>(c)) || std::string_view("-_+/=").find(c) != std::string_view::npos ? run + 1 : 0;
    require(run < 32);
  }
  const std::string source = service_words(response);
  for (std::size_t start = 0; start < reason.size();) {
    const std::size_t end = std::min(reason.find(' ', start), reason.size());
    const std::string word = reason.substr(start, end - start);
    const std::string key = lower(word);
    require(!word.empty());
    if (word.find('=') != std::string::npos)
      for (const char* secret : {"token", "signature", "sig=", "accesskey", "password", "secret"})
        require(key.find(secret) == std::string::npos);
    const bool cut = end == reason.size() && word.ends_with("...");
    require(word == "[redacted]" || cut || source.find(word) != std::string::npos);
    start = end + 1;
  }
  // A plain body with words is the reason (chunked ones are cut to their
  // first chunk, which may be empty).
  if (!response.header("Transfer-Encoding") && response.body.find_first_not_of(" \t\r\n") != std::string::npos)
    require(!reason.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t read_size = data[0];
  std::span<const std::uint8_t> stream(data + 1, size - 1);
  const std::string bytes(reinterpret_cast<const char*>(stream.data()), stream.size());
  const Read cut = read(stream, read_size);
  const Read whole = read(stream, 0);

  require(cut.status == whole.status && cut.reader.error() == whole.reader.error());
  require(cut.status != ResponseReader::Status::NeedMore);
  const std::size_t head = head_length(bytes);
  if (whole.status == ResponseReader::Status::Error) {
    // No message: the stream ended before the head did (the codec words
    // that failure itself).
    require(printable(whole.reader.error()));
    require(!whole.reader.error().empty() || head == std::string::npos);
    require(whole.consumed <= ResponseReader::kMaxHeadBytes);
    return 0;
  }
  // Done: a head, then a refusal's body: the bytes that follow the head.
  require(head != std::string::npos && head <= ResponseReader::kMaxHeadBytes);
  const auto& response = whole.reader.response();
  const auto& other = cut.reader.response();
  require(response.status == other.status && response.reason == other.reason && response.headers == other.headers);
  for (const Read* r : {&cut, &whole}) {
    const std::string& body = r->reader.response().body;
    require(r->consumed == head + body.size());
    require(body.size() <= ResponseReader::kMaxBodyBytes && bytes.compare(head, body.size(), body) == 0);
  }
  if (response.status == 101) {
    require(response.body.empty() && other.body.empty());
  } else if (const auto length = content_length(response)) {
    require(response.body == other.body);
    require(response.body.size() == std::min({*length, ResponseReader::kMaxBodyBytes, bytes.size() - head}));
  } else {
    require(response.body.starts_with(other.body));
    require(response.body.size() == std::min(ResponseReader::kMaxBodyBytes, bytes.size() - head));
  }
  require(response.status >= 0 && response.status <= 999);
  require(!has_line_end(response.reason));
  for (const auto& [name, value] : response.headers) require(!name.empty() && !has_line_end(name) && !has_line_end(value));

  const std::vector<std::string> offered = {"json.reliable.webpubsub.azure.v1", "json.webpubsub.azure.v1"};
  for (const auto& subprotocols : {offered, std::vector<std::string>{}}) {
    const auto outcome = dbr::ws::check_response(response, kClientKey, subprotocols);
    require(printable(outcome.detail));
    check_reason(outcome.service_reason, response);
    if (outcome.accepted) {
      require(response.status == 101 && outcome.detail.empty() && outcome.http_status == 0);
      require(acceptable_101(response));
      require(outcome.subprotocol.empty() ||
              std::find(subprotocols.begin(), subprotocols.end(), outcome.subprotocol) != subprotocols.end());
    } else {
      require(!outcome.detail.empty());
      require(outcome.http_status == (response.status == 101 ? 0 : response.status));
      require(!outcome.retry_after || outcome.retry_after->count() >= 0);
    }
  }
  check_reason(dbr::ws::service_reason(other), other);
  return 0;
}
