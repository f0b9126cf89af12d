#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <thread>
#include <vector>

#include "loop/event_loop.hpp"
#include "loop/mailbox.hpp"
#include "loop/timer.hpp"

using namespace dbr;
using namespace std::chrono_literals;

namespace {
struct Note {
  int thread;
  int seq;
};
}  // namespace

TEST_CASE("mailbox: posts from several threads under load all arrive, in each thread's order") {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 20000;
  loop::EventLoop ev;
  std::map<int, int> next_seq;
  int received = 0;
  bool ordered = true;
  std::thread::id loop_thread = std::this_thread::get_id();
  bool on_loop_thread = true;
  // Capacity holds everything: this test is about delivery, not the bound.
  loop::Mailbox<Note> box(ev, kThreads * kPerThread, [&](Note&& n) {
    on_loop_thread = on_loop_thread && std::this_thread::get_id() == loop_thread;
    ordered = ordered && n.seq == next_seq[n.thread];
    next_seq[n.thread] = n.seq + 1;
    if (++received == kThreads * kPerThread) ev.request_shutdown("all received");
  });
  loop::Timer guard(ev, [&] { ev.request_shutdown("timeout"); });
  guard.arm_in(20s);

  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t)
    producers.emplace_back([&box, t] {
      for (int i = 0; i < kPerThread; ++i) box.post(Note{t, i});
    });
  CHECK(ev.run() == 0);
  for (auto& p : producers) p.join();
  CHECK(received == kThreads * kPerThread);
  CHECK(ordered);
  CHECK(on_loop_thread);
  CHECK(box.dropped() == 0);
}

TEST_CASE("mailbox: at the bound the oldest waiting message is dropped and counted") {
  loop::EventLoop ev;
  std::vector<int> got;
  loop::Mailbox<int> box(ev, 3, [&](int&& v) {
    got.push_back(v);
    if (v == 5) ev.request_shutdown("done");
  });
  // The loop is not running: everything waits in the queue.
  CHECK(box.post(1));
  CHECK(box.post(2));
  CHECK(box.post(3));
  CHECK_FALSE(box.post(4));  // drops 1
  CHECK_FALSE(box.post(5));  // drops 2
  CHECK(box.dropped() == 2);
  CHECK(ev.run() == 0);
  CHECK(got == std::vector<int>{3, 4, 5});
}

TEST_CASE("mailbox: a slow loop does not lose wakeups (post during delivery)") {
  loop::EventLoop ev;
  std::atomic<int> posted{0};
  int got = 0;
  loop::Mailbox<int> box(ev, 100000, [&](int&&) {
    ++got;
    if (got == 50000) ev.request_shutdown("done");
  });
  loop::Timer guard(ev, [&] { ev.request_shutdown("timeout"); });
  guard.arm_in(20s);
  std::thread producer([&] {
    for (int i = 0; i < 50000; ++i) {
      box.post(i);
      ++posted;
      if (i % 1000 == 0) std::this_thread::sleep_for(100us);
    }
  });
  ev.run();
  producer.join();
  CHECK(got == 50000);
}
