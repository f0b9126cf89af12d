#pragma once
// Auth0 sign-in as the Python agent does it (dunebugger-protocol.md §3):
//   1. POST https://<authURL>/oauth/token  {client_id, client_secret,
//      grant_type: "password", username, password, scope: "openid profile email"}
//   2. GET  https://<authURL>/userinfo  with "Authorization: Bearer <token>"
//      and take the `wss_url` claim.
// Any non-2xx answer or a missing field is a classified failure with the
// status; both requests use fresh connections (see net/http_request.hpp).
#include <memory>
#include <string>

#include "net/http_request.hpp"
#include "pubsub/url_source.hpp"

namespace dbr::pubsub {

struct Auth0Credentials {
  std::string auth_host;  // host[:port], no scheme
  std::string client_id;
  std::string client_secret;
  std::string username;
  std::string password;
  std::string ca_file;
  std::chrono::seconds timeout{10};
  bool operator==(const Auth0Credentials&) const = default;
};

class Auth0Source final : public ClientUrlSource {
 public:
  Auth0Source(net::CurlMulti& multi, Auth0Credentials credentials);
  void fetch(Done done) override;
  void cancel() override;
  std::string describe() const override;

 private:
  void on_token(net::HttpResult&& result);
  void on_userinfo(net::HttpResult&& result);
  void fail(AttemptFailure failure) { finish({std::nullopt, std::move(failure)}); }
  void finish(UrlResult result);  // hands `result` to the pending fetch's Done, if any
  net::HttpRequestOptions request(std::string method, std::string path) const;

  net::CurlMulti& multi_;
  Auth0Credentials credentials_;
  std::unique_ptr<net::HttpRequest> request_;
  Done done_;
};

// Maps a failed HTTP result onto the supervisor's failure kinds.
AttemptFailure http_failure(const net::HttpResult& result, std::string_view what);

}  // namespace dbr::pubsub
