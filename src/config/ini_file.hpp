#pragma once
// Reads an INI text the way Python's configparser reads dunebugger.conf
// (the Python agent sets optionxform = str, so names are case-sensitive):
// whole-line comments only (';' or '#' first on the line), "key = value" or
// "key: value", indented lines continue the previous value, names and values
// trimmed, no inline comments, no line-length limit.
#include <string>
#include <string_view>
#include <vector>

namespace dbr::config {

struct IniEntry {
  std::string section;
  std::string key;
  std::string value;
  int line = 0;
};

struct IniProblem {
  int line = 0;
  std::string message;
};

struct IniSection {
  std::string name;
  int line = 0;
};

struct IniFile {
  std::vector<IniEntry> entries;
  std::vector<IniSection> sections;
  std::vector<IniProblem> errors;
};

IniFile parse_ini(std::string_view text);

}  // namespace dbr::config
