#pragma once
// status.json on disk: written atomically (temp file + rename, so a reader
// never sees half a file) and read back by `dunebugger-remote status`.
#include <functional>
#include <string>
#include <string_view>

#include "status/snapshot.hpp"

namespace dbr::status {

// The agent's runtime directory under systemd (RuntimeDirectory=).
inline constexpr const char* kDefaultRuntimeDirectory = "/run/dunebugger-remote";

// Where the agent writes status.json and `status` looks for it: in
// $RUNTIME_DIRECTORY (`runtime_directory`, the first of a ':' list), else in
// kDefaultRuntimeDirectory. Nothing in the config moves it.
std::string status_file_in(const char* runtime_directory);

// Writes `content` to `path` atomically. On failure returns false and says
// why in `error` (the caller logs it once).
bool write_atomically(const std::string& path, const std::string& content, std::string& error);

// What `status` was asked, beyond the file.
struct StatusQuery {
  std::string path;        // the status file
  bool path_given = false;  // --file, not found where the agent writes it
  // With --config: that file and the group it names (file or environment),
  // compared with the running agent's.
  std::string config_path;
  std::string config_group;
};

// `dunebugger-remote status`: prints the report for a person. Returns the
// exit code: 0 running, 3 not running (no file, or a stale one: see
// judge_freshness; as systemctl status does for an inactive unit), 1
// unreadable.
int print_status(const StatusQuery& query);

// What print_status prints for the text of a file it could read, as a pure
// function of that text, `now` and whether a pid is alive.
struct StatusOutput {
  int exit_code = 0;
  std::string out;  // for stdout
  std::string err;  // for stderr
};
StatusOutput status_output(std::string_view text, const StatusQuery& query, WallTime now,
                           const std::function<bool(long)>& pid_alive);

}  // namespace dbr::status
