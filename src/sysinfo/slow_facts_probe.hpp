#pragma once
// system_info's slow facts, collected on the loop thread without blocking
// it: the SSID of each Wi-Fi interface (nl80211 over generic netlink) and
// the latency to the default gateway (one ICMP echo on a ping socket, else
// the time of a TCP handshake, or its refusal, to the gateway's port 53).
// Each is a non-blocking socket the loop watches; one timer ends the
// collection after `timeout` with what has answered by then.
//
// A collection runs at start() and on refresh() (a system_info request),
// never more than once per `min_gap`: a refresh within the gap runs when
// it ends, and refreshes meanwhile coalesce into that one. No timer runs
// in between: an idle agent measures nothing. system_info is answered at
// once from the last facts, so a request gets the facts of the collection
// before it.
//
// Internet reachability is not probed here: system_info reports the
// internet monitor's verdict (AppService::on_internet).
//
// Bounds: one collection at a time, each socket closed when it answers or
// at `timeout`; destroying the probe closes them at once.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/time.hpp"
#include "loop/io_watch.hpp"
#include "loop/timer.hpp"
#include "sysinfo/facts.hpp"

namespace dbr::loop {
class EventLoop;
}

namespace dbr::sysinfo {

struct SlowFactsOptions {
  std::filesystem::path root = "/";
  Duration min_gap = std::chrono::seconds(5);
  Duration timeout = std::chrono::seconds(2);
  std::uint16_t gateway_tcp_port = 53;  // the handshake's port when ICMP is not allowed
};

class SlowFactsProbe {
 public:
  // `on_facts` runs on the loop with each collection's facts
  // (internet_reachable left empty).
  SlowFactsProbe(loop::EventLoop& loop, SlowFactsOptions options, std::function<void(SlowFacts&&)> on_facts);
  ~SlowFactsProbe();
  SlowFactsProbe(const SlowFactsProbe&) = delete;
  SlowFactsProbe& operator=(const SlowFactsProbe&) = delete;

  void start();    // the first collection; idempotent
  void refresh();  // another one, within the bounds above

 private:
  struct Socket;  // a descriptor and its watch
  void collect();
  void start_wifi();
  void on_wifi_readable();
  void ask_ssids();
  void start_gateway();
  void start_gateway_tcp();
  void on_gateway_ready(std::uint32_t ready);
  void gateway_answered();
  void finish_if_done();
  void finish();

  loop::EventLoop& loop_;
  SlowFactsOptions options_;
  std::function<void(SlowFacts&&)> on_facts_;
  loop::Timer deadline_;  // ends a collection
  loop::Timer after_gap_;  // a refresh that came within min_gap
  bool started_ = false;
  bool collecting_ = false;
  bool refresh_pending_ = false;
  TimePoint last_start_{};
  SlowFacts facts_;

  // Wi-Fi: one netlink socket; the family id is asked once per process.
  std::unique_ptr<Socket> wifi_;
  std::optional<std::uint16_t> nl80211_family_;
  bool nl80211_missing_ = false;
  std::uint32_t next_seq_ = 1;
  std::uint32_t family_seq_ = 0;  // 0: not asking
  std::map<std::uint32_t, std::string> ssid_seq_;  // seq -> interface asked
  std::map<std::string, int> wifi_index_;

  // Gateway: an ICMP echo or a TCP handshake.
  std::unique_ptr<Socket> gateway_;
  bool gateway_tcp_ = false;
  TimePoint gateway_sent_{};
};

}  // namespace dbr::sysinfo
