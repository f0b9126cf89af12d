// Test driver: the real pubsub::Client on a real EventLoop, with the client
// URL source the agent's config selects (config::load_config and the agent's
// options builders, so tests use the real keys), net::CurlMulti for Auth0 and SystemRandom. Everything the
// application would hear is printed as JSON lines; commands come as JSON
// lines on stdin.
//
//   pubsub_driver --config FILE [--online]
//
//   stdout (every line has "t": CLOCK_MONOTONIC in ms, comparable with
//   Python's time.monotonic() * 1000)
//     {"event":"started"}
//     {"event":"state","from":"Connecting","to":"Connected","reason":"..."}
//     {"event":"connected","connectionId":...,"userId":...,"is_new":true}
//     {"event":"joined","group":...}
//     {"event":"message","from":"group"|"server","group":...,"fromUserId":...,"dataType":...,"data":...,
//      "data_text":"<the data's exact bytes>"}
//     {"event":"sent","id":N}           send_to_group's MessageId
//     {"event":"dropped","id":N,"reason":...}
//     {"event":"check_internet"}
//     {"event":"counters", <every Counters field>, "state":..., "outbox":N, "joined":b, "connectionId":...}
//     {"event":"stopped"}               Client::stop completed; exit 0 follows
//   stdin
//     {"cmd":"internet","online":true|false}
//     {"cmd":"send","data":<json>} or {"cmd":"send","data_text":"<JSON text, sent as it is>"}
//     {"cmd":"counters"}
//     {"cmd":"reload"}                  re-read the config file, Client::retune
//     {"cmd":"stop"}                    Client::stop, then exit 0
//   SIGTERM/SIGINT and EOF on stdin act as "stop" (Client::stop is the
//   loop's shutdown step).
//
// The agent's log goes to stderr at the config's level.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "agent/options.hpp"
#include "common/random.hpp"
#include "config/load.hpp"
#include "log/log.hpp"
#include "loop/event_loop.hpp"
#include "loop/io_watch.hpp"
#include "net/curl_multi.hpp"
#include "pubsub/client.hpp"
#include "pubsub/core/transitions.hpp"
#include "pubsub/source_factory.hpp"

using namespace dbr;
using nlohmann::json;

namespace {

double now_ms() {
  return std::chrono::duration<double, std::milli>(Clock::now().time_since_epoch()).count();
}

// One line per write(2), so a line is never split by buffering.
void emit(json line) {
  line["t"] = now_ms();
  std::string text = line.dump();
  text.push_back('\n');
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    ssize_t n = ::write(STDOUT_FILENO, p, left);
    if (n <= 0) return;  // the test went away; nothing to report to
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

json optional_string(const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); }

json counters_line(const pubsub::Client& client) {
  const auto& c = client.core().counters();
  return {{"event", "counters"},
          {"attempts", c.attempts},
          {"recovery_attempts", c.recovery_attempts},
          {"connections", c.connections},
          {"recoveries", c.recoveries},
          {"drops", c.drops},
          {"messages_in", c.messages_in},
          {"duplicates_in", c.duplicates_in},
          {"messages_out", c.messages_out},
          {"resends", c.resends},
          {"outbox_drops", c.outbox_drops},
          {"refused", c.refused},
          {"malformed_frames", c.malformed_frames},
          {"unknown_frames", c.unknown_frames},
          {"unexpected_inputs", c.unexpected_inputs},
          {"state", std::string(pubsub::state_name(client.core().state()))},
          {"outbox", client.core().outbox_size()},
          {"joined", client.core().joined()},
          {"connectionId", client.core().connection_id()}};
}

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr, "pubsub_driver: %s\nusage: pubsub_driver --config FILE [--online]\n", why.c_str());
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path;
  bool online_at_start = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (a == "--online") {
      online_at_start = true;
    } else {
      usage("unknown argument " + a);
    }
  }
  if (config_path.empty()) usage("--config is required");

  config::LoadResult loaded = config::load_config(config_path, config::current_environment());
  for (const auto& d : loaded.diagnostics) std::fprintf(stderr, "%s\n", d.text().c_str());
  if (!loaded.ok()) return 2;
  const config::Config& config = loaded.config;
  log::setup(config.log_level, log::Format::Console);

  loop::EventLoop ev;
  net::CurlMulti multi(ev);
  SystemRandom random;
  auto source = pubsub::make_url_source(agent::url_source_options(config), ev, multi);
  if (!source) usage("the config names no client URL source (url, connectionString or AUTH0_*)");

  auto handler = [](pubsub::Event&& event) {
    std::visit(
        [](auto&& e) {
          using T = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<T, pubsub::Connected>) {
            emit({{"event", "connected"},
                  {"connectionId", e.connection_id},
                  {"userId", optional_string(e.user_id)},
                  {"is_new", e.is_new}});
          } else if constexpr (std::is_same_v<T, pubsub::Joined>) {
            emit({{"event", "joined"}, {"group", e.group}});
          } else if constexpr (std::is_same_v<T, pubsub::GroupMessage>) {
            // "data" as parsed JSON for the harness's checks, "data_text"
            // as the exact bytes the client passed on.
            emit({{"event", "message"},
                  {"from", "group"},
                  {"group", e.group},
                  {"fromUserId", optional_string(e.from_user_id)},
                  {"dataType", e.data_type},
                  {"data", json::parse(e.data.text())},
                  {"data_text", std::string(e.data.text())}});
          } else if constexpr (std::is_same_v<T, pubsub::ServerMessage>) {
            emit({{"event", "message"},
                  {"from", "server"},
                  {"dataType", e.data_type},
                  {"data", json::parse(e.data.text())},
                  {"data_text", std::string(e.data.text())}});
          } else if constexpr (std::is_same_v<T, pubsub::Dropped>) {
            emit({{"event", "dropped"}, {"id", e.id}, {"reason", e.reason}});
          } else if constexpr (std::is_same_v<T, pubsub::StateChanged>) {
            emit({{"event", "state"},
                  {"from", std::string(pubsub::state_name(e.from))},
                  {"to", std::string(pubsub::state_name(e.to))},
                  {"reason", e.reason}});
          } else if constexpr (std::is_same_v<T, pubsub::InternetCheckWanted>) {
            emit({{"event", "check_internet"}});
          }
        },
        std::move(event));
  };

  pubsub::Client client(ev, random, agent::web_pubsub_options(config).client, std::move(source), std::move(handler));

  // SIGTERM, SIGINT, {"cmd":"stop"} and EOF all end here: a graceful stop.
  ev.add_shutdown_step("pubsub client", [&client](loop::EventLoop::Done done) {
    client.stop([done = std::move(done)] {
      emit({{"event", "stopped"}});
      done();
    });
  });

  std::string pending;
  auto run_command = [&](const std::string& line) {
    json cmd = json::parse(line, nullptr, false);
    if (!cmd.is_object() || !cmd.contains("cmd") || !cmd["cmd"].is_string()) {
      emit({{"event", "error"}, {"error", "not a command line"}});
      return;
    }
    const std::string name = cmd["cmd"].get<std::string>();
    if (name == "internet") {
      client.internet(cmd.value("online", false));
    } else if (name == "send") {
      // "data_text": JSON text sent as it is; "data": a value (written compactly).
      std::string data = cmd.contains("data_text") ? cmd["data_text"].get<std::string>()
                         : cmd.contains("data")    ? cmd["data"].dump()
                                                   : "null";
      auto id = client.send_to_group(std::move(data));
      emit({{"event", "sent"}, {"id", id}});
    } else if (name == "counters") {
      emit(counters_line(client));
    } else if (name == "reload") {
      config::LoadResult again = config::load_config(config_path, config::current_environment());
      if (!again.ok()) {
        emit({{"event", "error"}, {"error", "the config file no longer loads"}});
        return;
      }
      client.retune(agent::client_core_options(again.config));
      emit({{"event", "reloaded"}});
    } else if (name == "stop") {
      ev.request_shutdown("stop command");
    } else {
      emit({{"event", "error"}, {"error", "unknown command " + name}});
    }
  };
  loop::IoWatch commands(ev, STDIN_FILENO, loop::IoWatch::kRead, [&](std::uint32_t) {
    char buffer[4096];
    ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
    if (n <= 0) {
      commands.set_events(0);
      ev.request_shutdown("end of commands");
      return;
    }
    pending.append(buffer, static_cast<std::size_t>(n));
    std::size_t eol;
    while ((eol = pending.find('\n')) != std::string::npos) {
      std::string line = pending.substr(0, eol);
      pending.erase(0, eol + 1);
      if (!line.empty()) run_command(line);
    }
  });

  client.start();
  if (online_at_start) client.internet(true);
  emit({{"event", "started"}});
  return ev.run();
}
