// Tables enum_names() must refuse to compile, one per CASE_* macro; CTest
// compiles each and passes when the compiler names the mistake
// (tests/unit/common/CMakeLists.txt).
#include "common/enum_names.hpp"

enum class Colour { Red, Green, Blue };

constexpr auto kColourNames = dbr::enum_names<Colour>({
#if defined(CASE_missing_last)
    {Colour::Red, "red"}, {Colour::Green, "green"}
#elif defined(CASE_missing_middle)
    {Colour::Red, "red"}, {Colour::Blue, "blue"}
#elif defined(CASE_duplicate)
    {Colour::Red, "red"}, {Colour::Red, "red"}, {Colour::Blue, "blue"}
#elif defined(CASE_out_of_order)
    {Colour::Green, "green"}, {Colour::Red, "red"}, {Colour::Blue, "blue"}
#else
    {Colour::Red, "red"}, {Colour::Green, "green"}, {Colour::Blue, "blue"}
#endif
});
