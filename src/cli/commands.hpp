#pragma once
// The commands that end after printing: --check-config and status. Each
// returns the process's exit code.
#include <string>

#include "cli/options.hpp"
#include "config/load.hpp"

namespace dbr::cli {

inline constexpr int kExitConfigError = 2;

// Checks `path` with `env` exactly as start-up does (config::load_for_start)
// and prints every diagnostic, then a summary, all on stderr (stdout stays
// empty; the exit code is the verdict): 0 the agent would start, 2 not.
int check_config(const std::string& path, const config::Environment& env);

// Prints the running agent's status (status::print_status): from --file,
// else where the agent writes it under `runtime_directory`; with --config,
// also compares the config's group with the running agent's.
int show_status(const Options& options, const char* runtime_directory, const config::Environment& env);

}  // namespace dbr::cli
