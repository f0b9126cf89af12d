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
  json system_info(const json& components) override {
    ++calls;
    last_components = components;
    return {{"system_info", {{"device_id", "dev-1"}, {"components", components}}}};
  }
  int calls = 0;
  json last_components;
};

std::vector<AppOutput> drain(AppCore& core) {
  std::vector<AppOutput> out;
  while (auto o = core.poll()) out.push_back(std::move(*o));
  return out;
}

json group_data(const AppOutput& o) {
  REQUIRE(std::holds_alternative<SendToGroup>(o));
  return std::get<SendToGroup>(o).data;
}

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
  core.group_message({{"subject", "controller.heartbeat"}, {"body", "I am here"}, {"connectionId", "c"}}, kT0);
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
  core.group_message({{"subject", "controller.system_info"}, {"body", "refresh"}, {"connectionId", "c"}}, kT0 + 10s);
  auto out = drain(core);
  REQUIRE(out.size() == 1);
  CHECK(group_data(out[0])["subject"] == "system_info");
  CHECK(si.last_components[0] == json{{"name", "dunebugger"}, {"state", "running"}});
  CHECK(si.last_components[1] == json{{"name", "scheduler"}, {"state", "not_responding"}});
  CHECK(si.last_components[2] == json{{"name", "dunebugger-remote"}, {"state", "running"}, {"version", "9.9.9"}});
  core.group_message({{"subject", "controller.system_info"}, {"body", "null"}, {"connectionId", "c"}}, kT0 + 60s);
  drain(core);
  CHECK(si.last_components[0]["state"] == "not_responding");
}

TEST_CASE("front-end requests become bus publishes; NATS state becomes group broadcasts; junk is reported") {
  FakeSystemInfo si;
  AppCore core(AppCoreOptions{}, si);
  core.group_message({{"subject", "core.refresh_gpios"}, {"body", "null"}, {"connectionId", "c9"}}, kT0);
  auto out = drain(core);
  REQUIRE(out.size() == 1);
  REQUIRE(std::holds_alternative<PublishToBus>(out[0]));
  CHECK(std::get<PublishToBus>(out[0]).subject == "dunebugger.core.refresh_gpios");
  CHECK(std::get<PublishToBus>(out[0]).payload ==
        json{{"subject", "refresh_gpios"}, {"body", "null"}, {"connectionId", "c9"}});

  core.bus_message("dunebugger.remote.playing_time", R"({"body":40,"subject":"playing_time","source":"core"})", kT0);
  out = drain(core);
  REQUIRE(out.size() == 1);
  CHECK(group_data(out[0]) ==
        json{{"body", 40}, {"subject", "playing_time"}, {"source", "controller"}, {"destination", "broadcast"}});

  core.bus_message("dunebugger.remote.schedule_command", R"({"body":1,"subject":"x","source":"scheduler"})", kT0);
  out = drain(core);
  REQUIRE(out.size() == 1);
  REQUIRE(std::holds_alternative<BusMessageDropped>(out[0]));
  CHECK(std::get<BusMessageDropped>(out[0]).reason == DropReason::UnknownSubject);
  CHECK(std::get<BusMessageDropped>(out[0]).subject == "dunebugger.remote.schedule_command");

  // Ignored group messages produce nothing at all.
  core.group_message({{"subject", "heartbeat"}, {"body", "I am here"}}, kT0);
  core.group_message({{"subject", "core.refresh_gpios"}, {"body", "null"}, {"source", "controller"}}, kT0);
  CHECK(drain(core).empty());
}

TEST_CASE("broadcastInitialState = False: nothing ever reaches the group, the bus still works") {
  FakeSystemInfo si;
  AppCoreOptions config;
  config.broadcast_enabled = false;
  AppCore core(config, si);
  core.joined(kT0);
  core.group_message({{"subject", "controller.heartbeat"}, {"body", "I am here"}}, kT0);
  core.group_message({{"subject", "controller.system_info"}, {"body", "null"}}, kT0);
  core.bus_message("dunebugger.remote.log", R"({"body":{"message":"m"},"subject":"log","source":"core"})", kT0);
  for (int i = 0; i < 100; ++i) {
    auto deadline = core.next_deadline();
    if (!deadline) break;
    core.on_timeout(*deadline);
  }
  CHECK_FALSE(core.next_deadline());  // the heartbeat loop ran out within 100 timers
  core.group_message({{"subject", "scheduler.refresh"}, {"body", "null"}}, kT0);
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
