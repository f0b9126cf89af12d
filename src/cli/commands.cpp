#include "cli/commands.hpp"

#include <cstdio>

#include "status/status_file.hpp"

namespace dbr::cli {

namespace {

std::string count(std::size_t n, const char* what) {
  return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
}

// Whether `env` looks like the service's: any variable that completes the
// config is set. Without one, this is likely a shell that never read the
// service's environment file.
bool has_service_variables(const config::Environment& env) {
  for (const char* name : {"WS_GROUP_NAME", "WEBPUBSUB_CONNECTION_STRING", "AUTH0_CLIENT_ID", "AUTH0_USERNAME"})
    if (env.contains(name)) return true;
  return false;
}

}  // namespace

int check_config(const std::string& path, const config::Environment& env) {
  config::LoadResult result = config::load_for_start(path, env);
  std::size_t errors = 0, warnings = 0;
  for (const auto& d : result.diagnostics) {
    std::fprintf(stderr, "%s\n", d.text().c_str());
    ++(d.severity == config::Diagnostic::Severity::Error ? errors : warnings);
  }
  if (!result.ok() && !result.file_unreadable && !config::missing_for_start(result.config).empty() &&
      !has_service_variables(env))
    std::fprintf(stderr,
                 "%s: note: no variable of the service's environment is set here; the service reads them from %s.\n"
                 "To check with it:\n"
                 "  sudo systemd-run --pipe --wait --quiet -p EnvironmentFile=%s /usr/bin/dunebugger-remote "
                 "--check-config --config %s\n",
                 path.c_str(), config::kServiceEnvironmentFile, config::kServiceEnvironmentFile, path.c_str());
  // The summary comes last, so a long report ends with its verdict.
  const std::string warned = warnings ? ", " + count(warnings, "warning") : "";
  if (result.ok()) {
    std::fprintf(stderr, "%s: config OK%s\n", path.c_str(), warned.c_str());
    return 0;
  }
  std::fprintf(stderr, "%s: %s%s: the agent would not start with it\n", path.c_str(), count(errors, "error").c_str(),
               warned.c_str());
  return kExitConfigError;
}

int show_status(const Options& options, const char* runtime_directory, const config::Environment& env) {
  status::StatusQuery query;
  query.path_given = !options.status_path.empty();
  query.path = query.path_given ? options.status_path : status::status_file_in(runtime_directory);
  if (options.config_given) {
    // Only for the group it names; its problems are --check-config's to report.
    query.config_path = options.config_path;
    config::LoadResult loaded = config::load_config(options.config_path, env);
    if (!loaded.file_unreadable) query.config_group = loaded.config.group_name;
  }
  return status::print_status(query);
}

}  // namespace dbr::cli
