#pragma once
// The config key table: every key the agent reads, its section, its default,
// the form it expects and how it is parsed into Config. One row per key.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace dbr::config {

enum class Applied { Ok, Invalid, Warning };

struct KeySpec {
  std::string_view section;
  std::string_view key;
  // Parsed through `apply` like a file value; empty means no value, or a
  // default derived from other keys (load.cpp says which).
  std::string_view default_text;
  std::string expected;  // the accepted form, for error messages
  bool secret = false;   // never quote its value in a message
  // Stores `value` into the config. Invalid: `value` is not of the expected
  // form (`detail` may say more). Warning: stored a fallback, `detail` says.
  std::function<Applied(Config&, std::string_view value, std::string& detail)> apply;
};

const std::vector<KeySpec>& key_table();
const KeySpec* find_key(std::string_view section, std::string_view key);

}  // namespace dbr::config
