#pragma once
// Encoder of client-to-server frames (RFC 6455 §5.2), sans-IO.
//
// "A client MUST mask all frames that it sends to the server" (§5.1), with
// a fresh key per frame from the injected random source: "The masking key
// needs to be unpredictable" (§5.3). Tests pin it with SeededRandom.
#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "common/random.hpp"
#include "ws/codec/frame.hpp"

namespace dbr::ws {

using MaskKey = std::array<std::uint8_t, 4>;

// Size on the wire of a client frame carrying `payload_bytes`.
std::size_t client_frame_size(std::size_t payload_bytes);

// Appends one masked frame to `out`.
void encode_frame(std::string& out, Opcode opcode, bool fin, std::span<const std::uint8_t> payload,
                  const MaskKey& mask);
// Same, with the key drawn from `random`.
void encode_frame(std::string& out, Opcode opcode, bool fin, std::span<const std::uint8_t> payload,
                  Random& random);

// XORs `data` in place with the key, starting at key offset `key_offset`
// (masking is its own inverse, so this also unmasks).
void apply_mask(std::span<std::uint8_t> data, const MaskKey& mask, std::size_t key_offset = 0);

// The payload of a Close frame: the status code in network byte order, then
// the UTF-8 reason, cut to fit the 125-byte control frame limit on a code
// point boundary.
std::string close_payload(std::uint16_t code, std::string_view reason);

inline std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace dbr::ws
