#include "config/known_names.hpp"

#include <algorithm>

#include "config/text.hpp"

namespace dbr::config {

std::vector<std::string_view> section_names() {
  std::vector<std::string_view> names;
  for (const auto& spec : key_table())
    if (std::find(names.begin(), names.end(), spec.section) == names.end()) names.push_back(spec.section);
  return names;
}

bool is_known_section(std::string_view name) {
  auto names = section_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

const KeySpec* find_key_in_any_section(std::string_view key) {
  for (const auto& spec : key_table())
    if (spec.key == key) return &spec;
  return nullptr;
}

std::size_t edit_distance(std::string_view a_text, std::string_view b_text) {
  // Optimal string alignment distance: Levenshtein plus the swap of two
  // neighbours as one edit ("Websokcet" is one slip from "Websocket").
  const std::string a = to_lower(a_text), b = to_lower(b_text);
  const std::size_t n = a.size(), m = b.size();
  std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1));
  for (std::size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    for (std::size_t j = 1; j <= m; ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[n][m];
}

std::optional<std::string_view> closest_name(std::string_view word, const std::vector<std::string_view>& candidates) {
  std::optional<std::string_view> best;
  std::size_t best_distance = 0;
  for (auto candidate : candidates) {
    const std::size_t distance = edit_distance(word, candidate);
    const std::size_t close_enough = std::max<std::size_t>(1, candidate.size() / 4);
    if (distance > close_enough) continue;
    if (!best || distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

namespace {

std::vector<std::string_view> keys_where(bool in_section, std::string_view section) {
  std::vector<std::string_view> keys;
  for (const auto& spec : key_table())
    if ((spec.section == section) == in_section) keys.push_back(spec.key);
  return keys;
}

}  // namespace

std::string unknown_key_hint(std::string_view section, std::string_view key) {
  if (const KeySpec* home = find_key_in_any_section(key))
    return " (it belongs in [" + std::string(home->section) + "])";
  // A slip in the right section is likelier than a key from another one.
  auto near = closest_name(key, keys_where(true, section));
  if (!near) near = closest_name(key, keys_where(false, section));
  if (!near) return {};
  const KeySpec* elsewhere = find_key(section, *near) ? nullptr : find_key_in_any_section(*near);
  std::string where = elsewhere ? " in [" + std::string(elsewhere->section) + "]" : std::string();
  if (to_lower(*near) == to_lower(key))
    return " (keys are case-sensitive: did you mean '" + std::string(*near) + "'" + where + "?)";
  return " (did you mean '" + std::string(*near) + "'" + where + "?)";
}

std::string unknown_section_hint(std::string_view section) {
  auto near = closest_name(section, section_names());
  if (!near) return {};
  if (to_lower(*near) == to_lower(section))
    return " (section names are case-sensitive: did you mean [" + std::string(*near) + "]?)";
  return " (did you mean [" + std::string(*near) + "]?)";
}

}  // namespace dbr::config
