#include <doctest/doctest.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "common/small_file.hpp"

namespace {

// A scratch directory of the test's own, removed with what it holds.
struct ScratchDir {
  std::string path;
  ScratchDir() {
    char name[] = "/tmp/dbr-small-file-XXXXXX";
    REQUIRE(::mkdtemp(name) != nullptr);
    path = name;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  std::string make(const std::string& name, const std::string& text) const {
    std::string file = path + "/" + name;
    FILE* f = std::fopen(file.c_str(), "w");
    REQUIRE(f != nullptr);
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
    return file;
  }
};

}  // namespace

TEST_CASE("small file: read whole, cut at the bound, and say why when it cannot") {
  ScratchDir dir;
  std::string big(10000, 'x');
  big += "tail";
  const std::string file = dir.make("big", big);
  CHECK(dbr::read_small_file(file) == big);
  CHECK(dbr::read_small_file(file, 5000) == std::string(5000, 'x'));
  CHECK(dbr::read_small_file(dir.make("empty", "")) == std::string());

  errno = 0;
  CHECK_FALSE(dbr::read_small_file(dir.path + "/missing"));
  CHECK(errno == ENOENT);
  errno = 0;
  CHECK_FALSE(dbr::read_small_file(dir.path));  // a directory opens, but read(2) says EISDIR
  CHECK(errno == EISDIR);
}

TEST_CASE("small file: write replaces the text of an existing file and never creates one") {
  ScratchDir dir;
  const std::string file = dir.make("comm", "old name that is longer");
  CHECK(dbr::write_small_file(file, "new"));
  // Like /proc/self/task/TID/comm: the write does not truncate, so the test
  // file keeps its tail; comm takes the new name whole.
  CHECK(dbr::read_small_file(file) == std::string("new name that is longer"));
  errno = 0;
  CHECK_FALSE(dbr::write_small_file(dir.path + "/missing", "x"));
  CHECK(errno == ENOENT);
  CHECK_FALSE(dbr::read_small_file(dir.path + "/missing"));
}

TEST_CASE("small file: a thread's name written to /proc reads back cut to the kernel's 15 bytes") {
  const std::string comm = "/proc/self/task/" + std::to_string(::gettid()) + "/comm";
  const auto before = dbr::read_small_file(comm);
  REQUIRE(before);
  REQUIRE(dbr::write_small_file(comm, "dbr-small-file-test"));
  CHECK(dbr::read_small_file(comm) == std::string("dbr-small-file-\n"));
  (void)dbr::write_small_file(comm, before->substr(0, before->size() - 1));
}
