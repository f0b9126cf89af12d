#pragma once
// The one redaction helper. Every log line passes through it (the log sink
// applies it), and code that puts a URL or header into any other text calls
// it too. It replaces secret values with "***" and keeps the key, so a log
// still says which secret was there.
//
// Covered: URL/form values of access_token, awps_reconnection_token,
// reconnectionToken, client_secret, password, id_token, refresh_token;
// AccessKey= in connection strings; JSON string values of the same names;
// Authorization header values and "Bearer <token>"; the password (or the
// lone token) of a URL's userinfo, "nats://user:***@host".
#include <string>
#include <string_view>

namespace dbr::log {

std::string redact(std::string_view text);

}  // namespace dbr::log
