// libFuzzer target for the config file's reader: the configparser-
// compatible INI reading on inih (config/ini_file, parse_ini), on which
// everything config_load_fuzz checks stands.
//
// Checked besides the sanitizers: every entry and every error names a line
// of the file; entries come in line order, each (section, key) once, under
// a section the file declares; names are trimmed and not empty, and hold no
// '=' or ':'; values are trimmed (but for configparser's leading '\n').
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "config/ini_file.hpp"

namespace {

using namespace dbr::config;

void require(bool condition) {
  if (!condition) std::abort();
}

bool is_trimmed(std::string_view s) {
  const auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  return s.empty() || (!space(s.front()) && !space(s.back()));
}

void check_ini(std::string_view text) {
  const IniFile ini = parse_ini(text);
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
  }
  for (const auto& error : ini.errors) require(error.line >= 1 && error.line <= lines && !error.message.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  check_ini(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
