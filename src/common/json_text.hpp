#pragma once
// JSON as text: validate a document (RFC 8259) and find the exact bytes of
// its values, so a relay can pass bodies on unchanged (key order, number
// spelling, escapes) and splice in what it changes, instead of parsing into
// a tree and writing it out again (nlohmann sorts keys and respells numbers).
//
// Strict: UTF-8 text only (RFC 8259 §8.1 "MUST be encoded using UTF-8");
// no control characters in strings (§7 "the characters that MUST be
// escaped ... the control characters (U+0000 through U+001F)"); escapes
// limited to §7's list; \u escapes must pair surrogates (an unpaired one
// names no character, and nlohmann rejects it too); numbers by §6's grammar;
// nothing but white space after the value. Sans-IO and non-recursive:
// nesting is tracked on a small stack bounded by kMaxDepth, so hostile input
// cannot exhaust the call stack; deeper input is rejected.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dbr::json_text {

inline constexpr std::size_t kMaxDepth = 256;

enum class Kind { Object, Array, String, Number, True, False, Null };

// A validated value: `text` is its exact bytes in the document.
struct Value {
  Kind kind = Kind::Null;
  std::string_view text;
};

// One member of an object, in document order.
struct Member {
  std::string_view key_raw;  // between the quotes, escapes not decoded
  Value value;
  // The decoded key equals `name`.
  bool key_is(std::string_view name) const;
};

struct ParseError {
  std::size_t offset = 0;
  std::string what;  // never quotes the input
};

// The whole of `text` as one JSON value (white space around it allowed).
// On failure, `error` (if given) says where and why.
std::optional<Value> parse(std::string_view text, ParseError* error = nullptr);

// The members of a validated object value, in document order; duplicates
// are kept (find() takes the last, as JSON.parse and Python's json do).
std::vector<Member> members(Value object);
const Member* find(const std::vector<Member>& members, std::string_view name);

// Typed reads of validated values; nullopt when the kind does not match.
std::optional<std::string> string_of(Value value);     // escapes decoded, UTF-8
std::optional<std::uint64_t> uint_of(Value value);     // an integer 0 .. 2^64-1, no fraction or exponent
std::optional<bool> bool_of(Value value);

// A value taken out of the document that holds it, without copying its
// bytes: the document's string is moved in whole and the value is kept as
// an offset into it (moving the owner keeps the view right). Empty (kind
// Null, text "null") when default-made.
class OwnedValue {
 public:
  OwnedValue() = default;
  // `value` must view into `document`.
  OwnedValue(std::string&& document, Value value);
  // A whole document that is already known to be valid JSON (the caller
  // built it); not checked.
  static OwnedValue trusted(std::string json, Kind kind);

  Kind kind() const { return kind_; }
  std::string_view text() const;
  Value value() const { return {kind_, text()}; }

 private:
  std::string document_;
  std::size_t offset_ = 0;
  std::size_t length_ = 0;
  Kind kind_ = Kind::Null;
};

// `text` (UTF-8) as a JSON string literal: quotes, and escapes for '"',
// '\\' and the control characters; other characters pass unescaped. Bytes
// that are not UTF-8 become U+FFFD (callers pass UTF-8; this keeps the
// output valid JSON whatever happens).
std::string quote(std::string_view text);

// `document` with the bytes of `old_value` (a view into it) replaced by
// `replacement`.
std::string splice(std::string_view document, std::string_view old_value, std::string_view replacement);

}  // namespace dbr::json_text
