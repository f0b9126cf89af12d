// Figures for the app layer: routing cost per message, and what a
// system_info request costs on the loop thread (host fact reads + JSON).
#include <chrono>
#include <cstdio>
#include <string>

#include "app/components.hpp"
#include "sysinfo/host_readers.hpp"
#include "app/router.hpp"
#include "sysinfo/system_info.hpp"
#include "loop/event_loop.hpp"
#include "loop/timer.hpp"
#include "sysinfo/slow_facts_probe.hpp"

using namespace dbr;
using namespace dbr::app;
using namespace dbr::sysinfo;
using nlohmann::json;
using BenchClock = std::chrono::steady_clock;

namespace {

template <typename F>
double ns_per_op(int iterations, F&& f) {
  auto start = BenchClock::now();
  for (int i = 0; i < iterations; ++i) f(i);
  auto ns = std::chrono::duration<double, std::nano>(BenchClock::now() - start).count();
  return ns / iterations;
}

}  // namespace

int main() {
  Router router("dunebugger", "remote");
  volatile std::size_t sink = 0;

  const std::string request_text =
      json{{"subject", "core.dunebugger_set"}, {"body", "sw 17 on"}, {"connectionId", "conn-abcdef"}}.dump();
  double group_ns = ns_per_op(200000, [&](int) {
    auto r = router.route_group(request_text);
    sink = sink + r.index();
  });

  json gpio = json::array();
  for (int pin = 0; pin < 28; ++pin)
    gpio.push_back({{"pin", pin}, {"label", "_not_found_"}, {"mode", "OUTPUT"}, {"state", "LOW"}, {"switch", "ON"}});
  std::string gpio_payload = json{{"body", gpio}, {"subject", "gpio_state"}, {"source", "core"}}.dump();
  std::string time_payload = R"({"body":120,"subject":"playing_time","source":"core"})";
  double gpio_ns = ns_per_op(20000, [&](int) {
    auto r = router.route_bus("dunebugger.remote.gpio_state", gpio_payload);
    sink = sink + r.index();
  });
  double time_ns = ns_per_op(200000, [&](int) {
    auto r = router.route_bus("dunebugger.remote.playing_time", time_payload);
    sink = sink + r.index();
  });

  Components components(std::chrono::seconds(45), "0.1.0");
  HostFacts host;
  double read_us = ns_per_op(200, [&](int) { host = read_host_facts("/"); }) / 1000.0;
  std::size_t bytes = 0;
  double compose_us = ns_per_op(2000, [&](int) {
                        auto info = compose_system_info({"dev", "loc"}, WallClock::now(), host, nullptr,
                                                        {true, components.to_json(Clock::now())});
                        bytes = info.dump().size();
                      }) /
                      1000.0;

  // One slow-facts collection on a loop, this machine's root: from start
  // to its facts (the loop is never blocked meanwhile).
  SlowFacts slow;
  double slow_ms = 0;
  {
    loop::EventLoop ev;
    SlowFactsOptions options;
    options.timeout = std::chrono::milliseconds(500);
    auto slow_start = BenchClock::now();
    SlowFactsProbe probe(ev, options, [&](SlowFacts&& f) {
      slow_ms = std::chrono::duration<double, std::milli>(BenchClock::now() - slow_start).count();
      slow = std::move(f);
      ev.request_shutdown("done");
    });
    loop::Timer guard(ev, [&] { ev.request_shutdown("guard"); });
    guard.arm_in(std::chrono::seconds(5));
    probe.start();
    (void)ev.run();
  }

  std::printf("route_group (front-end command -> NATS):  %8.0f ns/message\n", group_ns);
  std::printf("route_bus playing_time (small payload):    %8.0f ns/message\n", time_ns);
  std::printf("route_bus gpio_state (%5zu-byte payload):  %8.0f ns/message\n", gpio_payload.size(), gpio_ns);
  std::printf("read_host_facts(\"/\") on the loop thread:  %8.1f us\n", read_us);
  std::printf("compose + dump system_info (%zu bytes):   %8.1f us\n", bytes, compose_us);
  std::printf("slow facts, start to facts (loop-driven):  %8.1f ms (gateway latency %s, %zu wifi)\n", slow_ms,
              slow.gateway_latency_ms ? std::to_string(*slow.gateway_latency_ms).c_str() : "n/a",
              slow.wifi_ssid.size());
  return sink == 42 ? 1 : 0;
}
