#pragma once
// base64url without padding (RFC 7515 §2, "Base64url Encoding"), as JWS
// compact serialization needs.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace dbr::pubsub {

std::string base64url_encode(std::span<const std::uint8_t> bytes);
std::string base64url_encode(std::string_view text);

}  // namespace dbr::pubsub
