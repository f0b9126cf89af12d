// dunebugger-remote: wiring only. CLI -> config -> log -> loop -> agent -> run.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "agent/agent.hpp"
#include "bus/nats_bridge.hpp"
#include "cli/options.hpp"
#include "config/load.hpp"
#include "log/log.hpp"
#include "status/status_file.hpp"
#include "loop/event_loop.hpp"
#include "net/curl_multi.hpp"
#include "version.hpp"

namespace {

constexpr int kExitConfigError = 2;

int check_config(const std::string& path) {
  auto result = dbr::config::load_config(path, dbr::config::current_environment());
  for (const auto& d : result.diagnostics) std::fprintf(stderr, "%s\n", d.text().c_str());
  if (result.ok()) {
    // Inputs that may come from the service's environment file at start.
    for (const auto& m : dbr::config::missing_for_start(result.config))
      std::fprintf(stderr, "%s: warning: %s (required at start)\n", path.c_str(), m.c_str());
  }
  std::printf("%s: %s\n", path.c_str(), result.ok() ? "config OK" : "config has errors");
  return result.ok() ? 0 : kExitConfigError;
}

int run(const std::string& path) {
  auto env = dbr::config::current_environment();
  auto result = dbr::config::load_config(path, env);
  dbr::log::setup(result.config.log_level);
  dbr::config::log_diagnostics(result);
  if (!result.ok()) return kExitConfigError;
  auto missing = dbr::config::missing_for_start(result.config);
  for (const auto& m : missing) dbr::log::error("{}: error: {}", path, m);
  if (!missing.empty()) return kExitConfigError;

  dbr::loop::EventLoop::block_handled_signals();
  // Library state every thread shares, set up before any thread starts and
  // torn down after the last user (libnats threads live until `nats` goes).
  dbr::net::ensure_curl_global_init();
  dbr::bus::NatsLibrary nats;
  dbr::loop::EventLoop loop;
  dbr::agent::Agent agent(loop, std::move(result.config), std::move(env));
  agent.start();
  loop.notify_ready();
  int code = loop.run();
  dbr::log::info("stopped");
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = dbr::cli::parse_options(args);
  if (!parsed.options) {
    std::fprintf(stderr, "dunebugger-remote: %s\n\n%s", parsed.error.c_str(), dbr::cli::usage().c_str());
    return kExitConfigError;
  }
  const auto& options = *parsed.options;
  try {
    switch (options.command) {
      case dbr::cli::Command::Help: std::printf("%s", dbr::cli::usage().c_str()); return 0;
      case dbr::cli::Command::Version: std::printf("dunebugger-remote %s\n", dbr::kVersion); return 0;
      case dbr::cli::Command::CheckConfig: return check_config(options.config_path);
      case dbr::cli::Command::Status: return dbr::status::print_status(options.status_path);
      case dbr::cli::Command::Run: return run(options.config_path);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dunebugger-remote: fatal: %s\n", e.what());
    return 1;
  }
  return 1;
}
