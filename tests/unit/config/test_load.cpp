#include <doctest/doctest.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/key_table.hpp"
#include "config/load.hpp"

using namespace dbr::config;
using namespace std::chrono_literals;

namespace {

std::string errors_of(const LoadResult& r) {
  std::string all;
  for (const auto& d : r.diagnostics)
    if (d.severity == Diagnostic::Severity::Error) all += d.text() + "\n";
  return all;
}

const Diagnostic* first(const LoadResult& r, Diagnostic::Severity severity) {
  for (const auto& d : r.diagnostics)
    if (d.severity == severity) return &d;
  return nullptr;
}

std::vector<Diagnostic> remarks(const LoadResult& r) { return r.diagnostics; }

std::string all_text(const LoadResult& r) {
  std::string all;
  for (const auto& d : r.diagnostics) all += d.text() + "\n";
  return all;
}

// Enough for start: a group and a URL.
const Environment kStartable{{"WS_GROUP_NAME", "g"}, {"WEBPUBSUB_CONNECTION_STRING",
                                                      "Endpoint=https://h.example;AccessKey=K;Version=1.0"}};

}  // namespace

TEST_CASE("the Python agent's dunebugger.conf loads unchanged, with its values") {
  auto r = load_config(DBR_FIXTURES_DIR "/python-agent-dunebugger.conf", {});
  INFO(errors_of(r));
  REQUIRE(r.ok());
  const Config& c = r.config;
  CHECK(c.auth_url == "dunebugger.eu.auth0.com");
  CHECK(c.websocket_enabled);
  CHECK(c.broadcast_initial_state);
  CHECK(c.heartbeat_loop_duration == 300s);
  CHECK(c.heartbeat_every == 60s);
  CHECK(c.test_domain == "smart.dunebugger.it");
  CHECK(c.connection_interval == 60s);
  CHECK(c.connection_timeout == 2s);
  CHECK(c.mqueue_servers == "nats://nats-server:4222");
  CHECK(c.mqueue_client_id == "remote");
  CHECK(c.mqueue_subject_root == "dunebugger");
  CHECK(c.log_level == dbr::log::Level::Debug);
  CHECK(c.probe_url == "https://smart.dunebugger.it/");
  CHECK_FALSE(c.device_id.empty());  // the host name
  // An upstream main file has no [NTP]: develop's shipped values apply.
  CHECK(c.ntp_servers == default_config().ntp_servers);
  CHECK(c.ntp_check_interval == 30s);
  // Its only remark, at the line that sets it: 60 s heartbeats leave 5 s
  // against the front end's 65 s.
  REQUIRE(r.diagnostics.size() == 1);
  CHECK(r.diagnostics[0].where == DBR_FIXTURES_DIR "/python-agent-dunebugger.conf:13");
  CHECK(r.diagnostics[0].message.find("heartBeatEverySecs = 60 leaves only 5 s") != std::string::npos);
}

TEST_CASE("the shipped config/dunebugger.conf is valid, quiet, and holds the table's defaults") {
  auto r = load_config(DBR_SHIPPED_CONFIG, {});
  INFO(errors_of(r));
  REQUIRE(r.ok());
  CHECK(r.diagnostics.empty());
  Config d = default_config();
  // The one deliberate difference: 50 s heartbeats keep 15 s of margin.
  CHECK(r.config.heartbeat_every == 50s);
  CHECK(r.config.connection_interval == d.connection_interval);
  CHECK(r.config.keepalive_timeout == d.keepalive_timeout);
  CHECK(r.config.outbox_max_messages == d.outbox_max_messages);
  CHECK(r.config.reconnect_jitter == d.reconnect_jitter);
  CHECK(r.config.protocol == Protocol::JsonReliable);
}

TEST_CASE("defaults come from the key table") {
  Config c = default_config();
  CHECK(c.websocket_enabled);
  CHECK(c.hub == "dunebugger");
  CHECK(c.protocol == Protocol::JsonReliable);
  CHECK(c.reconnect_initial_delay.count() == 2.0);
  CHECK(c.reconnect_max_delay.count() == 60.0);
  CHECK(c.reconnect_jitter == 0.3);
  CHECK(c.network_settle.count() == 3.0);
  CHECK(c.keepalive_interval.count() == 30.0);
  CHECK(c.keepalive_timeout.count() == 60.0);
  CHECK(c.max_message_bytes == 1048576);
  CHECK(c.outbox_max_messages == 1000);
  CHECK(c.component_heartbeat == 30s);
  CHECK(c.component_ttl == 45s);
  CHECK(c.log_level == dbr::log::Level::Info);
  // Every default parses: a typo in the table would leave a field unset.
  for (const auto& spec : key_table()) {
    if (spec.default_text.empty()) continue;
    std::string detail;
    Config scratch;
    CHECK_MESSAGE(spec.apply(scratch, spec.default_text, detail) == Applied::Ok, spec.key);
  }
}

TEST_CASE("[NTP]: upstream develop's keys and shipped values") {
  Config d = default_config();
  CHECK(d.ntp_servers ==
        std::vector<std::string>{"ntp1.inrim.it", "ntp2.inrim.it", "0.europe.pool.ntp.org", "1.europe.pool.ntp.org"});
  CHECK(d.ntp_check_interval == 30s);
  CHECK(d.ntp_timeout == 5s);
  // Entries are stripped (Python's strip()); host:port and IP literals count.
  auto r = parse_config("[NTP]\nntpServers =  ntp.example ,127.0.0.1:1123, [::1]:1123,\nntpCheckIntervalSecs = 60\n"
                        "ntpTimeout = 2\n",
                        "n.conf", {});
  INFO(errors_of(r));
  REQUIRE(r.ok());
  CHECK(remarks(r).empty());  // [NTP] is a known section
  CHECK(r.config.ntp_servers == std::vector<std::string>{"ntp.example", "127.0.0.1:1123", "[::1]:1123"});
  CHECK(r.config.ntp_check_interval == 60s);
  CHECK(r.config.ntp_timeout == 2s);
}

TEST_CASE("missing sections are fine: defaults apply") {
  auto r = parse_config("[Log]\ndunebuggerLogLevel = WARNING\n", "x.conf", {});
  REQUIRE(r.ok());
  CHECK(r.config.log_level == dbr::log::Level::Warning);
  CHECK(r.config.connection_interval == 60s);
}

struct Broken {
  const char* text;
  int line;
  const char* key;
  const char* expected;  // part of the expected form in the message
};

TEST_CASE("a wrong value is an error naming file, line, key and the expected form") {
  const Broken cases[] = {
      {"[Websocket]\nconnectionTimeoutSecs = 45s\n", 2, "connectionTimeoutSecs", "whole number of seconds"},
      {"[Websocket]\n\nheartBeatEverySecs = 2.5\n", 3, "heartBeatEverySecs", "whole number of seconds from 1 to 64"},
      {"[Websocket]\nwebsocketEnabled =\n", 2, "websocketEnabled", "True or False"},
      {"[Websocket]\nconnectionIntervalSecs =\n", 2, "connectionIntervalSecs", "whole number"},
      {"[Websocket]\nprotocol = json.webpubsub.azure.v2\n", 2, "protocol", "json.reliable.webpubsub.azure.v1 or"},
      {"[Websocket]\nreconnectJitter = 1.5\n", 2, "reconnectJitter", "fraction from 0 to 1"},
      {"[Auth]\nauthURL = https://dunebugger.eu.auth0.com\n", 2, "authURL", "no scheme"},
      {"[Websocket]\nurl = https://host/client\n", 2, "url", "ws:// or wss://"},
      {"[General]\nlocationDescription = Presepe caf\xe9\n", 2, "locationDescription", "not valid UTF-8"},
      {"[Websocket]\nurl = wss://device:pw@host/client\n", 2, "url", "no user:password@"},
      {"[Websocket]\ndnsServers = 1.1.1.1, dns.google\n", 2, "dnsServers", "IP addresses"},
      {"[Websocket]\nmaxMessageBytes = 10\n", 2, "maxMessageBytes", "from 1024"},
      {"[MessageQueue]\nmQueueClientID = re.mote\n", 2, "mQueueClientID", "one NATS subject token"},
      {"[MessageQueue]\nmQueueServers = localhost:4222\n", 2, "mQueueServers", "nats://"},
      {"[Websocket]\nheartBeatEverySecs = 70\n", 2, "heartBeatEverySecs", "from 1 to 64"},
      {"[Websocket]\nbroadcastInitialState = maybe\n", 2, "broadcastInitialState", "True or False"},
      {"[Websocket]\nhub = 9lives\n", 2, "hub", "a letter"},
      // config_load_fuzz showed this one read "AccessKey= *** missing": the
      // redaction masked the word after "AccessKey=".
      {"[Websocket]\nconnectionString = Endpoint=https://x.example\n", 2, "connectionString", "AccessKey is missing"},
      {"[Websocket]\nreconnectInitialDelaySecs = 0\n", 2, "reconnectInitialDelaySecs", "from 0.1"},
      {"[Websocket]\nreconnectMaxDelaySecs = 1\n", 2, "reconnectMaxDelaySecs", "must not be below"},
      {"[Websocket]\nkeepAliveTimeoutSecs = 10\n", 2, "keepAliveTimeoutSecs", "greater than keepAliveIntervalSecs"},
      {"[Websocket]\ncaFile = /nonexistent/dir/ca.pem\n", 2, "caFile", "No such file or directory"},
      {"[NTP]\nntpServers = ntp1.inrim.it, ntp://pool.ntp.org\n", 2, "ntpServers", "host or host:port"},
      {"[NTP]\nntpServers = 192.0.2.1:0\n", 2, "ntpServers", "host or host:port"},
      {"[NTP]\nntpServers = , \n", 2, "ntpServers", "1 to 16 NTP servers"},
      {"[NTP]\n\nntpServers = a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q\n", 3, "ntpServers", "1 to 16 NTP servers"},
      {"[NTP]\nntpCheckIntervalSecs = 0\n", 2, "ntpCheckIntervalSecs", "from 1 to 86400"},
      {"[NTP]\nntpTimeout = 5.5\n", 2, "ntpTimeout", "whole number of seconds from 1 to 60"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    auto r = parse_config(c.text, "/etc/dunebugger/dunebugger.conf", {});
    CHECK_FALSE(r.ok());
    const Diagnostic* d = first(r, Diagnostic::Severity::Error);
    REQUIRE(d);
    std::string text = d->text();
    CAPTURE(text);
    CHECK(text.find("/etc/dunebugger/dunebugger.conf:" + std::to_string(c.line) + ": error:") == 0);
    CHECK(text.find(c.key) != std::string::npos);
    CHECK(text.find(c.expected) != std::string::npos);
  }
}

TEST_CASE("a secret value is never quoted in an error") {
  auto r = parse_config("[Websocket]\nurl = https://h/?access_token=SECRETTOKEN\nconnectionString = AccessKey=TOPSECRET\n",
                        "a.conf", {});
  CHECK_FALSE(r.ok());
  for (const auto& d : r.diagnostics) {
    CHECK(d.text().find("SECRETTOKEN") == std::string::npos);
    CHECK(d.text().find("TOPSECRET") == std::string::npos);
  }
}

TEST_CASE("an unknown key or section is a warning naming file and line") {
  auto r = parse_config("[Websocket]\nwebsocketenabled = True\nfoo = 1\n[Extra]\nx = 1\n", "d.conf", {});
  CHECK(r.ok());
  auto d = remarks(r);
  REQUIRE(d.size() == 3);
  CHECK(d[0].text() == "d.conf:4: warning: unknown section [Extra], ignoring it and its 1 key");
  CHECK(d[1].text().find("d.conf:2: warning: unknown key 'websocketenabled'") == 0);
  CHECK(d[1].text().find("did you mean 'websocketEnabled'") != std::string::npos);
  CHECK(d[2].text().find("d.conf:3: warning: unknown key 'foo'") == 0);
}

TEST_CASE("an unknown log level warns and falls back to INFO") {
  auto r = parse_config("[Log]\ndunebuggerLogLevel = VERBOSE\n", "l.conf", {});
  CHECK(r.ok());
  CHECK(r.config.log_level == dbr::log::Level::Info);
  auto d = remarks(r);
  REQUIRE(d.size() == 1);
  CHECK(d[0].text().find("l.conf:2: warning: [Log] dunebuggerLogLevel = \"VERBOSE\"") == 0);
}

TEST_CASE("';' and '#' inside values are kept") {
  auto r = parse_config(
      "[General]\nlocationDescription = Shelf ; left # top\n"
      "[Websocket]\nconnectionString = Endpoint=https://abc.webpubsub.azure.com;AccessKey=K;Version=1.0\n"
      "probeUrl = https://probe.example/health#ok\n",
      "v.conf", {});
  INFO(errors_of(r));
  REQUIRE(r.ok());
  CHECK(r.config.location_description == "Shelf ; left # top");
  REQUIRE(r.config.connection_string);
  CHECK(r.config.connection_string->endpoint == "https://abc.webpubsub.azure.com");
  CHECK(r.config.connection_string->access_key == "K");
  CHECK(r.config.probe_url == "https://probe.example/health#ok");
}

TEST_CASE("the environment wins over the file") {
  Environment env{{"DEVICE_ID", "crib-7"},
                  {"LOCATION_DESCRIPTION", "Church hall"},
                  {"WS_GROUP_NAME", "env-group"},
                  {"WEBPUBSUB_CONNECTION_STRING", "Endpoint=https://e.example;AccessKey=E;Version=1.0"},
                  {"AUTH0_CLIENT_ID", "cid"},
                  {"AUTH0_CLIENT_SECRET", "csecret"},
                  {"AUTH0_USERNAME", "user"},
                  {"AUTH0_PASSWORD", "pw"}};
  auto r = parse_config(
      "[General]\ndeviceId = file-id\nlocationDescription = file\n[Websocket]\ngroupName = file-group\n"
      "connectionString = Endpoint=https://f.example;AccessKey=F;Version=1.0\n",
      "e.conf", env);
  REQUIRE(r.ok());
  CHECK(r.config.device_id == "crib-7");
  CHECK(r.config.location_description == "Church hall");
  CHECK(r.config.group_name == "env-group");
  CHECK(r.config.connection_string->endpoint == "https://e.example");
  CHECK(r.config.auth0_client_id == "cid");
  CHECK(r.config.auth0_client_secret == "csecret");
  CHECK(r.config.auth0_username == "user");
  CHECK(r.config.auth0_password == "pw");
}

TEST_CASE("a bad environment value is an error naming the variable") {
  auto r = parse_config("", "e.conf", {{"WEBPUBSUB_CONNECTION_STRING", "AccessKey=zzz"}});
  CHECK_FALSE(r.ok());
  REQUIRE_FALSE(r.diagnostics.empty());
  CHECK(r.diagnostics[0].text().find("environment WEBPUBSUB_CONNECTION_STRING: error:") == 0);
  CHECK(r.diagnostics[0].text().find("zzz") == std::string::npos);
}

TEST_CASE("an Auth0 variable that is not UTF-8 is an error naming it, never quoting it") {
  auto r = parse_config("", "e.conf", {{"AUTH0_PASSWORD", "caf\xe9-s3cret"}, {"AUTH0_USERNAME", "user"}});
  CHECK_FALSE(r.ok());
  int errors = 0;
  for (const auto& d : r.diagnostics) {
    CHECK(d.text().find("s3cret") == std::string::npos);
    if (d.severity != Diagnostic::Severity::Error) continue;
    ++errors;
    CHECK(d.text().find("environment AUTH0_PASSWORD: error: not valid UTF-8") == 0);
  }
  CHECK(errors == 1);
  CHECK(parse_config("", "e.conf", {{"AUTH0_PASSWORD", "caf\xc3\xa9"}}).ok());
}

TEST_CASE("what start needs: a group and a way to get a URL") {
  auto bare = parse_config("", "s.conf", {});
  CHECK(missing_for_start(bare.config).size() == 2);
  auto ready = parse_config("[Websocket]\ngroupName = g\nurl = ws://127.0.0.1:1/client\n", "s.conf", {});
  CHECK(missing_for_start(ready.config).empty());
  CHECK(url_source(ready.config) == UrlSource::StaticUrl);
  auto partial_auth0 = parse_config("", "s.conf", {{"WS_GROUP_NAME", "g"}, {"AUTH0_CLIENT_ID", "id"}});
  CHECK(url_source(partial_auth0.config) == UrlSource::Auth0);
  CHECK(missing_for_start(partial_auth0.config).size() == 2);  // username and password
  auto disabled = parse_config("[Websocket]\nwebsocketEnabled = False\n", "s.conf", {});
  CHECK(missing_for_start(disabled.config).empty());
}

TEST_CASE("a missing or unreadable file is an error naming the path and the OS reason") {
  auto missing = load_config("/nonexistent/dunebugger.conf", {});
  CHECK_FALSE(missing.ok());
  REQUIRE(missing.diagnostics.size() == 1);
  CHECK(missing.diagnostics[0].text() ==
        "/nonexistent/dunebugger.conf: error: cannot read config file: No such file or directory");

  auto dir = load_config("/", {});
  CHECK_FALSE(dir.ok());
  CHECK(dir.diagnostics[0].text().find("/: error: cannot read config file:") == 0);
}

TEST_CASE("a file over 1 MiB is refused as no config file, one of exactly 1 MiB is read") {
  const auto path = std::filesystem::temp_directory_path() / "dbr-test-huge.conf";
  std::string text = "[Websocket]\nwebsocketEnabled = False\n";
  text.resize(1024 * 1024, '#');  // the rest one long comment line
  {
    std::ofstream out(path);
    out << text;
  }
  auto exact = load_config(path, {});
  CHECK(exact.ok());
  CHECK_FALSE(exact.file_unreadable);
  {
    std::ofstream out(path, std::ios::app);
    out << "#";
  }
  auto over = load_config(path, {});
  CHECK(over.file_unreadable);
  REQUIRE(over.diagnostics.size() == 1);
  CHECK(over.diagnostics[0].text() ==
        path.string() + ": error: cannot read config file: larger than 1 MiB, which no config file is");
  std::filesystem::remove(path);
}

TEST_CASE("a connection string in a file others can read is a warning") {
  auto path = std::filesystem::temp_directory_path() / "dbr-test-cs.conf";
  {
    std::ofstream out(path);
    out << "[Websocket]\nconnectionString = Endpoint=https://a.example;AccessKey=K;Version=1.0\n";
  }
  ::chmod(path.c_str(), 0644);
  auto open = load_config(path, {});
  CHECK(open.ok());
  bool warned = false;
  for (const auto& d : remarks(open)) warned = warned || d.message.find("readable by other users") != std::string::npos;
  CHECK(warned);
  ::chmod(path.c_str(), 0600);
  auto closed = load_config(path, {});
  CHECK(remarks(closed).empty());
  std::filesystem::remove(path);
}

TEST_CASE("a key in the wrong section names its section; a misspelt one the closest name") {
  auto r = parse_config(
      "[Websocket]\nmQueueServers = nats://127.0.0.1:4222\nheartBeatEverySec = 30\n[Websokcet]\ngroupName = g\nurl = ws://h/\n",
      "k.conf", {});
  std::string all = all_text(r);
  INFO(all);
  CHECK(all.find("k.conf:2: warning: unknown key 'mQueueServers' in [Websocket], ignoring (it belongs in "
                 "[MessageQueue])") != std::string::npos);
  CHECK(all.find("k.conf:3: warning: unknown key 'heartBeatEverySec' in [Websocket], ignoring (did you mean "
                 "'heartBeatEverySecs'?)") != std::string::npos);
  CHECK(all.find("k.conf:4: warning: unknown section [Websokcet], ignoring it and its 2 keys (did you mean "
                 "[Websocket]?)") != std::string::npos);
  CHECK(r.config.mqueue_servers == "nats://nats-server:4222");  // not applied
  CHECK(r.config.group_name.empty());
}

TEST_CASE("the defaults draw no remark: they agree with each other") {
  auto r = parse_config("", "q.conf", kStartable);
  CHECK(all_text(r) == "");
  // heartBeatEverySecs' built-in 60 (upstream's) included: only a written
  // value is remarked on.
  CHECK(r.config.heartbeat_every == 60s);
}

TEST_CASE("a warning is about a value in effect, at the line that set it") {
  auto written = parse_config("[Websocket]\nheartBeatEverySecs = 60\n", "h.conf", kStartable);
  REQUIRE(written.diagnostics.size() == 1);
  CHECK(written.diagnostics[0].text().find("h.conf:2: warning: [Websocket] heartBeatEverySecs = 60 leaves only 5 s") ==
        0);

  // A rejected value is one error, not also a remark on the default
  // standing in for it.
  auto rejected = parse_config("[Websocket]\nheartBeatEverySecs = 70\n", "h.conf", kStartable);
  REQUIRE(rejected.diagnostics.size() == 1);
  CHECK(rejected.diagnostics[0].text().find("h.conf:2: error: [Websocket] heartBeatEverySecs = \"70\"") == 0);

  // Across keys: at the written key's line, the other value marked as the default.
  auto ttl = parse_config("[MessageQueue]\ncomponentTtlSecs = 20\n", "t.conf", kStartable);
  REQUIRE(ttl.diagnostics.size() == 1);
  CHECK(ttl.diagnostics[0].text() ==
        "t.conf:2: warning: [MessageQueue] componentTtlSecs (20 s) is not above componentHeartbeatSecs (30 s, default): "
        "components will show not_responding between probes");
  auto ttl_bad_partner =
      parse_config("[MessageQueue]\ncomponentHeartbeatSecs = soon\ncomponentTtlSecs = 20\n", "t.conf", kStartable);
  REQUIRE(ttl_bad_partner.diagnostics.size() == 1);
  CHECK(ttl_bad_partner.diagnostics[0].text().find("t.conf:2: error: [MessageQueue] componentHeartbeatSecs") == 0);

  auto keepalive = parse_config("[Websocket]\nkeepAliveIntervalSecs = 90\n", "a.conf", kStartable);
  REQUIRE(keepalive.diagnostics.size() == 1);
  CHECK(keepalive.diagnostics[0].text() ==
        "a.conf:2: error: [Websocket] keepAliveTimeoutSecs (60 s, default) must be greater than keepAliveIntervalSecs "
        "(90 s)");
}

TEST_CASE("Python's other level names: WARN, FATAL, and NOTSET as DEBUG") {
  const std::pair<const char*, dbr::log::Level> cases[] = {{"WARN", dbr::log::Level::Warning},
                                                           {"FATAL", dbr::log::Level::Critical},
                                                           {"NOTSET", dbr::log::Level::Debug},
                                                           {"warn", dbr::log::Level::Warning}};
  for (const auto& [name, level] : cases) {
    CAPTURE(name);
    auto r = parse_config(std::string("[Log]\ndunebuggerLogLevel = ") + name + "\n", "l.conf", kStartable);
    CHECK(all_text(r) == "");
    CHECK(r.config.log_level == level);
  }
}

TEST_CASE("load_for_start: what start needs, as errors naming the key and the variable") {
  auto path = std::filesystem::temp_directory_path() / "dbr-test-start.conf";
  {
    std::ofstream out(path);
    out << "[General]\n";
  }
  auto r = load_for_start(path, {});
  CHECK_FALSE(r.ok());
  REQUIRE(r.diagnostics.size() == 2);
  CHECK(r.diagnostics[0].text().find(path.string() + ": error: no group to join: set groupName in [Websocket], or "
                                     "WS_GROUP_NAME in the environment (for the service, /etc/dunebugger/remote.env)") ==
        0);
  CHECK(r.diagnostics[1].message.find("WEBPUBSUB_CONNECTION_STRING") != std::string::npos);
  CHECK(r.diagnostics[1].message.find("AUTH0_CLIENT_ID") != std::string::npos);
  CHECK(load_for_start(path, kStartable).ok());
  std::filesystem::remove(path);

  // A file that cannot be read gets that error only.
  auto missing = load_for_start("/nonexistent/dunebugger.conf", {});
  REQUIRE(missing.diagnostics.size() == 1);
  CHECK(missing.diagnostics[0].message.find("cannot read config file") == 0);
}
