#pragma once
// What class of failure a libcurl transfer error is, for every adapter that
// reports transfer failures (the WebSocket connect, HTTPS requests).
#include <curl/curl.h>

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
// the more precise) when filled, else the code's generic text.
std::string curl_error_text(CURLcode rc, const char* error_buffer);

}  // namespace dbr::net
