#pragma once
// One libcurl multi handle driven by the event loop.
//
// curl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION, mapped to
// loop::IoWatch) and when to call it back (CURLMOPT_TIMERFUNCTION, mapped to
// one loop::Timer); we answer with curl_multi_socket_action and then read
// curl_multi_info_read, calling each finished transfer's on_done once with
// its CURLcode. Nothing here blocks: DNS (curl's threaded resolver), TCP and
// TLS all progress from loop callbacks.
//
// Lifetime rules:
//  - add() attaches an easy handle; on_done runs once, on the loop thread,
//    when curl reports the transfer finished. The handle STAYS attached after
//    on_done: a CONNECT_ONLY connection lives in this multi's connection cache
//    and curl_easy_send/recv stop working once it is removed. Call remove()
//    before curl_easy_cleanup (ordinary transfers do it inside on_done).
//  - remove() is idempotent; no on_done runs after it.
//  - Inside on_done the owner may call remove(), add() other transfers,
//    destroy itself (and its easy handle), or destroy this CurlMulti.
//  - The destructor detaches every handle still attached, without callbacks;
//    it never cleans up easy handles (their owners do).
#include <curl/curl.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "loop/io_watch.hpp"
#include "loop/timer.hpp"

namespace dbr::loop {
class EventLoop;
}

namespace dbr::net {

// curl_global_init, once per process, before the first handle. Thread-safe.
void ensure_curl_global_init();

class CurlMulti {
 public:
  using OnDone = std::function<void(CURLcode)>;

  explicit CurlMulti(loop::EventLoop& loop);
  ~CurlMulti();
  CurlMulti(const CurlMulti&) = delete;
  CurlMulti& operator=(const CurlMulti&) = delete;

  // Attaches `easy` and starts it. Throws std::logic_error when curl refuses
  // (the handle is already attached somewhere: a programming error).
  void add(CURL* easy, OnDone on_done);
  // Detaches `easy`; no callback for it afterwards. Unknown handles are ignored.
  void remove(CURL* easy);

  bool attached(CURL* easy) const { return transfers_.count(easy) != 0; }
  std::size_t attached_count() const { return transfers_.size(); }
  // Sockets curl currently asks us to watch (tests).
  std::size_t watched_sockets() const { return watches_.size(); }

 private:
  struct Transfer {
    OnDone on_done;
    bool finished = false;
  };

  static int on_socket(CURL* easy, curl_socket_t fd, int what, void* userp, void* socketp);
  static int on_timer(CURLM* multi, long timeout_ms, void* userp);
  void update_watch(curl_socket_t fd, int what);
  void act(curl_socket_t fd, int ev_bitmask);
  void report_finished();

  loop::EventLoop& loop_;
  CURLM* multi_ = nullptr;
  loop::Timer timer_;
  std::unordered_map<curl_socket_t, std::unique_ptr<loop::IoWatch>> watches_;
  // Watches curl dropped while one of them may be running its handler; they
  // are disabled at once and destroyed on the next entry from the loop.
  std::vector<std::unique_ptr<loop::IoWatch>> retired_;
  std::unordered_map<CURL*, Transfer> transfers_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace dbr::net
