// libFuzzer target for the WebSocket upgrade response: the server's bytes
// before the WebSocket stream (RFC 6455 §4.1, RFC 9112), read by
// ResponseReader and judged by check_response.
//
// Input: byte 0 picks how the rest is cut into reads (1..255 bytes, or 0:
// all at once); the rest is what the server sends. Checked besides the
// sanitizers:
//   - cut into reads or fed whole, the reader ends the same way, with the
//     same response or error, and leaves the same bytes for the WebSocket;
//   - it never takes more than the head's bound, nor a byte past the blank
//     line that ends the head;
//   - header names are not empty and nothing holds a line end;
//   - an accepted handshake was a 101 with Upgrade: websocket, Connection:
//     Upgrade, the Sec-WebSocket-Accept of our key and no extension (read
//     here independently, RFC 6455 §4.1), naming an offered subprotocol or
//     none; a refusal keeps the status; a detail is printable ASCII (it is
//     logged, and never quotes the server raw).
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
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

Read read(std::span<const std::uint8_t> stream, std::size_t read_size) {
  Read r;
  std::size_t pos = 0;
  while (pos < stream.size() && r.status == ResponseReader::Status::NeedMore) {
    const std::size_t n = read_size == 0 ? stream.size() - pos : std::min(read_size, stream.size() - pos);
    std::span<const std::uint8_t> input = stream.subspan(pos, n);
    r.status = r.reader.feed(input);
    // The reader consumes from the front and stops at the end of the head.
    require(input.data() == stream.data() + pos + (n - input.size()));
    require(r.status != ResponseReader::Status::NeedMore || input.empty());
    pos += n - input.size();
  }
  r.consumed = pos;
  return r;
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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t read_size = data[0];
  std::span<const std::uint8_t> stream(data + 1, size - 1);
  const Read cut = read(stream, read_size);
  const Read whole = read(stream, 0);

  require(cut.status == whole.status && cut.consumed == whole.consumed);
  require(cut.reader.error() == whole.reader.error());
  require(cut.consumed <= ResponseReader::kMaxHeadBytes);
  if (whole.status == ResponseReader::Status::NeedMore) {
    require(whole.consumed == stream.size());
    return 0;
  }
  if (whole.status == ResponseReader::Status::Error) {
    require(!whole.reader.error().empty() && printable(whole.reader.error()));
    return 0;
  }
  // Done: the head ends with its blank line, and nothing after it was taken.
  const std::string head(reinterpret_cast<const char*>(stream.data()), whole.consumed);
  require(head.ends_with("\n\n") || head.ends_with("\n\r\n"));
  const auto& response = whole.reader.response();
  const auto& other = cut.reader.response();
  require(response.status == other.status && response.reason == other.reason && response.headers == other.headers);
  require(response.status >= 0 && response.status <= 999);
  require(!has_line_end(response.reason));
  for (const auto& [name, value] : response.headers) require(!name.empty() && !has_line_end(name) && !has_line_end(value));

  const std::vector<std::string> offered = {"json.reliable.webpubsub.azure.v1", "json.webpubsub.azure.v1"};
  for (const auto& subprotocols : {offered, std::vector<std::string>{}}) {
    const auto outcome = dbr::ws::check_response(response, kClientKey, subprotocols);
    require(printable(outcome.detail));
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
  return 0;
}
