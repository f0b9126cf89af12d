#pragma once
// ws:// and wss:// URLs (RFC 6455 §3), split for the transport: curl gets
// an http(s) URL for the same host and port (it has no WebSocket support in
// bookworm), the upgrade request gets the Host header and the target.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dbr::ws {

struct WsUrl {
  bool secure = false;  // wss
  std::string host;     // without IPv6 brackets
  std::uint16_t port = 0;
  std::string target;  // path and query, "/" at least; may hold access_token

  // "host[:port]" for the Host header; the port only when not the default.
  std::string host_header() const;
  // "http(s)://host:port/" for CURLOPT_URL with CURLOPT_CONNECT_ONLY.
  std::string transport_url() const;
  // "ws(s)://host:port": safe to log (no path, no query).
  std::string display() const;
};

// nullopt for anything else than ws/wss with a host. "Fragment identifiers
// are meaningless in the context of WebSocket URIs and MUST NOT be used on
// these URIs." (§3) A fragment is therefore rejected, as is userinfo.
std::optional<WsUrl> parse_ws_url(std::string_view url);

}  // namespace dbr::ws
