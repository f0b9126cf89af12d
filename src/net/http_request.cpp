#include "net/http_request.hpp"

#include <spdlog/fmt/fmt.h>

#include <cstring>
#include <stdexcept>

#include "common/retry_after.hpp"

namespace dbr::net {

namespace {

// scheme://host[:port] of a URL, without path or query (they may carry
// secrets); "(invalid URL)" when curl cannot parse it.
std::string display_of(const std::string& url) {
  CURLU* u = curl_url();
  std::string out = "(invalid URL)";
  if (u && curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK) {
    char *scheme = nullptr, *host = nullptr, *port = nullptr;
    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    curl_url_get(u, CURLUPART_HOST, &host, 0);
    curl_url_get(u, CURLUPART_PORT, &port, 0);
    if (scheme && host) out = fmt::format("{}://{}{}{}", scheme, host, port ? ":" : "", port ? port : "");
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
  }
  curl_url_cleanup(u);
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return std::string(s);
}

bool header_is(std::string_view line, std::string_view name) {
  if (line.size() <= name.size() || line[name.size()] != ':') return false;
  for (std::size_t i = 0; i < name.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(line[i])) != std::tolower(static_cast<unsigned char>(name[i])))
      return false;
  return true;
}

}  // namespace

HttpRequest::HttpRequest(CurlMulti& multi, HttpRequestOptions options, Callback done)
    : multi_(multi),
      options_(std::move(options)),
      done_(std::move(done)),
      trust_(TrustSources::system_plus(options_.ca_file)),
      display_(display_of(options_.url)) {
  ensure_curl_global_init();
  easy_ = curl_easy_init();
  if (!easy_) throw std::runtime_error("curl_easy_init failed");
  curl_easy_setopt(easy_, CURLOPT_URL, options_.url.c_str());
  curl_easy_setopt(easy_, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy_, CURLOPT_ERRORBUFFER, error_buffer_);
  curl_easy_setopt(easy_, CURLOPT_FRESH_CONNECT, 1L);
  curl_easy_setopt(easy_, CURLOPT_FORBID_REUSE, 1L);
  curl_easy_setopt(easy_, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(easy_, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(options_.timeout).count()));
  if (!options_.user_agent.empty()) curl_easy_setopt(easy_, CURLOPT_USERAGENT, options_.user_agent.c_str());
  set_tls_verification(easy_, trust_);
  for (const auto& h : options_.headers) headers_ = curl_slist_append(headers_, h.c_str());
  if (headers_) curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, headers_);
  if (options_.method == "POST") {
    curl_easy_setopt(easy_, CURLOPT_POST, 1L);
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(options_.body.size()));
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDS, options_.body.c_str());
  } else if (options_.method != "GET") {
    curl_easy_setopt(easy_, CURLOPT_CUSTOMREQUEST, options_.method.c_str());
    if (!options_.body.empty()) {
      curl_easy_setopt(easy_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(options_.body.size()));
      curl_easy_setopt(easy_, CURLOPT_POSTFIELDS, options_.body.c_str());
    }
  }
  curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &HttpRequest::on_body);
  curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(easy_, CURLOPT_HEADERFUNCTION, &HttpRequest::on_header);
  curl_easy_setopt(easy_, CURLOPT_HEADERDATA, this);
  multi_.add(easy_, [this](CURLcode rc) { finish(rc); });
}

HttpRequest::~HttpRequest() {
  multi_.remove(easy_);
  curl_easy_cleanup(easy_);
  curl_slist_free_all(headers_);
}

std::size_t HttpRequest::on_body(char* data, std::size_t size, std::size_t count, void* userp) {
  auto* self = static_cast<HttpRequest*>(userp);
  std::size_t n = size * count;
  if (self->result_.body.size() + n > self->options_.max_response_bytes) {
    self->too_large_ = true;
    return 0;  // makes curl fail the transfer with CURLE_WRITE_ERROR
  }
  self->result_.body.append(data, n);
  return n;
}

std::size_t HttpRequest::on_header(char* data, std::size_t size, std::size_t count, void* userp) {
  auto* self = static_cast<HttpRequest*>(userp);
  std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {  // a new response (after a 100 Continue, say)
    self->retry_after_header_.reset();
    self->date_header_.reset();
  } else if (header_is(line, "Retry-After")) {
    self->retry_after_header_ = trim(line.substr(12));
  } else if (header_is(line, "Date")) {
    self->date_header_ = trim(line.substr(5));
  }
  return size * count;
}

void HttpRequest::finish(CURLcode rc) {
  multi_.remove(easy_);
  if (rc != CURLE_OK) {
    result_.transfer_error = too_large_ ? CurlErrorClass::Other : classify_curl_error(rc);
    std::string why = too_large_ ? fmt::format("response over {} bytes", options_.max_response_bytes)
                                 : curl_error_text(rc, error_buffer_);
    result_.error = fmt::format("{} {}: {}: {}", options_.method, display_,
                                curl_error_class_name(*result_.transfer_error), why);
  } else {
    curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &result_.status);
    if (retry_after_header_) {
      std::optional<std::string_view> date;
      if (date_header_) date = *date_header_;
      result_.retry_after = parse_retry_after(*retry_after_header_, date);
    }
    if (!result_.ok()) result_.error = fmt::format("{} {}: HTTP {}", options_.method, display_, result_.status);
  }
  // The callback may destroy this object: nothing touches members after it.
  auto done = std::move(done_);
  HttpResult result = std::move(result_);
  done(std::move(result));
}

}  // namespace dbr::net
