#include <chrono>

#include "loop/timer.hpp"
#include "pubsub/access_token.hpp"
#include "pubsub/url_source.hpp"

namespace dbr::pubsub {

namespace {

// Sources that know the URL at once still answer from the loop, later, so
// the adapter has one asynchronous path.
class ImmediateSource : public ClientUrlSource {
 public:
  explicit ImmediateSource(loop::EventLoop& loop) : timer_(loop, [this] { deliver(); }) {}
  void fetch(Done done) override {
    done_ = std::move(done);
    timer_.arm_in(Duration::zero());
  }
  void cancel() override {
    timer_.cancel();
    done_ = nullptr;
  }

 protected:
  virtual UrlResult make() = 0;

 private:
  void deliver() {
    auto done = std::move(done_);
    done_ = nullptr;
    if (done) done(make());
  }
  loop::Timer timer_;
  Done done_;
};

std::string host_of(const std::string& url) {
  auto start = url.find("://");
  if (start == std::string::npos) return "?";
  start += 3;
  std::string authority = url.substr(start, url.find_first_of("/?#", start) - start);
  // Only the host names the source; userinfo may hold a password.
  if (auto at = authority.rfind('@'); at != std::string::npos) authority.erase(0, at + 1);
  return authority;
}

class StaticUrlSource final : public ImmediateSource {
 public:
  StaticUrlSource(loop::EventLoop& loop, std::string url) : ImmediateSource(loop), url_(std::move(url)) {}
  std::string describe() const override { return "the configured url (" + host_of(url_) + ")"; }

 private:
  UrlResult make() override { return {url_, {}}; }
  std::string url_;
};

class ConnectionStringSource final : public ImmediateSource {
 public:
  ConnectionStringSource(loop::EventLoop& loop, ServiceAccessKey cs, TokenRequest request)
      : ImmediateSource(loop), cs_(std::move(cs)), request_(std::move(request)) {}
  std::string describe() const override { return "tokens signed for " + host_of(cs_.endpoint); }
  bool signs_with_wall_clock() const override { return true; }
  void set_clock_offset(std::chrono::seconds offset) override { offset_ = offset; }

 private:
  UrlResult make() override {
    // Wall-clock time: the service checks exp and iat against its clock,
    // so ours corrected by what its Date header said (zero while they agree).
    std::string token = sign_client_token(cs_, request_, std::chrono::system_clock::now() + offset_);
    return {client_url(cs_, request_.hub, token), {}};
  }
  ServiceAccessKey cs_;
  TokenRequest request_;
  std::chrono::seconds offset_{0};
};

}  // namespace

std::unique_ptr<ClientUrlSource> make_static_url_source(loop::EventLoop& loop, std::string url) {
  return std::make_unique<StaticUrlSource>(loop, std::move(url));
}

std::unique_ptr<ClientUrlSource> make_signed_token_source(loop::EventLoop& loop, ServiceAccessKey key,
                                                          TokenRequest request) {
  return std::make_unique<ConnectionStringSource>(loop, std::move(key), std::move(request));
}

}  // namespace dbr::pubsub
