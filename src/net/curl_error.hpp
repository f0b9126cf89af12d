#pragma once
// What class of failure a libcurl transfer error is, for every adapter that
// reports transfer failures (the WebSocket connect, HTTPS requests).
#include <curl/curl.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/failure_kind.hpp"

namespace dbr::net {

enum class CurlErrorClass { Dns, Tcp, Tls, Timeout, Other };

CurlErrorClass classify_curl_error(CURLcode rc);
std::string_view curl_error_class_name(CurlErrorClass c);
// The failure kind a transfer error reports (Other: Io).
FailureKind failure_kind_of(CurlErrorClass c);
// curl's own words for a failed transfer: its error buffer (CURLOPT_ERRORBUFFER,
// the more precise) when filled, else the code's generic text. A TLS
// failure the device's clock may have caused (tls_clock_words) says so,
// with the system time and whether the kernel calls it synchronized.
std::string curl_error_text(CURLcode rc, const char* error_buffer);

// A board without a real-time clock starts hours or days behind: every
// certificate then looks "not yet valid" (OpenSSL's
// X509_V_ERR_CERT_NOT_YET_VALID, which curl quotes), and while the clock is
// not synchronized an "expired" one may be the clock's doing too. For such a
// text, the words that make it a clock problem a person can fix; empty
// otherwise. `synchronized`: the kernel's view (common/clock_sync.hpp).
std::string tls_clock_words(std::string_view curl_text, std::chrono::sys_seconds now,
                            std::optional<bool> synchronized);

}  // namespace dbr::net
