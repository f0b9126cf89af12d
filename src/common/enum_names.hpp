#pragma once
// The names of an enum's values, from one table: each enumerator beside its
// name. enum_names() checks the table as it compiles: the enumerators are
// listed in declaration order, each once, with none left out, so a table
// cannot fall behind its enum (as a switch could not, under -Wswitch). A
// mistake is a compile error at the `throw` that names it.
//
//   constexpr auto kStateNames = enum_names<State>({
//       {State::Stopped, "Stopped"}, {State::Connecting, "Connecting"}, {State::Connected, "Connected"}});
//
//   std::string_view state_name(State s) { return kStateNames.name(s, "?"); }
//
// A constexpr table at namespace scope is already private to its .cpp; the
// entries go several to a line, as many as fit. For enums whose enumerators
// take the values 0, 1, 2, ... (none is given a value), as every enum this
// project names does.
#include <array>
#include <cstddef>
#include <string_view>

namespace dbr {

template <typename Enum>
struct EnumName {
  Enum value;
  std::string_view name;
};

template <typename Enum, std::size_t N>
class EnumNames {
 public:
  explicit constexpr EnumNames(const std::array<std::string_view, N>& names) : names_(names) {}

  // `fallback` for a value that is no enumerator (made by a cast).
  constexpr std::string_view name(Enum value, std::string_view fallback) const {
    const auto index = static_cast<std::size_t>(value);
    return index < N ? names_[index] : fallback;
  }

 private:
  std::array<std::string_view, N> names_;
};

namespace enum_names_detail {

// Whether V is one of its enum's enumerators. GCC and Clang end
// __PRETTY_FUNCTION__ with V spelt by name for an enumerator
// ("[... V = dbr::log::Level::Info]") and as a cast for any other value of
// the type ("[... V = (dbr::log::Level)5]").
template <auto V>
constexpr bool is_enumerator() {
  constexpr std::string_view signature = __PRETTY_FUNCTION__;
  std::size_t at = signature.rfind(']');
  if (at == std::string_view::npos) return false;
  while (at > 0 && signature[at - 1] >= '0' && signature[at - 1] <= '9') --at;
  if (at > 0 && signature[at - 1] == '-') --at;
  return at == 0 || signature[at - 1] != ')';
}

// The spelling this relies on, checked once here (Second2: a name may end
// in digits, as a cast does).
enum class Probe { Only, Second2 };
static_assert(is_enumerator<Probe::Only>() && is_enumerator<Probe::Second2>() &&
                  !is_enumerator<static_cast<Probe>(2)>() && !is_enumerator<static_cast<Probe>(-1)>(),
              "this compiler spells values in __PRETTY_FUNCTION__ unlike GCC and Clang");

}  // namespace enum_names_detail

template <typename Enum, std::size_t N>
consteval EnumNames<Enum, N> enum_names(const EnumName<Enum> (&entries)[N]) {
  std::array<std::string_view, N> names{};
  for (std::size_t i = 0; i < N; ++i) {
    if (static_cast<std::size_t>(entries[i].value) != i)
      throw "enum_names: list the enumerators in declaration order, each once";
    names[i] = entries[i].name;
  }
  if (enum_names_detail::is_enumerator<static_cast<Enum>(N)>())
    throw "enum_names: an enumerator after the last one listed is missing";
  return EnumNames<Enum, N>(names);
}

}  // namespace dbr
