#include "pubsub/outage_log.hpp"

#include <cstdio>

namespace dbr::pubsub {

void OutageLog::attempt_started() { ++attempts_; }

std::optional<LogLine> OutageLog::failure(TimePoint now, std::string_view what, bool credentials_refused) {
  LogLevel level = credentials_refused ? LogLevel::Error : LogLevel::Warning;
  if (!in_outage_) {
    in_outage_ = true;
    started_ = now;
    last_logged_ = now;
    // attempts_ counts since the last connection, so it already holds the
    // attempt that just failed, if this outage began with one.
    last_logged_attempt_ = attempts_;
    refusal_logged_ = credentials_refused;
    return LogLine{level, std::string(what)};
  }
  bool due = (credentials_refused && !refusal_logged_) ||
             (attempts_ % kEveryNthAttempt == 0 && attempts_ != last_logged_attempt_) ||
             now - last_logged_ >= kAtLeastEvery;
  if (!due) return std::nullopt;
  if (credentials_refused) refusal_logged_ = true;
  last_logged_ = now;
  last_logged_attempt_ = attempts_;
  return LogLine{level, std::string(what) + " (outage " + format_duration(now - started_) + ", " +
                            std::to_string(attempts_) + (attempts_ == 1 ? " attempt)" : " attempts)")};
}

std::optional<LogLine> OutageLog::connected(TimePoint now, bool recovered) {
  if (!in_outage_) {
    attempts_ = 0;
    return std::nullopt;
  }
  in_outage_ = false;
  std::string text = std::string(recovered ? "Web PubSub session recovered" : "Web PubSub connected again") +
                     " after " + format_duration(now - started_) + " (" + std::to_string(attempts_) +
                     (attempts_ == 1 ? " attempt)" : " attempts)");
  attempts_ = 0;
  return LogLine{LogLevel::Info, std::move(text)};
}

std::string format_duration(Duration d) {
  double s = to_seconds(d);
  char buf[48];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%.1f s", s);
  } else if (s < 3600) {
    auto whole = static_cast<long long>(s);
    std::snprintf(buf, sizeof buf, "%lld min %02lld s", whole / 60, whole % 60);
  } else {
    auto whole = static_cast<long long>(s);
    std::snprintf(buf, sizeof buf, "%lld h %02lld min", whole / 3600, (whole % 3600) / 60);
  }
  return buf;
}

}  // namespace dbr::pubsub
