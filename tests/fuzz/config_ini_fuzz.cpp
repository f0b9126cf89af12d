// libFuzzer target for the config file's reader: the configparser-
// compatible INI reading on inih (config/ini_file, parse_ini), on which
// everything config_load_fuzz checks stands.
//
// Checked besides the sanitizers: every entry and every error names a line
// of the file; entries come in line order, each (section, key) once, under
// a section the file declares; names are trimmed and not empty, and hold no
// '=' or ':'; values are trimmed (but for configparser's leading '\n');
// each entry is what its line of the text says, and its continuation lines
// are the lines that follow it, in order.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/ini_file.hpp"
#include "fuzz/require.hpp"

namespace {

using dbr::fuzz::require;

using namespace dbr::config;

bool is_trimmed(std::string_view s) {
  const auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  return s.empty() || (!space(s.front()) && !space(s.back()));
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// The file's lines as the reader takes them: a CR before the LF and a
// UTF-8 byte order mark at the start dropped.
std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  for (std::size_t start = 0; start <= text.size();) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (lines.empty() && line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3);
    lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

// An entry is what its line says, "key = value" or "key: value", and its
// further value lines are the lines after it, comments skipped.
void check_entry_against_text(const IniEntry& e, const std::vector<std::string_view>& lines) {
  const std::string_view line = trim(lines[static_cast<std::size_t>(e.line - 1)]);
  const std::size_t sep = line.find_first_of("=:");
  require(sep != std::string_view::npos && trim(line.substr(0, sep)) == e.key);
  std::string_view value = e.value;
  const std::size_t first_end = std::min(value.find('\n'), value.size());
  require(value.substr(0, first_end) == trim(line.substr(sep + 1)));
  value.remove_prefix(first_end);
  std::size_t next = static_cast<std::size_t>(e.line);
  while (!value.empty()) {
    value.remove_prefix(1);  // the '\n'
    const std::string_view part = value.substr(0, std::min(value.find('\n'), value.size()));
    while (next < lines.size() && (trim(lines[next]).starts_with(';') || trim(lines[next]).starts_with('#'))) ++next;
    require(next < lines.size() && trim(lines[next]) == part);
    ++next;
    value.remove_prefix(part.size());
  }
}

void check_ini(std::string_view text) {
  const IniFile ini = parse_ini(text);
  const auto file_lines = lines_of(text);
  const int lines = static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 1;
  std::set<std::string> sections;
  for (const auto& s : ini.sections) {
    require(s.line >= 1 && s.line <= lines && is_trimmed(s.name));
    require(sections.insert(s.name).second);
  }
  std::set<std::pair<std::string, std::string>> keys;
  int previous_line = 0;
  for (const auto& e : ini.entries) {
    require(e.line >= 1 && e.line <= lines && e.line > previous_line);
    previous_line = e.line;
    require(keys.emplace(e.section, e.key).second);
    require(sections.count(e.section) == 1);
    require(!e.key.empty() && is_trimmed(e.key) && e.key.find_first_of("=:") == std::string::npos);
    // configparser keeps the '\n' before the continuation lines of a
    // value whose first line is empty.
    require(is_trimmed(e.value) || (e.value.front() == '\n' && is_trimmed(e.value.substr(1))));
    check_entry_against_text(e, file_lines);
  }
  for (const auto& error : ini.errors) require(error.line >= 1 && error.line <= lines && !error.message.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  check_ini(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
