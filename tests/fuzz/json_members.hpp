#pragma once
// How the JSON targets read the oracle's view of a message: a member of an
// object by name, with nlohmann, absent when missing or of another type.
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace dbr::fuzz {

inline const nlohmann::json* member(const nlohmann::json& object, const char* name) {
  auto it = object.find(name);
  return it == object.end() ? nullptr : &*it;
}

inline std::optional<std::string> string_member(const nlohmann::json& object, const char* name) {
  const nlohmann::json* m = member(object, name);
  if (m == nullptr || !m->is_string()) return std::nullopt;
  return m->get<std::string>();
}

inline std::optional<std::uint64_t> uint_member(const nlohmann::json& object, const char* name) {
  const nlohmann::json* m = member(object, name);
  if (m == nullptr || !m->is_number_unsigned()) return std::nullopt;
  return m->get<std::uint64_t>();
}

}  // namespace dbr::fuzz
