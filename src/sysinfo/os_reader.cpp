// OS facts: os-release, kernel, boot time; uname and getifaddrs wrappers.
#include <sys/utsname.h>

#include "sysinfo/host_files.hpp"
#include "sysinfo/host_readers.hpp"

namespace dbr::sysinfo {

namespace {

// os-release values are shell-quoted: strip one pair of quotes and undo the
// backslash escapes os-release(5) allows inside double quotes.
std::string unquote(std::string_view v) {
  v = trim_view(v);
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
    char quote = v.front();
    v = v.substr(1, v.size() - 2);
    if (quote == '\'') return std::string(v);
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (v[i] == '\\' && i + 1 < v.size()) ++i;
      out.push_back(v[i]);
    }
    return out;
  }
  return std::string(v);
}

}  // namespace

Uname read_uname() {
  struct utsname u {};
  if (::uname(&u) != 0) return {};
  return {u.machine, u.release, u.nodename};
}

OsFacts read_os(const std::filesystem::path& root, const Uname& uname) {
  OsFacts os;
  auto text = read_small_file(under_root(root, "/etc/os-release"), 64 * 1024);
  if (!text) text = read_small_file(under_root(root, "/usr/lib/os-release"), 64 * 1024);
  if (text) {
    std::optional<std::string> version, version_id;
    for (auto line : split_lines(*text)) {
      auto eq = line.find('=');
      if (eq == std::string_view::npos) continue;
      auto key = trim_view(line.substr(0, eq));
      auto value = valid_utf8(unquote(line.substr(eq + 1)));
      if (key == "PRETTY_NAME") os.name = value;
      else if (key == "VERSION") version = value;
      else if (key == "VERSION_ID") version_id = value;
    }
    // §1.3 "version (VERSION or VERSION_ID)": VERSION when present.
    os.version = version ? version : version_id;
  }
  if (!uname.release.empty()) os.kernel = valid_utf8(uname.release);
  if (auto stat = read_small_file(under_root(root, "/proc/stat"), 1024 * 1024)) {
    for (auto line : split_lines(*stat)) {
      auto fields = split_ws(line);
      if (fields.size() >= 2 && fields[0] == "btime") {
        os.boot_time_unix_s = parse_i64(fields[1]);
        break;
      }
    }
  }
  return os;
}

HostFacts read_host_facts(const std::filesystem::path& root) {
  Uname uname = read_uname();
  HostFacts facts;
  facts.hardware = read_hardware(root, uname);
  facts.os = read_os(root, uname);
  facts.network = read_network(root, uname, read_if_addresses());
  return facts;
}

}  // namespace dbr::sysinfo
