#include "common/log_level.hpp"

#include <cctype>
#include <string>

namespace dbr::log {

std::optional<Level> parse_level(std::string_view name) {
  std::string upper;
  for (char c : name) upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  if (upper == "DEBUG") return Level::Debug;
  if (upper == "INFO") return Level::Info;
  if (upper == "WARNING") return Level::Warning;
  if (upper == "ERROR") return Level::Error;
  if (upper == "CRITICAL") return Level::Critical;
  return std::nullopt;
}

std::string_view level_name(Level level) {
  switch (level) {
    case Level::Debug: return "DEBUG";
    case Level::Info: return "INFO";
    case Level::Warning: return "WARNING";
    case Level::Error: return "ERROR";
    case Level::Critical: return "CRITICAL";
  }
  return "INFO";
}

}  // namespace dbr::log
