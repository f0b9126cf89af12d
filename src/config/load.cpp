#include "config/load.hpp"

#include <spdlog/fmt/fmt.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <nlohmann/json.hpp>

#include "config/ini_file.hpp"
#include "config/key_table.hpp"
#include "config/text.hpp"
#include "log/log.hpp"
#include "log/redact.hpp"

extern char** environ;

namespace dbr::config {

namespace {

bool is_json_text(const std::string& value) {
  try {
    (void)nlohmann::json(value).dump();
    return true;
  } catch (const nlohmann::json::type_error&) {
    return false;
  }
}

constexpr std::string_view kSections[] = {"General", "Auth", "Websocket", "MessageQueue", "NTP", "Log"};

// Environment variables the Python agent's .env used, plus the connection
// string; each is applied through the same key-table row as the file key.
struct EnvOverride {
  std::string_view variable;
  std::string_view section;
  std::string_view key;
};
constexpr EnvOverride kEnvOverrides[] = {
    {"DEVICE_ID", "General", "deviceId"},
    {"LOCATION_DESCRIPTION", "General", "locationDescription"},
    {"WS_GROUP_NAME", "Websocket", "groupName"},
    {"WEBPUBSUB_CONNECTION_STRING", "Websocket", "connectionString"},
};

class Collector {
 public:
  explicit Collector(LoadResult& result) : result_(result) {}
  void error(std::string where, std::string message) {
    result_.diagnostics.push_back({Diagnostic::Severity::Error, std::move(where), log::redact(message)});
  }
  void warning(std::string where, std::string message) {
    result_.diagnostics.push_back({Diagnostic::Severity::Warning, std::move(where), log::redact(message)});
  }

 private:
  LoadResult& result_;
};

std::string quoted_value(const KeySpec& spec, std::string_view value) {
  if (spec.secret) return "(value not shown)";
  return fmt::format("\"{}\"", value);
}

void apply_value(const KeySpec& spec, Config& config, std::string_view value, const std::string& where,
                 Collector& out) {
  // Values end up in JSON (messages, the status file), which is UTF-8, as
  // Python's configparser reads the file.
  if (!is_json_text(std::string(value))) {
    out.error(where, fmt::format("[{}] {} = (value not shown): not valid UTF-8", spec.section, spec.key));
    return;
  }
  std::string detail;
  switch (spec.apply(config, value, detail)) {
    case Applied::Ok: return;
    case Applied::Warning:
      out.warning(where, fmt::format("[{}] {} = {}: {}; expected {}", spec.section, spec.key, quoted_value(spec, value),
                                     detail, spec.expected));
      return;
    case Applied::Invalid:
      out.error(where, fmt::format("[{}] {} = {}: {}expected {}", spec.section, spec.key,
                                   value.empty() ? std::string("(empty)") : quoted_value(spec, value),
                                   detail.empty() ? "" : detail + "; ", spec.expected));
      return;
  }
}

const KeySpec* find_key_ignoring_case(std::string_view section, std::string_view key) {
  for (const auto& spec : key_table())
    if (spec.section == section && to_lower(spec.key) == to_lower(key)) return &spec;
  return nullptr;
}

std::string host_name() {
  char buffer[256] = {};
  if (gethostname(buffer, sizeof buffer - 1) != 0) return "dunebugger";
  return buffer;
}

void validate(Config& c, const std::map<std::string, std::string>& where, const std::string& path, Collector& out) {
  auto at = [&](const char* key) {
    auto it = where.find(key);
    return it == where.end() ? path : it->second;
  };
  if (c.reconnect_max_delay < c.reconnect_initial_delay)
    out.error(at("reconnectMaxDelaySecs"),
              fmt::format("[Websocket] reconnectMaxDelaySecs ({} s) must not be below reconnectInitialDelaySecs ({} s)",
                          c.reconnect_max_delay.count(), c.reconnect_initial_delay.count()));
  // With a timeout at or under the interval an idle but healthy link would be
  // declared dead before the next ping could prove it alive.
  if (c.keepalive_timeout <= c.keepalive_interval)
    out.error(at("keepAliveTimeoutSecs"),
              fmt::format("[Websocket] keepAliveTimeoutSecs ({} s) must be greater than keepAliveIntervalSecs ({} s)",
                          c.keepalive_timeout.count(), c.keepalive_interval.count()));
  // dunebugger-protocol.md §1.4: the front end marks the device offline
  // after 65 s without a heartbeat.
  if (c.heartbeat_every.count() > 55)
    out.warning(at("heartBeatEverySecs"),
                fmt::format("[Websocket] heartBeatEverySecs = {} leaves only {} s of margin against the front end's "
                            "65 s timeout; one late heartbeat shows the device offline (50 or less is safer)",
                            c.heartbeat_every.count(), 65 - c.heartbeat_every.count()));
  if (c.component_ttl <= c.component_heartbeat)
    out.warning(at("componentTtlSecs"),
                fmt::format("[MessageQueue] componentTtlSecs ({} s) is not above componentHeartbeatSecs ({} s): "
                            "components will show not_responding between probes",
                            c.component_ttl.count(), c.component_heartbeat.count()));
  if (!c.url.empty() && c.connection_string)
    out.warning(at("url"), "[Websocket] both url and connectionString are set; url is used");
  if (!c.ca_file.empty() && access(c.ca_file.c_str(), R_OK) != 0)
    out.error(at("caFile"), fmt::format("[Websocket] caFile: cannot read {}: {}", c.ca_file, std::strerror(errno)));
}

}  // namespace

std::string Diagnostic::text() const {
  return where + (severity == Severity::Error ? ": error: " : ": warning: ") + message;
}

bool LoadResult::ok() const {
  for (const auto& d : diagnostics)
    if (d.severity == Diagnostic::Severity::Error) return false;
  return true;
}

Environment current_environment() {
  Environment env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    auto eq = entry.find('=');
    if (eq != std::string_view::npos) env.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  return env;
}

LoadResult parse_config(std::string_view text, const std::string& path, const Environment& env) {
  LoadResult result;
  result.config = default_config();
  result.config.source_path = path;
  Collector out(result);
  std::map<std::string, std::string> where;  // key -> "path:line"

  IniFile ini = parse_ini(text);
  for (const auto& e : ini.errors) out.error(fmt::format("{}:{}", path, e.line), e.message);
  for (const auto& s : ini.sections) {
    bool known = false;
    for (auto k : kSections) known = known || s.name == k;
    if (!known) out.warning(fmt::format("{}:{}", path, s.line), fmt::format("unknown section [{}], ignoring", s.name));
  }
  for (const auto& e : ini.entries) {
    std::string at = fmt::format("{}:{}", path, e.line);
    const KeySpec* spec = find_key(e.section, e.key);
    if (!spec) {
      bool section_known = false;
      for (auto k : kSections) section_known = section_known || e.section == k;
      if (!section_known) continue;  // the section was already reported
      const KeySpec* near = find_key_ignoring_case(e.section, e.key);
      out.warning(at, fmt::format("unknown key '{}' in [{}], ignoring{}", e.key, e.section,
                                  near ? fmt::format(" (keys are case-sensitive: did you mean '{}'?)", near->key)
                                       : std::string()));
      continue;
    }
    apply_value(*spec, result.config, e.value, at, out);
    where[std::string(spec->key)] = at;
  }

  // The environment wins over the file (the Python agent's .env).
  for (const auto& o : kEnvOverrides) {
    auto it = env.find(o.variable);
    if (it == env.end() || it->second.empty()) continue;
    const KeySpec* spec = find_key(o.section, o.key);
    std::string at = fmt::format("environment {}", o.variable);
    apply_value(*spec, result.config, it->second, at, out);
    where[std::string(o.key)] = at;
  }
  auto env_value = [&](std::string_view name) {
    auto it = env.find(name);
    return it == env.end() ? std::string() : it->second;
  };
  result.config.auth0_client_id = env_value("AUTH0_CLIENT_ID");
  result.config.auth0_client_secret = env_value("AUTH0_CLIENT_SECRET");
  result.config.auth0_username = env_value("AUTH0_USERNAME");
  result.config.auth0_password = env_value("AUTH0_PASSWORD");
  // The Auth0 sign-in sends them in a JSON body, and JSON text is UTF-8.
  for (const char* name : {"AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET", "AUTH0_USERNAME", "AUTH0_PASSWORD"})
    if (!is_json_text(env_value(name)))
      out.error(fmt::format("environment {}", name), "not valid UTF-8 (the Auth0 sign-in sends it as JSON)");

  // Defaults derived from other keys.
  if (result.config.device_id.empty()) result.config.device_id = host_name();
  if (result.config.probe_url.empty()) result.config.probe_url = "https://" + result.config.test_domain + "/";

  validate(result.config, where, path, out);
  return result;
}

namespace {

// Reads a whole file; on failure returns false with errno's reason.
bool read_file(const std::filesystem::path& path, std::string& text, std::string& reason) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    reason = std::strerror(errno);
    return false;
  }
  char buffer[8192];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      reason = std::strerror(errno);
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return true;
}

}  // namespace

LoadResult load_config(const std::filesystem::path& path, const Environment& env) {
  std::string text, reason;
  if (!read_file(path, text, reason)) {
    LoadResult result;
    result.config = default_config();
    result.diagnostics.push_back(
        {Diagnostic::Severity::Error, path.string(), fmt::format("cannot read config file: {}", reason)});
    return result;
  }
  LoadResult result = parse_config(text, path.string(), env);
  // A connection string is a key to the hub; others should not read it.
  struct stat st {};
  bool key_in_file = text.find("connectionString") != std::string::npos && result.config.connection_string &&
                     env.find("WEBPUBSUB_CONNECTION_STRING") == env.end();
  if (key_in_file && stat(path.c_str(), &st) == 0 && (st.st_mode & S_IROTH))
    result.diagnostics.push_back(
        {Diagnostic::Severity::Warning, path.string(),
         "this file holds a connectionString and is readable by other users; chmod o-r it, or move the string to "
         "WEBPUBSUB_CONNECTION_STRING in /etc/dunebugger/remote.env (mode 0600)"});
  return result;
}

void log_diagnostics(const LoadResult& result) {
  for (const auto& d : result.diagnostics) {
    if (d.severity == Diagnostic::Severity::Error)
      log::error("{}", d.text());
    else
      log::warn("{}", d.text());
  }
}

std::vector<std::string> missing_for_start(const Config& c) {
  std::vector<std::string> missing;
  if (!c.websocket_enabled) return missing;
  if (c.group_name.empty())
    missing.push_back("no group to join: set groupName in [Websocket] or the WS_GROUP_NAME environment variable");
  switch (url_source(c)) {
    case UrlSource::None:
      missing.push_back(
          "no way to get a client URL: set url or connectionString in [Websocket], WEBPUBSUB_CONNECTION_STRING, "
          "or the Auth0 variables AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET, AUTH0_USERNAME and AUTH0_PASSWORD");
      break;
    case UrlSource::Auth0:
      for (auto [name, value] : {std::pair<const char*, const std::string*>{"AUTH0_CLIENT_ID", &c.auth0_client_id},
                                 {"AUTH0_USERNAME", &c.auth0_username},
                                 {"AUTH0_PASSWORD", &c.auth0_password}})
        if (value->empty()) missing.push_back(fmt::format("Auth0 sign-in needs {} in the environment", name));
      break;
    default: break;
  }
  return missing;
}

}  // namespace dbr::config
