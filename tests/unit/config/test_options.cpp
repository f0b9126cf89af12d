#include <doctest/doctest.h>

#include "cli/options.hpp"

using namespace dbr::cli;

TEST_CASE("cli: defaults, --config and --check-config") {
  auto none = parse_options({});
  REQUIRE(none.options);
  CHECK(none.options->command == Command::Run);
  CHECK(none.options->config_path == "/etc/dunebugger/dunebugger.conf");

  auto check = parse_options({"--config", "/tmp/a.conf", "--check-config"});
  REQUIRE(check.options);
  CHECK(check.options->command == Command::CheckConfig);
  CHECK(check.options->config_path == "/tmp/a.conf");

  auto eq = parse_options({"--config=/x.conf"});
  REQUIRE(eq.options);
  CHECK(eq.options->config_path == "/x.conf");
}

TEST_CASE("cli: unknown flags and a missing path are errors") {
  CHECK_FALSE(parse_options({"--frobnicate"}).options);
  CHECK(parse_options({"--frobnicate"}).error.find("--frobnicate") != std::string::npos);
  CHECK_FALSE(parse_options({"--config"}).options);
  CHECK_FALSE(parse_options({"extra"}).options);
}

TEST_CASE("cli: --help wins over --version, which wins over --check-config") {
  CHECK(parse_options({"--check-config", "--version"}).options->command == Command::Version);
  CHECK(parse_options({"--version", "--help"}).options->command == Command::Help);
}

TEST_CASE("cli: the status command") {
  auto s = parse_options({"status"});
  REQUIRE(s.options);
  CHECK(s.options->command == Command::Status);
  CHECK(s.options->status_path.empty());  // where the agent writes it
  CHECK_FALSE(s.options->config_given);
  auto f = parse_options({"status", "--file", "/tmp/s.json"});
  REQUIRE(f.options);
  CHECK(f.options->status_path == "/tmp/s.json");
  CHECK_FALSE(parse_options({"status", "--bogus"}).options);
}

TEST_CASE("cli: status takes the unit's --config, before or after the command word") {
  for (const auto& args : {std::vector<std::string>{"status", "--config", "/etc/dunebugger/dunebugger.conf"},
                           std::vector<std::string>{"--config", "/etc/dunebugger/dunebugger.conf", "status"},
                           std::vector<std::string>{"status", "-c", "/etc/dunebugger/dunebugger.conf"},
                           std::vector<std::string>{"status", "--config=/etc/dunebugger/dunebugger.conf"}}) {
    auto s = parse_options(args);
    REQUIRE(s.options);
    CHECK(s.options->command == Command::Status);
    CHECK(s.options->config_given);
    CHECK(s.options->config_path == "/etc/dunebugger/dunebugger.conf");
  }
  auto both = parse_options({"status", "--config", "/a.conf", "--file=/b.json"});
  REQUIRE(both.options);
  CHECK(both.options->status_path == "/b.json");
}

TEST_CASE("cli: --file belongs to status; status is not --check-config") {
  auto file = parse_options({"--file", "/tmp/s.json"});
  CHECK_FALSE(file.options);
  CHECK(file.error.find("status") != std::string::npos);
  CHECK_FALSE(parse_options({"status", "--file"}).options);
  CHECK_FALSE(parse_options({"status", "--check-config"}).options);
}
