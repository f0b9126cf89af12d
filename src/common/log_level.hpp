#pragma once
// The log level vocabulary, apart from the logger (log/log.hpp), so the
// config and the cores name a level without pulling in spdlog.
#include <optional>
#include <string>
#include <string_view>

namespace dbr::log {

enum class Level { Debug, Info, Warning, Error, Critical };

// The Python agent's level names (DEBUG, INFO, WARNING, ERROR, CRITICAL),
// case-insensitive. nullopt for an unknown name.
std::optional<Level> parse_level(std::string_view name);
std::string_view level_name(Level level);

// A line for an adapter to write (log::write in log/log.hpp): sans-IO cores
// return these instead of logging, so errors are logged once, at the edge.
struct LogLine {
  Level level = Level::Debug;
  std::string text;
};

}  // namespace dbr::log
