#include "pubsub/source_factory.hpp"

#include "pubsub/auth0_source.hpp"

namespace dbr::pubsub {

std::unique_ptr<ClientUrlSource> make_url_source(const UrlSourceOptions& options, loop::EventLoop& loop,
                                                 net::CurlMulti& multi) {
  using Kind = UrlSourceOptions::Kind;
  switch (options.kind) {
    case Kind::StaticUrl: return make_static_url_source(loop, options.url);
    case Kind::ConnectionString:
      if (!options.access_key) return nullptr;
      return make_signed_token_source(loop, *options.access_key, options.token);
    case Kind::Auth0: return std::make_unique<Auth0Source>(multi, options.auth0);
    case Kind::None: return nullptr;
  }
  return nullptr;
}

}  // namespace dbr::pubsub
