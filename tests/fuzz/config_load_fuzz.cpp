// libFuzzer target for the whole config load: load_for_start of a file
// with the input as its content (a memfd, read by path as the agent reads
// /etc/dunebugger/dunebugger.conf): the INI reading, the key table's
// parsers, the environment, validation and what start-up checks on top.
// (config_ini_fuzz checks the INI reading alone, much faster: the hints for
// unknown keys take most of the time here.)
//
// Checked besides the sanitizers:
//   - every diagnostic names what, and where: the file (and its line) or an
//     environment variable;
//   - a file that loads without error holds the cross-key rules (backoff,
//     keepalive) and names a group to join (start-up requires one);
//   - a secret key's value (8 bytes or more, found once in the file) never
//     appears in a diagnostic, unless the messages hold that text whatever
//     the value (the fuzzer copies their fixed words into values: the
//     key's expected form, the start-up hints).
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/ini_file.hpp"
#include "config/key_table.hpp"
#include "config/load.hpp"
#include "fuzz/require.hpp"

namespace {

using dbr::fuzz::require;

using namespace dbr::config;

bool mentioned(const LoadResult& result, const std::string& value) {
  for (const auto& d : result.diagnostics)
    if (d.text().find(value) != std::string::npos) return true;
  return false;
}

// The file the agent reads: a memfd, rewritten for each input.
const std::string& config_path(std::string_view text) {
  static const int fd = memfd_create("dunebugger.conf", MFD_CLOEXEC);
  static const std::string path = "/proc/self/fd/" + std::to_string(fd);
  require(fd >= 0 && ftruncate(fd, 0) == 0);
  require(pwrite(fd, text.data(), text.size(), 0) == static_cast<ssize_t>(text.size()));
  return path;
}

void check_load(std::string_view text) {
  const Environment env;
  const std::string& path = config_path(text);
  // load_for_start = load_config (the file read, parse_config) + what
  // start-up needs on top.
  const LoadResult loaded = load_for_start(path, env);
  require(!loaded.file_unreadable);
  for (const auto& d : loaded.diagnostics) {
    require(!d.message.empty());
    require(d.where.starts_with(path) || d.where.starts_with("environment "));
  }
  if (loaded.ok()) {
    const Config& c = loaded.config;
    require(c.reconnect_max_delay >= c.reconnect_initial_delay);
    require(c.keepalive_timeout > c.keepalive_interval);
    require(!c.group_name.empty() || !c.websocket_enabled);
  }

  for (const auto& e : parse_ini(text).entries) {
    const KeySpec* spec = find_key(e.section, e.key);
    if (spec == nullptr || !spec->secret || e.value.size() < 8) continue;
    if (text.find(e.value) != text.rfind(e.value)) continue;  // also written elsewhere
    if (!mentioned(loaded, e.value)) continue;
    // The value is in a diagnostic: a leak, unless the messages hold that
    // text whatever the value is (a value copied from a message's fixed
    // words). Read the file again with the value replaced by x's.
    std::string other(text);
    other.replace(text.find(e.value), e.value.size(), e.value.size(), 'x');
    LoadResult again = parse_config(other, path, env);
    for (auto& m : missing_for_start(again.config)) again.diagnostics.push_back({Diagnostic::Severity::Error, path, m});
    require(mentioned(again, e.value));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  check_load(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
