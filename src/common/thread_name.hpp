#pragma once
// Thread names, as `top -H`, `ps -L` and /proc/PID/task/*/comm show them
// (at most 15 characters). docs/architecture.md lists every thread.
#include <string>
#include <thread>
#include <vector>

namespace dbr {

// pthread_setname_np; a name longer than 15 characters is cut. Failures
// are ignored: a name is a diagnostic aid, never a reason to stop.
void name_thread(std::thread& thread, const char* name);

// The kernel ids (TIDs) of this process's threads, from /proc/self/task.
std::vector<int> thread_ids();

// Names a thread of this process by its TID (/proc/self/task/TID/comm),
// for threads a library started whose handles we do not have.
void name_thread_id(int tid, const std::string& name);

}  // namespace dbr
