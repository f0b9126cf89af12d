// Hardware facts: model, revision, CPU, memory, storage.
#include <sys/statvfs.h>

#include <set>
#include <utility>

#include "sysinfo/host_files.hpp"
#include "sysinfo/host_readers.hpp"

namespace dbr::sysinfo {

namespace {

// "key\t: value" lines of /proc/cpuinfo.
std::pair<std::string_view, std::string_view> cpuinfo_pair(std::string_view line) {
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return {};
  return {trim_view(line.substr(0, colon)), trim_view(line.substr(colon + 1))};
}

void read_cpuinfo(const std::filesystem::path& root, HardwareFacts& hw) {
  auto text = read_small_file(under_root(root, "/proc/cpuinfo"), 1024 * 1024);
  if (!text) return;
  int processors = 0;
  std::set<std::pair<std::string, std::string>> physical_cores;
  std::string physical_id;
  for (auto line : split_lines(*text)) {
    auto [key, value] = cpuinfo_pair(line);
    if (key.empty()) continue;
    // The Python agent took the first "model name" or "Model" line; on a
    // 64-bit Raspberry Pi OS only "Model" exists.
    if ((key == "model name" || key == "Model") && !value.empty() && !hw.cpu.model)
      hw.cpu.model = valid_utf8(value);
    else if (key == "Revision" && !value.empty() && !hw.revision)
      hw.revision = valid_utf8(value);
    else if (key == "processor")
      ++processors;
    else if (key == "physical id")
      physical_id = std::string(value);
    else if (key == "core id")
      physical_cores.emplace(physical_id, std::string(value));
  }
  // psutil.cpu_count(logical=False) or cpu_count(): physical cores where
  // cpuinfo says which are which (x86), else the processors (ARM).
  if (!physical_cores.empty())
    hw.cpu.cores = static_cast<int>(physical_cores.size());
  else if (processors > 0)
    hw.cpu.cores = processors;
}

std::optional<double> read_temperature_c(const std::filesystem::path& root) {
  for (const char* path : {"/sys/class/thermal/thermal_zone0/temp", "/sys/devices/virtual/thermal/thermal_zone0/temp"}) {
    auto text = read_small_file(under_root(root, path), 64);
    if (!text) continue;
    if (auto milli = parse_i64(*text)) return static_cast<double>(*milli) / 1000.0;
  }
  return std::nullopt;
}

std::optional<std::array<double, 3>> read_load(const std::filesystem::path& root) {
  auto text = read_small_file(under_root(root, "/proc/loadavg"), 256);
  if (!text) return std::nullopt;
  auto fields = split_ws(trim_view(*text));
  if (fields.size() < 3) return std::nullopt;
  std::array<double, 3> load{};
  for (std::size_t i = 0; i < 3; ++i) {
    auto v = parse_double(fields[i]);
    if (!v) return std::nullopt;
    load[i] = *v;
  }
  return load;
}

void read_meminfo(const std::filesystem::path& root, HardwareFacts& hw) {
  auto text = read_small_file(under_root(root, "/proc/meminfo"), 64 * 1024);
  if (!text) return;
  std::optional<std::int64_t> total, free, buffers, cached, reclaimable;
  for (auto line : split_lines(*text)) {
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    auto key = line.substr(0, colon);
    auto fields = split_ws(line.substr(colon + 1));
    if (fields.empty()) continue;
    auto value = parse_i64(fields[0]);  // kB
    if (key == "MemTotal") total = value;
    else if (key == "MemFree") free = value;
    else if (key == "Buffers") buffers = value;
    else if (key == "Cached") cached = value;
    else if (key == "SReclaimable") reclaimable = value;
  }
  if (!total || *total <= 0) return;
  hw.memory_total_kib = static_cast<std::uint64_t>(*total);
  if (!free) return;
  // psutil's virtual_memory().used on Linux: total - free - buffers - cached
  // (cached including SReclaimable), or total - free if that goes negative.
  std::int64_t used = *total - *free - buffers.value_or(0) - cached.value_or(0) - reclaimable.value_or(0);
  if (used < 0) used = *total - *free;
  hw.memory_used_kib = static_cast<std::uint64_t>(std::max<std::int64_t>(used, 0));
}

void read_storage(const std::filesystem::path& root, HardwareFacts& hw) {
  if (auto mounts = read_small_file(under_root(root, "/proc/mounts"), 1024 * 1024)) {
    // The last mount on "/" is the one in effect.
    for (auto line : split_lines(*mounts)) {
      auto fields = split_ws(line);
      if (fields.size() >= 2 && fields[1] == "/") hw.root_device = valid_utf8(fields[0]);
    }
  }
  struct statvfs st {};
  if (::statvfs(root.c_str(), &st) == 0 && st.f_frsize > 0) {
    auto frsize = static_cast<std::uint64_t>(st.f_frsize);
    hw.storage_total_bytes = static_cast<std::uint64_t>(st.f_blocks) * frsize;
    hw.storage_used_bytes = static_cast<std::uint64_t>(st.f_blocks - st.f_bfree) * frsize;
  }
}

}  // namespace

HardwareFacts read_hardware(const std::filesystem::path& root, const Uname& uname) {
  HardwareFacts hw;
  if (auto model = read_small_file(under_root(root, "/proc/device-tree/model"), 4096)) {
    // A device-tree string ends in NUL; valid_utf8 drops it.
    std::string clean = valid_utf8(trim_view(*model));
    clean = std::string(trim_view(clean));
    if (!clean.empty()) hw.model = clean;
  }
  if (!hw.model && !uname.machine.empty()) hw.model = uname.machine;
  read_cpuinfo(root, hw);
  if (!uname.machine.empty()) hw.cpu.architecture = uname.machine;
  hw.cpu.temperature_c = read_temperature_c(root);
  hw.cpu.load = read_load(root);
  read_meminfo(root, hw);
  read_storage(root, hw);
  return hw;
}

}  // namespace dbr::sysinfo
