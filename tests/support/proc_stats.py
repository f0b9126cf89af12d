"""Figures of a live process from /proc, for the benchmarks (bench/compare,
bench/fleet, tests/integration/wps_server/bench_fleet.py). Each raises
OSError when the process is gone."""
import os

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """utime + stime of the whole process (all threads), in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # After the ")" the fields start at field 3 (state): utime is field 14, stime 15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def memory_kib(pid):
    """{"rss": VmRSS, "hwm": VmHWM, "pss": Pss} in KiB. Pss (proportional
    set size) splits shared library pages among their users."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                out["rss"] = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                out["hwm"] = int(line.split()[1])
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            if line.startswith("Pss:"):
                out["pss"] = int(line.split()[1])
    return out


def rss_kib(pid):
    """VmRSS in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise OSError("no VmRSS for pid %d (a zombie?)" % pid)


def pss_kib(pid):
    """Pss in KiB."""
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    raise OSError("no Pss for pid %d (a zombie?)" % pid)


def thread_count(pid):
    return len(os.listdir("/proc/%d/task" % pid))
