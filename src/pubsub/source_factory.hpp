#pragma once
// The inputs of every client-URL source (url_source.hpp, auth0_source.hpp)
// and the factory that makes the one `kind` names. All inputs are kept, not only the chosen
// source's: a reload that changes any of them makes a new connection.
#include <memory>
#include <optional>
#include <string>

#include "pubsub/access_token.hpp"
#include "pubsub/auth0_source.hpp"
#include "pubsub/url_source.hpp"

namespace dbr::loop {
class EventLoop;
}
namespace dbr::net {
class CurlMulti;
}

namespace dbr::pubsub {

struct UrlSourceOptions {
  // Picked by the config's precedence (config::url_source).
  enum class Kind { None, StaticUrl, ConnectionString, Auth0 } kind = Kind::None;
  std::string url;                             // StaticUrl: used as given
  std::optional<ServiceAccessKey> access_key;  // ConnectionString: signs a token for `token`
  TokenRequest token;                          // hub, user id (deviceId), group
  Auth0Credentials auth0;
  bool operator==(const UrlSourceOptions&) const = default;
};

// nullptr for Kind::None (the agent refuses to start then, see
// config::missing_for_start).
std::unique_ptr<ClientUrlSource> make_url_source(const UrlSourceOptions& options, loop::EventLoop& loop,
                                                 net::CurlMulti& multi);

}  // namespace dbr::pubsub
