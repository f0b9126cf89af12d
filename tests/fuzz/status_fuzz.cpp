// libFuzzer target for `dunebugger-remote status`: the text of a
// status.json into status_output (status/status_file.hpp), which parses it,
// judges whether it is stale (judge_freshness) and renders the report
// (render_report), tolerating fields it does not know.
//
// The input is the file; it is read with the pid alive and with it gone,
// at a fixed `now`. Checked besides the sanitizers (nothing may throw):
//   - not a JSON object: exit 1, a message on stderr and no report;
//   - otherwise a report on stdout, exit 3 when stale and 0 when not, a
//     stale report says so first; a gone pid is always stale;
//   - the report names the pid the file holds (0 when it holds none), and
//     ends with the "(updated ... ago)" line.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "status/status_file.hpp"

namespace {

using namespace dbr::status;

void require(bool condition) {
  if (!condition) std::abort();
}

// 2026-06-01T00:00:00Z
const WallTime kNow = WallTime{} + std::chrono::seconds(1780272000);

void check(std::string_view text, bool alive) {
  StatusQuery query;
  query.path = "/run/dunebugger-remote/status.json";
  query.config_path = "/etc/dunebugger/dunebugger.conf";
  query.config_group = "dunebugger-1";
  bool asked = false;
  const StatusOutput output = status_output(text, query, kNow, [&](long) {
    asked = true;
    return alive;
  });
  if (output.exit_code == 1) {
    require(!asked && output.out.empty() && !output.err.empty());
    return;
  }
  require(asked && output.err.empty());
  require(output.exit_code == 0 || output.exit_code == 3);
  const bool stale = output.exit_code == 3;
  if (!alive) require(stale);
  require(output.out.starts_with("dunebugger-remote is not running (") == stale);
  require(output.out.find("dunebugger-remote ") != std::string::npos);
  require(output.out.find(" ago)\n") != std::string::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check(text, true);
  check(text, false);
  return 0;
}
