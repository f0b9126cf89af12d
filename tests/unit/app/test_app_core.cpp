// AppCore: the app layer's inputs to outputs, in virtual time.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "app/app_core.hpp"

using namespace dbr;
using namespace dbr::app;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// Records the components list it was given; returns a recognisable body.
class FakeSystemInfo final : public SystemInfoSource {
 public:
  std::string system_info(bool ntp_available, const nlohmann::ordered_json& components) override {
    ++calls;
    last_components = json::parse(components.dump());
    last_ntp = ntp_available;
    return json{{"system_info", {{"device_id", "dev-1"}, {"components", last_components}}}}.dump();
  }
  int calls = 0;
  json last_components;
  bool last_ntp = false;
};

// The outputs but log lines, which go to `lines` when given.
std::vector<AppOutput> drain(AppCore& core, std::vector<log::LogLine>* lines = nullptr) {
  std::vector<AppOutput> out;
  while (auto o = core.poll()) {
    if (auto* line = std::get_if<log::LogLine>(&*o)) {
      if (lines) lines->push_back(std::move(*line));
      continue;
    }
    out.push_back(std::move(*o));
  }
  return out;
}

void group(AppCore& core, const json& data, TimePoint now) { core.group_message(data.dump(), now); }

const std::string& group_text(const AppOutput& o) {
  REQUIRE(std::holds_alternative<SendToGroup>(o));
  return std::get<SendToGroup>(o).data_json;
}

json group_data(const AppOutput& o) { return json::parse(group_text(o)); }

json heartbeat_envelope(const char* body) {
  return {{"body", body}, {"subject", "heartbeat"}, {"source", "controller"}, {"destination", "broadcast"}};
}

const TimePoint kT0 = TimePoint(100h);

}  // namespace

TEST_CASE("joining sends Is anyone there? then system_info") {
  FakeSystemInfo si;
  AppCore core(AppCoreOptions{}, si);
  core.joined(kT0);
  auto out = drain(core);
  REQUIRE(out.size() == 2);
  CHECK(group_data(out[0]) == heartbeat_envelope("Is anyone there?"));
  json info = group_data(out[1]);
  CHECK(info["subject"] == "system_info");
  CHECK(info["source"] == "controller");
  CHECK(info["destination"] == "broadcast");
  CHECK(info["body"]["system_info"]["device_id"] == "dev-1");
  CHECK(si.calls == 1);
}

TEST_CASE("controller.heartbeat is answered and the loop timer is armed") {
  FakeSystemInfo si;
  AppCore core(AppCoreOptions{}, si);
  group(core, {{"subject", "controller.heartbeat"}, {"body", "I am here"}, {"connectionId", "c"}}, kT0);
  auto out = drain(core);
  REQUIRE(out.size() == 1);
  CHECK(group_data(out[0]) == heartbeat_envelope("I am alive"));
  REQUIRE(core.next_deadline() == kT0 + 60s);
  core.on_timeout(kT0 + 60s);
  out = drain(core);
  REQUIRE(out.size() == 1);
  CHECK(group_data(out[0]) == heartbeat_envelope("I am alive"));
}

TEST_CASE("controller.system_info is answered with the components at that moment") {
  FakeSystemInfo si;
  AppCoreOptions config;
  config.component_ttl = 45s;
  config.version = "9.9.9";
  AppCore core(config, si);
  core.bus_message("dunebugger.remote.heartbeat", R"({"body":"alive","subject":"heartbeat","source":"core"})", kT0);
  CHECK(drain(core).empty());
  group(core, {{"subject", "controller.system_info"}, {"body", "refresh"}, {"connectionId", "c"}}, kT0 + 10s);
  auto out = drain(core);
  REQUIRE(out.size() == 1);
  CHECK(group_data(out[0])["subject"] == "system_info");
  CHECK(si.last_components[0] == json{{"name", "dunebugger"}, {"state", "running"}});
  CHECK(si.last_components[1] == json{{"name", "scheduler"}, {"state", "not_responding"}});
  CHECK(si.last_components[2] == json{{"name", "dunebugger-remote"}, {"state", "running"}, {"version", "9.9.9"}});
  group(core, {{"subject", "controller.system_info"}, {"body", "null"}, {"connectionId", "c"}}, kT0 + 60s);
  drain(core);
  CHECK(si.last_components[0]["state"] == "not_responding");
}

TEST_CASE("front-end requests become bus publishes; NATS state becomes group broadcasts; junk is reported") {
  FakeSystemInfo si;
  AppCore core(AppCoreOptions{}, si);
  group(core, {{"subject", "core.refresh_gpios"}, {"body", "null"}, {"connectionId", "c9"}}, kT0);
  auto out = drain(core);
  REQUIRE(out.size() == 1);
  REQUIRE(std::holds_alternative<PublishToBus>(out[0]));
  CHECK(std::get<PublishToBus>(out[0]).subject == "dunebugger.core.refresh_gpios");
  CHECK(json::parse(std::get<PublishToBus>(out[0]).payload) ==
        json{{"subject", "refresh_gpios"}, {"body", "null"}, {"connectionId", "c9"}});

  core.bus_message("dunebugger.remote.playing_time", R"({"body":40,"subject":"playing_time","source":"core"})", kT0);
  out = drain(core);
  REQUIRE(out.size() == 1);
  CHECK(group_data(out[0]) ==
        json{{"body", 40}, {"subject", "playing_time"}, {"source", "controller"}, {"destination", "broadcast"}});

  core.bus_message("dunebugger.remote.schedule_command", R"({"body":1,"subject":"x","source":"scheduler"})", kT0);
  std::vector<log::LogLine> lines;
  CHECK(drain(core, &lines).empty());
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].level == log::Level::Warning);
  CHECK(lines[0].text == "NATS message on dunebugger.remote.schedule_command dropped: unknown subject: schedule_command");

  // Ignored group messages produce nothing but a debug line each.
  lines.clear();
  group(core, {{"subject", "heartbeat"}, {"body", "I am here"}}, kT0);
  group(core, {{"subject", "core.refresh_gpios"}, {"body", "null"}, {"source", "controller"}}, kT0);
  CHECK(drain(core, &lines).empty());
  REQUIRE(lines.size() == 2);
  for (const auto& line : lines) CHECK(line.level == log::Level::Debug);
  CHECK(lines[0].text == "group message ignored: subject has no recipient prefix: heartbeat");
  CHECK(lines[1].text == "group message ignored: source is controller (our own message)");
}

TEST_CASE("broadcastInitialState = False: nothing ever reaches the group, the bus still works") {
  FakeSystemInfo si;
  AppCoreOptions config;
  config.broadcast_enabled = false;
  AppCore core(config, si);
  core.joined(kT0);
  group(core, {{"subject", "controller.heartbeat"}, {"body", "I am here"}}, kT0);
  group(core, {{"subject", "controller.system_info"}, {"body", "null"}}, kT0);
  core.bus_message("dunebugger.remote.log", R"({"body":{"message":"m"},"subject":"log","source":"core"})", kT0);
  for (int i = 0; i < 100; ++i) {
    auto deadline = core.next_deadline();
    if (!deadline) break;
    core.on_timeout(*deadline);
  }
  CHECK_FALSE(core.next_deadline());  // the heartbeat loop ran out within 100 timers
  group(core, {{"subject", "scheduler.refresh"}, {"body", "null"}}, kT0);
  auto out = drain(core);
  REQUIRE(out.size() == 1);
  CHECK(std::holds_alternative<PublishToBus>(out[0]));
  // joined: 2, heartbeat reply: 1, system_info: 1, log: 1, 4 ticks + question: 5.
  CHECK(core.suppressed_group_sends() == 10);
}

TEST_CASE("the output queue drops the oldest at its bound") {
  FakeSystemInfo si;
  AppCore core(AppCoreOptions{}, si);
  for (std::size_t i = 0; i < AppCore::kMaxQueuedOutputs + 5; ++i)
    core.bus_message("dunebugger.remote.playing_time",
                     json{{"body", i}, {"subject", "playing_time"}, {"source", "core"}}.dump(), kT0);
  CHECK(core.outputs_dropped() == 5);
  auto out = drain(core);
  REQUIRE(out.size() == AppCore::kMaxQueuedOutputs);
  CHECK(group_data(out.front())["body"] == 5);
  CHECK(group_data(out.back())["body"] == AppCore::kMaxQueuedOutputs + 4);
}

TEST_CASE("NTP: the first verdict goes to the scheduler, a change to the scheduler and the group") {
  FakeSystemInfo si;
  AppCore core(AppCoreOptions{}, si);
  const std::string to_scheduler = "dunebugger.scheduler.ntp_status";
  auto scheduler_payload = [](bool available) {
    return available ? R"({"body":{"ntp_available":true},"subject":"ntp_status","source":"remote"})"
                     : R"({"body":{"ntp_available":false},"subject":"ntp_status","source":"remote"})";
  };
  // Before any verdict: asked by the front end, "false" (as upstream), and
  // the scheduler is not told anything unasked.
  group(core, {{"subject", "controller.ntp_status"}, {"body", "null"}, {"connectionId", "c"}}, kT0);
  auto out = drain(core);
  REQUIRE(out.size() == 1);
  CHECK(group_text(out[0]) ==
        R"({"body":{"ntp_available":false},"subject":"ntp_status","source":"controller","destination":"broadcast"})");
  core.bus_connected(kT0);
  CHECK(drain(core).empty());

  core.ntp_status(true, kT0);
  out = drain(core);
  REQUIRE(out.size() == 1);
  REQUIRE(std::holds_alternative<PublishToBus>(out[0]));
  CHECK(std::get<PublishToBus>(out[0]).subject == to_scheduler);
  CHECK(std::get<PublishToBus>(out[0]).payload == scheduler_payload(true));

  core.ntp_status(true, kT0 + 30s);  // no change: nothing
  CHECK(drain(core).empty());

  core.ntp_status(false, kT0 + 60s);
  out = drain(core);
  REQUIRE(out.size() == 2);
  CHECK(std::get<PublishToBus>(out[0]).payload == scheduler_payload(false));
  CHECK(group_text(out[1]) ==
        R"({"body":{"ntp_available":false},"subject":"ntp_status","source":"controller","destination":"broadcast"})");

  // The scheduler's request is answered on its subject; a NATS reconnect
  // tells it again (a push lost while NATS was down is made good).
  core.bus_message("dunebugger.remote.get_ntp_status",
                   R"({"body": "get_ntp_status", "subject": "get_ntp_status", "source": "scheduler"})", kT0 + 61s);
  core.bus_connected(kT0 + 62s);
  out = drain(core);
  REQUIRE(out.size() == 2);
  for (const auto& o : out) {
    CHECK(std::get<PublishToBus>(o).subject == to_scheduler);
    CHECK(std::get<PublishToBus>(o).payload == scheduler_payload(false));
  }

  // system_info carries the verdict.
  group(core, {{"subject", "controller.system_info"}, {"body", "null"}, {"connectionId", "c"}}, kT0 + 63s);
  drain(core);
  CHECK(si.last_ntp == false);
  core.ntp_status(true, kT0 + 90s);
  drain(core);
  group(core, {{"subject", "controller.system_info"}, {"body", "null"}, {"connectionId", "c"}}, kT0 + 91s);
  drain(core);
  CHECK(si.last_ntp == true);
}

TEST_CASE("a component heartbeat counts for the source it names") {
  FakeSystemInfo si;
  AppCore core(AppCoreOptions{}, si);
  core.bus_message("dunebugger.remote.heartbeat", R"({"body": "alive", "subject": "heartbeat", "source": "scheduler"})",
                   kT0);
  group(core, {{"subject", "controller.system_info"}, {"body", "null"}, {"connectionId", "c"}}, kT0 + 1s);
  drain(core);
  CHECK(si.last_components[0]["state"] == "not_responding");
  CHECK(si.last_components[1]["state"] == "running");
}
