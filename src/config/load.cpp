#include "config/load.hpp"

#include <spdlog/fmt/fmt.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>
#include <set>

#include "common/small_file.hpp"
#include "config/ini_file.hpp"
#include "config/key_table.hpp"
#include "config/known_names.hpp"
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

// Returns whether `value` is now in effect (false: rejected, and said why).
bool apply_value(const KeySpec& spec, Config& config, std::string_view value, const std::string& where,
                 Collector& out) {
  // Values end up in JSON (messages, the status file), which is UTF-8, as
  // Python's configparser reads the file.
  if (!is_json_text(std::string(value))) {
    out.error(where, fmt::format("[{}] {} = (value not shown): not valid UTF-8", spec.section, spec.key));
    return false;
  }
  std::string detail;
  switch (spec.apply(config, value, detail)) {
    case Applied::Ok: return true;
    case Applied::Warning:
      out.warning(where, fmt::format("[{}] {} = {}: {}; expected {}", spec.section, spec.key, quoted_value(spec, value),
                                     detail, spec.expected));
      return true;
    case Applied::Invalid:
      out.error(where, fmt::format("[{}] {} = {}: {}expected {}", spec.section, spec.key,
                                   value.empty() ? std::string("(empty)") : quoted_value(spec, value),
                                   detail.empty() ? "" : detail + "; ", spec.expected));
      return false;
  }
  return false;
}

// Where each value in effect came from, for the checks across keys: a
// written value is named by its place ("path:line", "environment X"), a
// default says so, and a rejected value is checked no further (its own
// error says enough, and the default standing in for it is not the user's).
class Provenance {
 public:
  explicit Provenance(std::string path) : path_(std::move(path)) {}
  void record(std::string_view key, std::string where, bool in_effect) {
    if (in_effect) {
      written_[std::string(key)] = std::move(where);
      rejected_.erase(std::string(key));
    } else {
      rejected_.insert(std::string(key));
    }
  }
  bool usable(std::string_view key) const { return !rejected_.contains(std::string(key)); }
  bool written(std::string_view key) const { return written_.contains(std::string(key)); }
  // The place of the first of `keys` that was written; the file when none was.
  std::string where(std::initializer_list<std::string_view> keys) const {
    for (auto key : keys)
      if (auto it = written_.find(std::string(key)); it != written_.end()) return it->second;
    return path_;
  }
  // ", default" inside a value's parentheses when the value was not written.
  std::string default_note(std::string_view key) const { return written(key) ? "" : ", default"; }

 private:
  std::string path_;
  std::map<std::string, std::string> written_;
  std::set<std::string> rejected_;
};

std::string host_name() {
  char buffer[256] = {};
  if (gethostname(buffer, sizeof buffer - 1) != 0) return "dunebugger";
  return buffer;
}

// Checks across keys, on values in effect only: each needs its keys
// usable, and a warning needs at least one of them written, since the
// defaults agree with each other (a unit test holds them to it).
void validate(const Config& c, const Provenance& p, Collector& out) {
  auto usable = [&](std::initializer_list<std::string_view> keys) {
    for (auto key : keys)
      if (!p.usable(key)) return false;
    return true;
  };
  auto any_written = [&](std::initializer_list<std::string_view> keys) {
    for (auto key : keys)
      if (p.written(key)) return true;
    return false;
  };
  if (usable({"reconnectMaxDelaySecs", "reconnectInitialDelaySecs"}) &&
      c.reconnect_max_delay < c.reconnect_initial_delay)
    out.error(p.where({"reconnectMaxDelaySecs", "reconnectInitialDelaySecs"}),
              fmt::format("[Websocket] reconnectMaxDelaySecs ({} s{}) must not be below reconnectInitialDelaySecs "
                          "({} s{})",
                          c.reconnect_max_delay.count(), p.default_note("reconnectMaxDelaySecs"),
                          c.reconnect_initial_delay.count(), p.default_note("reconnectInitialDelaySecs")));
  // With a timeout at or under the interval an idle but healthy link would be
  // declared dead before the next ping could prove it alive.
  if (usable({"keepAliveTimeoutSecs", "keepAliveIntervalSecs"}) && c.keepalive_timeout <= c.keepalive_interval)
    out.error(p.where({"keepAliveTimeoutSecs", "keepAliveIntervalSecs"}),
              fmt::format("[Websocket] keepAliveTimeoutSecs ({} s{}) must be greater than keepAliveIntervalSecs ({} s{})",
                          c.keepalive_timeout.count(), p.default_note("keepAliveTimeoutSecs"),
                          c.keepalive_interval.count(), p.default_note("keepAliveIntervalSecs")));
  // dunebugger-protocol.md §1.4: the front end marks the device offline
  // after 65 s without a heartbeat. The built-in 60 is upstream's value,
  // which its installs run with: only a value someone wrote is remarked on.
  if (any_written({"heartBeatEverySecs"}) && usable({"heartBeatEverySecs"}) && c.heartbeat_every.count() > 55)
    out.warning(p.where({"heartBeatEverySecs"}),
                fmt::format("[Websocket] heartBeatEverySecs = {} leaves only {} s of margin against the front end's "
                            "65 s timeout; one late heartbeat shows the device offline (50 or less is safer)",
                            c.heartbeat_every.count(), 65 - c.heartbeat_every.count()));
  if (any_written({"componentTtlSecs", "componentHeartbeatSecs"}) &&
      usable({"componentTtlSecs", "componentHeartbeatSecs"}) && c.component_ttl <= c.component_heartbeat)
    out.warning(p.where({"componentTtlSecs", "componentHeartbeatSecs"}),
                fmt::format("[MessageQueue] componentTtlSecs ({} s{}) is not above componentHeartbeatSecs ({} s{}): "
                            "components will show not_responding between probes",
                            c.component_ttl.count(), p.default_note("componentTtlSecs"),
                            c.component_heartbeat.count(), p.default_note("componentHeartbeatSecs")));
  if (!c.url.empty() && c.connection_string)
    out.warning(p.where({"url"}), "[Websocket] both url and connectionString are set; url is used");
  if (!c.ca_file.empty() && access(c.ca_file.c_str(), R_OK) != 0)
    out.error(p.where({"caFile"}),
              fmt::format("[Websocket] caFile: cannot read {}: {}", c.ca_file, std::strerror(errno)));
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
  Provenance provenance(path);

  IniFile ini = parse_ini(text);
  for (const auto& e : ini.errors) out.error(fmt::format("{}:{}", path, e.line), e.message);
  for (const auto& s : ini.sections) {
    if (is_known_section(s.name)) continue;
    auto keys = std::count_if(ini.entries.begin(), ini.entries.end(), [&](const IniEntry& e) { return e.section == s.name; });
    out.warning(fmt::format("{}:{}", path, s.line),
                fmt::format("unknown section [{}], ignoring it{}{}", s.name,
                            keys == 0 ? std::string() : fmt::format(" and its {} key{}", keys, keys == 1 ? "" : "s"),
                            unknown_section_hint(s.name)));
  }
  for (const auto& e : ini.entries) {
    std::string at = fmt::format("{}:{}", path, e.line);
    const KeySpec* spec = find_key(e.section, e.key);
    if (!spec) {
      if (!is_known_section(e.section)) continue;  // the section was already reported
      out.warning(at, fmt::format("unknown key '{}' in [{}], ignoring{}", e.key, e.section,
                                  unknown_key_hint(e.section, e.key)));
      continue;
    }
    provenance.record(spec->key, at, apply_value(*spec, result.config, e.value, at, out));
  }

  // The environment wins over the file (the Python agent's .env).
  for (const auto& o : kEnvOverrides) {
    auto it = env.find(o.variable);
    if (it == env.end() || it->second.empty()) continue;
    const KeySpec* spec = find_key(o.section, o.key);
    std::string at = fmt::format("environment {}", o.variable);
    provenance.record(o.key, at, apply_value(*spec, result.config, it->second, at, out));
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

  validate(result.config, provenance, out);
  return result;
}

namespace {

// The Python agent's file is about 2 KiB; one over this is not a config
// file, and reading it whole would only cost memory.
constexpr std::size_t kMaxConfigBytes = 1024 * 1024;

// Reads a whole file; on failure returns false with the reason.
bool read_file(const std::filesystem::path& path, std::string& text, std::string& reason) {
  std::optional<std::string> read = read_small_file(path, kMaxConfigBytes + 1);
  if (!read) {
    reason = std::strerror(errno);
    return false;
  }
  if (read->size() > kMaxConfigBytes) {
    reason = "larger than 1 MiB, which no config file is";
    return false;
  }
  text = std::move(*read);
  return true;
}

}  // namespace

LoadResult load_config(const std::filesystem::path& path, const Environment& env) {
  std::string text, reason;
  if (!read_file(path, text, reason)) {
    LoadResult result;
    result.config = default_config();
    result.file_unreadable = true;
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
  // The logger's level says "error" or "warning" (and the journal's
  // priority): the text gives only the place and the message.
  for (const auto& d : result.diagnostics) {
    if (d.severity == Diagnostic::Severity::Error)
      log::error("{}: {}", d.where, d.message);
    else
      log::warn("{}: {}", d.where, d.message);
  }
}

std::vector<std::string> missing_for_start(const Config& c) {
  // Each names both places a value may come from: the file's key, and the
  // variable the service reads from its environment file.
  const std::string env_file = fmt::format("in the environment (for the service, {})", kServiceEnvironmentFile);
  std::vector<std::string> missing;
  if (!c.websocket_enabled) return missing;
  if (c.group_name.empty())
    missing.push_back(fmt::format("no group to join: set groupName in [Websocket], or WS_GROUP_NAME {}", env_file));
  switch (url_source(c)) {
    case UrlSource::None:
      missing.push_back(fmt::format(
          "no way to get a client URL: set url or connectionString in [Websocket], or {} either "
          "WEBPUBSUB_CONNECTION_STRING or the Auth0 sign-in's AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET, AUTH0_USERNAME "
          "and AUTH0_PASSWORD",
          env_file));
      break;
    case UrlSource::Auth0:
      for (auto [name, value] : {std::pair<const char*, const std::string*>{"AUTH0_CLIENT_ID", &c.auth0_client_id},
                                 {"AUTH0_USERNAME", &c.auth0_username},
                                 {"AUTH0_PASSWORD", &c.auth0_password}})
        if (value->empty()) missing.push_back(fmt::format("the Auth0 sign-in needs {} {}", name, env_file));
      break;
    default: break;
  }
  return missing;
}

LoadResult load_for_start(const std::filesystem::path& path, const Environment& env) {
  LoadResult result = load_config(path, env);
  // Without the file there is nothing to complete: its error is enough.
  if (result.file_unreadable) return result;
  for (auto& m : missing_for_start(result.config))
    result.diagnostics.push_back({Diagnostic::Severity::Error, path.string(), std::move(m)});
  return result;
}

}  // namespace dbr::config
