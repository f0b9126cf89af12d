// When status.json is written, on a real loop with shortened periods: a
// change at once, moved counters coalesced, and with nothing new only the
// heartbeat that readers judge staleness by.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/status_reporter.hpp"
#include "loop/event_loop.hpp"
#include "loop/timer.hpp"

using namespace dbr;
using namespace std::chrono_literals;

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "dbr-status-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

// Each write is an atomic rename of a new file: the writes are the changes
// of (inode, modification time) seen by a 10 ms poll, with when they were
// seen. (An inode alone may be reused by the next write.)
struct WriteLog {
  explicit WriteLog(std::string p) : path(std::move(p)) {}
  std::string path;
  std::pair<ino_t, long> last{};
  std::vector<Duration> at;  // since `start`
  TimePoint start = Clock::now();
  void poll() {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return;
    std::pair<ino_t, long> now{st.st_ino, st.st_mtim.tv_sec * 1'000'000'000L + st.st_mtim.tv_nsec};
    if (now == last) return;
    last = now;
    at.push_back(Clock::now() - start);
  }
};

agent::StatusTimings short_timings() {
  agent::StatusTimings t;
  t.refresh_every = 1s;
  t.refresh_slack = 20ms;
  t.counters_every = 300ms;
  return t;
}

// Runs the loop for `length`, polling the file; `script` gets the elapsed time at each 10 ms step.
template <typename Script>
WriteLog run(agent::StatusReporter& reporter, loop::EventLoop& ev, const std::string& path, Duration length,
             Script script) {
  WriteLog log(path);
  (void)reporter;
  loop::Timer* self = nullptr;
  loop::Timer poller(ev, [&] {
    log.poll();
    script(Clock::now() - log.start);
    self->arm_in(10ms);
  });
  self = &poller;
  loop::Timer stop(ev, [&] { ev.request_shutdown("done"); });
  poller.arm_in(0ms);
  stop.arm_in(length);
  CHECK(ev.run() == 0);
  return log;
}

}  // namespace

TEST_CASE("status.json: a change at once, then only the heartbeat while nothing moves") {
  TempDir dir;
  std::string path = (dir.path / "status.json").string();
  loop::EventLoop ev;
  agent::StatusReporter reporter(ev, path, short_timings());
  reporter.changed();
  auto log = run(reporter, ev, path, 2500ms, [](Duration) {});
  // Written at once, then at about 1 s and 2 s: no more.
  REQUIRE(log.at.size() == 3);
  CHECK(log.at[0] < 100ms);
  CHECK(log.at[1] >= 950ms);
  CHECK(log.at[1] < 1200ms);
  CHECK(log.at[2] >= 1950ms);
  std::ifstream in(path);
  auto j = nlohmann::json::parse(in);
  CHECK(j["refresh_secs"] == 1);  // the heartbeat its readers judge by
}

TEST_CASE("status.json: moved counters are written once per counters period, coalesced") {
  TempDir dir;
  std::string path = (dir.path / "status.json").string();
  loop::EventLoop ev;
  agent::StatusReporter reporter(ev, path, short_timings());
  reporter.changed();
  bool late_move_done = false;
  auto log = run(reporter, ev, path, 900ms, [&](Duration t) {
    if (t >= 50ms && t < 250ms) reporter.moved();  // many moves: one write, 300 ms after the last
    if (t >= 700ms && !late_move_done) {
      late_move_done = true;
      reporter.moved();  // the last write is older than the period: at once
    }
  });
  REQUIRE(log.at.size() == 3);
  CHECK(log.at[0] < 100ms);
  CHECK(log.at[1] >= 290ms);
  CHECK(log.at[1] < 450ms);
  CHECK(log.at[2] >= 700ms);
  CHECK(log.at[2] < 780ms);
}
