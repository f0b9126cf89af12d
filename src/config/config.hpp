#pragma once
// The agent's configuration: the Python agent's dunebugger.conf keys plus this
// agent's own, with types and defaults. The key table is in key_table.cpp.
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "common/time.hpp"
#include "config/connection_string.hpp"
#include "common/log_level.hpp"

namespace dbr::config {

// The `protocol` key's value (the agent maps it onto pubsub::Protocol).
enum class Protocol { JsonReliable, Json };

// At most this many ntpServers entries: each check tries them in turn, so
// the list bounds the check's length and its report.
inline constexpr std::size_t kMaxNtpServers = 16;

// Field defaults live in the key table (key_table.cpp) and nowhere else: use
// default_config(), never a bare Config{}, for a configured value.
struct Config {
  // [General]
  std::string device_id;  // default: the host name
  std::string location_description;

  // [Auth]
  std::string auth_url;  // host[:port]
  // Auth0 credentials: only from the environment (AUTH0_*), never the file.
  std::string auth0_client_id;
  std::string auth0_client_secret;
  std::string auth0_username;
  std::string auth0_password;

  // [Websocket]
  bool websocket_enabled{};
  bool broadcast_initial_state{};
  std::chrono::seconds heartbeat_loop_duration{};
  std::chrono::seconds heartbeat_every{};
  std::string test_domain{};
  std::chrono::seconds connection_interval{};
  std::chrono::seconds connection_timeout{};
  std::string group_name;
  std::string url;                                   // ws:// or wss:// client URL
  std::optional<ConnectionString> connection_string;  // Endpoint=..;AccessKey=..
  std::string hub{};
  Protocol protocol{};
  std::string ca_file;
  std::string probe_url;                 // default https://<testDomain>/
  std::vector<std::string> dns_servers;  // host[:port]; empty: system resolver
  FloatSeconds reconnect_initial_delay{};
  FloatSeconds reconnect_max_delay{};
  double reconnect_jitter{};
  FloatSeconds network_settle{};
  FloatSeconds keepalive_interval{};
  FloatSeconds keepalive_timeout{};
  std::size_t max_message_bytes{};
  std::size_t outbox_max_messages{};

  // [MessageQueue]
  std::string mqueue_servers{};
  std::string mqueue_client_id{};
  std::string mqueue_subject_root{};
  std::chrono::seconds component_heartbeat{};
  std::chrono::seconds component_ttl{};

  // [NTP] (upstream develop, dunebugger-protocol.md §6)
  std::vector<std::string> ntp_servers;  // "host" or "host:port", stripped, in the file's order
  std::chrono::seconds ntp_check_interval{};
  std::chrono::seconds ntp_timeout{};  // one server's turn

  // [Log]
  log::Level log_level{};

  // Where this config came from (for messages and reload).
  std::string source_path;
};

// Every field at its key-table default (derived defaults such as deviceId
// are filled in by load_config).
Config default_config();

// Which way the agent gets its client access URL, by precedence.
enum class UrlSource { None, StaticUrl, ConnectionString, Auth0 };
UrlSource url_source(const Config& config);

}  // namespace dbr::config
