#pragma once
// Small string helpers for config parsing.
#include <string>
#include <string_view>
#include <vector>

namespace dbr::config {

std::string_view trim(std::string_view s);
std::vector<std::string_view> split(std::string_view s, char sep);
std::string to_lower(std::string_view s);

}  // namespace dbr::config
