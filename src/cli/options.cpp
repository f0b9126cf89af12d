#include "cli/options.hpp"

namespace dbr::cli {

namespace {

ParseResult parse_status(const std::vector<std::string>& args) {
  Options options;
  options.command = Command::Status;
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--file" && i + 1 < args.size())
      options.status_path = args[++i];
    else
      return {std::nullopt, "status: unknown argument '" + args[i] + "'"};
  }
  return {options, {}};
}

}  // namespace

ParseResult parse_options(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "status") return parse_status(args);
  Options options;
  bool check = false, version = false, help = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--config" || a == "-c") {
      if (i + 1 >= args.size()) return {std::nullopt, a + " needs a path"};
      options.config_path = args[++i];
    } else if (a.rfind("--config=", 0) == 0) {
      options.config_path = a.substr(9);
      if (options.config_path.empty()) return {std::nullopt, "--config= needs a path"};
    } else if (a == "--check-config") {
      check = true;
    } else if (a == "--version") {
      version = true;
    } else if (a == "--help" || a == "-h") {
      help = true;
    } else {
      return {std::nullopt, "unknown argument '" + a + "'"};
    }
  }
  if (help)
    options.command = Command::Help;
  else if (version)
    options.command = Command::Version;
  else if (check)
    options.command = Command::CheckConfig;
  return {options, {}};
}

std::string usage() {
  // Appended, not "literal" + std::string + "literal": GCC 14 reports a
  // false -Warray-bounds for that chain.
  std::string text =
      "Usage: dunebugger-remote [--config PATH] [--check-config] [--version] [--help]\n"
      "       dunebugger-remote status [--file PATH]\n"
      "\n"
      "Links a DuneBugger device to its Azure Web PubSub group and relays messages\n"
      "between the group and the local NATS bus.\n"
      "\n"
      "  -c, --config PATH  config file (default ";
  text += kDefaultConfigPath;
  text +=
      ")\n"
      "      --check-config print every problem in the config and exit:\n"
      "                     0 when it is valid, 2 when it is not\n"
      "      --version      print the version and exit\n"
      "  -h, --help         print this help and exit\n"
      "  status             print the running agent's state (from\n"
      "                     /run/dunebugger-remote/status.json, or --file)\n"
      "\n"
      "Environment: DEVICE_ID, LOCATION_DESCRIPTION, WS_GROUP_NAME,\n"
      "WEBPUBSUB_CONNECTION_STRING and AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET,\n"
      "AUTH0_USERNAME, AUTH0_PASSWORD override or complete the file.\n";
  return text;
}

}  // namespace dbr::cli
