#include "common/working_set.hpp"

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace dbr {

namespace {

struct Mapping {
  std::uintptr_t start = 0;
  std::uintptr_t end = 0;
  bool writable = true;
  bool file = false;
  std::size_t rss_kib = 0;
  std::size_t anonymous_kib = 0;
};

// "Rss:   123 kB" -> 123
std::size_t kib(const std::string& line) { return std::strtoull(line.c_str() + line.find(':') + 1, nullptr, 10); }

std::vector<Mapping> read_mappings() {
  std::vector<Mapping> out;
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  while (std::getline(smaps, line)) {
    if (line.empty()) continue;
    const char first = line[0];
    const bool header = (first >= '0' && first <= '9') || (first >= 'a' && first <= 'f');
    if (header && line.find('-') < line.find(' ')) {
      Mapping m;
      std::istringstream fields(line);
      std::string range, perms, offset, device, inode, path;
      fields >> range >> perms >> offset >> device >> inode >> path;
      m.start = std::strtoull(range.c_str(), nullptr, 16);
      m.end = std::strtoull(range.c_str() + range.find('-') + 1, nullptr, 16);
      m.writable = perms.size() < 2 || perms[1] != '-';
      m.file = !path.empty() && path[0] == '/';
      out.push_back(m);
    } else if (!out.empty() && line.rfind("Rss:", 0) == 0) {
      out.back().rss_kib = kib(line);
    } else if (!out.empty() && line.rfind("Anonymous:", 0) == 0) {
      out.back().anonymous_kib = kib(line);
    }
  }
  return out;
}

}  // namespace

std::size_t drop_clean_file_pages() {
  std::size_t dropped = 0;
  for (const Mapping& m : read_mappings()) {
    if (!m.file || m.writable || m.anonymous_kib != 0 || m.rss_kib == 0) continue;
    if (::madvise(reinterpret_cast<void*>(m.start), m.end - m.start, MADV_DONTNEED) == 0) dropped += m.rss_kib;
  }
  return dropped;
}

}  // namespace dbr
