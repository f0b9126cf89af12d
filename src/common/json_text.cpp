#include "common/json_text.hpp"

#include <array>

#include "common/utf8.hpp"

namespace dbr::json_text {

namespace {

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Four hex digits at `at`, or -1.
long hex4(std::string_view s, std::size_t at) {
  if (at + 4 > s.size()) return -1;
  long v = 0;
  for (std::size_t k = 0; k < 4; ++k) {
    int h = hex_value(s[at + k]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

bool is_high_surrogate(long u) { return u >= 0xD800 && u <= 0xDBFF; }
bool is_low_surrogate(long u) { return u >= 0xDC00 && u <= 0xDFFF; }

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Walks JSON text that is known to be UTF-8. Each scan_* takes the offset
// of a token's first byte and returns the offset just past it, or nullopt
// (with the error recorded).
class Scanner {
 public:
  Scanner(std::string_view text, ParseError* error) : s_(text), error_(error) {}

  std::size_t skip_ws(std::size_t at) const {
    while (at < s_.size() && is_ws(s_[at])) ++at;
    return at;
  }

  // §7: string = quotation-mark *char quotation-mark.
  std::optional<std::size_t> scan_string(std::size_t at) {
    if (at >= s_.size() || s_[at] != '"') return fail(at, "expected a string");
    ++at;
    while (at < s_.size()) {
      const auto c = static_cast<unsigned char>(s_[at]);
      if (c == '"') return at + 1;
      if (c < 0x20) return fail(at, "control character in a string");
      if (c != '\\') {
        ++at;
        continue;
      }
      if (at + 1 >= s_.size()) break;
      const char e = s_[at + 1];
      if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') {
        at += 2;
        continue;
      }
      if (e != 'u') return fail(at, "invalid escape in a string");
      const long u = hex4(s_, at + 2);
      if (u < 0) return fail(at, "invalid \\u escape");
      at += 6;
      if (is_low_surrogate(u)) return fail(at - 6, "unpaired surrogate escape");
      if (is_high_surrogate(u)) {
        const long low = (at + 1 < s_.size() && s_[at] == '\\' && s_[at + 1] == 'u') ? hex4(s_, at + 2) : -1;
        if (!is_low_surrogate(low)) return fail(at - 6, "unpaired surrogate escape");
        at += 6;
      }
    }
    return fail(at, "unterminated string");
  }

  // §6: number = [ minus ] int [ frac ] [ exp ].
  std::optional<std::size_t> scan_number(std::size_t at) {
    const std::size_t start = at;
    if (at < s_.size() && s_[at] == '-') ++at;
    if (at >= s_.size() || !is_digit(s_[at])) return fail(start, "invalid number");
    if (s_[at] == '0') {
      ++at;  // "Leading zeros are not allowed."
    } else {
      while (at < s_.size() && is_digit(s_[at])) ++at;
    }
    if (at < s_.size() && s_[at] == '.') {
      ++at;
      if (at >= s_.size() || !is_digit(s_[at])) return fail(start, "invalid number");
      while (at < s_.size() && is_digit(s_[at])) ++at;
    }
    if (at < s_.size() && (s_[at] == 'e' || s_[at] == 'E')) {
      ++at;
      if (at < s_.size() && (s_[at] == '+' || s_[at] == '-')) ++at;
      if (at >= s_.size() || !is_digit(s_[at])) return fail(start, "invalid number");
      while (at < s_.size() && is_digit(s_[at])) ++at;
    }
    return at;
  }

  // One value starting at `at` (no leading white space), nested values
  // included, without recursion.
  std::optional<std::size_t> scan_value(std::size_t at) {
    std::array<char, kMaxDepth> open{};  // '{' or '[' per level
    std::size_t depth = 0;
    enum class Next { Value, Key, AfterValue } next = Next::Value;
    while (true) {
      if (next == Next::Key) {
        auto end = scan_string(at);
        if (!end) return std::nullopt;
        at = skip_ws(*end);
        if (at >= s_.size() || s_[at] != ':') return fail(at, "expected ':' after a key");
        at = skip_ws(at + 1);
        next = Next::Value;
        continue;
      }
      if (next == Next::Value) {
        if (at >= s_.size()) return fail(at, "expected a value");
        const char c = s_[at];
        if (c == '{' || c == '[') {
          if (depth == kMaxDepth) return fail(at, "nested deeper than " + std::to_string(kMaxDepth));
          open[depth++] = c;
          at = skip_ws(at + 1);
          const char close = c == '{' ? '}' : ']';
          if (at < s_.size() && s_[at] == close) {
            --depth;
            ++at;
            next = Next::AfterValue;
          } else {
            next = c == '{' ? Next::Key : Next::Value;
          }
          continue;
        }
        std::optional<std::size_t> end;
        if (c == '"')
          end = scan_string(at);
        else if (c == '-' || is_digit(c))
          end = scan_number(at);
        else
          end = scan_literal(at);
        if (!end) return std::nullopt;
        at = *end;
        next = Next::AfterValue;
        continue;
      }
      // AfterValue
      if (depth == 0) return at;
      at = skip_ws(at);
      if (at >= s_.size()) return fail(at, "unterminated object or array");
      const char top = open[depth - 1];
      if (s_[at] == ',') {
        at = skip_ws(at + 1);
        next = top == '{' ? Next::Key : Next::Value;
      } else if (s_[at] == (top == '{' ? '}' : ']')) {
        --depth;
        ++at;
      } else {
        return fail(at, top == '{' ? "expected ',' or '}'" : "expected ',' or ']'");
      }
    }
  }

 private:
  std::optional<std::size_t> scan_literal(std::size_t at) {
    for (std::string_view word : {std::string_view("true"), std::string_view("false"), std::string_view("null")})
      if (s_.substr(at, word.size()) == word) return at + word.size();
    return fail(at, "unexpected character");
  }

  std::optional<std::size_t> fail(std::size_t at, std::string what) {
    if (error_ != nullptr) *error_ = ParseError{at, std::move(what)};
    return std::nullopt;
  }

  std::string_view s_;
  ParseError* error_;
};

Kind kind_of(char first) {
  switch (first) {
    case '{': return Kind::Object;
    case '[': return Kind::Array;
    case '"': return Kind::String;
    case 't': return Kind::True;
    case 'f': return Kind::False;
    case 'n': return Kind::Null;
    default: return Kind::Number;
  }
}

// Decodes the inside of a validated string literal (between the quotes).
std::string decode_string_body(std::string_view body) {
  std::string out;
  out.reserve(body.size());
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (body[i] != '\\') {
      out += body[i];
      continue;
    }
    const char e = body[++i];
    switch (e) {
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        const long unit = hex4(body, i + 1);  // the scanner validated it
        auto cp = static_cast<std::uint32_t>(unit);
        i += 4;
        if (is_high_surrogate(unit)) {
          auto low = static_cast<std::uint32_t>(hex4(body, i + 3));
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          i += 6;
        }
        append_utf8(out, cp);
        break;
      }
      default: out += e; break;  // '"', '\\', '/'
    }
  }
  return out;
}

}  // namespace

bool Member::key_is(std::string_view name) const {
  if (key_raw.find('\\') == std::string_view::npos) return key_raw == name;
  return decode_string_body(key_raw) == name;
}

std::optional<Value> parse(std::string_view text, ParseError* error) {
  if (!is_valid_utf8(text)) {
    if (error != nullptr) *error = ParseError{0, "not UTF-8"};
    return std::nullopt;
  }
  Scanner scanner(text, error);
  const std::size_t start = scanner.skip_ws(0);
  auto end = scanner.scan_value(start);
  if (!end) return std::nullopt;
  if (scanner.skip_ws(*end) != text.size()) {
    if (error != nullptr) *error = ParseError{*end, "text after the value"};
    return std::nullopt;
  }
  return Value{kind_of(text[start]), text.substr(start, *end - start)};
}

std::vector<Member> members(Value object) {
  std::vector<Member> out;
  if (object.kind != Kind::Object) return out;
  const std::string_view s = object.text;
  Scanner scanner(s, nullptr);
  std::size_t at = scanner.skip_ws(1);
  while (at < s.size() && s[at] == '"') {
    const std::size_t key_end = *scanner.scan_string(at);
    const std::size_t value_start = scanner.skip_ws(scanner.skip_ws(key_end) + 1);
    const std::size_t value_end = *scanner.scan_value(value_start);
    out.push_back(Member{s.substr(at + 1, key_end - at - 2),
                         Value{kind_of(s[value_start]), s.substr(value_start, value_end - value_start)}});
    at = scanner.skip_ws(value_end);
    if (s[at] == ',') at = scanner.skip_ws(at + 1);
  }
  return out;
}

const Member* find(const std::vector<Member>& members, std::string_view name) {
  for (auto it = members.rbegin(); it != members.rend(); ++it)
    if (it->key_is(name)) return &*it;
  return nullptr;
}

std::optional<std::string> string_of(Value value) {
  if (value.kind != Kind::String) return std::nullopt;
  return decode_string_body(value.text.substr(1, value.text.size() - 2));
}

std::optional<std::uint64_t> uint_of(Value value) {
  if (value.kind != Kind::Number || value.text.empty()) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : value.text) {
    if (!is_digit(c)) return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (v > (UINT64_MAX - digit) / 10) return std::nullopt;
    v = v * 10 + digit;
  }
  return v;
}

std::optional<bool> bool_of(Value value) {
  if (value.kind == Kind::True) return true;
  if (value.kind == Kind::False) return false;
  return std::nullopt;
}

OwnedValue::OwnedValue(std::string&& document, Value value)
    // The offset is taken before the move: a short string's bytes move to
    // another buffer, a long one's buffer moves along.
    : offset_(static_cast<std::size_t>(value.text.data() - document.data())),
      length_(value.text.size()),
      kind_(value.kind) {
  document_ = std::move(document);
}

OwnedValue OwnedValue::trusted(std::string json, Kind kind) {
  OwnedValue v;
  v.length_ = json.size();
  v.kind_ = kind;
  v.document_ = std::move(json);
  return v;
}

std::string_view OwnedValue::text() const {
  if (document_.empty()) return "null";
  return std::string_view(document_).substr(offset_, length_);
}

std::string quote(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      // Copy one well-formed UTF-8 sequence, or write U+FFFD for a bad byte.
      std::size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
      if (i + len <= text.size() && is_valid_utf8(text.substr(i, len))) {
        out.append(text.substr(i, len));
        i += len;
      } else {
        out += "\xEF\xBF\xBD";
        ++i;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0x0F];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
  return out;
}

std::string splice(std::string_view document, std::string_view old_value, std::string_view replacement) {
  const auto offset = static_cast<std::size_t>(old_value.data() - document.data());
  std::string out;
  out.reserve(document.size() - old_value.size() + replacement.size());
  out.append(document.substr(0, offset));
  out.append(replacement);
  out.append(document.substr(offset + old_value.size()));
  return out;
}

}  // namespace dbr::json_text
