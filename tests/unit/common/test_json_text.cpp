#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "common/json_text.hpp"

using namespace dbr::json_text;

namespace {

bool valid(std::string_view text) { return parse(text).has_value(); }

}  // namespace

TEST_CASE("parse: a value's exact bytes, white space around it allowed") {
  auto v = parse(" \n{\"b\": 1.50, \"a\" : [1e3, -0, \"x\"]}\t");
  REQUIRE(v);
  CHECK(v->kind == Kind::Object);
  CHECK(v->text == "{\"b\": 1.50, \"a\" : [1e3, -0, \"x\"]}");
  CHECK(parse("\"é\"")->kind == Kind::String);
  CHECK(parse("-12.5e-3")->kind == Kind::Number);
  CHECK(parse("true")->kind == Kind::True);
  CHECK(parse("false")->kind == Kind::False);
  CHECK(parse("null")->kind == Kind::Null);
  CHECK(parse("[]")->kind == Kind::Array);
  CHECK(parse("{}")->text == "{}");
}

TEST_CASE("parse: what RFC 8259 does not allow is rejected, with where and why") {
  const std::vector<std::string> bad = {
      "",           " ",          "{",           "}",          "[1,]",         "{\"a\":1,}",     "{\"a\" 1}",
      "{a:1}",      "{'a':1}",    "01",          "1.",         ".5",           "1e",             "+1",
      "-",          "NaN",        "Infinity",    "tru",        "nul",          "\"abc",          "\"a\\x\"",
      "\"\\u12\"",  "\"\\uD800\"", "\"\\uDC00\"", "\"\\uD800\\u0041\"", "\"tab\there\"", "[1] [2]", "{} x",
      "\"\xC3\"",   "\"\xFF\"",   "\"\xED\xA0\x80\"", "1 2",   "[\"a\" \"b\"]", "{\"a\":}"};
  for (const auto& text : bad) {
    CAPTURE(text);
    ParseError error;
    CHECK_FALSE(parse(text, &error));
    CHECK_FALSE(error.what.empty());
  }
  ParseError error;
  CHECK_FALSE(parse("{\"a\": [1, 2,, 3]}", &error));
  CHECK(error.offset == 12);
}

TEST_CASE("parse: agrees with nlohmann on valid documents of every kind") {
  const std::vector<std::string> good = {
      R"({"subject":"core.dunebugger_set","body":"sw 17 on","connectionId":"c1"})",
      R"([{"pin":0,"label":"_not_found_","mode":"INPUT","state":"HIGH","switch":"OFF"}])",
      R"({"body":{"ntp_available":true},"subject":"ntp_status","source":"remote"})",
      R"("\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00")",
      R"({"n":[0,-1,1.5,1e10,1E-2,-0.0e+0,123456789012345678901234567890]})",
      "{\"text\":\"na\xC3\xAFve \xE2\x82\xAC \xF0\x9F\x8E\x84\"}",
      "[[[[[[[[[[]]]]]]]]]]"};
  for (const auto& text : good) {
    CAPTURE(text);
    CHECK(valid(text));
    CHECK_FALSE(nlohmann::json::parse(text, nullptr, false).is_discarded());
  }
}

TEST_CASE("parse: nesting is bounded by kMaxDepth, without recursion") {
  std::string at_bound(kMaxDepth, '[');
  at_bound += std::string(kMaxDepth, ']');
  CHECK(valid(at_bound));
  std::string over(kMaxDepth + 1, '[');
  over += std::string(kMaxDepth + 1, ']');
  ParseError error;
  CHECK_FALSE(parse(over, &error));
  CHECK(error.what.find("nested deeper") != std::string::npos);
  // Far deeper input fails the same way, fast, and does not blow the stack.
  CHECK_FALSE(valid(std::string(1'000'000, '[')));
}

TEST_CASE("members: document order, exact value bytes, duplicates kept and the last one found") {
  auto v = parse(R"({ "pin" : 0, "label":"x", "mode": {"a" :[1, 2]} , "pin":1.50 })");
  REQUIRE(v);
  auto m = members(*v);
  REQUIRE(m.size() == 4);
  CHECK(m[0].key_raw == "pin");
  CHECK(m[0].value.text == "0");
  CHECK(m[1].key_raw == "label");
  CHECK(m[1].value.text == "\"x\"");
  CHECK(m[2].value.kind == Kind::Object);
  CHECK(m[2].value.text == "{\"a\" :[1, 2]}");
  const Member* pin = find(m, "pin");
  REQUIRE(pin);
  CHECK(pin->value.text == "1.50");
  CHECK(find(m, "missing") == nullptr);
  CHECK(members(*parse("{}")).empty());
  CHECK(members(*parse("[1]")).empty());
}

TEST_CASE("members: keys with escapes are matched by their decoded text") {
  auto m = members(*parse(R"({"sub\u006aect":"a","\"q\"":1})"));
  REQUIRE(m.size() == 2);
  CHECK(m[0].key_is("subject"));
  CHECK(m[1].key_is("\"q\""));
  CHECK_FALSE(m[0].key_is("subjec"));
}

TEST_CASE("string_of, uint_of, bool_of: typed reads") {
  CHECK(string_of(*parse(R"("a\"b\\c\/\n\u00e9\ud83c\udf84")")) == "a\"b\\c/\n\xC3\xA9\xF0\x9F\x8E\x84");
  CHECK_FALSE(string_of(*parse("1")));
  CHECK(uint_of(*parse("0")) == 0u);
  CHECK(uint_of(*parse("18446744073709551615")) == UINT64_MAX);
  CHECK_FALSE(uint_of(*parse("18446744073709551616")));
  CHECK_FALSE(uint_of(*parse("-1")));
  CHECK_FALSE(uint_of(*parse("1.0")));
  CHECK_FALSE(uint_of(*parse("1e3")));
  CHECK_FALSE(uint_of(*parse("\"1\"")));
  CHECK(bool_of(*parse("true")) == true);
  CHECK(bool_of(*parse("false")) == false);
  CHECK_FALSE(bool_of(*parse("null")));
}

TEST_CASE("quote: a JSON string that reads back as the same text") {
  const std::vector<std::string> texts = {"", "plain", "a\"b\\c", "line\nbreak\ttab\r", std::string("nul\0x", 5),
                                          "\x01\x1f\x7f", "na\xC3\xAFve \xE2\x82\xAC \xF0\x9F\x8E\x84"};
  for (const auto& text : texts) {
    CAPTURE(text);
    std::string q = quote(text);
    REQUIRE(parse(q));
    CHECK(string_of(*parse(q)) == text);
    CHECK(nlohmann::json::parse(q).get<std::string>() == text);
  }
  CHECK(quote("\xC3\xA9") == "\"\xC3\xA9\"");  // UTF-8 passes unescaped
  CHECK(quote("\x01") == "\"\\u0001\"");
  // Bytes that are not UTF-8 become U+FFFD: the output stays valid JSON.
  CHECK(quote("a\xFF" "b\xC3") == "\"a\xEF\xBF\xBD" "b\xEF\xBF\xBD\"");
}

TEST_CASE("splice: replaces one value's bytes and keeps every other byte") {
  const std::string doc = R"({"subject" : "core.x", "body":  {"b":1.50,"a":"é"}, "connectionId":"c"})";
  auto m = members(*parse(doc));
  const Member* subject = find(m, "subject");
  REQUIRE(subject);
  CHECK(splice(doc, subject->value.text, quote("x")) ==
        R"({"subject" : "x", "body":  {"b":1.50,"a":"é"}, "connectionId":"c"})");
}
