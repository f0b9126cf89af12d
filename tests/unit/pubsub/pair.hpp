#pragma once
// Pair: a ClientCore and a FakeService joined by an in-memory link with
// latency, driven in virtual time (quinn-proto's tests/util.rs Pair). It
// executes the core's actions as a thin adapter would, records what
// happened with timestamps, and can drop the link abruptly, make it silent
// (half-open), or make the service refuse connections.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/random.hpp"
#include "pubsub/core/client_core.hpp"
#include "unit/pubsub/fake_service.hpp"

namespace dbr::pubsub::test {

struct TimedEvent {
  TimePoint at;
  Event event;
};

struct TimedFrame {
  TimePoint at;
  nlohmann::json frame;
};

ClientCoreOptions test_options(Protocol protocol = Protocol::JsonReliable);

class Pair {
 public:
  explicit Pair(ClientCoreOptions options, std::uint64_t seed = 1);

  SeededRandom random;
  ClientCore core;
  FakeService service;
  TimePoint now;
  const TimePoint epoch;
  Duration latency = std::chrono::milliseconds(5);
  std::string group;

  // ---- connection faults (apply to attempts made while set) ----
  std::optional<AttemptFailure> refuse_new;
  std::optional<AttemptFailure> refuse_credentials;
  std::optional<AttemptFailure> refuse_recovery;
  std::optional<Duration> drop_after_open;  // accept, then drop abruptly this long after opening
  std::optional<std::string> subprotocol_override;

  // ---- records ----
  std::vector<TimePoint> open_new_at;
  std::vector<TimePoint> open_recovery_at;
  std::vector<TimePoint> failure_at;  // refused attempts, when the core learnt it
  std::vector<std::string> recovery_queries;
  std::vector<TimedFrame> client_frames;  // every SendText, parsed
  std::vector<TimedEvent> events;
  std::vector<TimePoint> aborts_at;
  std::vector<std::uint16_t> close_codes;
  std::size_t check_internet = 0;
  std::size_t overlapping_attempts = 0;  // OpenNew/OpenRecovery while a link existed

  // ---- driving ----
  void start();                                  // internet online, then start
  MessageId send(const nlohmann::json& data);   // send_to_group + pump
  void schedule(Duration after, std::function<void()> task);
  // Runs tasks and core timers in time order up to `until`.
  void run_until(TimePoint until);
  void run_for(Duration d) { run_until(now + d); }
  void pump();  // drains the core's actions and events

  // ---- link faults and service traffic, at `now` ----
  void drop_abruptly(bool as_failure = false);
  void go_silent();
  void inject(const std::string& frame);  // a raw frame from the service on the current link
  void publish(const nlohmann::json& data);
  bool link_open() const { return link_ && link_->open && !link_->silent; }

  // ---- queries ----
  template <typename T>
  std::vector<T> events_of() const {
    std::vector<T> out;
    for (const auto& e : events)
      if (const T* item = std::get_if<T>(&e.event)) out.push_back(*item);
    return out;
  }
  std::vector<TimedFrame> frames_of_type(const std::string& type) const;
  std::vector<LogLine> logs_at_least(LogLevel level) const;
  // The data of each sendToGroup the service processed, in order.
  std::vector<nlohmann::json> delivered_data() const;
  // The ids of the core's Delivered events, in order.
  std::vector<MessageId> delivered_ids() const;
  // The data of the core's GroupMessage events, in order.
  std::vector<nlohmann::json> group_data() const;

 private:
  struct Link {
    LinkId id = 0;
    bool open = false;
    bool silent = false;
  };

  void execute(Action action);
  // The transport reports, as ws::Connection would.
  void closed(std::uint16_t code);
  void failed(const AttemptFailure& failure);
  void open_link(bool recovery, std::string query);
  void to_client(LinkId id, std::string frame, Duration delay);
  void handle_reply(LinkId id, ServiceReply reply, Duration delay);
  bool is_current(LinkId id) const { return link_ && link_->id == id; }

  std::optional<Link> link_;
  LinkId next_link_ = 1;
  std::multimap<TimePoint, std::function<void()>> tasks_;
};

}  // namespace dbr::pubsub::test
