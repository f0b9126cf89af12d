#include "config/key_table.hpp"

#include <spdlog/fmt/fmt.h>

#include <optional>

#include "config/parsers.hpp"
#include "config/text.hpp"

namespace dbr::config {

namespace {

template <typename Field>
using Member = Field Config::*;

using Apply = std::function<Applied(Config&, std::string_view, std::string&)>;

KeySpec whole_seconds(std::string_view section, std::string_view key, Member<std::chrono::seconds> field,
                      std::string_view def, std::int64_t min, std::int64_t max) {
  return {section, key, def, fmt::format("a whole number of seconds from {} to {}", min, max), false,
          [=](Config& c, std::string_view v, std::string&) {
            auto n = parse_int(v);
            if (!n || *n < min || *n > max) return Applied::Invalid;
            c.*field = std::chrono::seconds(*n);
            return Applied::Ok;
          }};
}

KeySpec float_seconds(std::string_view section, std::string_view key, Member<FloatSeconds> field,
                      std::string_view def, double min, double max) {
  return {section, key, def, fmt::format("a number of seconds from {} to {}", min, max), false,
          [=](Config& c, std::string_view v, std::string&) {
            auto n = parse_float(v);
            if (!n || *n < min || *n > max) return Applied::Invalid;
            c.*field = FloatSeconds(*n);
            return Applied::Ok;
          }};
}

KeySpec count(std::string_view section, std::string_view key, Member<std::size_t> field, std::string_view def,
              std::int64_t min, std::int64_t max) {
  return {section, key, def, fmt::format("a whole number from {} to {}", min, max), false,
          [=](Config& c, std::string_view v, std::string&) {
            auto n = parse_int(v);
            if (!n || *n < min || *n > max) return Applied::Invalid;
            c.*field = static_cast<std::size_t>(*n);
            return Applied::Ok;
          }};
}

KeySpec boolean(std::string_view section, std::string_view key, Member<bool> field, std::string_view def) {
  return {section, key, def, "True or False (also yes/no, on/off, 1/0)", false,
          [=](Config& c, std::string_view v, std::string&) {
            auto b = parse_bool(v);
            if (!b) return Applied::Invalid;
            c.*field = *b;
            return Applied::Ok;
          }};
}

// A string with an optional check of its form; an empty value is allowed
// where `allow_empty` says so.
KeySpec text(std::string_view section, std::string_view key, Member<std::string> field, std::string_view def,
             std::string expected, std::function<bool(std::string_view)> valid = {}, bool allow_empty = true,
             bool secret = false) {
  return {section, key, def, std::move(expected), secret,
          [=](Config& c, std::string_view v, std::string&) {
            if (v.empty() && !allow_empty) return Applied::Invalid;
            if (!v.empty() && valid && !valid(v)) return Applied::Invalid;
            c.*field = std::string(v);
            return Applied::Ok;
          }};
}

// Accepted for compatibility with the Python agent's file; the agent does not
// use it (dunebugger-protocol.md §3, "present but unused").
KeySpec unused(std::string_view section, std::string_view key) {
  return {section, key, "", "any value (accepted, unused)", false,
          [](Config&, std::string_view, std::string&) { return Applied::Ok; }};
}

bool is_subject_token(std::string_view v) {
  for (char c : v)
    if (c == '.' || c == '*' || c == '>' || std::isspace(static_cast<unsigned char>(c))) return false;
  return !v.empty();
}

bool is_hub_name(std::string_view v) {
  // Web PubSub hub names: ^[A-Za-z][A-Za-z0-9_`,.\[\]]{0,127}$
  if (v.empty() || v.size() > 128 || !std::isalpha(static_cast<unsigned char>(v[0]))) return false;
  for (char c : v)
    if (!std::isalnum(static_cast<unsigned char>(c)) && std::string_view("_`,.[]").find(c) == std::string_view::npos)
      return false;
  return true;
}

bool is_group_name(std::string_view v) { return !trim(v).empty() && v.size() <= 1024; }

bool is_nats_server_list(std::string_view v) {
  for (auto url : split(v, ','))
    if (!is_url_with_scheme(trim(url), {"nats", "tls"}, UserInfo::Allowed)) return false;
  return true;
}

// ntpServers: "host" or "host:port" entries, stripped as upstream's strip().
KeySpec ntp_servers(std::string_view section) {
  return {section, "ntpServers", "ntp1.inrim.it,ntp2.inrim.it,0.europe.pool.ntp.org,1.europe.pool.ntp.org",
          fmt::format("a comma-separated list of 1 to {} NTP servers, host or host:port, e.g. "
                      "ntp1.inrim.it, 192.0.2.1:1123",
                      kMaxNtpServers),
          false, [](Config& c, std::string_view v, std::string&) {
            std::vector<std::string> servers;
            for (auto s : split(v, ',')) {
              s = trim(s);
              if (s.empty()) continue;  // "a, b," leaves an empty last entry
              if (!is_host_port(s)) return Applied::Invalid;
              servers.emplace_back(s);
            }
            if (servers.empty() || servers.size() > kMaxNtpServers) return Applied::Invalid;
            c.ntp_servers = std::move(servers);
            return Applied::Ok;
          }};
}

// Python's logging takes these names too (WARN = WARNING, FATAL =
// CRITICAL). NOTSET on the root logger lets every record through; the
// agent's lowest level is DEBUG (it writes no trace lines), so NOTSET is
// DEBUG here.
std::optional<log::Level> python_log_level(std::string_view name) {
  const std::string lower = to_lower(name);
  if (lower == "warn") return log::Level::Warning;
  if (lower == "fatal") return log::Level::Critical;
  if (lower == "notset") return log::Level::Debug;
  return log::parse_level(name);
}

std::vector<KeySpec> build_table() {
  const std::string_view G = "General", A = "Auth", W = "Websocket", M = "MessageQueue", N = "NTP", L = "Log";
  std::vector<KeySpec> t;
  // [General]
  t.push_back(text(G, "deviceId", &Config::device_id, "", "a device name (default: the host name)"));
  t.push_back(text(G, "locationDescription", &Config::location_description, "", "free text"));
  t.push_back(unused(G, "general_setting"));
  // [Auth]
  t.push_back(text(A, "authURL", &Config::auth_url, "dunebugger.eu.auth0.com",
                   "an Auth0 host name with an optional :port and no scheme, e.g. dunebugger.eu.auth0.com",
                   is_host_port, false));
  // [Websocket]
  t.push_back(boolean(W, "websocketEnabled", &Config::websocket_enabled, "True"));
  t.push_back(boolean(W, "broadcastInitialState", &Config::broadcast_initial_state, "True"));
  t.push_back(whole_seconds(W, "heartBeatLoopDurationSecs", &Config::heartbeat_loop_duration, "300", 1, 86400));
  t.push_back(whole_seconds(W, "heartBeatEverySecs", &Config::heartbeat_every, "60", 1, 64));
  t.push_back(text(W, "testDomain", &Config::test_domain, "smart.dunebugger.it", "a host name, e.g. example.com",
                   is_hostname, false));
  t.push_back(whole_seconds(W, "connectionIntervalSecs", &Config::connection_interval, "60", 1, 86400));
  t.push_back(whole_seconds(W, "connectionTimeoutSecs", &Config::connection_timeout, "2", 1, 300));
  t.push_back(unused(W, "stateCheckIntervalSecs"));
  t.push_back(unused(W, "cyclePlayingResolutionSecs"));
  t.push_back(text(W, "groupName", &Config::group_name, "", "a group name (1 to 1024 characters, not only spaces)",
                   is_group_name));
  t.push_back(text(W, "url", &Config::url, "", "a ws:// or wss:// client URL (no user:password@)",
                   [](std::string_view v) { return is_url_with_scheme(v, {"ws", "wss"}); }, true, true));
  t.push_back({W, "connectionString", "", "Endpoint=https://<host>;AccessKey=<key>;[Port=<n>;]Version=1.0", true,
               [](Config& c, std::string_view v, std::string& detail) {
                 if (v.empty()) {
                   c.connection_string.reset();
                   return Applied::Ok;
                 }
                 auto parsed = parse_connection_string(v, detail);
                 if (!parsed) return Applied::Invalid;
                 c.connection_string = std::move(parsed);
                 return Applied::Ok;
               }});
  t.push_back(text(W, "hub", &Config::hub, "dunebugger",
                   "a hub name: a letter, then up to 127 letters, digits or _`,.[]", is_hub_name, false));
  t.push_back({W, "protocol", "json.reliable.webpubsub.azure.v1",
               "json.reliable.webpubsub.azure.v1 or json.webpubsub.azure.v1", false,
               [](Config& c, std::string_view v, std::string&) {
                 if (v == "json.reliable.webpubsub.azure.v1")
                   c.protocol = Protocol::JsonReliable;
                 else if (v == "json.webpubsub.azure.v1")
                   c.protocol = Protocol::Json;
                 else
                   return Applied::Invalid;
                 return Applied::Ok;
               }});
  t.push_back(text(W, "caFile", &Config::ca_file, "", "the path of a PEM CA bundle"));
  t.push_back(text(W, "probeUrl", &Config::probe_url, "", "an https:// or http:// URL without user:password@ (default https://<testDomain>/)",
                   [](std::string_view v) { return is_url_with_scheme(v, {"https", "http"}); }));
  t.push_back({W, "dnsServers", "", "a comma-separated list of IP addresses with optional :port, e.g. 1.1.1.1, [2606:4700::1111]:53",
               false, [](Config& c, std::string_view v, std::string&) {
                 std::vector<std::string> servers;
                 if (!trim(v).empty()) {
                   for (auto s : split(v, ',')) {
                     s = trim(s);
                     if (!is_ip_with_port(s)) return Applied::Invalid;
                     servers.emplace_back(s);
                   }
                 }
                 c.dns_servers = std::move(servers);
                 return Applied::Ok;
               }});
  t.push_back(float_seconds(W, "reconnectInitialDelaySecs", &Config::reconnect_initial_delay, "2", 0.1, 3600));
  t.push_back(float_seconds(W, "reconnectMaxDelaySecs", &Config::reconnect_max_delay, "60", 0.1, 86400));
  t.push_back({W, "reconnectJitter", "0.3", "a fraction from 0 to 1", false,
               [](Config& c, std::string_view v, std::string&) {
                 auto n = parse_float(v);
                 if (!n || *n < 0 || *n > 1) return Applied::Invalid;
                 c.reconnect_jitter = *n;
                 return Applied::Ok;
               }});
  t.push_back(float_seconds(W, "networkSettleSecs", &Config::network_settle, "3", 0, 600));
  // 30, not the SDKs' 20: the service pings every 20 s by default
  // (WebSocketKeepAliveIntervalInSeconds), so ours go out only when it is
  // quiet; a silent connection is still replaced 60 s after its last sign of
  // life (keepAliveTimeoutSecs). docs/performance.md, "Data budget".
  t.push_back(float_seconds(W, "keepAliveIntervalSecs", &Config::keepalive_interval, "30", 1, 3600));
  t.push_back(float_seconds(W, "keepAliveTimeoutSecs", &Config::keepalive_timeout, "60", 1, 86400));
  t.push_back(count(W, "maxMessageBytes", &Config::max_message_bytes, "1048576", 1024, 64 * 1024 * 1024));
  t.push_back(count(W, "outboxMaxMessages", &Config::outbox_max_messages, "1000", 0, 1000000));
  // [MessageQueue]
  t.push_back(text(M, "mQueueServers", &Config::mqueue_servers, "nats://nats-server:4222",
                   "a comma-separated list of nats:// or tls:// URLs", is_nats_server_list, false));
  t.push_back(text(M, "mQueueClientID", &Config::mqueue_client_id, "remote",
                   "one NATS subject token (no '.', '*', '>' or spaces)", is_subject_token, false));
  t.push_back(text(M, "mQueueSubjectRoot", &Config::mqueue_subject_root, "dunebugger",
                   "one NATS subject token (no '.', '*', '>' or spaces)", is_subject_token, false));
  t.push_back(whole_seconds(M, "componentHeartbeatSecs", &Config::component_heartbeat, "30", 1, 3600));
  t.push_back(whole_seconds(M, "componentTtlSecs", &Config::component_ttl, "45", 1, 86400));
  t.push_back(unused(M, "mQueueStateCheckIntervalSecs"));
  t.push_back(unused(M, "mQueueCyclePlayingResolutionSecs"));
  // [NTP]: upstream develop's keys and shipped values (dunebugger-protocol.md §6).
  t.push_back(ntp_servers(N));
  t.push_back(whole_seconds(N, "ntpCheckIntervalSecs", &Config::ntp_check_interval, "30", 1, 86400));
  t.push_back(whole_seconds(N, "ntpTimeout", &Config::ntp_timeout, "5", 1, 60));
  // [Log]
  t.push_back({L, "dunebuggerLogLevel", "INFO",
               "DEBUG, INFO, WARNING (or WARN), ERROR, CRITICAL (or FATAL) or NOTSET (logs everything, as DEBUG)",
               false, [](Config& c, std::string_view v, std::string& detail) {
                 auto level = python_log_level(trim(v));
                 if (level) {
                   c.log_level = *level;
                   return Applied::Ok;
                 }
                 // The Python agent falls back to INFO on an unknown name.
                 c.log_level = log::Level::Info;
                 detail = "unknown level, using INFO";
                 return Applied::Warning;
               }});
  return t;
}

}  // namespace

const std::vector<KeySpec>& key_table() {
  static const std::vector<KeySpec> table = build_table();
  return table;
}

const KeySpec* find_key(std::string_view section, std::string_view key) {
  for (const auto& spec : key_table())
    if (spec.section == section && spec.key == key) return &spec;
  return nullptr;
}

Config default_config() {
  Config c;
  std::string ignored;
  for (const auto& spec : key_table())
    if (!spec.default_text.empty()) spec.apply(c, spec.default_text, ignored);
  return c;
}

UrlSource url_source(const Config& c) {
  if (!c.url.empty()) return UrlSource::StaticUrl;
  if (c.connection_string) return UrlSource::ConnectionString;
  if (!c.auth0_client_id.empty() || !c.auth0_username.empty()) return UrlSource::Auth0;
  return UrlSource::None;
}

}  // namespace dbr::config
