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

// log::info("connected to {}", host) and so on: the format string is
// checked at compile time, and the line goes to the default logger.
template <spdlog::level::level_enum kLevel>
struct Writer {
  template <typename... Args>
  void operator()(spdlog::format_string_t<Args...> fmt, Args&&... args) const {
    spdlog::log(kLevel, fmt, std::forward<Args>(args)...);
  }
};

inline constexpr Writer<spdlog::level::debug> debug{};
inline constexpr Writer<spdlog::level::info> info{};
inline constexpr Writer<spdlog::level::warn> warn{};
inline constexpr Writer<spdlog::level::err> error{};
inline constexpr Writer<spdlog::level::critical> critical{};

}  // namespace dbr::log
