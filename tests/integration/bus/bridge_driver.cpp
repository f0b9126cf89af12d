// Test driver: the real NatsBridge and AppService on a real EventLoop, wired
// as the agent wires them, with the Web PubSub side replaced by JSON lines:
//
//   stdin  {"op":"joined"}                      the client joined the group
//          {"op":"group","data":<json>}         a group message's data (or "data_text": its JSON text)
//          {"op":"publish","subject":s,"payload":p}  a raw bridge publish
//          {"op":"stall","ms":n}                the loop thread sleeps n ms (NATS traffic piles up)
//   stdout {"event":"to_group","data":<json>,"data_text":"..."}   what the agent sends to the group (parsed, and its exact text)
//          {"event":"link","state":"connected"} NATS link changes
//          {"event":"publish","result":"sent"|"not_connected"|"failed"}
//          {"event":"ready"}                    everything started
//
// EOF on stdin shuts the loop down gracefully (NATS drain), then exits 0.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <thread>

#include "agent/options.hpp"
#include "app/app_service.hpp"
#include "bus/nats_bridge.hpp"
#include "config/config.hpp"
#include "log/log.hpp"
#include "loop/event_loop.hpp"
#include "loop/io_watch.hpp"

using namespace dbr;
using nlohmann::json;

namespace {

void emit(const json& line) {
  std::string text = line.dump();
  text.push_back('\n');
  (void)!::write(STDOUT_FILENO, text.data(), text.size());
}

const char* arg(int argc, char** argv, const char* name, const char* fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  log::setup(log::Level::Debug, log::Format::Console);
  config::Config config = config::default_config();
  config.mqueue_servers = arg(argc, argv, "--servers", "nats://127.0.0.1:4222");
  config.mqueue_subject_root = arg(argc, argv, "--root", "dunebugger");
  config.mqueue_client_id = arg(argc, argv, "--client-id", "remote");
  config.component_heartbeat = std::chrono::seconds(std::stoi(arg(argc, argv, "--probe-secs", "30")));
  config.component_ttl = std::chrono::seconds(std::stoi(arg(argc, argv, "--ttl-secs", "45")));
  config.heartbeat_every = std::chrono::seconds(std::stoi(arg(argc, argv, "--heartbeat-every", "60")));
  config.heartbeat_loop_duration = std::chrono::seconds(std::stoi(arg(argc, argv, "--heartbeat-duration", "300")));
  config.broadcast_initial_state = std::string(arg(argc, argv, "--broadcast", "true")) == "true";
  config.device_id = "test-device";
  config.location_description = "test bench";

  bus::NatsLibrary nats_library;
  loop::EventLoop loop;

  sysinfo::SlowFactsOptions slow_facts;
  slow_facts.timeout = std::chrono::milliseconds(500);

  // The app and the bridge refer to each other through these sinks, so the
  // bridge is created first and the app's publish sink captures it.
  std::optional<app::AppService> app;
  bus::NatsOptions bus_options = agent::bus_options(config);
  bus_options.drop_summary_every = std::chrono::seconds(std::stoi(arg(argc, argv, "--drop-summary-secs", "60")));
  if (const char* bytes = arg(argc, argv, "--inbox-bytes", nullptr))
    bus_options.inbox_capacity_bytes = std::stoul(bytes);
  bus::NatsBridge bridge(loop, std::move(bus_options), [&](bus::BusEvent&& event) {
    if (auto* m = std::get_if<bus::BusMessage>(&event)) {
      app->on_bus_message(m->subject, m->payload);
      return;
    }
    const auto state = std::get<bus::LinkState>(event);
    emit({{"event", "link"}, {"state", bus::link_state_name(state)}});
    if (state == bus::LinkState::Connected) app->on_bus_connected();
  });
  app.emplace(loop, agent::app_options(config),
              app::AppSinks{.send_to_group =
                                [](std::string data_json) {
                                  emit({{"event", "to_group"},
                                        {"data", json::parse(data_json)},
                                        {"data_text", std::move(data_json)}});
                                },
                            .publish_to_bus =
                                [&](const std::string& subject, const std::string& payload) {
                                  return bridge.publish(subject, payload) == bus::PublishResult::Sent;
                                }},
              slow_facts);

  std::string pending;
  (void)::fcntl(STDIN_FILENO, F_SETFL, ::fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);
  std::optional<loop::IoWatch> input;
  input.emplace(loop, STDIN_FILENO, loop::IoWatch::kRead, [&](std::uint32_t) {
    char buffer[65536];
    for (;;) {
      ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return;  // EAGAIN
      if (n == 0) {
        input->set_events(0);
        loop.request_shutdown("stdin closed");
        return;
      }
      pending.append(buffer, static_cast<std::size_t>(n));
      if (pending.size() > 16 * 1024 * 1024) {
        log::error("driver: input line too long");
        loop.request_shutdown("bad input");
        return;
      }
      std::size_t nl;
      while ((nl = pending.find('\n')) != std::string::npos) {
        json op = json::parse(pending.substr(0, nl), nullptr, false);
        pending.erase(0, nl + 1);
        if (!op.is_object()) continue;
        std::string what = op.value("op", "");
        if (what == "joined") {
          app->on_joined();
        } else if (what == "group") {
          app->on_group_message(op.contains("data_text") ? op["data_text"].get<std::string>() : op["data"].dump());
        } else if (what == "stall") {
          std::this_thread::sleep_for(std::chrono::milliseconds(op.value("ms", 0)));
        } else if (what == "publish") {
          auto r = bridge.publish(op["subject"].get<std::string>(), op["payload"].get<std::string>());
          emit({{"event", "publish"},
                {"result", r == bus::PublishResult::Sent           ? "sent"
                           : r == bus::PublishResult::NotConnected ? "not_connected"
                                                                   : "failed"}});
        }
      }
    }
  });

  loop.add_shutdown_step("nats", [&bridge](loop::EventLoop::Done done) { bridge.begin_shutdown(std::move(done)); });
  bridge.start();
  app->start();
  emit({{"event", "ready"}});
  int rc = loop.run();
  input.reset();
  app.reset();
  return rc;
}
