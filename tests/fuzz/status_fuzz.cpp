// libFuzzer target for `dunebugger-remote status`: the text of a
// status.json into status_output (status/status_file.hpp), which parses it,
// judges whether it is stale (judge_freshness) and renders the report
// (render_report), tolerating fields it does not know.
//
// The input is the file; it is read with the pid alive and with it gone,
// at a fixed `now`. Checked besides the sanitizers (nothing may throw):
//   - not a JSON object: exit 1, a message on stderr and no report;
//   - otherwise a report on stdout, exit 3 when stale and 0 when not, a
//     stale report says so first; stale is a gone pid, or a file written
//     more than three refresh periods before now (read here on its own);
//   - the report names the pid the file holds (0 when it holds none), and
//     ends with the "(updated ... ago)" line.
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <limits>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "status/status_file.hpp"
#include "fuzz/require.hpp"

namespace {

using dbr::fuzz::require;

using namespace dbr::status;

// 2026-06-01T00:00:00Z
constexpr std::int64_t kNowSecs = 1780272000;
const WallTime kNow = WallTime{} + std::chrono::seconds(kNowSecs);

// Whether a file of a live agent is stale, read here: written more than
// three refresh periods ago (refresh_secs when it is 1 s to a day, else
// 10 s), by an updated_at WallTime can hold.
bool too_old(std::string_view text) {
  const auto j = nlohmann::json::parse(text);
  const auto updated = j.find("updated_at");
  if (updated == j.end() || !updated->is_string()) return false;
  std::tm tm{};
  if (!strptime(updated->get<std::string>().c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm)) return false;
  const std::int64_t secs = timegm(&tm);
  // The epoch itself is the code's "no date", as any time before it.
  if (secs <= 0 || secs >= std::int64_t{9'223'372'036}) return false;
  std::int64_t period = 10;
  const auto refresh = j.find("refresh_secs");
  if (refresh != j.end() && refresh->is_number_integer() && !refresh->is_number_unsigned() &&
      refresh->get<std::int64_t>() > 0 && refresh->get<std::int64_t>() <= 86400)
    period = refresh->get<std::int64_t>();
  if (refresh != j.end() && refresh->is_number_unsigned() && refresh->get<std::uint64_t>() > 0 &&
      refresh->get<std::uint64_t>() <= 86400)
    period = static_cast<std::int64_t>(refresh->get<std::uint64_t>());
  return kNowSecs - secs > 3 * period;
}

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
  require(stale == (!alive || too_old(text)));
  require(output.out.starts_with("dunebugger-remote is not running (") == stale);
  // The pid: an integer a pid_t holds (nlohmann reads a positive one as
  // unsigned), else 0.
  const auto j = nlohmann::json::parse(text);
  const auto pid = j.find("pid");
  long expected_pid = 0;
  if (pid != j.end() && pid->is_number_unsigned() &&
      pid->get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<pid_t>::max()))
    expected_pid = static_cast<long>(pid->get<std::uint64_t>());
  require(output.out.find("(pid " + std::to_string(expected_pid) + ")\n") != std::string::npos);
  require(output.out.find(" ago)\n") != std::string::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check(text, true);
  check(text, false);
  return 0;
}
