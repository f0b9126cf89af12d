#include "agent/agent.hpp"

#include "log/log.hpp"

namespace dbr::agent {

Agent::Agent(loop::EventLoop& loop, config::Config config, config::Environment env)
    : loop_(loop), config_(std::move(config)), env_(std::move(env)) {
  loop_.on_reload([this] { reload(); });
}

Agent::~Agent() = default;

void Agent::start() {
  log::info("dunebugger-remote started: device '{}', group '{}'", config_.device_id, config_.group_name);
  loop_.notify_status("running");
}

void Agent::reload() {
  log::info("SIGHUP: reloading {}", config_.source_path);
  config::LoadResult result = config::load_config(config_.source_path, env_);
  for (const auto& d : result.diagnostics) {
    if (d.severity == config::Diagnostic::Severity::Error)
      log::error("{}", d.text());
    else
      log::warn("{}", d.text());
  }
  auto missing = config::missing_for_start(result.config);
  for (const auto& m : missing) log::error("{}: error: {}", config_.source_path, m);
  if (!result.ok() || !missing.empty()) {
    log::error("config reload rejected; the running config stays");
    return;
  }
  if (result.config.log_level != config_.log_level) {
    log::set_level(result.config.log_level);
    log::info("log level now {}", log::level_name(result.config.log_level));
  }
  config_ = std::move(result.config);
  log::info("config reloaded");
}

}  // namespace dbr::agent
