#include <doctest/doctest.h>

#include <string>

#include "config/ini_file.hpp"

using dbr::config::parse_ini;

TEST_CASE("ini: values keep ';' and '#' (configparser has no inline comments)") {
  auto ini = parse_ini(
      "[Websocket]\n"
      "connectionString = Endpoint=https://x.webpubsub.azure.com;AccessKey=abc;Version=1.0;\n"
      "probeUrl = https://example.com/#frag\n"
      "groupName = living room ; nativity\n");
  REQUIRE(ini.errors.empty());
  REQUIRE(ini.entries.size() == 3);
  CHECK(ini.entries[0].value == "Endpoint=https://x.webpubsub.azure.com;AccessKey=abc;Version=1.0;");
  CHECK(ini.entries[1].value == "https://example.com/#frag");
  CHECK(ini.entries[2].value == "living room ; nativity");
}

TEST_CASE("ini: whole-line comments, blank lines, colons, CRLF and a BOM") {
  auto ini = parse_ini(
      "\xEF\xBB\xBF; a comment\r\n"
      "# another\r\n"
      "[General]\r\n"
      "\r\n"
      "  ; indented comment\r\n"
      "deviceId: crib-1\r\n");
  REQUIRE(ini.errors.empty());
  REQUIRE(ini.entries.size() == 1);
  CHECK(ini.entries[0].section == "General");
  CHECK(ini.entries[0].key == "deviceId");
  CHECK(ini.entries[0].value == "crib-1");
  CHECK(ini.entries[0].line == 6);
}

TEST_CASE("ini: a value longer than inih's 200-byte line buffer survives whole") {
  std::string token(700, 'x');
  auto ini = parse_ini("[Websocket]\nurl = wss://h/client/hubs/dunebugger?access_token=" + token + "\nhub = b\n");
  REQUIRE(ini.errors.empty());
  REQUIRE(ini.entries.size() == 2);
  CHECK(ini.entries[0].value == "wss://h/client/hubs/dunebugger?access_token=" + token);
  CHECK(ini.entries[1].key == "hub");
  CHECK(ini.entries[1].line == 3);
}

TEST_CASE("ini: indented lines continue a value, joined by newlines") {
  auto ini = parse_ini("[General]\nlocationDescription = first\n  second\n\tthird\ndeviceId = d\n");
  REQUIRE(ini.errors.empty());
  REQUIRE(ini.entries.size() == 2);
  CHECK(ini.entries[0].value == "first\nsecond\nthird");
  CHECK(ini.entries[1].value == "d");
}

TEST_CASE("ini: structural errors name their line") {
  auto ini = parse_ini("orphan = 1\n[General]\njust words\n[General]\n[Log]\na = 1\na = 2\n[broken\n");
  REQUIRE(ini.errors.size() == 5);
  CHECK(ini.errors[0].line == 1);
  CHECK(ini.errors[0].message.find("before any [Section]") != std::string::npos);
  CHECK(ini.errors[1].line == 3);
  CHECK(ini.errors[2].line == 4);
  CHECK(ini.errors[2].message.find("appears twice") != std::string::npos);
  CHECK(ini.errors[3].line == 7);
  CHECK(ini.errors[3].message.find("already set on line 6") != std::string::npos);
  CHECK(ini.errors[4].line == 8);
}

TEST_CASE("ini: keys below a section header inih cannot take stay in that section") {
  // Found by config_fuzz: inih put the keys under such a header in the
  // section before it (or in none), so a key could be "already set" in
  // another section, or land in a section the file never declared.
  auto nul = parse_ini(std::string("[Websocket]\nurl = a\n[Gen\0eral]\nurl = b\n", 39));
  REQUIRE(nul.entries.size() == 2);
  CHECK(nul.entries[0].section == "Websocket");
  CHECK(nul.entries[1].section == std::string("Gen\0eral", 8));
  CHECK(nul.entries[1].value == "b");
  const std::string long_name(151, 'S');
  auto long_header = parse_ini("[Websocket]\nurl = a\n[" + long_name + "]\nurl = b\n");
  REQUIRE(long_header.entries.size() == 2);
  CHECK(long_header.entries[1].section == long_name);
  REQUIRE(long_header.errors.size() == 1);
  CHECK(long_header.errors[0].message == "section name too long");
}

TEST_CASE("ini: names are case-sensitive and an empty value is kept") {
  auto ini = parse_ini("[Websocket]\nGroupName =\ngroupName = g\n");
  REQUIRE(ini.errors.empty());
  REQUIRE(ini.entries.size() == 2);
  CHECK(ini.entries[0].key == "GroupName");
  CHECK(ini.entries[0].value.empty());
  CHECK(ini.entries[1].key == "groupName");
}
