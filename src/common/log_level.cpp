#include "common/log_level.hpp"

#include <cctype>
#include <string>

#include "common/enum_names.hpp"

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

constexpr auto kLevelNames = enum_names<Level>({
    {Level::Debug, "DEBUG"}, {Level::Info, "INFO"}, {Level::Warning, "WARNING"}, {Level::Error, "ERROR"},
    {Level::Critical, "CRITICAL"}});
std::string_view level_name(Level level) { return kLevelNames.name(level, "INFO"); }

}  // namespace dbr::log
