#pragma once
// One asynchronous HTTP(S) request on the loop's CurlMulti (Auth0 sign-in).
//
// Each request uses a fresh connection: the Python agent reused one
// keep-alive connection and, after a non-200 it did not read, every later
// request failed (dunebugger-protocol.md §5). TLS is verified against the
// system CAs plus caFile. The response body is capped; a bigger one fails
// the request. Destroying the HttpRequest cancels it without a callback.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/time.hpp"
#include "net/curl_error.hpp"
#include "net/curl_multi.hpp"
#include "net/tls.hpp"

namespace dbr::net {

struct HttpRequestOptions {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  std::string ca_file;
  std::string user_agent;
  Duration timeout = std::chrono::seconds(10);  // the whole request
  std::size_t max_response_bytes = 256 * 1024;
};

struct HttpResult {
  // Set when the request did not produce an HTTP response.
  std::optional<CurlErrorClass> transfer_error;
  long status = 0;
  std::string body;
  std::optional<std::chrono::seconds> retry_after;
  // For logs: says what failed, names scheme://host:port only.
  std::string error;
  bool ok() const { return !transfer_error && status >= 200 && status < 300; }
};

class HttpRequest {
 public:
  using Callback = std::function<void(HttpResult&&)>;

  // Starts at once; `done` runs once on the loop thread, never from inside
  // this constructor. The owner may destroy the request inside `done`.
  HttpRequest(CurlMulti& multi, HttpRequestOptions options, Callback done);
  ~HttpRequest();
  HttpRequest(const HttpRequest&) = delete;
  HttpRequest& operator=(const HttpRequest&) = delete;

 private:
  static std::size_t on_body(char* data, std::size_t size, std::size_t count, void* userp);
  static std::size_t on_header(char* data, std::size_t size, std::size_t count, void* userp);
  void finish(CURLcode rc);

  CurlMulti& multi_;
  HttpRequestOptions options_;
  Callback done_;
  TrustSources trust_;
  CURL* easy_ = nullptr;
  curl_slist* headers_ = nullptr;
  char error_buffer_[CURL_ERROR_SIZE] = {};
  std::string display_;  // scheme://host:port
  HttpResult result_;
  std::optional<std::string> retry_after_header_;
  std::optional<std::string> date_header_;
  bool too_large_ = false;
};

}  // namespace dbr::net
