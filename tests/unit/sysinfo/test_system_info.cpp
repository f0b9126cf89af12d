// system_info: every field from a fake /proc,/sys,/etc tree; the real
// machine; the fallback; formats.
#include <doctest/doctest.h>
#include <sys/statvfs.h>

#include <cmath>
#include <regex>
#include <set>

#include "sysinfo/host_files.hpp"
#include "sysinfo/host_readers.hpp"
#include "sysinfo/system_info.hpp"
#include "unit/sysinfo/fake_tree.hpp"

using namespace dbr;
using namespace dbr::sysinfo;
using nlohmann::json;

namespace {

const Uname kUname{"armv7l", "6.1.0-rpi7-rpi-v7l", "dunebugger-pi"};

std::vector<IfAddress> pi_addresses() {
  return {
      {"lo", false, "127.0.0.1", false},
      {"eth0", false, "192.168.1.20", false},
      {"eth0", true, "fe80::dea6:32ff:fe01:203", true},
      {"eth0", true, "2001:db8::20", false},
      {"wlan0", false, "192.168.1.30", false},
      {"wlan0", true, "fe80::dea6:32ff:fe01:204", true},
      {"ppp0", false, "10.64.64.64", false},
  };
}

// The host facts the readers find in a fake Raspberry Pi tree.
HostFacts pi_host(const test::FakeTree& tree) {
  HostFacts host;
  host.hardware = read_hardware(tree.root(), kUname);
  host.os = read_os(tree.root(), kUname);
  host.network = read_network(tree.root(), kUname, pi_addresses());
  return host;
}

SlowFacts pi_slow_facts() {
  SlowFacts slow;
  slow.wifi_ssid["wlan0"] = "DuneNet";
  slow.internet_reachable = true;
  slow.gateway = "192.168.1.1";
  slow.gateway_latency_ms = 1.34;
  return slow;
}

double gib_1(std::uint64_t bytes) { return std::round(static_cast<double>(bytes) / (1024.0 * 1024 * 1024) * 10) / 10; }

const json kComponents = json::array({{{"name", "dunebugger"}, {"state", "running"}},
                                      {{"name", "scheduler"}, {"state", "not_responding"}},
                                      {{"name", "dunebugger-remote"}, {"state", "running"}, {"version", "0.1.0"}}});

// compose_system_info with kComponents, read back as a plain json to compare.
json compose(const SystemInfoIdentity& id, WallClock::time_point wall, const HostFacts& host, const SlowFacts* slow,
             bool ntp_available = false) {
  return json::parse(
      compose_system_info(id, wall, host, slow, AgentFacts{ntp_available, Json::parse(kComponents.dump())}).dump());
}

}  // namespace

TEST_CASE("system_info from a fake Raspberry Pi tree: every field") {
  test::FakeTree tree;
  test::build_pi_tree(tree);
  HostFacts host = pi_host(tree);
  SlowFacts slow = pi_slow_facts();
  auto wall = WallClock::time_point(std::chrono::seconds(1733059815));  // 2024-12-01T13:30:15Z
  json got = compose({"pi-kitchen", "Kitchen shelf"}, wall, host, &slow);

  struct statvfs st {};
  REQUIRE(::statvfs(tree.root().c_str(), &st) == 0);
  std::uint64_t total = static_cast<std::uint64_t>(st.f_blocks) * st.f_frsize;
  std::uint64_t used = static_cast<std::uint64_t>(st.f_blocks - st.f_bfree) * st.f_frsize;

  json expected = {{"system_info",
                    {
                        {"device_id", "pi-kitchen"},
                        {"timestamp", "2024-12-01T13:30:15"},
                        {"ntp_available", false},
                        {"dunebugger_components", kComponents},
                        {"hardware",
                         {{"model", "Raspberry Pi 4 Model B Rev 1.4"},
                          {"revision", "c03114"},
                          {"cpu",
                           {{"model", "ARMv7 Processor rev 3 (v7l)"},
                            {"cores", 4},
                            {"architecture", "armv7l"},
                            {"current_temp_c", 48.7},
                            {"load", {0.52, 0.58, 0.59}}}},
                          // 3884096 kB = 3793.06 MiB; used 934096 kB = 912.2 MiB.
                          {"memory", {{"total_mb", 3793}, {"used_mb", 912}}},
                          {"storage", {{"root_device", "/dev/mmcblk0p2"}, {"total_gb", gib_1(total)}, {"used_gb", gib_1(used)}}}}},
                        {"os",
                         {{"name", "Debian GNU/Linux 12 (bookworm)"},
                          {"version", "12 (bookworm)"},
                          {"kernel", "6.1.0-rpi7-rpi-v7l"},
                          {"boot_time_utc", "2023-11-14T22:13:20Z"}}},
                        {"network",
                         {{"hostname", "dunebugger-pi"},
                          {"interfaces",
                           json::array({
                               {{"name", "eth0"}, {"type", "ethernet"}, {"mac", "dc:a6:32:01:02:03"},
                                {"ip_v4", "192.168.1.20"}, {"ip_v6", "2001:db8::20"}, {"state", "up"},
                                {"speed_mbps", 1000}},
                               {{"name", "wlan0"}, {"type", "wifi"}, {"mac", "dc:a6:32:01:02:04"},
                                {"ip_v4", "192.168.1.30"}, {"ip_v6", "fe80::dea6:32ff:fe01:204"}, {"state", "up"},
                                {"ssid", "DuneNet"}, {"signal_strength_dbm", -56}},
                               {{"name", "usb0"}, {"type", "usb"}, {"mac", "12:34:56:78:9a:bc"}, {"ip_v4", nullptr},
                                {"ip_v6", nullptr}, {"state", "down"}},
                               {{"name", "ppp0"}, {"type", "ppp"}, {"mac", nullptr}, {"ip_v4", "10.64.64.64"},
                                {"ip_v6", nullptr}, {"state", "up"}},
                               {{"name", "docker0"}, {"type", "other"}, {"mac", "02:42:ac:11:00:01"},
                                {"ip_v4", nullptr}, {"ip_v6", nullptr}, {"state", "down"}},
                               {{"name", "tun0"}, {"type", "other"}, {"mac", nullptr}, {"ip_v4", nullptr},
                                {"ip_v6", nullptr}, {"state", "unknown"}},
                           })},
                          {"connectivity",
                           {{"default_route", "192.168.1.1"},
                            {"dns_servers", {"192.168.1.1", "2001:4860:4860::8888"}},
                            {"internet_reachable", true},
                            {"latency_ms_to_gateway", 1.34}}}}},
                        {"location", {{"description", "Kitchen shelf"}}},
                    }}};
  CHECK(got.dump(2) == expected.dump(2));
}

TEST_CASE("inside Docker the Docker interfaces are left out") {
  test::FakeTree tree;
  test::build_pi_tree(tree);
  tree.net("veth1a2b", 8, 1, "aa:bb:cc:dd:ee:ff", "up");
  tree.net("br-0123abcd", 9, 1, "aa:bb:cc:dd:ee:00", "up");
  auto names = [&] {
    std::vector<std::string> n;
    for (const auto& i : read_network(tree.root(), kUname, {}).interfaces) n.push_back(i.name);
    return n;
  };
  CHECK(names() == std::vector<std::string>{"eth0", "wlan0", "usb0", "ppp0", "docker0", "tun0", "veth1a2b", "br-0123abcd"});
  tree.write("/proc/1/cgroup", "0::/docker/0123456789abcdef\n");
  CHECK(names() == std::vector<std::string>{"eth0", "wlan0", "usb0", "ppp0", "tun0"});
}

TEST_CASE("an empty tree gives nulls, the spec's fallbacks, and no crash") {
  test::FakeTree tree;
  HostFacts host;
  host.hardware = read_hardware(tree.root(), Uname{});
  host.os = read_os(tree.root(), Uname{});
  host.network = read_network(tree.root(), Uname{}, {});
  json got = compose({"", ""}, WallClock::time_point{}, host, nullptr)["system_info"];
  CHECK(got["device_id"] == "Environment Variable DEVICE_ID Not Set");
  CHECK(got["location"]["description"] == "Environment Variable LOCATION_DESCRIPTION Not Set");
  CHECK(got["timestamp"] == "1970-01-01T00:00:00");
  CHECK(got["hardware"]["model"].is_null());
  CHECK(got["hardware"]["revision"] == "Unknown");
  for (const char* k : {"model", "cores", "architecture", "current_temp_c", "load"}) CHECK(got["hardware"]["cpu"][k].is_null());
  CHECK(got["hardware"]["memory"] == json{{"total_mb", nullptr}, {"used_mb", nullptr}});
  CHECK(got["hardware"]["storage"]["root_device"].is_null());
  // statvfs of the (existing) temp root still works.
  CHECK(got["hardware"]["storage"]["total_gb"].is_number());
  CHECK(got["os"] == json{{"name", nullptr}, {"version", nullptr}, {"kernel", nullptr}, {"boot_time_utc", nullptr}});
  CHECK(got["network"]["hostname"].is_null());
  CHECK(got["network"]["interfaces"] == json::array());
  CHECK(got["network"]["connectivity"] == json{{"default_route", nullptr},
                                               {"dns_servers", json::array()},
                                               {"internet_reachable", nullptr},
                                               {"latency_ms_to_gateway", nullptr}});
  // A root that does not exist at all.
  auto nowhere = read_hardware("/nonexistent/dbr-root", Uname{});
  CHECK_FALSE(nowhere.storage_total_bytes);
}

TEST_CASE("malformed files are nulls, not crashes") {
  test::FakeTree tree;
  tree.write("/proc/loadavg", "garbage\n");
  tree.write("/proc/meminfo", "MemTotal: lots kB\n");
  tree.write("/sys/class/thermal/thermal_zone0/temp", "hot\n");
  tree.write("/proc/stat", "btime soon\n");
  tree.write("/etc/os-release", "PRETTY_NAME=\"Bad \xff\xfe name\"\nVERSION_ID=7\n");
  tree.write("/proc/net/route", "Iface\tDestination\nrubbish\n");
  tree.write("/proc/net/wireless", "wlan0: zz yy xx\n");
  tree.net("wlan0", 3, 1, "", "up");
  tree.mkdir("/sys/class/net/wlan0/wireless");
  tree.write("/sys/class/net/wlan0/speed", "fast");
  auto hw = read_hardware(tree.root(), Uname{});
  CHECK_FALSE(hw.cpu.load);
  CHECK_FALSE(hw.memory_total_kib);
  CHECK_FALSE(hw.cpu.temperature_c);
  auto os = read_os(tree.root(), Uname{});
  CHECK_FALSE(os.boot_time_unix_s);
  CHECK(os.name == "Bad \xEF\xBF\xBD\xEF\xBF\xBD name");  // invalid UTF-8 replaced
  CHECK(os.version == "7");                             // VERSION_ID when VERSION is absent
  auto net = read_network(tree.root(), Uname{}, {});
  REQUIRE(net.interfaces.size() == 1);
  CHECK_FALSE(net.interfaces[0].signal_dbm);
  CHECK_FALSE(net.interfaces[0].speed_mbps);
  CHECK_FALSE(net.interfaces[0].mac);
  CHECK_FALSE(net.default_route);
  HostFacts host{hw, os, net};
  CHECK_NOTHROW((void)compose({"d", "l"}, WallClock::now(), host, nullptr));
}

TEST_CASE("default route: lowest metric IPv4, else an IPv6 gateway") {
  test::FakeTree tree;
  test::build_pi_tree(tree);
  auto gw = read_default_route(tree.root());
  REQUIRE(gw);
  CHECK(gw->address == "192.168.1.1");
  CHECK(gw->interface == "eth0");
  tree.write("/proc/net/route", "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\n");
  tree.write("/proc/net/ipv6_route",
             "20010db8000000000000000000000000 40 00000000000000000000000000000000 00 "
             "00000000000000000000000000000000 00000100 00000001 00000000 00000001 eth0\n"
             "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
             "fe80000000000000020000fffe000001 00000400 00000001 00000000 00000003 eth0\n");
  gw = read_default_route(tree.root());
  REQUIRE(gw);
  CHECK(gw->address == "fe80::200:ff:fe00:1");
  CHECK(gw->interface == "eth0");
}

TEST_CASE("a latency measured to another gateway is not reported") {
  test::FakeTree tree;
  test::build_pi_tree(tree);
  HostFacts host;
  host.network = read_network(tree.root(), kUname, {});
  SlowFacts slow = pi_slow_facts();
  slow.gateway = "192.168.1.254";
  json got = compose({"d", "l"}, WallClock::now(), host, &slow);
  CHECK(got["system_info"]["network"]["connectivity"]["latency_ms_to_gateway"].is_null());
}

TEST_CASE("system_info from this machine's real /proc and /sys has the full structure") {
  HostFacts host = read_host_facts("/");
  json got = compose({"dev", "loc"}, WallClock::now(), host, nullptr);
  REQUIRE_NOTHROW((void)got.dump());
  const json& s = got["system_info"];
  CHECK(std::regex_match(s["timestamp"].get<std::string>(), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)")));
  for (const char* k : {"device_id", "timestamp", "dunebugger_components", "hardware", "os", "network", "location"})
    CHECK(s.contains(k));
  const json& hw = s["hardware"];
  CHECK(hw["model"].is_string());  // device-tree model or the machine name
  CHECK(hw["cpu"]["cores"].get<int>() >= 1);
  CHECK(hw["cpu"]["architecture"].is_string());
  CHECK(hw["cpu"]["load"].size() == 3);
  CHECK(hw["memory"]["total_mb"].get<std::int64_t>() > 0);
  CHECK(hw["memory"]["used_mb"].get<std::int64_t>() <= hw["memory"]["total_mb"].get<std::int64_t>());
  CHECK(hw["storage"]["total_gb"].get<double>() > 0);
  CHECK(hw["storage"]["root_device"].is_string());
  CHECK(s["os"]["kernel"].is_string());
  CHECK(std::regex_match(s["os"]["boot_time_utc"].get<std::string>(),
                         std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));
  CHECK(s["network"]["hostname"].is_string());
  for (const auto& i : s["network"]["interfaces"]) {
    CHECK(i["name"] != "lo");
    CHECK(std::set<std::string>{"wifi", "ethernet", "usb", "ppp", "other"}.count(i["type"].get<std::string>()) == 1);
    CHECK(std::set<std::string>{"up", "down", "unknown"}.count(i["state"].get<std::string>()) == 1);
    for (const char* k : {"mac", "ip_v4", "ip_v6"}) CHECK((i[k].is_null() || i[k].is_string()));
    if (i.contains("speed_mbps")) CHECK(i["speed_mbps"].get<std::int64_t>() > 0);
  }
  CHECK(s["network"]["connectivity"]["dns_servers"].is_array());
  MESSAGE("this machine: " << s["hardware"]["model"] << ", " << s["network"]["interfaces"].size() << " interfaces");
}

TEST_CASE("the fallback is used when composing throws") {
  auto wall = WallClock::time_point(std::chrono::seconds(86400));
  std::string error;
  std::string got = system_info_or_fallback(
      {"pi-1", "x"}, wall, []() -> Json { throw std::runtime_error("boom"); }, &error);
  CHECK(got ==
        R"({"system_info":{"device_id":"pi-1","timestamp":"1970-01-02T00:00:00","status":"error_collecting_info"}})");
  CHECK(error == "boom");
  // A value that cannot be serialised (invalid UTF-8) also falls back.
  error.clear();
  got = system_info_or_fallback({"pi-1", "x"}, wall, [] { return Json{{"system_info", {{"ssid", "\xff"}}}}; }, &error);
  CHECK(json::parse(got)["system_info"]["status"] == "error_collecting_info");
  CHECK_FALSE(error.empty());
  error.clear();
  got = system_info_or_fallback({"pi-1", "x"}, wall, [] { return Json{{"system_info", 1}}; }, &error);
  CHECK(got == R"({"system_info":1})");
  CHECK(error.empty());
}

TEST_CASE("system_info's keys come in upstream's order, with ntp_available after timestamp") {
  test::FakeTree tree;
  test::build_pi_tree(tree);
  HostFacts host = pi_host(tree);
  SlowFacts slow = pi_slow_facts();
  std::string text =
      compose_system_info({"pi", "shelf"}, WallClock::time_point{}, host, &slow, AgentFacts{true, Json::array()}).dump();
  std::vector<std::size_t> at;
  for (const char* key : {"\"device_id\"", "\"timestamp\"", "\"ntp_available\":true", "\"dunebugger_components\"",
                          "\"hardware\"", "\"os\"", "\"network\"", "\"location\""})
    at.push_back(text.find(key));
  for (std::size_t i = 0; i < at.size(); ++i) {
    CAPTURE(i);
    REQUIRE(at[i] != std::string::npos);
    if (i > 0) CHECK(at[i - 1] < at[i]);
  }
  // Nested objects keep upstream's order too (hardware_info.py: model, revision, cpu, memory, storage).
  CHECK(text.find("\"model\"") < text.find("\"revision\""));
  CHECK(text.find("\"revision\"") < text.find("\"cpu\""));
  CHECK(text.find("\"memory\"") < text.find("\"storage\""));
}

TEST_CASE("UTC formats with and without Z") {
  CHECK(format_utc(WallClock::time_point{}, false) == "1970-01-01T00:00:00");
  CHECK(format_utc(WallClock::time_point(std::chrono::seconds(1700000000)), true) == "2023-11-14T22:13:20Z");
  CHECK(format_utc(WallClock::time_point(std::chrono::milliseconds(1700000000999)), false) == "2023-11-14T22:13:20");
}

TEST_CASE("valid_utf8 keeps valid text and replaces the rest") {
  CHECK(valid_utf8("plain") == "plain");
  CHECK(valid_utf8("caf\xC3\xA9 \xF0\x9F\x8C\xB5") == "caf\xC3\xA9 \xF0\x9F\x8C\xB5");
  CHECK(valid_utf8(std::string("a\0b", 3)) == "ab");
  CHECK(valid_utf8("\xC0\xAF") == "\xEF\xBF\xBD\xEF\xBF\xBD");      // overlong '/'
  CHECK(valid_utf8("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  CHECK(valid_utf8("\xE2\x82") == "\xEF\xBF\xBD\xEF\xBF\xBD");      // truncated
  CHECK(parse_double("-56.") == -56.0);
  CHECK_FALSE(parse_double("1.2.3"));
  CHECK(parse_i64("+42\n") == 42);
  CHECK_FALSE(parse_i64("4x"));
}
