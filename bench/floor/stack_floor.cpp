// The memory floor of the decided stack, before any of the agent's own
// code: one process that loads the same shared libraries as the agent and
// starts each the way the agent does at start-up (libcurl's global init
// with OpenSSL and the system's openssl.cnf, a c-ares channel, an sd-event
// loop, libnats's three threads, an spdlog logger that writes one line,
// inih parsing a small file, one more thread as the internet monitor), then
// idles and prints VmRSS, RssAnon and the resident KiB of each mapping.
//
// Run it with the unit's environment (GNUTLS_NO_IMPLICIT_INIT=1, which the
// bench_stack_floor wrapper sets), so the figure compares with the agent's.
#include <ares.h>
#include <curl/curl.h>
#include <ini.h>
#include <nats/nats.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <thread>

namespace {

std::map<std::string, long> resident_kib_by_mapping() {
  std::map<std::string, long> kib;
  FILE* smaps = std::fopen("/proc/self/smaps", "r");
  if (smaps == nullptr) return kib;
  char line[1024];
  std::string current = "[anon]";
  while (std::fgets(line, sizeof line, smaps) != nullptr) {
    long value = 0;
    if (std::sscanf(line, "Rss: %ld kB", &value) == 1) {
      kib[current] += value;
      continue;
    }
    // A mapping's first line: "start-end perms offset dev inode [path]".
    char range[64], perms[8], offset[16], dev[16], path[512] = "";
    unsigned long inode = 0;
    int fields = std::sscanf(line, "%63s %7s %15s %15s %lu %511s", range, perms, offset, dev, &inode, path);
    if (fields >= 5 && std::strchr(range, '-') != nullptr) {
      const char* slash = std::strrchr(path, '/');
      current = fields == 6 ? std::string(slash != nullptr ? slash + 1 : path) : std::string("[anon]");
    }
  }
  std::fclose(smaps);
  return kib;
}

long status_kib(const char* key) {
  FILE* status = std::fopen("/proc/self/status", "r");
  if (status == nullptr) return -1;
  char line[256];
  long value = -1;
  const std::size_t length = std::strlen(key);
  while (std::fgets(line, sizeof line, status) != nullptr)
    if (std::strncmp(line, key, length) == 0 && line[length] == ':') std::sscanf(line + length + 1, "%ld", &value);
  std::fclose(status);
  return value;
}

int ignore_ini_entry(void*, const char*, const char*, const char*) { return 1; }

}  // namespace

int main() {
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return 1;
  CURL* easy = curl_easy_init();  // the agent keeps handles; one is enough here
  ares_library_init(ARES_LIB_INIT_ALL);
  ares_channel channel = nullptr;
  ares_options options{};
  if (ares_init_options(&channel, &options, 0) != ARES_SUCCESS) return 1;
  sd_event* loop = nullptr;
  if (sd_event_default(&loop) < 0) return 1;
  if (nats_Open(-1) != NATS_OK) return 1;
  auto logger = spdlog::stderr_logger_st("stack-floor");
  logger->info("stack floor: every library started");
  const char ini[] = "[General]\nmQueueServers = nats://127.0.0.1:4222\n[Websocket]\nheartBeatEverySecs = 50\n";
  (void)ini_parse_string(ini, ignore_ini_entry, nullptr);
  std::thread monitor([] { std::this_thread::sleep_for(std::chrono::seconds(2)); });
  std::this_thread::sleep_for(std::chrono::seconds(1));

  std::printf("VmRSS %ld KiB, RssAnon %ld KiB, threads %ld\n", status_kib("VmRSS"), status_kib("RssAnon"),
              status_kib("Threads"));
  std::multimap<long, std::string, std::greater<>> largest;
  for (const auto& [name, kib] : resident_kib_by_mapping())
    if (kib > 0) largest.emplace(kib, name);
  for (const auto& [kib, name] : largest) std::printf("%7ld KiB  %s\n", kib, name.c_str());

  monitor.join();
  nats_Close();
  sd_event_unref(loop);
  ares_destroy(channel);
  ares_library_cleanup();
  curl_easy_cleanup(easy);
  curl_global_cleanup();
  return 0;
}
