#include "app/components.hpp"

namespace dbr::app {

namespace {

std::size_t index_of(Component c) { return c == Component::Core ? 0 : 1; }

std::string_view state_name(bool running) { return running ? "running" : "not_responding"; }

}  // namespace

std::string_view component_source(Component c) { return c == Component::Core ? "core" : "scheduler"; }

std::string_view component_display_name(Component c) { return c == Component::Core ? "dunebugger" : "scheduler"; }

std::optional<Component> component_from_source(std::string_view source) {
  if (source == "core") return Component::Core;
  if (source == "scheduler") return Component::Scheduler;
  return std::nullopt;
}

Components::Components(Duration ttl, std::string self_version) : ttl_(ttl), self_version_(std::move(self_version)) {}

void Components::heartbeat(Component c, TimePoint now) { last_[index_of(c)] = now; }

bool Components::running(Component c, TimePoint now) const {
  const auto& last = last_[index_of(c)];
  return last && now - *last <= ttl_;
}

std::optional<TimePoint> Components::last_heartbeat(Component c) const { return last_[index_of(c)]; }

nlohmann::ordered_json Components::to_json(TimePoint now) const {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (Component c : {Component::Core, Component::Scheduler})
    list.push_back({{"name", component_display_name(c)}, {"state", state_name(running(c, now))}});
  list.push_back({{"name", "dunebugger-remote"}, {"state", "running"}, {"version", self_version_}});
  return list;
}

}  // namespace dbr::app
