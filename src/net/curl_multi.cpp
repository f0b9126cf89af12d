#include "net/curl_multi.hpp"

#include <mutex>
#include <stdexcept>
#include <string>

#include "log/log.hpp"
#include "loop/event_loop.hpp"

namespace dbr::net {

void ensure_curl_global_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK) throw std::runtime_error(std::string("curl_global_init: ") + curl_easy_strerror(rc));
  });
}

CurlMulti::CurlMulti(loop::EventLoop& loop)
    : loop_(loop), timer_(loop, [this] {
        retired_.clear();
        act(CURL_SOCKET_TIMEOUT, 0);
      }) {
  ensure_curl_global_init();
  multi_ = curl_multi_init();
  if (multi_ == nullptr) throw std::runtime_error("curl_multi_init failed");
  (void)curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &CurlMulti::on_socket);
  (void)curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  (void)curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &CurlMulti::on_timer);
  (void)curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
}

CurlMulti::~CurlMulti() {
  *alive_ = false;
  // Detaching may call on_socket/on_timer back; they only touch members that
  // are still alive here.
  while (!transfers_.empty()) remove(transfers_.begin()->first);
  (void)curl_multi_cleanup(multi_);
  watches_.clear();
  retired_.clear();
}

void CurlMulti::add(CURL* easy, OnDone on_done) {
  CURLMcode rc = curl_multi_add_handle(multi_, easy);
  if (rc != CURLM_OK) throw std::logic_error(std::string("curl_multi_add_handle: ") + curl_multi_strerror(rc));
  transfers_[easy] = Transfer{std::move(on_done), false};
  // curl asked for a 0 ms timeout through on_timer; the transfer starts on
  // the next loop iteration, never inside add().
}

void CurlMulti::remove(CURL* easy) {
  auto it = transfers_.find(easy);
  if (it == transfers_.end()) return;
  transfers_.erase(it);
  CURLMcode rc = curl_multi_remove_handle(multi_, easy);
  if (rc != CURLM_OK) log::debug("curl_multi_remove_handle: {}", curl_multi_strerror(rc));
}

int CurlMulti::on_socket(CURL*, curl_socket_t fd, int what, void* userp, void*) {
  static_cast<CurlMulti*>(userp)->update_watch(fd, what);
  return 0;
}

void CurlMulti::update_watch(curl_socket_t fd, int what) {
  auto it = watches_.find(fd);
  if (what == CURL_POLL_REMOVE) {
    if (it == watches_.end()) return;
    // This may run inside that very watch's handler (curl_multi_socket_action
    // called from it): disable now, destroy later.
    it->second->set_events(0);
    retired_.push_back(std::move(it->second));
    watches_.erase(it);
    return;
  }
  std::uint32_t events = 0;
  if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) events |= loop::IoWatch::kRead;
  if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) events |= loop::IoWatch::kWrite;
  if (it != watches_.end()) {
    it->second->set_events(events);
    return;
  }
  watches_[fd] = std::make_unique<loop::IoWatch>(loop_, fd, events, [this, fd](std::uint32_t ready) {
    retired_.clear();  // safe: a retired watch is disabled, so it is not this one
    int mask = 0;
    if (ready & loop::IoWatch::kRead) mask |= CURL_CSELECT_IN;
    if (ready & loop::IoWatch::kWrite) mask |= CURL_CSELECT_OUT;
    act(fd, mask);
  });
}

int CurlMulti::on_timer(CURLM*, long timeout_ms, void* userp) {
  auto* self = static_cast<CurlMulti*>(userp);
  // "Your callback function should install a non-repeating timer with the
  // interval specified in timeout_ms ... A timeout_ms value of -1 passed to
  // this callback means you should delete the timer." (CURLMOPT_TIMERFUNCTION)
  if (timeout_ms < 0)
    self->timer_.cancel();
  else
    self->timer_.arm_in(std::chrono::milliseconds(timeout_ms));
  return 0;
}

void CurlMulti::act(curl_socket_t fd, int ev_bitmask) {
  int running = 0;
  CURLMcode rc = curl_multi_socket_action(multi_, fd, ev_bitmask, &running);
  if (rc != CURLM_OK) log::debug("curl_multi_socket_action: {}", curl_multi_strerror(rc));
  report_finished();  // may destroy this: nothing after it
}

void CurlMulti::report_finished() {
  std::shared_ptr<bool> alive = alive_;
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    CURL* easy = msg->easy_handle;
    CURLcode result = msg->data.result;
    auto it = transfers_.find(easy);
    if (it == transfers_.end() || it->second.finished) continue;
    it->second.finished = true;
    // Moved out: on_done may remove (erase) this transfer or destroy its owner.
    OnDone on_done = std::move(it->second.on_done);
    if (on_done) on_done(result);
    if (!*alive) return;  // on_done destroyed this CurlMulti
  }
}

}  // namespace dbr::net
