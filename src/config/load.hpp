#pragma once
// Loading and validating dunebugger.conf plus the environment overrides.
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace dbr::config {

struct Diagnostic {
  enum class Severity { Warning, Error };
  Severity severity = Severity::Error;
  std::string where;    // "path:line", "path" or "environment WS_GROUP_NAME"
  std::string message;  // names the key and the expected form; never a secret
  std::string text() const;  // "where: error: message"
};

struct LoadResult {
  Config config;
  std::vector<Diagnostic> diagnostics;
  bool file_unreadable = false;  // the file could not be read at all
  bool ok() const;
};

// Where the service's environment comes from (systemd's EnvironmentFile=),
// named in messages about values that may be set there.
inline constexpr const char* kServiceEnvironmentFile = "/etc/dunebugger/remote.env";

// The process environment as a map, so tests can pass their own.
using Environment = std::map<std::string, std::string, std::less<>>;
Environment current_environment();

// Reads `path`, applies the key table, the environment and validation.
// A missing or unreadable file is an error naming the path and the OS reason.
LoadResult load_config(const std::filesystem::path& path, const Environment& env);
// Same, from text already in memory (`path` is only used in messages).
LoadResult parse_config(std::string_view text, const std::string& path, const Environment& env);

// What the agent needs at start beyond a valid file: a group to join and a
// way to get a client URL, each naming the file's key and the environment
// variable it may come from instead.
std::vector<std::string> missing_for_start(const Config& config);

// load_config, then missing_for_start's findings as errors at `path`: what
// start-up, reload and --check-config all decide on, so they cannot
// disagree. A file that cannot be read gets only that error.
LoadResult load_for_start(const std::filesystem::path& path, const Environment& env);

// Logs each diagnostic once, at its severity, as "where: message" (the
// logger's level says error or warning).
void log_diagnostics(const LoadResult& result);

}  // namespace dbr::config
