#pragma once
// The two Auth0 answers the sign-in reads (dunebugger-protocol.md §3), as
// pure functions of the response body, so that what a server sends can be
// tested and fuzzed without a connection.
#include <optional>
#include <string>
#include <string_view>

namespace dbr::pubsub {

// POST /oauth/token: the "access_token" of a JSON object, a non-empty
// string; nullopt otherwise, and for a token holding a control character:
// it goes into the Authorization header of /userinfo, and "a field value
// containing CR, LF or NUL characters is invalid and dangerous" (RFC 9110
// §5.5).
std::optional<std::string> parse_token_reply(std::string_view body);

// GET /userinfo: the "wss_url" claim of a JSON object, a non-empty string;
// nullopt otherwise.
std::optional<std::string> parse_userinfo_reply(std::string_view body);

}  // namespace dbr::pubsub
