// drop_clean_file_pages on mappings this test makes: a read-only file
// mapping leaves the resident set and reads the same afterwards; a private
// mapping with a written page keeps it, writable or made read-only since.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/working_set.hpp"

using namespace dbr;

namespace {

constexpr std::size_t kBytes = 64 * 4096;

// Resident KiB of the mapping that starts at `start` (/proc/self/smaps).
std::size_t resident_kib(const void* start) {
  char head[32];
  std::snprintf(head, sizeof head, "%lx-", reinterpret_cast<unsigned long>(start));
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool in = false;
  while (std::getline(smaps, line)) {
    if (line.rfind(head, 0) == 0) in = true;
    else if (in && line.rfind("Rss:", 0) == 0) return std::strtoull(line.c_str() + 4, nullptr, 10);
  }
  FAIL("no mapping at the address");
  return 0;
}

struct TempFile {
  std::string path;
  int fd = -1;
  TempFile() {
    path = (std::filesystem::temp_directory_path() / "dbr-working-set-XXXXXX").string();
    fd = ::mkstemp(path.data());
    REQUIRE(fd >= 0);
    std::vector<char> bytes(kBytes);
    for (std::size_t i = 0; i < kBytes; ++i) bytes[i] = static_cast<char>('a' + i % 26);
    REQUIRE(::write(fd, bytes.data(), kBytes) == static_cast<ssize_t>(kBytes));
  }
  ~TempFile() {
    ::close(fd);
    ::unlink(path.c_str());
  }
};

std::size_t sum(const volatile char* p) {
  std::size_t s = 0;
  for (std::size_t i = 0; i < kBytes; i += 512) s += static_cast<unsigned char>(p[i]);
  return s;
}

}  // namespace

TEST_CASE("read-only file pages leave the resident set and read the same; written private pages stay") {
  TempFile file;
  auto* ro = static_cast<const char*>(::mmap(nullptr, kBytes, PROT_READ, MAP_PRIVATE, file.fd, 0));
  REQUIRE(ro != MAP_FAILED);
  auto* rw = static_cast<char*>(::mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE, file.fd, 0));
  REQUIRE(rw != MAP_FAILED);
  const std::size_t before = sum(ro);  // touches every page
  rw[0] = 'Z';                         // a private copy of page 0
  (void)sum(rw);
  // Like relocated data (RELRO): written, then made read-only.
  auto* relro = static_cast<char*>(::mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE, file.fd, 0));
  REQUIRE(relro != MAP_FAILED);
  relro[0] = 'Q';
  REQUIRE(::mprotect(relro, kBytes, PROT_READ) == 0);
  REQUIRE(resident_kib(ro) >= 200);
  const std::size_t dropped = drop_clean_file_pages();
  CHECK(dropped >= 200);
  CHECK(resident_kib(ro) == 0);
  CHECK(sum(ro) == before);  // back from the page cache
  CHECK(rw[0] == 'Z');       // the written page is still ours
  CHECK(resident_kib(rw) > 0);
  CHECK(relro[0] == 'Q');  // read-only now, but its written page is still ours
  ::munmap(relro, kBytes);
  ::munmap(const_cast<char*>(ro), kBytes);
  ::munmap(rw, kBytes);
}
