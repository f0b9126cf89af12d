#pragma once
// Whole small files (/proc, /sys, the config and status files) through plain
// read(2) and write(2): a C++ stream would bring in libstdc++'s locale
// machinery, about 0.3 MiB of library pages resident for the life of the
// agent (docs/performance.md, "The two misses").
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace dbr {

// Reads at most `max_bytes` of a file (a longer file is cut there: these are
// kernel text files, and a cut cpuinfo still has its first entries).
// nullopt when the file cannot be opened or read (errno says why; sysfs
// "speed" of a down link answers EINVAL, for example).
std::optional<std::string> read_small_file(const std::string& path, std::size_t max_bytes = 256 * 1024);

// Writes `text` to an existing file such as /proc/self/task/TID/comm in one
// write; false (errno set) when it cannot be opened or written whole.
bool write_small_file(const std::string& path, std::string_view text);

}  // namespace dbr
