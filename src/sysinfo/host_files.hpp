#pragma once
// Small helpers for reading /proc, /sys and /etc under a root directory
// (so tests can point the readers at a fake tree).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/small_file.hpp"  // read_small_file: the readers' file access

namespace dbr::sysinfo {

// root / "proc/loadavg" for absolute "/proc/loadavg".
std::filesystem::path under_root(const std::filesystem::path& root, std::string_view absolute);

std::string_view trim_view(std::string_view s);
std::vector<std::string_view> split_lines(std::string_view text);
std::vector<std::string_view> split_ws(std::string_view line);

// Text from the system (SSIDs, device-tree strings, os-release) may hold any
// bytes, but JSON text must be UTF-8 (nlohmann::json::dump throws
// otherwise): invalid sequences become U+FFFD and NULs are removed.
std::string valid_utf8(std::string_view bytes);

std::optional<std::int64_t> parse_i64(std::string_view s);
std::optional<double> parse_double(std::string_view s);

}  // namespace dbr::sysinfo
