#include <doctest/doctest.h>

#include <algorithm>

#include "config/key_table.hpp"
#include "config/known_names.hpp"

using namespace dbr::config;

TEST_CASE("the sections are the key table's, each once") {
  auto names = section_names();
  for (std::string_view upstream : {"General", "Auth", "Websocket", "MessageQueue", "Log"})
    CHECK(std::count(names.begin(), names.end(), upstream) == 1);
  for (const auto& spec : key_table()) CHECK(is_known_section(spec.section));
  CHECK_FALSE(is_known_section("websocket"));  // configparser's section names keep their case
  CHECK_FALSE(is_known_section("Extra"));
}

TEST_CASE("a key is found in whichever section it belongs to") {
  const KeySpec* spec = find_key_in_any_section("mQueueServers");
  REQUIRE(spec);
  CHECK(spec->section == "MessageQueue");
  CHECK(find_key_in_any_section("groupName")->section == "Websocket");
  CHECK(find_key_in_any_section("mqueueservers") == nullptr);  // exact spelling only
  CHECK(find_key_in_any_section("nonsense") == nullptr);
}

TEST_CASE("edit distance counts a swap of neighbours as one edit, and ignores case") {
  CHECK(edit_distance("Websokcet", "Websocket") == 1);
  CHECK(edit_distance("heartBeatEverySec", "heartBeatEverySecs") == 1);
  CHECK(edit_distance("hearbeatEverySecs", "heartBeatEverySecs") == 1);
  CHECK(edit_distance("websocketenabled", "websocketEnabled") == 0);
  CHECK(edit_distance("", "abc") == 3);
  CHECK(edit_distance("kitten", "sitting") == 3);
}

TEST_CASE("closest_name: only a close name, the nearest one") {
  std::vector<std::string_view> names{"url", "hub", "groupName", "heartBeatEverySecs", "heartBeatLoopDurationSecs"};
  CHECK(closest_name("groupname", names) == std::optional<std::string_view>("groupName"));
  CHECK(closest_name("heartbeatEverySec", names) == std::optional<std::string_view>("heartBeatEverySecs"));
  CHECK(closest_name("hx", names) == std::nullopt);  // "hub" is 2 edits away, over 1 (a quarter of 3, at least 1)
  CHECK(closest_name("uri", names) == std::optional<std::string_view>("url"));  // 1 edit is always close
  CHECK(closest_name("deviceName", names) == std::nullopt);  // nothing near
  CHECK(closest_name("anything", {}) == std::nullopt);
}

TEST_CASE("unknown key hints: the section a key belongs to, else the closest key") {
  CHECK(unknown_key_hint("Websocket", "mQueueServers") == " (it belongs in [MessageQueue])");
  CHECK(unknown_key_hint("General", "groupName") == " (it belongs in [Websocket])");
  CHECK(unknown_key_hint("Websocket", "hearbeatEverySecs") == " (did you mean 'heartBeatEverySecs'?)");
  CHECK(unknown_key_hint("Websocket", "websocketenabled") ==
        " (keys are case-sensitive: did you mean 'websocketEnabled'?)");
  // Close to a key of another section: named with its section.
  CHECK(unknown_key_hint("Websocket", "mQueueServer") == " (did you mean 'mQueueServers' in [MessageQueue]?)");
  CHECK(unknown_key_hint("Websocket", "foo") == "");
  CHECK(unknown_key_hint("Websocket", "somethingElseEntirely") == "");
}

TEST_CASE("unknown section hints") {
  CHECK(unknown_section_hint("Websokcet") == " (did you mean [Websocket]?)");
  CHECK(unknown_section_hint("websocket") == " (section names are case-sensitive: did you mean [Websocket]?)");
  CHECK(unknown_section_hint("MessageQueues") == " (did you mean [MessageQueue]?)");
  CHECK(unknown_section_hint("Extra") == "");
  CHECK(unknown_section_hint("Scheduler") == "");
}
