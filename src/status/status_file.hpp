#pragma once
// status.json on disk: written atomically (temp file + rename, so a reader
// never sees half a file) and read back by `dunebugger-remote status`.
#include <optional>
#include <string>

namespace dbr::status {

inline constexpr const char* kDefaultStatusPath = "/run/dunebugger-remote/status.json";

// Writes `content` to `path` atomically. On failure returns false and says
// why in `error` (the caller logs it once).
bool write_atomically(const std::string& path, const std::string& content, std::string& error);

// `dunebugger-remote status`: prints the report for a person. Returns the
// exit code: 0 running, 3 not running (no file, or its pid is gone, as
// systemctl status does for an inactive unit), 1 unreadable.
int print_status(const std::string& path);

}  // namespace dbr::status
