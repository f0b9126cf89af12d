#pragma once
// A line for the adapter to log. Cores never log above DEBUG themselves
// (errors are logged once, at the edge); they return these instead.
#include <string>

namespace dbr::pubsub {

enum class LogLevel { Debug, Info, Warning, Error };

struct LogLine {
  LogLevel level = LogLevel::Debug;
  std::string text;
};

}  // namespace dbr::pubsub
