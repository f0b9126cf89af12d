#include <doctest/doctest.h>

#include "log/log.hpp"

using namespace dbr::log;

TEST_CASE("level names are the Python agent's, case-insensitive") {
  CHECK(parse_level("DEBUG") == Level::Debug);
  CHECK(parse_level("info") == Level::Info);
  CHECK(parse_level("Warning") == Level::Warning);
  CHECK(parse_level("ERROR") == Level::Error);
  CHECK(parse_level("CRITICAL") == Level::Critical);
  CHECK_FALSE(parse_level("WARN"));
  CHECK_FALSE(parse_level(""));
  for (auto l : {Level::Debug, Level::Info, Level::Warning, Level::Error, Level::Critical})
    CHECK(parse_level(level_name(l)) == l);
}
