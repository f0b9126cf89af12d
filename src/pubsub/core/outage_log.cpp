#include "pubsub/core/outage_log.hpp"

#include <cstdio>

namespace dbr::pubsub {

namespace {

std::string attempts_text(unsigned n) { return std::to_string(n) + (n == 1 ? " attempt" : " attempts"); }

}  // namespace

void OutageLog::attempt_started() {
  ++attempts_since_connect_;
  if (in_outage_) ++attempts_;
}

std::optional<LogLine> OutageLog::failure(TimePoint now, std::string_view what, bool credentials_refused) {
  LogLevel level = credentials_refused ? LogLevel::Error : LogLevel::Warning;
  awaiting_proof_ = false;  // the recovery was not real: the outage goes on
  if (!in_outage_) {
    session_lost_.reset();
    in_outage_ = true;
    bool flapping = ended_at_ && now - *ended_at_ < flap_window_;
    if (!flapping) {
      started_ = now;
      // The attempt that just failed, if this outage began with one.
      attempts_ = attempts_since_connect_;
      last_logged_ = now;
      last_logged_attempt_ = attempts_;
      refusal_logged_ = credentials_refused;
      logged_since_info_ = true;
      return LogLine{level, std::string(what)};
    }
    attempts_ += attempts_since_connect_;
  }
  bool due = (credentials_refused && !refusal_logged_) ||
             (attempts_ % kEveryNthAttempt == 0 && attempts_ != last_logged_attempt_) ||
             now - last_logged_ >= kAtLeastEvery;
  if (!due) return std::nullopt;
  if (credentials_refused) refusal_logged_ = true;
  last_logged_ = now;
  last_logged_attempt_ = attempts_;
  logged_since_info_ = true;
  return LogLine{level, std::string(what) + " (outage " + format_duration(now - started_) + ", " +
                            attempts_text(attempts_) + ")"};
}

std::optional<LogLine> OutageLog::connected(TimePoint now, bool recovered) {
  attempts_since_connect_ = 0;
  if (!in_outage_) return std::nullopt;
  if (recovered) {
    awaiting_proof_ = true;
    return std::nullopt;
  }
  return end_outage(now, false);
}

std::optional<LogLine> OutageLog::recovery_proven(TimePoint now) {
  if (!awaiting_proof_) return std::nullopt;
  awaiting_proof_ = false;
  return end_outage(now, true);
}

std::optional<LogLine> OutageLog::end_outage(TimePoint now, bool recovered) {
  in_outage_ = false;
  awaiting_proof_ = false;
  ended_at_ = now;
  if (!logged_since_info_) return std::nullopt;
  logged_since_info_ = false;
  std::string text = std::string(recovered ? "Web PubSub session recovered" : "Web PubSub connected again") +
                     " after " + format_duration(now - started_) + " (" + attempts_text(attempts_);
  if (!recovered && session_lost_) text += "; a new session: " + *session_lost_;
  session_lost_.reset();
  return LogLine{LogLevel::Info, std::move(text) + ")"};
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
