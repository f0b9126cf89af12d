#include "monitor/http_probe.hpp"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <stdexcept>

#include "net/curl_multi.hpp"

namespace dbr::monitor {

namespace {

constexpr auto kHardStopMargin = std::chrono::seconds(1);

long to_ms(Duration d) {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

template <typename T>
void set(CURL* easy, CURLoption option, T value) {
  CURLcode r = curl_easy_setopt(easy, option, value);
  if (r != CURLE_OK) throw std::runtime_error(std::string("curl_easy_setopt: ") + curl_easy_strerror(r));
}

}  // namespace

struct HttpProbe::Curl {
  CURLM* multi = nullptr;
  CURL* easy = nullptr;
  curl_slist* resolve = nullptr;
  std::array<char, CURL_ERROR_SIZE> error{};
  bool attached = false;
  ~Curl() {
    if (attached) curl_multi_remove_handle(multi, easy);
    if (easy) curl_easy_cleanup(easy);
    if (multi) curl_multi_cleanup(multi);
    curl_slist_free_all(resolve);
  }
};

HttpProbe::HttpProbe(Options options)
    : options_(std::move(options)), trust_(net::TrustSources::system_plus(options_.ca_file)) {
  auto target = parse_probe_url(options_.url);
  if (!target) throw std::invalid_argument("probe URL is not an http:// or https:// URL with a host");
  target_ = *target;
  net::ensure_curl_global_init();
  curl_ = std::make_unique<Curl>();
  curl_->multi = curl_multi_init();
  curl_->easy = curl_easy_init();
  if (!curl_->multi || !curl_->easy) throw std::runtime_error("curl: cannot create handles");
  CURL* e = curl_->easy;
  set(e, CURLOPT_URL, options_.url.c_str());
  set(e, CURLOPT_PROTOCOLS_STR, "http,https");
  set(e, CURLOPT_NOSIGNAL, 1L);  // we are not the main thread
  // Redirects are followed here, hop by hop (redirects.hpp), so each is
  // judged before it is taken and each host is pinned.
  set(e, CURLOPT_FOLLOWLOCATION, 0L);
  set(e, CURLOPT_USERAGENT, options_.user_agent.c_str());
  set(e, CURLOPT_ERRORBUFFER, curl_->error.data());
  set(e, CURLOPT_WRITEFUNCTION, &HttpProbe::on_body);
  set(e, CURLOPT_WRITEDATA, static_cast<void*>(this));
  // The agent's one TLS policy: verified, system CAs plus caFile, from the
  // process's shared certificate store.
  net::set_tls_verification(e, trust_);
}

HttpProbe::~HttpProbe() = default;

std::size_t HttpProbe::on_body(char*, std::size_t size, std::size_t count, void* self_ptr) {
  auto* self = static_cast<HttpProbe*>(self_ptr);
  std::size_t n = size * count;
  self->body_bytes_ += n;
  if (self->body_bytes_ > self->options_.max_body_bytes) {
    self->body_cut_ = true;
    return 0;  // CURLE_WRITE_ERROR: stop paying for a large page
  }
  return n;
}

void HttpProbe::cancel() {
  lookup_.reset();
  if (curl_->attached) {
    curl_multi_remove_handle(curl_->multi, curl_->easy);
    curl_->attached = false;
  }
  if (!done_) {
    HttpOutcome o;
    o.failure = ProbeFailure::Other;
    o.error = "http: cancelled";
    finish(std::move(o));
  }
}

void HttpProbe::start(const std::vector<std::string>& addresses, bool fresh_connection) {
  cancel();
  get_on_trial_ = false;
  started_ = Clock::now();
  deadline_ = started_ + options_.timeout;
  outcome_ = HttpOutcome{};
  done_ = false;
  chain_.emplace(options_.url, target_);
  resolved_.clear();
  if (!target_.host_is_ip) resolved_.emplace_back(normalized_host(target_.host), addresses);
  begin_request(options_.url, target_, fresh_connection);
}

HttpOutcome HttpProbe::timed_out() const {
  HttpOutcome o;
  o.failure = ProbeFailure::Timeout;
  o.error = fmt::format("timeout: no result within {} ms", to_ms(options_.timeout));
  return o;
}

const std::vector<std::string>* HttpProbe::addresses_of(const std::string& host) const {
  auto key = normalized_host(host);
  for (const auto& [name, addresses] : resolved_)
    if (name == key) return &addresses;
  return nullptr;
}

void HttpProbe::pin(const ProbeTarget& target) {
  // "-host:port" drops an earlier pin from curl's DNS cache (pins never
  // expire); "host:port:a,b" pins this request's host to its answer.
  curl_slist* list = nullptr;
  auto append = [&list](const std::string& entry) {
    auto* grown = curl_slist_append(list, entry.c_str());
    if (!grown) throw std::bad_alloc();
    list = grown;
  };
  try {
    for (const auto& key : pinned_) append("-" + key);
    pinned_.clear();
    const auto* addresses = target.host_is_ip ? nullptr : addresses_of(target.host);
    if (addresses && !addresses->empty()) {
      auto key = fmt::format("{}:{}", target.host, target.port);
      std::string pinned;
      for (const auto& a : *addresses) {
        if (!pinned.empty()) pinned += ',';
        pinned += bracket_if_ipv6(a);
      }
      append(key + ":" + pinned);
      pinned_.push_back(key);
    }
  } catch (...) {
    curl_slist_free_all(list);
    throw;
  }
  set(curl_->easy, CURLOPT_RESOLVE, list);
  curl_slist_free_all(curl_->resolve);
  curl_->resolve = list;  // curl reads it when the transfer starts
}

void HttpProbe::begin_request(const std::string& url, const ProbeTarget& target, bool fresh_connection) {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline_ - Clock::now());
  if (left <= Duration::zero()) {
    finish(timed_out());
    return;
  }
  CURL* e = curl_->easy;
  set(e, CURLOPT_URL, url.c_str());
  pin(target);
  set(e, CURLOPT_TIMEOUT_MS, to_ms(left));
  set(e, CURLOPT_CONNECTTIMEOUT_MS, to_ms(left));
  set(e, CURLOPT_FRESH_CONNECT, fresh_connection ? 1L : 0L);
  if (use_get_)
    set(e, CURLOPT_HTTPGET, 1L);
  else
    set(e, CURLOPT_NOBODY, 1L);  // HEAD
  hop_url_ = url;
  hop_target_ = target;
  curl_->error[0] = '\0';
  body_bytes_ = 0;
  body_cut_ = false;
  CURLMcode r = curl_multi_add_handle(curl_->multi, e);
  if (r != CURLM_OK) {
    HttpOutcome o;
    o.failure = ProbeFailure::Other;
    o.error = fmt::format("http: {}", curl_multi_strerror(r));
    finish(std::move(o));
    return;
  }
  curl_->attached = true;
}

void HttpProbe::follow(RedirectVerdict redirect) {
  curl_multi_remove_handle(curl_->multi, curl_->easy);
  curl_->attached = false;
  const auto& host = redirect.target.host;
  if (redirect.target.host_is_ip || addresses_of(host)) {
    begin_request(redirect.url, redirect.target, false);  // the connection just made may carry it
    return;
  }
  // Another host of the same site: resolved like the probe host (c-ares,
  // the same servers, never a cache), within what is left of the timeout.
  auto left = deadline_ - Clock::now();
  if (left <= Duration::zero()) {
    finish(timed_out());
    return;
  }
  lookup_.emplace(DnsProbe::Options{options_.dns_servers, left});
  lookup_->start(host, Clock::now());
  pending_hop_ = std::move(redirect);
}

void HttpProbe::step_lookup(std::span<pollfd> extra, Duration max_wait) {
  lookup_->step(extra, max_wait);
  if (!lookup_->done()) return;
  auto answer = lookup_->outcome();
  lookup_.reset();
  if (!answer.ok) {
    HttpOutcome o;
    o.failure = ProbeFailure::Dns;
    o.error = answer.error;  // "dns: www.example.com: ..."
    finish(std::move(o));
    return;
  }
  resolved_.emplace_back(pending_hop_.target.host, std::move(answer.addresses));
  begin_request(pending_hop_.url, pending_hop_.target, false);
}

void HttpProbe::finish(HttpOutcome outcome) {
  outcome.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started_);
  outcome_ = std::move(outcome);
  done_ = true;
  lookup_.reset();
  chain_.reset();  // and the suffix list it may have read
  if (curl_->attached) {
    curl_multi_remove_handle(curl_->multi, curl_->easy);
    curl_->attached = false;
  }
}

void HttpProbe::collect() {
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(curl_->multi, &left)) {
    if (msg->msg != CURLMSG_DONE || msg->easy_handle != curl_->easy) continue;
    HttpExchange ex;
    ex.curl_code = msg->data.result;
    if (ex.curl_code == CURLE_WRITE_ERROR && body_cut_) ex.curl_code = CURLE_OK;
    curl_easy_getinfo(curl_->easy, CURLINFO_RESPONSE_CODE, &ex.status);
    ex.curl_detail = curl_->error.data();
    char* redirect = nullptr;
    if (curl_easy_getinfo(curl_->easy, CURLINFO_REDIRECT_URL, &redirect) == CURLE_OK && redirect)
      ex.redirect_url = redirect;
    char* ip = nullptr;
    std::string primary_ip;
    if (curl_easy_getinfo(curl_->easy, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip) primary_ip = ip;
    const bool head_refused = (ex.curl_code == CURLE_OK && ex.status >= 400) || ex.curl_code == CURLE_GOT_NOTHING;
    if (!use_get_ && head_refused) {
      // Servers that refuse HEAD say so in many ways (405, 501, a 400 from
      // a WebSocket server, a 404), or close without a word (python3-
      // websockets 14 on trixie: "Empty reply from server"): ask this hop
      // again with GET. If GET
      // succeeds, the server wants GET from now on; if not, its GET answer
      // is the verdict and HEAD is tried again next time.
      use_get_ = true;
      get_on_trial_ = true;
      curl_multi_remove_handle(curl_->multi, curl_->easy);
      curl_->attached = false;
      begin_request(hop_url_, hop_target_, false);
      return;
    }
    HttpOutcome outcome;
    auto verdict = ex.curl_code == CURLE_OK && chain_ ? chain_->next(ex.status, ex.redirect_url) : RedirectVerdict{};
    if (verdict.kind == RedirectVerdict::Kind::Follow) {
      follow(std::move(verdict));
      return;
    }
    if (verdict.kind == RedirectVerdict::Kind::Refuse) {
      outcome.status = static_cast<int>(ex.status);
      outcome.failure = ProbeFailure::HttpStatus;
      outcome.error = std::move(verdict.error);
    } else {
      outcome = classify_http(ex);
    }
    outcome.primary_ip = std::move(primary_ip);
    if (get_on_trial_ && !outcome.ok) use_get_ = false;
    finish(std::move(outcome));
    return;
  }
}

void HttpProbe::step(std::span<pollfd> extra, Duration max_wait) {
  for (auto& p : extra) p.revents = 0;
  if (done_) return;
  auto hard_stop = started_ + options_.timeout + kHardStopMargin;
  if (lookup_) {
    step_lookup(extra, max_wait);  // bounded by its own deadline, deadline_
    return;
  }
  int running = 0;
  curl_multi_perform(curl_->multi, &running);
  collect();
  if (done_ || lookup_) return;
  auto now = Clock::now();
  if (now >= hard_stop) {
    finish(timed_out());
    return;
  }
  std::vector<curl_waitfd> waits;
  waits.reserve(extra.size());
  for (const auto& p : extra) waits.push_back(curl_waitfd{p.fd, p.events, 0});
  // curl_multi_poll caps the wait at curl's own next timeout.
  auto wait = std::clamp(std::min(max_wait, hard_stop - now), Duration::zero(), Duration(std::chrono::seconds(5)));
  int timeout_ms = static_cast<int>(to_ms(wait + std::chrono::microseconds(999)));
  int numfds = 0;
  curl_multi_poll(curl_->multi, waits.data(), static_cast<unsigned>(waits.size()), timeout_ms, &numfds);
  for (std::size_t i = 0; i < extra.size(); ++i) extra[i].revents = waits[i].revents;
  curl_multi_perform(curl_->multi, &running);
  collect();
}

}  // namespace dbr::monitor
