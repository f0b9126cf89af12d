#include "common/utf8.hpp"

#include <cstring>

namespace dbr {

// The well-formed byte sequences (RFC 3629 §4):
//   UTF8-1 = %x00-7F
//   UTF8-2 = %xC2-DF UTF8-tail
//   UTF8-3 = %xE0 %xA0-BF UTF8-tail / %xE1-EC 2( UTF8-tail ) /
//            %xED %x80-9F UTF8-tail / %xEE-EF 2( UTF8-tail )
//   UTF8-4 = %xF0 %x90-BF 2( UTF8-tail ) / %xF1-F3 3( UTF8-tail ) /
//            %xF4 %x80-8F 2( UTF8-tail )
// The narrowed second-byte ranges exclude overlong forms, surrogates
// (U+D800-DFFF) and code points above U+10FFFF.
bool Utf8Validator::feed(std::span<const std::uint8_t> bytes) {
  if (!valid_) return false;
  std::size_t i = 0;
  const std::size_t n = bytes.size();
  while (i < n) {
    if (needed_ == 0) {
      // ASCII fast path, eight bytes at a time.
      while (i + 8 <= n) {
        std::uint64_t word;
        std::memcpy(&word, bytes.data() + i, 8);
        if ((word & 0x8080808080808080ULL) != 0) break;
        i += 8;
      }
      if (i >= n) break;
      std::uint8_t b = bytes[i++];
      if (b < 0x80) continue;
      low_ = 0x80;
      high_ = 0xBF;
      if (b >= 0xC2 && b <= 0xDF) {
        needed_ = 1;
      } else if (b >= 0xE0 && b <= 0xEF) {
        needed_ = 2;
        if (b == 0xE0) low_ = 0xA0;
        if (b == 0xED) high_ = 0x9F;
      } else if (b >= 0xF0 && b <= 0xF4) {
        needed_ = 3;
        if (b == 0xF0) low_ = 0x90;
        if (b == 0xF4) high_ = 0x8F;
      } else {
        valid_ = false;
        return false;
      }
      continue;
    }
    std::uint8_t b = bytes[i++];
    if (b < low_ || b > high_) {
      valid_ = false;
      return false;
    }
    low_ = 0x80;
    high_ = 0xBF;
    --needed_;
  }
  return true;
}

void Utf8Validator::reset() {
  valid_ = true;
  needed_ = 0;
  low_ = 0x80;
  high_ = 0xBF;
}

bool is_valid_utf8(std::string_view text) {
  Utf8Validator v;
  v.feed({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
  return v.complete();
}

}  // namespace dbr
