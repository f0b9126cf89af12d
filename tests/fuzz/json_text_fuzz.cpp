// libFuzzer target for the JSON text scanner (common/json_text), which
// every JSON the agent relays passes through: Web PubSub frames, NATS
// payloads, group messages.
//
// Checked besides the sanitizers:
//   - parse agrees with nlohmann on validity, except where RFC 8259 leaves
//     room and the two choose differently: a leading byte order mark
//     (nlohmann skips it, json_text refuses it, as §8.1 allows), nesting
//     beyond kMaxDepth (json_text refuses it), a number beyond a double
//     (nlohmann refuses it), a NUL byte (nlohmann ends the input there;
//     json_text must refuse it);
//   - a value's text is the input without its surrounding white space;
//   - the members of every object (nested ones too): each key re-parses as
//     a string, each value's text re-parses to the same kind and bytes, and
//     find() returns the last member of a name, as nlohmann keeps;
//   - string_of decodes to what nlohmann decodes; uint_of reads what
//     nlohmann reads as an unsigned integer;
//   - splice of a valid value in place of any member's value keeps the
//     document valid, with every other byte unchanged;
//   - quote() of any bytes is a JSON string, and of UTF-8 text one that
//     decodes back to it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/json_text.hpp"
#include "common/utf8.hpp"
#include "fuzz/require.hpp"

namespace {

using dbr::fuzz::require;

namespace jt = dbr::json_text;
using nlohmann::json;

constexpr std::size_t kMaxValuesChecked = 64;
constexpr std::size_t kMaxReplacements = 4;

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ws(s.back())) s.remove_suffix(1);
  return s;
}

// Nesting depth of brackets outside strings, for valid JSON text.
std::size_t depth_of(std::string_view text) {
  std::size_t depth = 0, deepest = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return deepest;
}

// Whether nlohmann refuses `text` only for a number it cannot hold.
bool number_overflow(std::string_view text) {
  try {
    (void)json::parse(text);
  } catch (const json::out_of_range& e) {
    return e.id == 406;
  } catch (const json::exception&) {
  }
  return false;
}

void check_value(jt::Value value, const json& tree, std::vector<jt::Value>& pending) {
  const auto again = jt::parse(value.text);
  require(again && again->kind == value.kind && again->text == value.text);
  switch (value.kind) {
    case jt::Kind::Object: {
      require(tree.is_object());
      const auto members = jt::members(value);
      for (const auto& m : members) {
        const std::string key_text = "\"" + std::string(m.key_raw) + "\"";
        const auto key = jt::parse(key_text);
        require(key && key->kind == jt::Kind::String);
        const auto name = jt::string_of(*key);
        require(name && tree.contains(*name) && m.key_is(*name));
        // find() takes the last member of a name; nlohmann keeps the last.
        if (jt::find(members, *name) == &m) require(json::parse(m.value.text) == tree.at(*name));
        pending.push_back(m.value);
      }
      require(members.size() >= tree.size());
      break;
    }
    case jt::Kind::Array: require(tree.is_array()); break;
    case jt::Kind::String: require(tree.is_string() && jt::string_of(value) == tree.get<std::string>()); break;
    case jt::Kind::Number:
      require(tree.is_number());
      if (tree.is_number_unsigned())
        require(jt::uint_of(value) == tree.get<std::uint64_t>());
      else
        require(!jt::uint_of(value));
      break;
    case jt::Kind::True: require(tree == true && jt::bool_of(value) == true); break;
    case jt::Kind::False: require(tree == false && jt::bool_of(value) == false); break;
    case jt::Kind::Null: require(tree.is_null()); break;
  }
}

// Every member value replaced by one replacement: still valid, and only
// those bytes changed.
void check_splices(std::string_view document, jt::Value root, std::string_view replacement) {
  if (root.kind != jt::Kind::Object) return;
  for (const auto& m : jt::members(root)) {
    const std::string spliced = jt::splice(document, m.value.text, replacement);
    const auto value = jt::parse(spliced);
    require(value && value->kind == jt::Kind::Object);
    const auto offset = static_cast<std::size_t>(m.value.text.data() - document.data());
    require(spliced.substr(0, offset) == document.substr(0, offset));
    require(spliced.substr(offset + replacement.size()) == document.substr(offset + m.value.text.size()));
    require(jt::members(*value).size() == jt::members(root).size());
  }
}

void check_quote(std::string_view bytes) {
  const std::string quoted = jt::quote(bytes);
  const auto value = jt::parse(quoted);
  require(value && value->kind == jt::Kind::String && value->text == quoted);
  if (dbr::is_valid_utf8(bytes)) require(jt::string_of(*value) == bytes);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  jt::ParseError error;
  const auto value = jt::parse(text, &error);
  check_quote(text);

  // A NUL byte is never JSON (§2 white space, §7 "control characters"),
  // but nlohmann's lexer takes it as the end of input.
  if (text.find('\0') != std::string_view::npos) {
    require(!value);
    return 0;
  }
  const bool nlohmann_accepts = json::accept(text);
  if (!value) {
    require(error.offset <= size && !error.what.empty());
    if (nlohmann_accepts) require(text.starts_with("\xEF\xBB\xBF") || depth_of(text) > jt::kMaxDepth);
    return 0;
  }
  require(value->text == trim(text));
  if (!nlohmann_accepts) {
    require(number_overflow(text));
    return 0;
  }
  // Every value reachable through members(), up to a bound.
  std::vector<jt::Value> pending{*value};
  for (std::size_t checked = 0; checked < pending.size() && checked < kMaxValuesChecked; ++checked) {
    const json sub = json::parse(pending[checked].text);
    check_value(pending[checked], sub, pending);
  }
  check_splices(text, *value, "null");
  check_splices(text, *value, jt::quote(text.substr(0, 16)));
  if (value->kind == jt::Kind::Object) {
    const auto members = jt::members(*value);
    for (std::size_t i = 0; i < members.size() && i < kMaxReplacements; ++i)
      check_splices(text, *value, members[i].value.text);
  }
  return 0;
}
