#include "agent/status_reporter.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "log/log.hpp"
#include "loop/event_loop.hpp"
#include "pubsub/client.hpp"
#include "pubsub/core/transitions.hpp"
#include "status/render.hpp"
#include "status/status_file.hpp"
#include "version.hpp"

namespace dbr::agent {

std::string status_file_path(const char* runtime_directory) {
  if (runtime_directory && *runtime_directory) return status::status_file_in(runtime_directory);
  struct stat st {};
  if (::stat(status::kDefaultRuntimeDirectory, &st) == 0 && S_ISDIR(st.st_mode))
    return status::status_file_in(nullptr);
  return {};
}

StatusReporter::StatusReporter(loop::EventLoop& loop, std::string path, StatusTimings timings)
    : loop_(loop),
      path_(std::move(path)),
      timings_(timings),
      started_at_(std::chrono::system_clock::now()),
      soon_(loop, [this] { write_now(); }),
      counters_(loop, [this] { write_now(); }, timings_.counters_every / 10),
      heartbeat_(loop, [this] { write_now(); }, timings_.refresh_slack) {}

void StatusReporter::set_client(const pubsub::Client* client, std::string group) {
  client_ = client;
  group_ = std::move(group);
  changed();
}

void StatusReporter::set_internet(bool online, std::string reason) {
  internet_known_ = true;
  internet_online_ = online;
  internet_reason_ = std::move(reason);
  internet_checked_at_ = std::chrono::system_clock::now();
}

void StatusReporter::set_nats(bool connected) {
  nats_connected_ = connected;
  changed();
}

void StatusReporter::set_ntp(const monitor::NtpReport& report) {
  ntp_.known = true;
  ntp_.available = report.available;
  ntp_.server = report.server;
  ntp_.offset_ms = report.offset ? std::optional<std::int64_t>(report.offset->count()) : std::nullopt;
  ntp_.delay_ms = report.delay ? std::optional<std::int64_t>(report.delay->count()) : std::nullopt;
  ntp_.detail = report.detail;
  ntp_.checked_at = std::chrono::system_clock::now();
  ntp_.clock_synchronized = report.clock_synchronized;
}

void StatusReporter::changed() { soon_.arm(); }

void StatusReporter::moved() {
  if (soon_.armed() || counters_.armed()) return;
  TimePoint allowed = last_write_ + timings_.counters_every;
  if (loop_.now() >= allowed)
    soon_.arm();
  else
    counters_.arm_at(allowed);
}

status::Snapshot StatusReporter::snapshot() const {
  using std::chrono::system_clock;
  status::Snapshot s;
  s.version = kVersion;
  s.pid = static_cast<long>(::getpid());
  s.refresh_every = timings_.refresh_every;
  s.updated_at = system_clock::now();
  s.group = group_;
  s.internet_known = internet_known_;
  s.internet_online = internet_online_;
  s.internet_reason = internet_reason_;
  s.internet_checked_at = internet_checked_at_;
  s.nats_connected = nats_connected_;
  s.ntp = ntp_;
  s.state = "Disabled";
  s.since = started_at_;
  if (!client_) return s;
  // The core keeps monotonic times; status shows wall-clock ones.
  TimePoint mono_now = loop_.now();
  auto to_wall = [&](TimePoint t) {
    return s.updated_at - std::chrono::duration_cast<system_clock::duration>(mono_now - t);
  };
  const auto& core = client_->core();
  s.state = std::string(pubsub::state_name(core.state()));
  auto history = core.history();
  if (!history.empty()) s.since = to_wall(history.back().at);
  std::size_t first = history.size() > status::kMaxTransitions ? history.size() - status::kMaxTransitions : 0;
  for (std::size_t i = first; i < history.size(); ++i)
    s.transitions.push_back({to_wall(history[i].at), std::string(pubsub::state_name(history[i].from)),
                             std::string(pubsub::state_name(history[i].to)), history[i].reason});
  s.hub_host = client_->hub_display();
  s.last_error = client_->last_error();
  const auto& c = core.counters();
  // A reconnect: any new connection after the first, or a recovery.
  s.counters.reconnects = c.recoveries + (c.connections > 0 ? c.connections - 1 : 0);
  s.counters.messages_in = c.messages_in;
  s.counters.messages_out = c.messages_out;
  s.counters.outbox_dropped = c.outbox_drops;
  return s;
}

void StatusReporter::write_now() {
  soon_.cancel();
  counters_.cancel();
  last_write_ = loop_.now();
  heartbeat_.arm_in(timings_.refresh_every);
  status::Snapshot s = snapshot();
  std::string line = status::status_line(s);
  if (line != last_status_line_) {
    loop_.notify_status(line);
    last_status_line_ = std::move(line);
  }
  if (path_.empty()) return;
  std::string error;
  if (!status::write_atomically(path_, status::to_json(s).dump(2) + "\n", error)) {
    // Once: a read-only /run would otherwise fill the journal.
    if (!write_failed_logged_) log::warn("cannot write the status file, ignoring: {}", error);
    write_failed_logged_ = true;
  } else {
    write_failed_logged_ = false;
  }
}

}  // namespace dbr::agent
