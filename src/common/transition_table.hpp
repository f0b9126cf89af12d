#pragma once
// The vocabulary of the agent's transition tables (the connection
// supervisor's, the WebSocket codec's): the set of states a row applies to,
// and the report of an input that no row covers in the current state.
//
// One policy for such a pair in every machine: nothing changes, the machine
// returns an UnexpectedInput naming itself, the state and the input, and its
// adapter counts it and logs it once as a WARNING. A sans-IO core never
// throws on its inputs: an adapter bug must not take the agent down.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace dbr {

// A set of values of a small enum (at most 32 values), for table rows.
template <typename Enum>
class EnumSet {
 public:
  constexpr EnumSet(std::initializer_list<Enum> values) {
    for (Enum value : values) bits_ |= bit(value);
  }
  constexpr bool contains(Enum value) const { return (bits_ & bit(value)) != 0; }
  constexpr EnumSet without(Enum value) const { return EnumSet(bits_ & ~bit(value)); }

 private:
  constexpr explicit EnumSet(std::uint32_t bits) : bits_(bits) {}
  static constexpr std::uint32_t bit(Enum value) { return std::uint32_t{1} << static_cast<unsigned>(value); }
  std::uint32_t bits_ = 0;
};

// The names are static strings (the machines' name functions return
// literals), so the value can cross threads and outlive the machine.
struct UnexpectedInput {
  std::string_view machine;  // "supervisor", "ws codec"
  std::string_view state;
  std::string_view input;
  bool operator==(const UnexpectedInput&) const = default;
};

// "supervisor: unexpected input AttemptDue in state Connecting"
std::string describe(const UnexpectedInput& unexpected);

}  // namespace dbr
