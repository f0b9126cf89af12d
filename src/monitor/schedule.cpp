#include "monitor/schedule.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace dbr::monitor {

namespace {

const char* state_text(int s) {
  static const char* const kNames[] = {"not started", "idle", "checking"};
  return kNames[s];
}
const char* event_text(int e) {
  static const char* const kNames[] = {"start", "request", "link change", "begin check", "check finished"};
  return kNames[e];
}

}  // namespace

CheckSchedule::CheckSchedule(Options options) : options_(options) {}

void CheckSchedule::start(TimePoint now) { apply(Event::Start, now); }
void CheckSchedule::request(TimePoint now) { apply(Event::Request, now); }
void CheckSchedule::link_changed(TimePoint now) { apply(Event::LinkChange, now); }
void CheckSchedule::check_finished(TimePoint now) { apply(Event::Finish, now); }

void CheckSchedule::check_finished(TimePoint now, bool online) {
  apply(Event::Finish, now);
  last_online_ = online;
}

void CheckSchedule::connection(std::optional<TimePoint> alive_at) { alive_at_ = alive_at; }

std::optional<Duration> CheckSchedule::evidence_for(CheckTrigger trigger, TimePoint now) const {
  if (trigger != CheckTrigger::Interval || last_online_ != true || !alive_at_) return std::nullopt;
  if (last_link_change_ && *alive_at_ <= *last_link_change_) return std::nullopt;
  const Duration age = std::max(now - *alive_at_, Duration::zero());
  if (age > options_.interval) return std::nullopt;  // quiet
  return age;
}

std::optional<CheckTrigger> CheckSchedule::begin_if_due(TimePoint now) {
  if (state_ != State::Idle) {
    apply(Event::Begin, now);  // throws: naming the state
    return std::nullopt;
  }
  auto trigger = due_trigger(now);
  if (trigger) apply(Event::Begin, now);
  return trigger;
}

// Every transition is here.
void CheckSchedule::apply(Event event, TimePoint now) {
  switch (state_) {
    case State::NotStarted:
      switch (event) {
        case Event::Start:
          state_ = State::Idle;
          initial_pending_ = true;
          start_at_ = now;
          return;
        case Event::Request:
        case Event::LinkChange:
          return;  // the initial check will observe it
        case Event::Begin:
        case Event::Finish:
          break;
      }
      break;
    case State::Idle:
    case State::Checking:
      switch (event) {
        case Event::Start:
          break;
        case Event::Request:
          if (!request_pending_) request_at_ = now;
          request_pending_ = true;
          return;
        case Event::LinkChange:
          if (!link_first_) link_first_ = now;
          link_last_ = now;
          last_link_change_ = now;
          return;
        case Event::Begin:
          if (state_ == State::Checking) break;
          state_ = State::Checking;
          initial_pending_ = false;
          request_pending_ = false;
          link_first_.reset();
          link_last_.reset();
          interval_due_.reset();
          return;
        case Event::Finish:
          if (state_ == State::Idle) break;
          state_ = State::Idle;
          interval_due_ = now + options_.interval;
          return;
      }
      break;
  }
  throw std::logic_error(std::string("check schedule: unexpected event '") + event_text(static_cast<int>(event)) +
                         "' in state '" + state_text(static_cast<int>(state_)) + "'");
}

std::optional<TimePoint> CheckSchedule::link_due() const {
  if (!link_first_ || !link_last_) return std::nullopt;
  return std::min(*link_last_ + options_.link_debounce, *link_first_ + options_.link_max_delay);
}

std::optional<CheckTrigger> CheckSchedule::due_trigger(TimePoint now) const {
  if (initial_pending_) return CheckTrigger::Initial;
  if (request_pending_) return CheckTrigger::Request;
  if (auto due = link_due(); due && *due <= now) return CheckTrigger::LinkChange;
  if (interval_due_ && *interval_due_ <= now) return CheckTrigger::Interval;
  return std::nullopt;
}

std::optional<TimePoint> CheckSchedule::next_deadline() const {
  if (state_ != State::Idle) return std::nullopt;
  if (initial_pending_) return start_at_;
  if (request_pending_) return request_at_;
  std::optional<TimePoint> next = interval_due_;
  if (auto due = link_due(); due && (!next || *due < *next)) next = due;
  return next;
}

}  // namespace dbr::monitor
