// Component liveness with a TTL (dunebugger-protocol.md §2).
#include <doctest/doctest.h>

#include "app/components.hpp"

using namespace dbr;
using namespace dbr::app;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::string state_of(const json& list, const std::string& name) {
  for (const auto& c : list)
    if (c["name"] == name) return c["state"].get<std::string>();
  return "(absent)";
}

}  // namespace

TEST_CASE("components start as not_responding and dunebugger-remote is always running with its version") {
  Components c(45s, "1.2.3");
  TimePoint t0(10h);
  json list = c.to_json(t0);
  CHECK(list == json::array({{{"name", "dunebugger"}, {"state", "not_responding"}},
                             {{"name", "scheduler"}, {"state", "not_responding"}},
                             {{"name", "dunebugger-remote"}, {"state", "running"}, {"version", "1.2.3"}}}));
}

TEST_CASE("a heartbeat makes a component running for exactly the TTL") {
  Components c(45s, "v");
  TimePoint t0(10h);
  c.heartbeat(Component::Core, t0);
  CHECK(c.running(Component::Core, t0));
  CHECK(c.running(Component::Core, t0 + 45s));
  CHECK_FALSE(c.running(Component::Core, t0 + 45s + 1ms));
  CHECK_FALSE(c.running(Component::Scheduler, t0));
  CHECK(state_of(c.to_json(t0 + 10s), "dunebugger") == "running");
  CHECK(state_of(c.to_json(t0 + 10s), "scheduler") == "not_responding");
  CHECK(state_of(c.to_json(t0 + 46s), "dunebugger") == "not_responding");
}

TEST_CASE("probes every 30 s answered each time keep a component running; one lost answer does not") {
  Components c(45s, "v");
  TimePoint t0(10h);
  // Answers at 30, 60, 90 s (the probes), then the 120 s answer is lost.
  for (auto t : {30s, 60s, 90s}) c.heartbeat(Component::Scheduler, t0 + t);
  for (auto t = 30s; t <= 135s; t += 1s) CHECK(c.running(Component::Scheduler, t0 + t));
  // §5: "a 45 s TTL against 30 s probes (one lost reply shows not_responding)".
  CHECK_FALSE(c.running(Component::Scheduler, t0 + 136s));
  CHECK(c.last_heartbeat(Component::Scheduler) == t0 + 90s);
}

TEST_CASE("source names map to components") {
  CHECK(component_from_source("core") == Component::Core);
  CHECK(component_from_source("scheduler") == Component::Scheduler);
  CHECK_FALSE(component_from_source("remote"));
  CHECK_FALSE(component_from_source("dunebugger"));
  CHECK(component_display_name(Component::Core) == "dunebugger");
}
