#pragma once
// Retry-After (RFC 9110 §10.2.3): "Retry-After = HTTP-date / delay-seconds".
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace dbr {

// The delay the server asked for. A date is measured against the response's
// own Date header (RFC 9110 §6.6.1) rather than the device clock: a board
// without a real-time clock may not know the time yet, while both dates
// come from the server's clock. A date without a Date header, or anything
// unparsable, gives nullopt; a date in the past gives 0 s.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::optional<std::string_view> date_header);

// HTTP-date in any of the three forms recipients "MUST accept" (RFC 9110
// §5.6.7): IMF-fixdate, the obsolete RFC 850 form and asctime.
std::optional<std::chrono::sys_seconds> parse_http_date(std::string_view text);

// A wall-clock time for people, in logs: "2026-12-06 10:46:02 UTC".
std::string utc_text(std::chrono::sys_seconds t);

}  // namespace dbr
