// How fast the sans-IO Web PubSub cores are on this machine: frame decode,
// the inbound and outbound message paths through ClientCore, and token
// signing. Prints figures; not a pass/fail test.
#include <chrono>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "common/random.hpp"
#include "pubsub/access_token.hpp"
#include "pubsub/core/client_core.hpp"
#include "pubsub/core/messages.hpp"

using namespace dbr;
using namespace dbr::pubsub;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

template <typename F>
void measure(const char* name, int iterations, F&& body) {
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < iterations; ++i) body(i);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%-48s %10.0f /s  (%.2f us each)\n", name, iterations / seconds, seconds / iterations * 1e6);
}

// A typical DuneBugger envelope as the front end sends it.
json envelope(int i) {
  return json{{"body", {{"state", "playing"}, {"cycle", i}, {"lights", {1, 0, 1, 1}}}},
              {"subject", "core.state"},
              {"source", "controller"},
              {"destination", "remote"}};
}

void drain(ClientCore& core) {
  while (core.poll_action()) {
  }
  while (core.poll_event()) {
  }
}

ClientCore connected_core(Random& random, TimePoint now) {
  ClientCoreOptions options;
  options.session.group = "bench";
  ClientCore core(options, random);
  core.internet(true, now);
  core.start(now);
  core.on_transport(ws::Opened{core.subprotocol()}, now);
  core.on_transport(
      ws::Message{true, R"({"type":"system","event":"connected","userId":"d","connectionId":"c","reconnectionToken":"t"})"},
      now);
  // Answer the joinGroup.
  while (auto action = core.poll_action()) {
    if (auto* send = std::get_if<SendText>(&*action)) {
      auto frame = json::parse(send->frame);
      if (frame["type"] == "joinGroup")
        core.on_transport(ws::Message{true, json{{"type", "ack"}, {"ackId", frame["ackId"]}, {"success", true}}.dump()},
                          now);
    }
  }
  drain(core);
  return core;
}

}  // namespace

int main() {
  const int n = 200000;
  std::vector<std::string> frames;
  frames.reserve(1000);
  for (int i = 0; i < 1000; ++i)
    frames.push_back(json{{"type", "message"}, {"from", "group"}, {"group", "bench"}, {"fromUserId", "web"},
                          {"dataType", "json"}, {"data", envelope(i)}, {"sequenceId", i + 1}}
                         .dump());
  std::printf("group message frame: %zu bytes\n", frames[0].size());

  measure("decode_service_frame (group message)", n,
          [&](int i) { (void)decode_service_frame(frames[static_cast<std::size_t>(i) % frames.size()]); });

  SeededRandom random(1);
  TimePoint now = TimePoint{} + 1h;
  {
    ClientCore core = connected_core(random, now);
    measure("inbound: on_transport(Message) -> GroupMessage", n, [&](int i) {
      now += 1ms;
      core.on_transport(ws::Message{true, json{{"type", "message"}, {"from", "group"}, {"group", "bench"},
                                               {"dataType", "json"}, {"data", envelope(i)}, {"sequenceId", i + 1}}
                                              .dump()},
                        now);
      drain(core);
    });
  }
  {
    ClientCore core = connected_core(random, now);
    measure("outbound: send_to_group + ack -> Delivered", n, [&](int i) {
      now += 1ms;
      core.send_to_group(envelope(i).dump(), now);
      while (auto action = core.poll_action()) {
        if (auto* send = std::get_if<SendText>(&*action)) {
          // The ackId sits right after "ackId": in the frame.
          auto pos = send->frame.find("\"ackId\":") + 8;
          std::uint64_t ack_id = std::stoull(send->frame.substr(pos));
          core.on_transport(
              ws::Message{true, "{\"type\":\"ack\",\"ackId\":" + std::to_string(ack_id) + ",\"success\":true}"}, now);
        }
      }
      while (core.poll_event()) {
      }
    });
  }
  {
    ClientCore core = connected_core(random, now);
    core.on_transport(ws::Closed{1006, {}, true, false}, now);
    drain(core);
    measure("outbox: send_to_group while recovering (bound 1000)", n,
            [&](int i) { core.send_to_group(envelope(i).dump(), now); drain(core); });
  }

  const ServiceAccessKey key{"https://example.webpubsub.azure.com", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefg="};
  TokenRequest request{"dunebugger", "device-1", "dev-group", std::chrono::hours(1)};
  auto wall = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  measure("sign_client_token (HS256)", 20000, [&](int i) { (void)sign_client_token(key, request, wall + std::chrono::seconds(i)); });
  return 0;
}
