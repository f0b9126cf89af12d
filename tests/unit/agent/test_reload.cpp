// Reload decides from options alone (agent::plan_reload): the running
// config's options against the new file's. Each key of the key table is
// changed alone and must reach exactly the parts that read it; fields no
// config key sets show that the comparison is whole structs (operator==),
// not a list of fields.
#include <doctest/doctest.h>

#include <concepts>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "agent/options.hpp"
#include "config/key_table.hpp"
#include "config/load.hpp"

using namespace dbr;
using agent::ReloadPlan;
using namespace std::chrono_literals;

// Every part's options compare with operator==; a member that cannot be
// compared would make the defaulted operator deleted and fail here.
static_assert(std::equality_comparable<monitor::MonitorOptions>);
static_assert(std::equality_comparable<app::AppOptions>);
static_assert(std::equality_comparable<bus::NatsOptions>);
static_assert(std::equality_comparable<pubsub::ClientOptions>);
static_assert(std::equality_comparable<pubsub::UrlSourceOptions>);
static_assert(std::equality_comparable<agent::AgentOptions>);

namespace {

using Ini = std::map<std::string, std::map<std::string, std::string>>;  // section -> key -> value

// A valid config to start from: a static URL, so the other sources' keys are
// inputs the running client does not use (still compared, as before).
Ini base_ini() {
  return {{"General", {{"deviceId", "crib-1"}, {"locationDescription", "hall"}}},
          {"Websocket", {{"groupName", "crib"}, {"url", "ws://127.0.0.1:9/client/hubs/dunebugger"}}}};
}

std::string render(const Ini& ini) {
  std::string text;
  for (const auto& [section, keys] : ini) {
    text += "[" + section + "]\n";
    for (const auto& [key, value] : keys) text += key + " = " + value + "\n";
  }
  return text;
}

agent::AgentOptions options_of(const Ini& ini, const config::Environment& env = {}) {
  auto result = config::parse_config(render(ini), "reload-test.conf", env);
  std::string errors;
  for (const auto& d : result.diagnostics)
    if (d.severity == config::Diagnostic::Severity::Error) errors += d.text() + "\n";
  INFO(errors);
  REQUIRE(result.ok());
  REQUIRE(config::missing_for_start(result.config).empty());
  return agent::agent_options(result.config);
}

// A readable file for caFile (validation checks it can be read).
std::string extra_ca_file() {
  auto path = std::filesystem::temp_directory_path() / "dbr-test-reload-ca.pem";
  std::ofstream(path) << "not parsed by this test\n";
  return path.string();
}

constexpr ReloadPlan kNothing{};
constexpr ReloadPlan kLogLevel{.set_log_level = true};
constexpr ReloadPlan kMonitor{.restart_monitor = true};
constexpr ReloadPlan kApp{.rebuild_app = true};
constexpr ReloadPlan kBus{.reconnect_bus = true};
constexpr ReloadPlan kAppAndBus{.rebuild_app = true, .reconnect_bus = true};
constexpr ReloadPlan kNewConnection{.new_connection = true};
constexpr ReloadPlan kRetune{.retune_connection = true};

struct Change {
  std::string value;  // valid, and not the base config's
  ReloadPlan plan;    // what a reload does with this key changed alone
};

// Every key of the key table (a key missing here fails the test by name).
const std::map<std::string, Change>& changes() {
  static const std::map<std::string, Change> table = {
      {"deviceId", {"crib-2", {.rebuild_app = true, .new_connection = true}}},
      {"locationDescription", {"porch", kApp}},
      {"general_setting", {"anything", kNothing}},  // accepted, unused
      {"authURL", {"login.example.com", kNewConnection}},
      {"websocketEnabled", {"False", kNewConnection}},
      {"broadcastInitialState", {"False", kApp}},
      {"heartBeatLoopDurationSecs", {"600", kApp}},
      {"heartBeatEverySecs", {"30", kApp}},
      {"testDomain", {"example.com", kMonitor}},  // the default probeUrl follows it
      {"connectionIntervalSecs", {"30", kMonitor}},
      {"connectionTimeoutSecs", {"5", kMonitor}},
      {"stateCheckIntervalSecs", {"7", kNothing}},
      {"cyclePlayingResolutionSecs", {"7", kNothing}},
      {"groupName", {"stable", kNewConnection}},
      {"url", {"ws://127.0.0.1:10/client/hubs/dunebugger", kNewConnection}},
      {"connectionString", {"Endpoint=http://127.0.0.1;Port=9;AccessKey=k;Version=1.0", kNewConnection}},
      {"hub", {"nursery", kNewConnection}},
      {"protocol", {"json.webpubsub.azure.v1", kNewConnection}},
      {"caFile", {extra_ca_file(), {.reload_trust_store = true, .restart_monitor = true, .new_connection = true}}},
      {"probeUrl", {"http://127.0.0.1:9/health", kMonitor}},
      {"dnsServers", {"127.0.0.1:5353", kMonitor}},
      {"reconnectInitialDelaySecs", {"0.5", kRetune}},
      {"reconnectMaxDelaySecs", {"30", kRetune}},
      {"reconnectJitter", {"0.1", kRetune}},
      {"networkSettleSecs", {"1", kRetune}},
      {"keepAliveIntervalSecs", {"5", kRetune}},
      {"keepAliveTimeoutSecs", {"45", kRetune}},
      {"maxMessageBytes", {"2048", kNewConnection}},
      {"outboxMaxMessages", {"10", kRetune}},
      {"mQueueServers", {"nats://127.0.0.1:4222", kBus}},
      {"mQueueClientID", {"remote2", kAppAndBus}},
      {"mQueueSubjectRoot", {"crib", kAppAndBus}},
      {"componentHeartbeatSecs", {"10", kBus}},
      {"componentTtlSecs", {"90", kApp}},
      {"mQueueStateCheckIntervalSecs", {"7", kNothing}},
      {"mQueueCyclePlayingResolutionSecs", {"7", kNothing}},
      {"ntpServers", {"127.0.0.1:1123", kMonitor}},
      {"ntpCheckIntervalSecs", {"60", kMonitor}},
      {"ntpTimeout", {"2", kMonitor}},
      {"dunebuggerLogLevel", {"DEBUG", kLogLevel}},
  };
  return table;
}

std::string describe(const ReloadPlan& p) {
  std::string out;
  auto add = [&](bool on, const char* name) {
    if (on) out += std::string(out.empty() ? "" : ", ") + name;
  };
  add(p.set_log_level, "log level");
  add(p.reload_trust_store, "trust store");
  add(p.restart_monitor, "monitor");
  add(p.rebuild_app, "app");
  add(p.reconnect_bus, "bus");
  add(p.new_connection, "new connection");
  add(p.retune_connection, "retune");
  return out.empty() ? "nothing" : out;
}

}  // namespace

TEST_CASE("reload: the same file again changes nothing") {
  auto running = options_of(base_ini());
  CHECK(agent::plan_reload(running, options_of(base_ini())) == kNothing);
}

TEST_CASE("reload: each key changed alone reaches exactly the parts that read it") {
  const auto running = options_of(base_ini());
  std::set<std::string> seen;
  for (const auto& spec : config::key_table()) {
    const std::string key(spec.key);
    CAPTURE(key);
    seen.insert(key);
    auto change = changes().find(key);
    REQUIRE_MESSAGE(change != changes().end(), "no test value for the key ", key, ": add one to changes()");
    Ini next = base_ini();
    next[std::string(spec.section)][key] = change->second.value;
    const ReloadPlan plan = agent::plan_reload(running, options_of(next));
    CHECK_MESSAGE(plan == change->second.plan, key, ": planned ", describe(plan), ", expected ",
                  describe(change->second.plan));
  }
  for (const auto& [key, change] : changes()) CHECK_MESSAGE(seen.count(key), key, " is not in the key table");
}

TEST_CASE("reload: the Auth0 credentials and the environment overrides count as their keys do") {
  const auto running = options_of(base_ini());
  for (const char* variable : {"AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET", "AUTH0_USERNAME", "AUTH0_PASSWORD"}) {
    CAPTURE(variable);
    CHECK(agent::plan_reload(running, options_of(base_ini(), {{variable, "changed"}})) == kNewConnection);
  }
  CHECK(agent::plan_reload(running, options_of(base_ini(), {{"DEVICE_ID", "crib-2"}})) ==
        ReloadPlan{.rebuild_app = true, .new_connection = true});
  CHECK(agent::plan_reload(running, options_of(base_ini(), {{"LOCATION_DESCRIPTION", "porch"}})) == kApp);
  CHECK(agent::plan_reload(running, options_of(base_ini(), {{"WS_GROUP_NAME", "stable"}})) == kNewConnection);
  CHECK(agent::plan_reload(running, options_of(base_ini(), {{"WEBPUBSUB_CONNECTION_STRING",
                                                             "Endpoint=http://127.0.0.1;AccessKey=k;Version=1.0"}})) ==
        kNewConnection);
}

TEST_CASE("reload: a timing change together with a connection change makes a new connection, not a retune") {
  const auto running = options_of(base_ini());
  Ini next = base_ini();
  next["Websocket"]["keepAliveIntervalSecs"] = "5";
  next["Websocket"]["groupName"] = "stable";
  CHECK(agent::plan_reload(running, options_of(next)) == kNewConnection);
}

// No config key sets these fields, and no list in the agent names them: the
// plan still sees each of them differ, because it compares whole options
// structs. A field (and its key) added to a part's options is covered the
// same way; only changes() above needs the new key's test value.
TEST_CASE("reload: a difference in any field of a part's options reaches the plan") {
  const auto running = options_of(base_ini());
  auto plan_with = [&](auto edit) {
    agent::AgentOptions next = running;
    edit(next);
    return agent::plan_reload(running, next);
  };
  CHECK(plan_with([](auto& o) { o.monitor.link_debounce = 1s; }) == kMonitor);
  CHECK(plan_with([](auto& o) { o.monitor.max_body_bytes += 1; }) == kMonitor);
  CHECK(plan_with([](auto& o) { o.monitor.ntp.servers.at(0).port = 1123; }) == kMonitor);
  CHECK(plan_with([](auto& o) { o.app.core.version = "0.0.0-test"; }) == kApp);
  CHECK(plan_with([](auto& o) { o.bus.ping_interval = 7s; }) == kBus);
  CHECK(plan_with([](auto& o) { o.bus.probes.at(0).payload = "{}"; }) == kBus);
  CHECK(plan_with([](auto& o) { o.web_pubsub.url_source.auth0.timeout = 3s; }) == kNewConnection);
  CHECK(plan_with([](auto& o) { o.web_pubsub.url_source.token.lifetime = 10min; }) == kNewConnection);
  CHECK(plan_with([](auto& o) { o.web_pubsub.client.core.session.ack_timeout = 5s; }) == kNewConnection);
  // What ClientCore::retune adopts stays a retune, whichever field it is.
  CHECK(plan_with([](auto& o) { o.web_pubsub.client.core.supervisor.stability_window = 5s; }) == kRetune);
  CHECK(plan_with([](auto& o) { o.web_pubsub.client.core.supervisor.backoff.floor = 1s; }) == kRetune);
}
