// libFuzzer target for the Auth0 sign-in's answers (dunebugger-protocol.md
// §3): the body of POST /oauth/token and of GET /userinfo, read by
// parse_token_reply and parse_userinfo_reply.
//
// Checked besides the sanitizers (reading must never throw):
//   - a token or URL is a non-empty string member of a JSON object body;
//   - the token can go into the next request's Authorization header: no
//     CR, LF, NUL or other control character ("a field value containing CR,
//     LF or NUL characters is invalid and dangerous", RFC 9110 §5.5);
//   - the same body read twice gives the same answer.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "pubsub/auth0_reply.hpp"
#include "fuzz/require.hpp"

namespace {

using dbr::fuzz::require;

bool header_safe(const std::string& value) {
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const auto token = dbr::pubsub::parse_token_reply(body);
  if (token) {
    require(!token->empty() && header_safe(*token));
    require(body.find("access_token") != std::string_view::npos || body.find("\\u") != std::string_view::npos);
  }
  require(dbr::pubsub::parse_token_reply(body) == token);

  const auto url = dbr::pubsub::parse_userinfo_reply(body);
  if (url) require(!url->empty());
  require(dbr::pubsub::parse_userinfo_reply(body) == url);
  return 0;
}
