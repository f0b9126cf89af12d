#pragma once
// Command line: dunebugger-remote [--config PATH] [--check-config] [--version] [--help]
#include <optional>
#include <string>
#include <vector>

namespace dbr::cli {

inline constexpr const char* kDefaultConfigPath = "/etc/dunebugger/dunebugger.conf";

enum class Command { Run, CheckConfig, Version, Help };

struct Options {
  Command command = Command::Run;
  std::string config_path = kDefaultConfigPath;
};

struct ParseResult {
  std::optional<Options> options;
  std::string error;  // set when options is empty
};

ParseResult parse_options(const std::vector<std::string>& args);
std::string usage();

}  // namespace dbr::cli
