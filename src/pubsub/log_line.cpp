#include "pubsub/log_line.hpp"

namespace dbr::pubsub {

std::string_view log_level_name(LogLevel level) {
  switch (level) {
    case LogLevel::Debug: return "DEBUG";
    case LogLevel::Info: return "INFO";
    case LogLevel::Warning: return "WARNING";
    case LogLevel::Error: return "ERROR";
  }
  return "?";
}

}  // namespace dbr::pubsub
