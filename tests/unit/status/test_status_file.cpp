#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "status/status_file.hpp"

using namespace dbr::status;

namespace {
std::string read(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}
}  // namespace

TEST_CASE("write_atomically replaces the file whole and leaves no temp file") {
  auto dir = std::filesystem::temp_directory_path() / ("dbr-status-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = (dir / "status.json").string();
  std::string error;
  REQUIRE(write_atomically(path, "{\"a\":1}", error));
  CHECK(read(path) == "{\"a\":1}");
  REQUIRE(write_atomically(path, "{\"b\":2}", error));
  CHECK(read(path) == "{\"b\":2}");
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("write_atomically says why it failed") {
  std::string error;
  CHECK_FALSE(write_atomically("/nonexistent-dir/status.json", "{}", error));
  CHECK(error.find("/nonexistent-dir/status.json.tmp") != std::string::npos);
  CHECK(error.find("No such file or directory") != std::string::npos);
}

TEST_CASE("print_status exit codes: 3 without a file, with a dead pid or an old file, 0 for a live one, 1 for garbage") {
  auto dir = std::filesystem::temp_directory_path() / ("dbr-status-print-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  StatusQuery query;
  query.path = (dir / "status.json").string();
  CHECK(print_status(query) == 3);
  std::string error;
  const std::string me = std::to_string(::getpid());
  REQUIRE(write_atomically(query.path, "{\"pid\": " + me + ", \"state\": \"Connected\"}", error));
  CHECK(print_status(query) == 0);
  // pid_max on Linux is at most 2^22, so this pid cannot exist.
  REQUIRE(write_atomically(query.path, "{\"pid\": 9999999, \"state\": \"Connected\"}", error));
  CHECK(print_status(query) == 3);
  // A live pid (ours) but a file not rewritten for far longer than its
  // 10 s period: the pid is someone else's now.
  REQUIRE(write_atomically(query.path,
                           "{\"pid\": " + me + ", \"updated_at\": \"2020-01-01T00:00:00Z\", \"refresh_secs\": 10}",
                           error));
  CHECK(print_status(query) == 3);
  REQUIRE(write_atomically(query.path, "not json", error));
  CHECK(print_status(query) == 1);
  std::filesystem::remove_all(dir);
}

TEST_CASE("the status file is in $RUNTIME_DIRECTORY, else in /run/dunebugger-remote") {
  CHECK(status_file_in("/tmp/rt") == "/tmp/rt/status.json");
  // systemd joins several RuntimeDirectory= entries with ':'; ours is first.
  CHECK(status_file_in("/run/a:/run/b") == "/run/a/status.json");
  CHECK(status_file_in("") == "/run/dunebugger-remote/status.json");
  CHECK(status_file_in(nullptr) == "/run/dunebugger-remote/status.json");
}

TEST_CASE("status_output: the report and exit code for a file's text, whatever it holds") {
  const WallTime now = WallTime{} + std::chrono::seconds(1'780'272'000);
  StatusQuery query;
  query.path = "/run/x/status.json";
  auto alive = [](long pid) { return pid == 4242; };
  auto running = status_output(R"({"pid":4242,"state":"Connected"})", query, now, alive);
  CHECK(running.exit_code == 0);
  CHECK(running.out.find("dunebugger-remote ? (pid 4242)") == 0);
  CHECK(running.err.empty());
  CHECK(status_output(R"({"pid":4243})", query, now, alive).exit_code == 3);
  auto garbage = status_output("[1]", query, now, alive);
  CHECK(garbage.exit_code == 1);
  CHECK(garbage.err == "dunebugger-remote status: /run/x/status.json is not a status file\n");
  // Found by status_fuzz: a pid of another type threw out of `status`.
  auto odd = status_output(R"({"pid":"4242","nats_connected":1})", query, now, alive);
  CHECK(odd.exit_code == 3);
  CHECK(odd.out.find("not running (the file names no pid)") != std::string::npos);
}
