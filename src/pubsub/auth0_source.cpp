#include "pubsub/auth0_source.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/fmt/fmt.h>

#include "version.hpp"

namespace dbr::pubsub {

namespace {

// The non-empty string `name` of a JSON object answer; nullopt for any other answer.
std::optional<std::string> string_field(const std::string& body, const char* name) {
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (!json.is_object()) return std::nullopt;
  auto field = json.find(name);
  if (field == json.end() || !field->is_string() || field->get_ref<const std::string&>().empty()) return std::nullopt;
  return field->get<std::string>();
}

}  // namespace

AttemptFailure http_failure(const net::HttpResult& result, std::string_view what) {
  AttemptFailure f;
  if (result.transfer_error) {
    f.kind = net::failure_kind_of(*result.transfer_error);
  } else {
    f.kind = FailureKind::HttpStatus;
    f.http_status = static_cast<int>(result.status);
    f.retry_after = result.retry_after;
  }
  f.detail = fmt::format("{}: {}", what, result.error);
  return f;
}

Auth0Source::Auth0Source(net::CurlMulti& multi, Auth0Credentials credentials)
    : multi_(multi), credentials_(std::move(credentials)) {}

std::string Auth0Source::describe() const { return "Auth0 at " + credentials_.auth_host; }

net::HttpRequestOptions Auth0Source::request(std::string method, std::string path) const {
  net::HttpRequestOptions o;
  o.method = std::move(method);
  o.url = "https://" + credentials_.auth_host + path;
  o.ca_file = credentials_.ca_file;
  o.timeout = credentials_.timeout;
  o.user_agent = std::string("dunebugger-remote/") + kVersion;
  return o;
}

void Auth0Source::fetch(Done done) {
  cancel();
  done_ = std::move(done);
  auto o = request("POST", "/oauth/token");
  o.headers = {"Content-Type: application/json", "Accept: application/json"};
  o.body = nlohmann::json{{"client_id", credentials_.client_id},
                          {"client_secret", credentials_.client_secret},
                          {"grant_type", "password"},
                          {"username", credentials_.username},
                          {"password", credentials_.password},
                          {"scope", "openid profile email"}}
               .dump();
  request_ = std::make_unique<net::HttpRequest>(multi_, std::move(o),
                                                [this](net::HttpResult&& r) { on_token(std::move(r)); });
}

void Auth0Source::cancel() {
  request_.reset();
  done_ = nullptr;
}

void Auth0Source::finish(UrlResult result) {
  auto done = std::move(done_);
  done_ = nullptr;
  if (done) done(std::move(result));
}

void Auth0Source::on_token(net::HttpResult&& result) {
  // Keep the finished request alive until we return: its callback is running.
  auto finished = std::move(request_);
  if (!result.ok()) return fail(http_failure(result, "Auth0 sign-in"));
  auto token = string_field(result.body, "access_token");
  if (!token) return fail({FailureKind::Protocol, 0, std::nullopt, "Auth0 sign-in: the answer has no access_token"});
  auto o = request("GET", "/userinfo");
  o.headers = {"Authorization: Bearer " + *token, "Accept: application/json"};
  request_ = std::make_unique<net::HttpRequest>(multi_, std::move(o),
                                                [this](net::HttpResult&& r) { on_userinfo(std::move(r)); });
}

void Auth0Source::on_userinfo(net::HttpResult&& result) {
  auto finished = std::move(request_);
  if (!result.ok()) return fail(http_failure(result, "Auth0 /userinfo"));
  auto url = string_field(result.body, "wss_url");
  if (!url) return fail({FailureKind::Protocol, 0, std::nullopt, "Auth0 /userinfo: the answer has no wss_url claim"});
  finish({std::move(url), {}});
}

}  // namespace dbr::pubsub
