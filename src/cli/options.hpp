#pragma once
// Command line: dunebugger-remote [--config PATH] [--check-config] [--version] [--help]
//               dunebugger-remote status [--file PATH]
#include <optional>
#include <string>
#include <vector>

namespace dbr::cli {

inline constexpr const char* kDefaultConfigPath = "/etc/dunebugger/dunebugger.conf";

enum class Command { Run, CheckConfig, Version, Help, Status };

struct Options {
  Command command = Command::Run;
  std::string config_path = kDefaultConfigPath;
  std::string status_path = "/run/dunebugger-remote/status.json";
};

struct ParseResult {
  std::optional<Options> options;
  std::string error;  // set when options is empty
};

ParseResult parse_options(const std::vector<std::string>& args);
std::string usage();

}  // namespace dbr::cli
