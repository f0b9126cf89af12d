#pragma once
// The agent: owns the parts, wires them to the loop and applies config
// reloads. Lives on the loop thread.
#include "config/config.hpp"
#include "config/load.hpp"
#include "loop/event_loop.hpp"

namespace dbr::agent {

class Agent {
 public:
  Agent(loop::EventLoop& loop, config::Config config, config::Environment env);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Starts the parts; the loop then runs until shutdown.
  void start();
  // SIGHUP: re-read the config file; an invalid file is rejected and the
  // running config stays.
  void reload();

  const config::Config& config() const { return config_; }

 private:
  loop::EventLoop& loop_;
  config::Config config_;
  config::Environment env_;
};

}  // namespace dbr::agent
