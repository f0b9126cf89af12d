#include "log/log.hpp"

#include <spdlog/details/os.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

#include "log/redact.hpp"

namespace dbr::log {

namespace {

spdlog::level::level_enum to_spdlog(Level level) {
  switch (level) {
    case Level::Debug: return spdlog::level::debug;
    case Level::Info: return spdlog::level::info;
    case Level::Warning: return spdlog::level::warn;
    case Level::Error: return spdlog::level::err;
    case Level::Critical: return spdlog::level::critical;
  }
  return spdlog::level::info;
}

// sd-daemon(3) priority prefixes, as journald parses them from stderr.
const char* journal_prefix(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug: return "<7>";
    case spdlog::level::info: return "<6>";
    case spdlog::level::warn: return "<4>";
    case spdlog::level::err: return "<3>";
    case spdlog::level::critical: return "<2>";
    default: return "<6>";
  }
}

// Formats with spdlog, redacts, writes one line to stderr.
class RedactingStderrSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit RedactingStderrSink(bool journal) : journal_(journal) {
    set_pattern_(journal_ ? "%v" : "%Y-%m-%d %H:%M:%S.%e %-8l %v");
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    std::string line = redact(std::string_view(formatted.data(), formatted.size()));
    if (line.empty() || line.back() != '\n') line.push_back('\n');
    if (journal_) line.insert(0, journal_prefix(msg.level));
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
  void flush_() override { std::fflush(stderr); }

 private:
  bool journal_;
};

Level g_level = Level::Info;

}  // namespace

bool stderr_is_journal() {
  // systemd.exec(5): JOURNAL_STREAM is "device:inode" of the stream it
  // connected; compare so that a redirected stderr is not mistaken for it.
  const char* value = std::getenv("JOURNAL_STREAM");
  if (!value) return false;
  struct stat st {};
  if (fstat(STDERR_FILENO, &st) < 0) return false;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(value, "%llu:%llu", &dev, &ino) != 2) return false;
  return dev == static_cast<unsigned long long>(st.st_dev) && ino == static_cast<unsigned long long>(st.st_ino);
}

void setup(Level level, Format format) {
  bool journal = format == Format::Journal || (format == Format::Auto && stderr_is_journal());
  auto sink = std::make_shared<RedactingStderrSink>(journal);
  auto logger = std::make_shared<spdlog::logger>("dunebugger-remote", std::move(sink));
  spdlog::set_default_logger(std::move(logger));
  set_level(level);
}

void set_level(Level level) {
  g_level = level;
  spdlog::set_level(to_spdlog(level));
  // Warnings and worse reach the journal at once; a crash must not eat them.
  spdlog::flush_on(spdlog::level::warn);
}

Level level() { return g_level; }

void write(const LogLine& line) {
  switch (line.level) {
    case Level::Debug: debug("{}", line.text); break;
    case Level::Info: info("{}", line.text); break;
    case Level::Warning: warn("{}", line.text); break;
    case Level::Error: error("{}", line.text); break;
    case Level::Critical: critical("{}", line.text); break;
  }
}

}  // namespace dbr::log
