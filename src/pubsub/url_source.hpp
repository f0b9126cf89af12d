#pragma once
// Where a new connection's client URL comes from, by the config's precedence
// (config::url_source): the `url` key as given; a JWT signed locally from
// `connectionString` + `hub`, fresh for every new connection; or Auth0's
// `wss_url` claim, fetched fresh for every new connection. The sources are made by
// make_url_source (source_factory.hpp).
//
// fetch() is asynchronous for every source, so the adapter has one path:
// `done` runs exactly once, later, on the loop thread, unless cancel() or
// destruction comes first. The URL holds a token: never log it.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "pubsub/access_token.hpp"
#include "pubsub/core/events.hpp"

namespace dbr::loop {
class EventLoop;
}

namespace dbr::pubsub {

struct UrlResult {
  std::optional<std::string> url;  // set on success
  AttemptFailure failure;          // otherwise: why
};

class ClientUrlSource {
 public:
  using Done = std::function<void(UrlResult&&)>;
  virtual ~ClientUrlSource() = default;
  virtual void fetch(Done done) = 0;
  virtual void cancel() = 0;
  // For logs: which source, and its host; never a secret.
  virtual std::string describe() const = 0;
  // Whether it signs tokens with the wall clock (a connection string), and
  // then to add `offset` to it when signing: the service's clock minus ours
  // (core/clock_skew.hpp). The other sources take tokens as they come.
  virtual bool signs_with_wall_clock() const { return false; }
  virtual void set_clock_offset(std::chrono::seconds /*offset*/) {}
};

// The `url` key as given.
std::unique_ptr<ClientUrlSource> make_static_url_source(loop::EventLoop& loop, std::string url);
// A token signed from `connectionString` for every new connection.
std::unique_ptr<ClientUrlSource> make_signed_token_source(loop::EventLoop& loop, ServiceAccessKey key,
                                                          TokenRequest request);

}  // namespace dbr::pubsub
