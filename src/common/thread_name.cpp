#include "common/thread_name.hpp"

#include <pthread.h>

#include <cstdlib>
#include <filesystem>

#include "common/small_file.hpp"

namespace dbr {

namespace {
constexpr std::size_t kMaxNameLength = 15;  // TASK_COMM_LEN - 1
}

void name_thread(std::thread& thread, const char* name) {
  std::string cut = std::string(name).substr(0, kMaxNameLength);
  (void)pthread_setname_np(thread.native_handle(), cut.c_str());
}

std::vector<int> thread_ids() {
  std::vector<int> ids;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task", error)) {
    int tid = std::atoi(entry.path().filename().c_str());
    if (tid > 0) ids.push_back(tid);
  }
  return ids;
}

void name_thread_id(int tid, const std::string& name) {
  // A name that cannot be set leaves the kernel's: only `ps` shows it.
  (void)write_small_file("/proc/self/task/" + std::to_string(tid) + "/comm", name.substr(0, kMaxNameLength));
}

}  // namespace dbr
