#pragma once
// Logging: spdlog behind a small facade.
//
// Under systemd (JOURNAL_STREAM names our stderr) each line starts with a
// "<N>" syslog priority and carries no timestamp, since journald adds one;
// otherwise lines get a timestamped console format. Every line passes
// through redact() before it is written.
#include <spdlog/spdlog.h>

#include "common/log_level.hpp"

namespace dbr::log {

enum class Format { Auto, Journal, Console };

// Installs the default logger writing to stderr. Auto picks Journal when
// JOURNAL_STREAM matches stderr. Safe to call again (tests).
void setup(Level level, Format format = Format::Auto);
void set_level(Level level);
Level level();
bool stderr_is_journal();
// Writes a line a core returned, at its level.
void write(const LogLine& line);

template <typename... Args>
void debug(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  spdlog::debug(fmt, std::forward<Args>(args)...);
}
template <typename... Args>
void info(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  spdlog::info(fmt, std::forward<Args>(args)...);
}
template <typename... Args>
void warn(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  spdlog::warn(fmt, std::forward<Args>(args)...);
}
template <typename... Args>
void error(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  spdlog::error(fmt, std::forward<Args>(args)...);
}
template <typename... Args>
void critical(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  spdlog::critical(fmt, std::forward<Args>(args)...);
}

}  // namespace dbr::log
