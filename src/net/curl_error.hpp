#pragma once
// What class of failure a libcurl transfer error is, for every adapter that
// reports transfer failures (the WebSocket connect, HTTPS requests).
#include <curl/curl.h>

#include <string_view>

namespace dbr::net {

enum class CurlErrorClass { Dns, Tcp, Tls, Timeout, Other };

CurlErrorClass classify_curl_error(CURLcode rc);
std::string_view curl_error_class_name(CurlErrorClass c);

}  // namespace dbr::net
