#pragma once
// Incremental UTF-8 validation (RFC 3629 §4), for text messages that arrive
// in pieces: a code point may be split across reads and frames.
//
// "When an endpoint is to interpret a byte stream as UTF-8 but finds that the
// byte stream is not, in fact, a valid UTF-8 stream, that endpoint MUST _Fail
// the WebSocket Connection_." (RFC 6455 §8.1) The validator fails at the
// first byte that cannot continue a valid sequence, so a bad message is
// rejected before the rest of it arrives.
#include <cstdint>
#include <span>
#include <string_view>

namespace dbr {

class Utf8Validator {
 public:
  // False once the bytes fed so far cannot be a prefix of valid UTF-8
  // (sticky until reset()).
  bool feed(std::span<const std::uint8_t> bytes);
  // True when the bytes fed so far are valid and end on a code point boundary.
  bool complete() const { return valid_ && needed_ == 0; }
  bool valid() const { return valid_; }
  void reset();

 private:
  bool valid_ = true;
  std::uint8_t needed_ = 0;  // continuation bytes still expected
  std::uint8_t low_ = 0x80;  // allowed range of the next continuation byte
  std::uint8_t high_ = 0xBF;
};

bool is_valid_utf8(std::string_view text);

}  // namespace dbr
