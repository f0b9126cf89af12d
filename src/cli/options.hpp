#pragma once
// Command line: dunebugger-remote [--config PATH] [--check-config] [--version] [--help]
//               dunebugger-remote status [--config PATH] [--file PATH]
#include <optional>
#include <string>
#include <vector>

namespace dbr::cli {

inline constexpr const char* kDefaultConfigPath = "/etc/dunebugger/dunebugger.conf";

enum class Command { Run, CheckConfig, Version, Help, Status };

struct Options {
  Command command = Command::Run;
  std::string config_path = kDefaultConfigPath;
  bool config_given = false;  // --config on the command line
  std::string status_path;    // status --file; empty: where the agent writes it
};

struct ParseResult {
  std::optional<Options> options;
  std::string error;  // set when options is empty
};

// `status` may stand anywhere, so the unit's ExecStart line with "status"
// added (before or after its --config) asks the running agent.
ParseResult parse_options(const std::vector<std::string>& args);
std::string usage();
// The synopsis only, for a usage error.
std::string short_usage();

}  // namespace dbr::cli
