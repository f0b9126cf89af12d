// Router tables: every row of dunebugger-protocol.md §1.2 (front end → NATS
// or controller) and §2/§1.3 (NATS → front end), plus the ignore/drop cases.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "app/envelope.hpp"
#include "app/router.hpp"

using namespace dbr::app;
using nlohmann::json;

namespace {

json front_end(const std::string& subject, json body) {
  return {{"subject", subject}, {"body", std::move(body)}, {"connectionId", "conn-42"}};
}

const Router kRouter("dunebugger", "remote");

GroupRoute route_json(const json& data) { return kRouter.route_group(data.dump()); }

}  // namespace

TEST_CASE("every front-end core/scheduler request goes to <root>.<recipient>.<name> with subject = name") {
  struct Row {
    std::string subject;
    json body;
    std::string nats_subject;
    std::string name;
  };
  const std::string seq_file = "us main.seq 0 gpio 5 on\n10 gpio 5 off\n";
  const std::string schedule = "on monday at 08:00 do c\non friday at 20:00 do dr\n";
  const std::vector<Row> rows = {
      {"core.dunebugger_set", "c", "dunebugger.core.dunebugger_set", "dunebugger_set"},
      {"core.dunebugger_set", "cs", "dunebugger.core.dunebugger_set", "dunebugger_set"},
      {"core.dunebugger_set", "esb", "dunebugger.core.dunebugger_set", "dunebugger_set"},
      {"core.dunebugger_set", "dsb", "dunebugger.core.dunebugger_set", "dunebugger_set"},
      {"core.dunebugger_set", "er", "dunebugger.core.dunebugger_set", "dunebugger_set"},
      {"core.dunebugger_set", "dr", "dunebugger.core.dunebugger_set", "dunebugger_set"},
      {"core.dunebugger_set", "so", "dunebugger.core.dunebugger_set", "dunebugger_set"},
      {"core.dunebugger_set", "sb", "dunebugger.core.dunebugger_set", "dunebugger_set"},
      {"core.dunebugger_set", "sw 17 on", "dunebugger.core.dunebugger_set", "dunebugger_set"},
      {"core.dunebugger_set", "sw 17 off", "dunebugger.core.dunebugger_set", "dunebugger_set"},
      {"core.dunebugger_set", seq_file, "dunebugger.core.dunebugger_set", "dunebugger_set"},
      {"core.refresh_sequence", "null", "dunebugger.core.refresh_sequence", "refresh_sequence"},
      {"core.refresh_gpios", "null", "dunebugger.core.refresh_gpios", "refresh_gpios"},
      {"core.get_sequence", "main", "dunebugger.core.get_sequence", "get_sequence"},
      {"scheduler.refresh", "null", "dunebugger.scheduler.refresh", "refresh"},
      {"scheduler.get_schedule", "null", "dunebugger.scheduler.get_schedule", "get_schedule"},
      {"scheduler.get_next_actions", "null", "dunebugger.scheduler.get_next_actions", "get_next_actions"},
      {"scheduler.get_last_executed_action", "null", "dunebugger.scheduler.get_last_executed_action",
       "get_last_executed_action"},
      {"scheduler.update_schedule", schedule, "dunebugger.scheduler.update_schedule", "update_schedule"},
  };
  for (const auto& row : rows) {
    CAPTURE(row.subject);
    auto route = route_json(front_end(row.subject, row.body));
    auto* forward = std::get_if<ForwardToBus>(&route);
    REQUIRE(forward);
    CHECK(forward->subject == row.nats_subject);
    CHECK(json::parse(forward->payload) == json{{"subject", row.name}, {"body", row.body}, {"connectionId", "conn-42"}});
    CHECK_FALSE(json::parse(forward->payload).contains("source"));
  }
}

TEST_CASE("controller.heartbeat, controller.system_info and ntp_status are handled locally") {
  auto hb = route_json(front_end("controller.heartbeat", "I am here"));
  CHECK(std::holds_alternative<HeartbeatReceived>(hb));
  for (const char* body : {"null", "refresh"}) {
    auto si = route_json(front_end("controller.system_info", body));
    CHECK(std::holds_alternative<SystemInfoRequested>(si));
  }
  // §6: "controller.ntp_status (also updater.ntp_status)".
  CHECK(std::holds_alternative<NtpStatusRequested>(route_json(front_end("controller.ntp_status", "null"))));
  CHECK(std::holds_alternative<NtpStatusRequested>(route_json(front_end("updater.ntp_status", "null"))));
}

TEST_CASE("the router ignores what the spec says to ignore, each for its own reason") {
  auto reason = [](const json& data) {
    auto routed = route_json(data);
    auto* ignore = std::get_if<Ignore>(&routed);
    REQUIRE(ignore);
    return ignore->reason;
  };
  // Loop guard: our own broadcasts come back when noEcho is off somewhere.
  CHECK(reason(json::parse(make_envelope(R"("heartbeat")", R"("I am alive")"))) == IgnoreReason::LoopGuard);
  json guarded = front_end("core.dunebugger_set", "c");
  guarded["source"] = "controller";
  CHECK(reason(guarded) == IgnoreReason::LoopGuard);
  // Pre-c72f128 front ends sent unprefixed subjects (§4.8): ignored.
  CHECK(reason(front_end("heartbeat", "I am here")) == IgnoreReason::NoDot);
  CHECK(reason(front_end("terminal.x", "null")) == IgnoreReason::UnknownRecipient);
  // The updater is upstream's unfinished work (§6, "not adopted").
  CHECK(reason(front_end("updater.check_updates", "null")) == IgnoreReason::UnknownLocalSubject);
  CHECK(reason(front_end(".heartbeat", "null")) == IgnoreReason::UnknownRecipient);
  CHECK(reason(front_end("controller.reboot", "null")) == IgnoreReason::UnknownLocalSubject);
  CHECK(reason(front_end("core.a.b", "null")) == IgnoreReason::NotOneToken);
  CHECK(reason(front_end("core.", "null")) == IgnoreReason::NotOneToken);
  CHECK(reason(front_end("scheduler.*", "null")) == IgnoreReason::NotOneToken);
  CHECK(reason(front_end("scheduler.>", "null")) == IgnoreReason::NotOneToken);
  CHECK(reason(front_end("core.get sequence", "null")) == IgnoreReason::NotOneToken);
  CHECK(reason(json::array({1, 2})) == IgnoreReason::NotAnObject);
  CHECK(reason(json("core.refresh_gpios")) == IgnoreReason::NotAnObject);
  CHECK(reason(json{{"body", "x"}}) == IgnoreReason::NoSubject);
  CHECK(reason(json{{"subject", 5}, {"body", "x"}}) == IgnoreReason::NoSubject);
  auto invalid = kRouter.route_group("{\"subject\":");
  REQUIRE(std::holds_alternative<Ignore>(invalid));
  CHECK(std::get<Ignore>(invalid).reason == IgnoreReason::NotAnObject);
}

TEST_CASE("a source other than controller passes, and extra keys travel unchanged") {
  json data = front_end("core.refresh_gpios", "null");
  data["source"] = "browser";
  data["extra"] = {{"k", 1}};
  auto routed = route_json(data);
  auto* forward = std::get_if<ForwardToBus>(&routed);
  REQUIRE(forward);
  json payload = json::parse(forward->payload);
  CHECK(payload["source"] == "browser");
  CHECK(payload["extra"] == json{{"k", 1}});
  CHECK(payload["subject"] == "refresh_gpios");
}

TEST_CASE("every listed NATS subject is re-broadcast as the exact envelope") {
  json gpio_list = json::array();
  for (int pin = 0; pin < 28; ++pin)
    gpio_list.push_back({{"pin", pin}, {"label", pin == 17 ? "lamp" : "_not_found_"}, {"mode", "OUTPUT"},
                         {"state", "HIGH"}, {"switch", "OFF"}});
  struct Row {
    std::string x;
    json body;
  };
  const std::vector<Row> rows = {
      {"gpio_state", gpio_list},
      {"sequence_state",
       {{"random_actions", false}, {"cycle_running", true}, {"start_button_enabled", true},
        {"sequences_validated", true}}},
      {"sequence", {{"sequence", json::array({{{"time", 0}, {"command", "gpio"}, {"action", "on"}, {"parameter", "5"}}})}}},
      {"playing_time", 120},
      {"log", {{"success", false}, {"message", "bad pin"}, {"level", "error"}}},
      {"current_schedule", "on monday at 08:00 do c\n"},
      {"next_actions",
       json::array({{{"date", "01-12-2025"}, {"time", "08:00"}, {"datetime", "2025-12-01T08:00:00"}, {"action", "on"},
                     {"commands", json::array({"c"})}, {"description", "morning"}}})},
      {"last_executed_action", {{"executed", false}, {"message", "nothing yet"}}},
      // upstream develop (§6)
      {"scheduler_status",
       {{"schedule_loaded", true}, {"weekdays_configured", 5}, {"special_dates_configured", 0},
        {"commands_available", 12}, {"states_available", 3}, {"next_action", "on"}, {"next_action_time", "08:00"}}},
      {"modes_list", {{"modes", json::array({{{"name", "night"}, {"desc", "lights off"}, {"commands", {{"a", "dr"}}}}})}}},
      {"analytics_metrics", json::array({1, "any", nullptr})},
  };
  for (const auto& row : rows) {
    CAPTURE(row.x);
    json payload = {{"body", row.body}, {"subject", row.x}, {"source", "core"}};
    auto route = kRouter.route_bus("dunebugger.remote." + row.x, payload.dump());
    auto* broadcast = std::get_if<Broadcast>(&route);
    REQUIRE(broadcast);
    CHECK(json::parse(broadcast->envelope) ==
          json{{"body", row.body}, {"subject", row.x}, {"source", "controller"}, {"destination", "broadcast"}});
  }
}

TEST_CASE("the broadcast subject is the payload's, not the NATS token") {
  json payload = {{"body", 30}, {"subject", "playing_time_v2"}, {"source", "core"}};
  auto route = kRouter.route_bus("dunebugger.remote.playing_time", payload.dump());
  auto* broadcast = std::get_if<Broadcast>(&route);
  REQUIRE(broadcast);
  CHECK(json::parse(broadcast->envelope)["subject"] == "playing_time_v2");
}

TEST_CASE("component heartbeats are recognised by their source") {
  auto hb = [](const char* source) {
    return kRouter.route_bus("dunebugger.remote.heartbeat",
                             json{{"body", "alive"}, {"subject", "heartbeat"}, {"source", source}}.dump());
  };
  auto core = hb("core");
  REQUIRE(std::holds_alternative<ComponentHeartbeat>(core));
  CHECK(std::get<ComponentHeartbeat>(core).component == Component::Core);
  auto scheduler = hb("scheduler");
  REQUIRE(std::holds_alternative<ComponentHeartbeat>(scheduler));
  CHECK(std::get<ComponentHeartbeat>(scheduler).component == Component::Scheduler);
  auto other = hb("terminal");
  REQUIRE(std::holds_alternative<Drop>(other));
  CHECK(std::get<Drop>(other).reason == DropReason::UnknownHeartbeatSource);
}

TEST_CASE("everything else from NATS is dropped with a reason") {
  auto reason = [](std::string_view subject, std::string_view payload) {
    auto route = kRouter.route_bus(subject, payload);
    auto* drop = std::get_if<Drop>(&route);
    REQUIRE(drop);
    return drop->reason;
  };
  json ok = {{"body", 1}, {"subject", "x"}, {"source", "core"}};
  for (const char* x : {"schedule_command", "commands_list", "states_list", "schedule", "schedule_next",
                        "dunebugger_set", "check_updates", "get_ntp_status"})
    CHECK(reason(std::string("dunebugger.remote.") + x, ok.dump()) == DropReason::UnknownSubject);
  CHECK(reason("dunebugger.core.gpio_state", ok.dump()) == DropReason::ForeignSubject);
  CHECK(reason("dunebugger.remote.", ok.dump()) == DropReason::ForeignSubject);
  CHECK(reason("dunebugger.remote", ok.dump()) == DropReason::ForeignSubject);
  CHECK(reason("other.remote.log", ok.dump()) == DropReason::ForeignSubject);
  CHECK(reason("dunebugger.remote.log", "{not json") == DropReason::NotJson);
  CHECK(reason("dunebugger.remote.log", "\"just a string\"") == DropReason::NotAnObject);
  CHECK(reason("dunebugger.remote.log", R"({"subject":"log"})") == DropReason::MissingFields);
  CHECK(reason("dunebugger.remote.log", R"({"body":"x"})") == DropReason::MissingFields);
  CHECK(reason("dunebugger.remote.log", R"({"body":"x","subject":7})") == DropReason::MissingFields);
  CHECK(reason("dunebugger.remote.log", "\xff\xfe") == DropReason::NotJson);
}

TEST_CASE("subjects follow the configured root and client id") {
  Router r("acme", "edge1");
  CHECK(r.subscription() == "acme.edge1.*");
  CHECK(r.probe_subjects() == std::vector<std::string>{"acme.core.heartbeat", "acme.scheduler.heartbeat"});
  auto forward = r.route_group(front_end("core.refresh_gpios", "null").dump());
  REQUIRE(std::holds_alternative<ForwardToBus>(forward));
  CHECK(std::get<ForwardToBus>(forward).subject == "acme.core.refresh_gpios");
  json log = {{"body", "b"}, {"subject", "log"}, {"source", "core"}};
  CHECK(std::holds_alternative<Broadcast>(r.route_bus("acme.edge1.log", log.dump())));
  CHECK(std::holds_alternative<Drop>(r.route_bus("dunebugger.remote.log", log.dump())));
  CHECK(kRouter.subscription() == "dunebugger.remote.*");
}

TEST_CASE("the probe payload is exactly the Python agent's") {
  // Keys in the Python agent's order (its dict's insertion order).
  CHECK(component_probe_payload() == R"({"body":"are you there?","subject":"heartbeat","source":"controller"})");
  CHECK(make_envelope(R"("log")", R"({"b" : 1.50, "a":1})") ==
        R"({"body":{"b" : 1.50, "a":1},"subject":"log","source":"controller","destination":"broadcast"})");
}

TEST_CASE("a heartbeat is credited to the component its payload's source names; get_ntp_status only from the scheduler") {
  // What the scheduler answers a probe with (§6), e.g. on a connection named otherwise.
  auto hb = kRouter.route_bus("dunebugger.remote.heartbeat", R"({"body": "alive", "subject": "heartbeat", "source": "scheduler"})");
  REQUIRE(std::holds_alternative<ComponentHeartbeat>(hb));
  CHECK(std::get<ComponentHeartbeat>(hb).component == Component::Scheduler);
  auto asked = kRouter.route_bus("dunebugger.remote.get_ntp_status",
                                 R"({"body": "get_ntp_status", "subject": "get_ntp_status", "source": "scheduler"})");
  CHECK(std::holds_alternative<NtpStatusAsked>(asked));
  auto from_core = kRouter.route_bus("dunebugger.remote.get_ntp_status",
                                     R"({"body": "get_ntp_status", "subject": "get_ntp_status", "source": "core"})");
  REQUIRE(std::holds_alternative<Drop>(from_core));
  CHECK(std::get<Drop>(from_core).reason == DropReason::UnknownSubject);
  CHECK(kRouter.scheduler_subject("ntp_status") == "dunebugger.scheduler.ntp_status");
}

TEST_CASE("relayed bodies keep their bytes: key order, number spelling, escapes and raw UTF-8") {
  // As Python's json.dumps writes them (", " and ": "), keys not sorted.
  const std::string body =
      "{\"pin\": 17, \"label\": \"cr\u00e8che \xC3\xA8 \\\"lamp\\\"\", \"mode\": \"OUTPUT\", "
      "\"volts\": 1.50, \"max\": 1e3, \"list\": [3, 1, 2], \"none\": null}";
  SUBCASE("NATS -> group") {
    const std::string payload = "{\"body\": " + body + ", \"subject\": \"gpio_state\", \"source\": \"core\"}";
    auto routed = kRouter.route_bus("dunebugger.remote.gpio_state", payload);
    REQUIRE(std::holds_alternative<Broadcast>(routed));
    CHECK(std::get<Broadcast>(routed).envelope ==
          "{\"body\":" + body + ",\"subject\":\"gpio_state\",\"source\":\"controller\",\"destination\":\"broadcast\"}");
  }
  SUBCASE("group -> NATS: only the subject's value changes") {
    const std::string data = "{\"subject\": \"core.dunebugger_set\", \"body\": " + body + ", \"connectionId\": \"c-\u00e9\"}";
    auto routed = kRouter.route_group(data);
    REQUIRE(std::holds_alternative<ForwardToBus>(routed));
    CHECK(std::get<ForwardToBus>(routed).payload ==
          "{\"subject\": \"dunebugger_set\", \"body\": " + body + ", \"connectionId\": \"c-\u00e9\"}");
  }
}
