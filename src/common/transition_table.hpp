#pragma once
// The transition tables of the agent's state machines (the connection
// supervisor's, the WebSocket codec's): rows, their lookup, the check that
// each rule is written once, and the report of an input no row covers.
//
// One policy for such a pair in every machine: nothing changes, the machine
// returns an UnexpectedInput naming itself, the state and the input, and its
// adapter counts it and logs it once as a WARNING. A sans-IO core never
// throws on its inputs: an adapter bug must not take the agent down.
#include <cstddef>
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

// One rule: in any of `states`, under any of `conditions` (what the state
// alone does not say: the supervisor's attempt phase, whether the codec's
// deadline has passed), `input` runs `handler`; a null handler absorbs the
// input and nothing changes.
template <typename State, typename Condition, typename Input, typename Handler>
struct TransitionRow {
  Input input;
  EnumSet<State> states;
  EnumSet<Condition> conditions;
  Handler handler;

  constexpr bool covers(State state, Condition condition, Input in) const {
    return in == input && states.contains(state) && conditions.contains(condition);
  }
};

// The row that covers (state, condition, input), or nullptr: unexpected.
template <typename Row, std::size_t N, typename State, typename Condition, typename Input>
constexpr const Row* find_row(const Row (&rows)[N], State state, Condition condition, Input input) {
  for (const Row& row : rows)
    if (row.covers(state, condition, input)) return &row;
  return nullptr;
}

// True when no (state, condition, input), over every value of each enum up
// to the last one named, is covered by two rows: each rule is written once.
// For a static_assert next to the table.
template <auto kLastState, auto kLastCondition, auto kLastInput, typename Row, std::size_t N>
constexpr bool rows_are_disjoint(const Row (&rows)[N]) {
  using State = decltype(kLastState);
  using Condition = decltype(kLastCondition);
  using Input = decltype(kLastInput);
  for (int s = 0; s <= static_cast<int>(kLastState); ++s)
    for (int c = 0; c <= static_cast<int>(kLastCondition); ++c)
      for (int i = 0; i <= static_cast<int>(kLastInput); ++i) {
        int covering = 0;
        for (const Row& row : rows) covering += row.covers(State(s), Condition(c), Input(i)) ? 1 : 0;
        if (covering > 1) return false;
      }
  return true;
}

// The names are static strings (the machines' name functions return
// literals), so the value can cross threads and outlive the machine.
struct UnexpectedInput {
  std::string_view machine;  // "supervisor", "ws codec"
  std::string_view state;
  std::string_view input;
  bool operator==(const UnexpectedInput&) const = default;
};

// "supervisor: unexpected input AttemptDue in state Connecting"
inline std::string describe(const UnexpectedInput& unexpected) {
  return std::string(unexpected.machine) + ": unexpected input " + std::string(unexpected.input) + " in state " +
         std::string(unexpected.state);
}

}  // namespace dbr
