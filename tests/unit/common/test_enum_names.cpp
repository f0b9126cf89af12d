// enum_names: the checked table behind every enum-to-name function, and the
// names those functions give (values that reach logs, status.json and the
// web front end).
#include <doctest/doctest.h>

#include <cstdint>

#include "common/enum_names.hpp"
#include "common/failure_kind.hpp"
#include "common/log_level.hpp"

using namespace dbr;

namespace {

enum class Colour : std::uint8_t { Red, Green, Blue10 };

constexpr auto kColourNames =
    enum_names<Colour>({{Colour::Red, "red"}, {Colour::Green, "green"}, {Colour::Blue10, "blue"}});

// The lookup is a constant expression.
static_assert(kColourNames.name(Colour::Green, "?") == "green");
static_assert(kColourNames.name(static_cast<Colour>(7), "?") == "?");

}  // namespace

TEST_CASE("enum_names: each enumerator gets its own name; any other value the fallback") {
  CHECK(kColourNames.name(Colour::Red, "?") == "red");
  CHECK(kColourNames.name(Colour::Green, "?") == "green");
  CHECK(kColourNames.name(Colour::Blue10, "?") == "blue");
  CHECK(kColourNames.name(static_cast<Colour>(3), "?") == "?");
  CHECK(kColourNames.name(static_cast<Colour>(255), "none") == "none");
}

TEST_CASE("enum_names: the project's names keep their spelling") {
  CHECK(failure_kind_name(FailureKind::InvalidUrl) == "invalid URL");
  CHECK(failure_kind_name(FailureKind::HttpStatus) == "HTTP status");
  CHECK(failure_kind_name(FailureKind::SendQueueFull) == "send queue full");
  CHECK(failure_kind_name(FailureKind::Io) == "I/O");
  CHECK(failure_kind_name(static_cast<FailureKind>(99)) == "?");
  CHECK(log::level_name(log::Level::Warning) == "WARNING");
  CHECK(log::level_name(log::Level::Critical) == "CRITICAL");
  CHECK(log::level_name(static_cast<log::Level>(99)) == "INFO");
}
