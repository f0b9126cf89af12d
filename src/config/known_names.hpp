#pragma once
// What the key table knows by name, for messages about names it does not
// know: the sections, where a key belongs, and the closest known name to a
// misspelt one. Everything here is derived from key_table(); there is no
// second list of keys or sections.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/key_table.hpp"

namespace dbr::config {

// The sections of the key table, in table order, each once.
std::vector<std::string_view> section_names();
bool is_known_section(std::string_view name);

// The row of a key spelt exactly `key` in any section (for a key written
// under the wrong section), or nullptr.
const KeySpec* find_key_in_any_section(std::string_view key);

// Edits (insert, delete, substitute, swap two neighbours) between `a` and
// `b`, ignoring case.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate nearest to `word` when it is close enough to be a slip
// (at most a quarter of the candidate's length in edits, at least 1), the
// first one on a tie; nullopt when none is.
std::optional<std::string_view> closest_name(std::string_view word, const std::vector<std::string_view>& candidates);

// What to add to "unknown key 'K' in [S]" / "unknown section [S]": where the
// key belongs, or the name probably meant. Empty when there is nothing
// useful to say, else " (...)".
std::string unknown_key_hint(std::string_view section, std::string_view key);
std::string unknown_section_hint(std::string_view section);

}  // namespace dbr::config
