// dunebugger-remote: wiring only. CLI -> config -> log -> loop -> agent -> run.
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "agent/agent.hpp"
#include "bus/nats_bridge.hpp"
#include "common/time.hpp"
#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "config/load.hpp"
#include "log/log.hpp"
#include "loop/event_loop.hpp"
#include "net/curl_multi.hpp"
#include "version.hpp"

namespace {

using dbr::cli::kExitConfigError;

// A teardown slower than this is reported with its parts.
constexpr long long kSlowTeardownMs = 250;

int run(const std::string& path) {
  auto env = dbr::config::current_environment();
  auto result = dbr::config::load_for_start(path, env);
  dbr::log::setup(result.config.log_level);
  dbr::config::log_diagnostics(result);
  if (!result.ok()) return kExitConfigError;

  dbr::loop::EventLoop::block_handled_signals();
  // One malloc arena for all threads: the helper threads allocate little
  // and rarely, and each arena of its own would keep its free memory.
  (void)mallopt(M_ARENA_MAX, 1);
  // Library state every thread shares, set up before any thread starts and
  // torn down after the last user (libnats threads live until `nats` goes).
  dbr::net::ensure_curl_global_init();
  auto nats = std::make_unique<dbr::bus::NatsLibrary>();
  dbr::loop::EventLoop loop;
  auto agent = std::make_unique<dbr::agent::Agent>(loop, std::move(result.config), std::move(env));
  agent->start();
  loop.notify_ready();
  int code = loop.run();
  // Teardown joins threads (monitor, host facts, libnats): time it, so a slow
  // stop names its part instead of only keeping systemd waiting.
  auto started = dbr::Clock::now();
  agent.reset();
  auto agent_done = dbr::Clock::now();
  nats.reset();
  auto took = [](dbr::TimePoint from, dbr::TimePoint to) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count();
  };
  auto total_ms = took(started, dbr::Clock::now());
  if (total_ms >= kSlowTeardownMs)
    dbr::log::info("stopped; teardown took {} ms (agent {} ms, NATS library {} ms)", total_ms,
                   took(started, agent_done), took(agent_done, dbr::Clock::now()));
  else
    dbr::log::info("stopped");
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = dbr::cli::parse_options(args);
  if (!parsed.options) {
    std::fprintf(stderr, "dunebugger-remote: %s\n%s", parsed.error.c_str(), dbr::cli::short_usage().c_str());
    return kExitConfigError;
  }
  const auto& options = *parsed.options;
  try {
    switch (options.command) {
      case dbr::cli::Command::Help: std::printf("%s", dbr::cli::usage().c_str()); return 0;
      case dbr::cli::Command::Version: std::printf("dunebugger-remote %s\n", dbr::kVersion); return 0;
      case dbr::cli::Command::CheckConfig:
        return dbr::cli::check_config(options.config_path, dbr::config::current_environment());
      case dbr::cli::Command::Status:
        return dbr::cli::show_status(options, std::getenv("RUNTIME_DIRECTORY"), dbr::config::current_environment());
      case dbr::cli::Command::Run: return run(options.config_path);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dunebugger-remote: fatal: %s\n", e.what());
    return 1;
  }
  return 1;
}
