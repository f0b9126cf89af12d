#include "config/ini_file.hpp"

#include <ini.h>

#include <cstring>
#include <map>
#include <set>
#include <utility>

#include "config/text.hpp"

namespace dbr::config {

// inih does the section and key tokenizing, but Debian's libinih is built
// with inline ';' comments and a 200-byte line limit. configparser has
// neither: connection strings carry ';', access-token URLs run to hundreds of
// bytes. So the reader below hands inih each line with the value replaced by
// a short reference ("key=\x1e<index>") and keeps the real value, its line
// number and any continuation lines on the side.
namespace {

constexpr char kValueRef = '\x1e';

struct Reader {
  std::vector<std::string_view> lines;
  std::size_t next = 0;
  std::string current;  // the line handed to inih
  std::vector<IniEntry> values;
  std::vector<IniSection> sections;
  std::set<std::string> seen_sections;
  std::vector<IniProblem> errors;
  bool in_section = false;
  bool continuing = false;  // last key line may take continuation lines
  std::string section;
  std::map<std::pair<std::string, std::string>, int> key_lines;
  // Entries inih reported, as indices into `values` (whose text may still
  // grow by continuation lines after inih has seen the key).
  std::vector<std::size_t> accepted;
};

void rewrite_line(Reader& r, std::string_view raw, int line_no) {
  r.current.clear();
  std::string_view stripped = trim(raw);
  bool indented = !raw.empty() && (raw.front() == ' ' || raw.front() == '\t');
  if (stripped.empty()) {
    r.continuing = false;
    return;
  }
  if (stripped.front() == ';' || stripped.front() == '#') return;  // comment
  if (indented && r.continuing && !r.values.empty()) {
    // configparser joins continuation lines with '\n'.
    r.values.back().value += "\n";
    r.values.back().value += stripped;
    return;
  }
  r.continuing = false;
  if (stripped.front() == '[') {
    if (stripped.back() != ']' || stripped.size() < 3) {
      r.errors.push_back({line_no, "a section header must look like [Name]"});
      return;
    }
    std::string name(trim(stripped.substr(1, stripped.size() - 2)));
    if (!r.seen_sections.insert(name).second) {
      r.errors.push_back({line_no, "section [" + name + "] appears twice"});
    } else {
      r.sections.push_back({name, line_no});
    }
    r.in_section = true;
    r.section = name;
    if (name.size() > 150) {
      r.errors.push_back({line_no, "section name too long"});
      return;
    }
    r.current = "[" + name + "]";
    return;
  }
  auto sep = stripped.find_first_of("=:");
  if (sep == std::string_view::npos) {
    r.errors.push_back({line_no, "expected 'key = value', a [Section] header or a comment"});
    return;
  }
  std::string key(trim(stripped.substr(0, sep)));
  if (key.empty()) {
    // Appended, not "literal" + std::string + "literal": GCC 14 reports a
    // false -Warray-bounds for that chain here.
    std::string message = "a key name is missing before '";
    message += stripped[sep];
    message += '\'';
    r.errors.push_back({line_no, std::move(message)});
    return;
  }
  if (!r.in_section) {
    r.errors.push_back({line_no, "key '" + key + "' comes before any [Section] header"});
    return;
  }
  if (key.size() > 150) {
    r.errors.push_back({line_no, "key name too long"});
    return;
  }
  r.values.push_back(IniEntry{r.section, key, std::string(trim(stripped.substr(sep + 1))), line_no});
  r.continuing = true;
  r.current = key + "=" + kValueRef + std::to_string(r.values.size() - 1);
}

char* read_line(char* buffer, int size, void* stream) {
  auto& r = *static_cast<Reader*>(stream);
  if (r.next >= r.lines.size()) return nullptr;
  int line_no = static_cast<int>(r.next) + 1;
  std::string_view raw = r.lines[r.next++];
  if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
  if (line_no == 1 && raw.starts_with("\xEF\xBB\xBF")) raw.remove_prefix(3);  // UTF-8 BOM
  rewrite_line(r, raw, line_no);
  std::string out = r.current + "\n";
  std::size_t n = std::min(out.size(), static_cast<std::size_t>(size - 1));
  std::memcpy(buffer, out.data(), n);
  buffer[n] = '\0';
  return buffer;
}

// The entry keeps the section and key the reader saw: inih's may differ
// after a section header it could not take (a NUL in the name, one over
// 150 bytes), which would put the keys below it in the section before.
int on_entry(void* user, const char*, const char*, const char* value) {
  auto& r = *static_cast<Reader*>(user);
  if (value[0] != kValueRef) return 1;  // cannot happen: every key line is rewritten
  std::size_t index = std::stoul(value + 1);
  if (index >= r.values.size()) return 1;
  IniEntry& entry = r.values[index];
  auto [it, fresh] = r.key_lines.emplace(std::make_pair(entry.section, entry.key), entry.line);
  if (!fresh) {
    r.errors.push_back({entry.line, "key '" + entry.key + "' in [" + entry.section + "] already set on line " +
                                        std::to_string(it->second)});
    return 1;
  }
  r.accepted.push_back(index);
  return 1;
}

}  // namespace

IniFile parse_ini(std::string_view text) {
  Reader reader;
  reader.lines = split(text, '\n');
  if (!text.empty() && text.back() == '\n') reader.lines.pop_back();
  int r = ini_parse_stream(&read_line, &reader, &on_entry, &reader);
  if (r > 0) reader.errors.push_back({r, "could not parse this line"});
  IniFile file;
  for (std::size_t index : reader.accepted) file.entries.push_back(std::move(reader.values[index]));
  file.sections = std::move(reader.sections);
  file.errors = std::move(reader.errors);
  return file;
}

}  // namespace dbr::config
