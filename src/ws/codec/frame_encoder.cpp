#include "ws/codec/frame_encoder.hpp"

#include <algorithm>
#include <cstring>

namespace dbr::ws {

bool is_sendable_close_code(std::uint16_t code) {
  // "1004 Reserved", "1005 ... MUST NOT be set as a status code in a Close
  // control frame by an endpoint", likewise 1006 and 1015; 0-999 "are not
  // used"; 1016-2999 are reserved for future revisions (§7.4.2).
  if (code >= 1000 && code <= 1003) return true;
  if (code >= 1007 && code <= 1014) return true;
  return code >= 3000 && code <= 4999;
}

std::size_t client_frame_size(std::size_t payload_bytes) {
  std::size_t header = 2 + 4;  // first two bytes + masking key
  if (payload_bytes > 0xFFFF)
    header += 8;
  else if (payload_bytes >= kLength16)
    header += 2;
  return header + payload_bytes;
}

void apply_mask(std::span<std::uint8_t> data, const MaskKey& mask, std::size_t key_offset) {
  // "octet i of the transformed data is the XOR of octet i of the original
  // data with octet at index i modulo 4 of the masking key" (§5.3)
  std::size_t i = 0;
  const std::size_t n = data.size();
  // Align the key to the data, then XOR eight bytes at a time.
  std::uint8_t rotated[8];
  for (std::size_t k = 0; k < 8; ++k) rotated[k] = mask[(key_offset + k) % 4];
  std::uint64_t key64;
  std::memcpy(&key64, rotated, 8);
  for (; i + 8 <= n; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, data.data() + i, 8);
    word ^= key64;
    std::memcpy(data.data() + i, &word, 8);
  }
  for (; i < n; ++i) data[i] ^= rotated[i % 8];
}

void encode_frame(std::string& out, Opcode opcode, bool fin, std::span<const std::uint8_t> payload,
                  const MaskKey& mask) {
  const std::size_t start = out.size();
  out.resize(start + client_frame_size(payload.size()));
  auto* p = reinterpret_cast<std::uint8_t*>(out.data()) + start;
  *p++ = static_cast<std::uint8_t>((fin ? kFinBit : 0) | static_cast<std::uint8_t>(opcode));
  // "The payload length is the length of the "Extension data" + the length
  // of the "Application data" ... the minimal number of bytes MUST be used to
  // encode the length" (§5.2)
  const std::uint64_t len = payload.size();
  if (len < kLength16) {
    *p++ = static_cast<std::uint8_t>(kMaskBit | len);
  } else if (len <= 0xFFFF) {
    *p++ = kMaskBit | kLength16;
    *p++ = static_cast<std::uint8_t>(len >> 8);
    *p++ = static_cast<std::uint8_t>(len);
  } else {
    *p++ = kMaskBit | kLength64;
    for (int shift = 56; shift >= 0; shift -= 8) *p++ = static_cast<std::uint8_t>(len >> shift);
  }
  std::memcpy(p, mask.data(), 4);
  p += 4;
  if (!payload.empty()) {
    std::memcpy(p, payload.data(), payload.size());
    apply_mask({p, payload.size()}, mask);
  }
}

void encode_frame(std::string& out, Opcode opcode, bool fin, std::span<const std::uint8_t> payload,
                  Random& random) {
  MaskKey mask;
  random.fill(mask);
  encode_frame(out, opcode, fin, payload, mask);
}

std::string close_payload(std::uint16_t code, std::string_view reason) {
  std::string out;
  out.push_back(static_cast<char>(code >> 8));
  out.push_back(static_cast<char>(code & 0xFF));
  // "All control frames MUST have a payload length of 125 bytes or less"
  // (§5.5): the reason gets at most 123 bytes. Cut before a continuation
  // byte so the reason stays valid UTF-8.
  std::size_t n = std::min<std::size_t>(reason.size(), kMaxControlPayload - 2);
  if (n < reason.size())
    while (n > 0 && (static_cast<std::uint8_t>(reason[n]) & 0xC0) == 0x80) --n;
  out.append(reason.substr(0, n));
  return out;
}

}  // namespace dbr::ws
