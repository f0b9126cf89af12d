#pragma once
// A fake root (/proc, /sys, /etc) in a temporary directory, for the host
// fact readers. Removed when it goes out of scope.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace dbr::test {

class FakeTree {
 public:
  FakeTree() {
    std::string pattern = (std::filesystem::temp_directory_path() / "dbr-fake-root-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    root_ = pattern;
  }
  ~FakeTree() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  FakeTree(const FakeTree&) = delete;
  FakeTree& operator=(const FakeTree&) = delete;

  const std::filesystem::path& root() const { return root_; }

  // Writes `content` at the absolute-looking `path` under the root.
  void write(std::string_view path, std::string_view content) {
    auto p = root_ / std::filesystem::path(path).relative_path();
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
  }
  void mkdir(std::string_view path) { std::filesystem::create_directories(root_ / std::filesystem::path(path).relative_path()); }

  // A /sys/class/net/<name> directory with the usual attribute files.
  void net(const std::string& name, int ifindex, int type, std::string_view address, std::string_view operstate) {
    std::string dir = "/sys/class/net/" + name + "/";
    write(dir + "ifindex", std::to_string(ifindex) + "\n");
    write(dir + "type", std::to_string(type) + "\n");
    write(dir + "address", std::string(address) + "\n");
    write(dir + "operstate", std::string(operstate) + "\n");
  }

 private:
  std::filesystem::path root_;
};

// A Raspberry Pi 4 on Debian 12 with eth0, wlan0, usb0, ppp0, docker0 and
// tun0, as the kernel would show them.
inline void build_pi_tree(FakeTree& t) {
  using namespace std::string_literals;
  t.write("/proc/device-tree/model", "Raspberry Pi 4 Model B Rev 1.4\0"s);
  std::string cpuinfo;
  for (int i = 0; i < 4; ++i)
    cpuinfo += "processor\t: " + std::to_string(i) +
               "\nmodel name\t: ARMv7 Processor rev 3 (v7l)\nBogoMIPS\t: 108.00\nCPU part\t: 0xd08\n\n";
  cpuinfo += "Hardware\t: BCM2835\nRevision\t: c03114\nSerial\t\t: 10000000abcdef01\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n";
  t.write("/proc/cpuinfo", cpuinfo);
  t.write("/sys/class/thermal/thermal_zone0/temp", "48686\n");
  t.write("/proc/loadavg", "0.52 0.58 0.59 1/234 5678\n");
  t.write("/proc/meminfo",
          "MemTotal:        3884096 kB\nMemFree:         2000000 kB\nMemAvailable:    3000000 kB\n"
          "Buffers:          100000 kB\nCached:           800000 kB\nSwapCached:            0 kB\n"
          "SReclaimable:      50000 kB\n");
  t.write("/proc/mounts",
          "proc /proc proc rw,nosuid 0 0\n/dev/mmcblk0p2 / ext4 rw,noatime 0 0\n/dev/mmcblk0p1 /boot/firmware vfat rw 0 0\n");
  t.write("/etc/os-release",
          "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\n"
          "VERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n");
  t.write("/proc/stat", "cpu  1 2 3 4\nintr 0\nbtime 1700000000\nprocesses 100\n");

  t.net("lo", 1, 772, "00:00:00:00:00:00", "unknown");
  t.net("eth0", 2, 1, "dc:a6:32:01:02:03", "up");
  t.write("/sys/class/net/eth0/speed", "1000\n");
  t.mkdir("/sys/class/net/eth0/device");
  t.net("wlan0", 3, 1, "dc:a6:32:01:02:04", "up");
  t.mkdir("/sys/class/net/wlan0/wireless");
  t.mkdir("/sys/class/net/wlan0/phy80211");
  t.net("usb0", 4, 1, "12:34:56:78:9a:bc", "down");
  t.mkdir("/sys/class/net/usb0/device");
  t.write("/sys/class/net/usb0/speed", "-1\n");
  t.net("ppp0", 5, 512, "", "unknown");
  t.write("/sys/class/net/ppp0/flags", "0x10d1\n");  // UP|RUNNING|...
  t.net("docker0", 6, 1, "02:42:ac:11:00:01", "down");
  t.net("tun0", 7, 65534, "", "unknown");
  t.write("/sys/class/net/tun0/flags", "0x1001\n");  // UP, not RUNNING
  t.write("/proc/net/wireless",
          "Inter-| sta-|   Quality        |   Discarded packets               | Missed | WE\n"
          " face | tus | link level noise |  nwid  crypt   frag  retry   misc | beacon | 22\n"
          " wlan0: 0000   54.  -56.  -256        0      0      0      0      0        0\n");
  t.write("/proc/net/route",
          "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
          "wlan0\t00000000\tFE01A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
          "eth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
          "eth0\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n");
  t.write("/etc/resolv.conf", "# generated\nnameserver 192.168.1.1\nnameserver 2001:4860:4860::8888\nsearch lan\n");
}

}  // namespace dbr::test
