#pragma once
// Where a new connection's client URL comes from, by the config's precedence
// (config::url_source): the `url` key as given; a JWT signed locally from
// `connectionString` + `hub`, fresh for every new connection; or Auth0's
// `wss_url` claim, fetched fresh for every new connection. The factory is in
// url_source_options.hpp.
//
// fetch() is asynchronous for every source, so the adapter has one path:
// `done` runs exactly once, later, on the loop thread, unless cancel() or
// destruction comes first. The URL holds a token: never log it.
#include <functional>
#include <optional>
#include <string>

#include "pubsub/failure.hpp"

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
};

}  // namespace dbr::pubsub
