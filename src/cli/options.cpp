#include "cli/options.hpp"

namespace dbr::cli {

namespace {

// "--name PATH" or "--name=PATH" at args[i]; advances i past the value.
// nullopt when args[i] is not this option; an error when its path is missing.
std::optional<ParseResult> take_path(const std::vector<std::string>& args, std::size_t& i, const std::string& name,
                                     const char* short_name, std::string& into) {
  const std::string& a = args[i];
  if (a == name || (short_name && a == short_name)) {
    if (i + 1 >= args.size()) return ParseResult{std::nullopt, a + " needs a path"};
    into = args[++i];
    return ParseResult{};
  }
  if (a.rfind(name + "=", 0) == 0) {
    into = a.substr(name.size() + 1);
    if (into.empty()) return ParseResult{std::nullopt, name + "= needs a path"};
    return ParseResult{};
  }
  return std::nullopt;
}

}  // namespace

ParseResult parse_options(const std::vector<std::string>& args) {
  Options options;
  bool check = false, version = false, help = false, status = false, file_given = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (auto taken = take_path(args, i, "--config", "-c", options.config_path)) {
      if (!taken->error.empty()) return *taken;
      options.config_given = true;
    } else if (auto file = take_path(args, i, "--file", nullptr, options.status_path)) {
      if (!file->error.empty()) return *file;
      file_given = true;
    } else if (a == "status") {
      status = true;
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
  if (help) {
    options.command = Command::Help;
  } else if (version) {
    options.command = Command::Version;
  } else if (status) {
    if (check) return {std::nullopt, "status and --check-config are separate commands"};
    options.command = Command::Status;
  } else if (file_given) {
    return {std::nullopt, "--file goes with the status command: dunebugger-remote status --file PATH"};
  } else if (check) {
    options.command = Command::CheckConfig;
  }
  return {options, {}};
}

std::string short_usage() {
  return "Usage: dunebugger-remote [--config PATH] [--check-config] [--version] [--help]\n"
         "       dunebugger-remote status [--config PATH] [--file PATH]\n"
         "Run 'dunebugger-remote --help' for more.\n";
}

std::string usage() {
  // Appended, not "literal" + std::string + "literal": GCC 14 reports a
  // false -Warray-bounds for that chain.
  std::string text =
      "Usage: dunebugger-remote [--config PATH] [--check-config] [--version] [--help]\n"
      "       dunebugger-remote status [--config PATH] [--file PATH]\n"
      "\n"
      "Links a DuneBugger device to its Azure Web PubSub group and relays messages\n"
      "between the group and the local NATS bus.\n"
      "\n"
      "  -c, --config PATH  config file (default ";
  text += kDefaultConfigPath;
  text +=
      ")\n"
      "      --check-config check the config as start-up does, print every problem\n"
      "                     and a summary on stderr, and exit: 0 when the agent\n"
      "                     would start, 2 when it would not\n"
      "      --version      print the version and exit\n"
      "  -h, --help         print this help and exit\n"
      "  status             print the running agent's state from its status.json:\n"
      "                     in $RUNTIME_DIRECTORY, else /run/dunebugger-remote;\n"
      "                     with --config, also compare the config's group\n"
      "      --file PATH    read this status.json instead (e.g. scripts/run-demo's)\n"
      "\n"
      "Environment: DEVICE_ID, LOCATION_DESCRIPTION, WS_GROUP_NAME,\n"
      "WEBPUBSUB_CONNECTION_STRING and AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET,\n"
      "AUTH0_USERNAME, AUTH0_PASSWORD override or complete the file (the service\n"
      "reads them from /etc/dunebugger/remote.env).\n";
  return text;
}

}  // namespace dbr::cli
