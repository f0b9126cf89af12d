"""Figures of a live process from /proc, for the benchmarks (bench/compare,
bench/fleet, bench/hub). Each raises OSError when the process is gone."""
import os

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """utime + stime of the whole process (all threads), in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # After the ")" the fields start at field 3 (state): utime is field 14, stime 15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def _fields_kib(pid, name, keys):
    """{key: value} of the "Key:   N kB" lines of /proc/PID/NAME."""
    out = {}
    with open("/proc/%d/%s" % (pid, name)) as f:
        for line in f:
            key = line.split(":", 1)[0]
            if key in keys:
                out[key] = int(line.split()[1])
    return out


def _field_kib(pid, name, key):
    value = _fields_kib(pid, name, (key,)).get(key)
    if value is None:
        raise OSError("no %s for pid %d (a zombie?)" % (key, pid))
    return value


def memory_kib(pid):
    """{"rss": VmRSS, "hwm": VmHWM, "pss": Pss} in KiB. Pss (proportional
    set size) splits shared library pages among their users."""
    found = dict(_fields_kib(pid, "status", ("VmRSS", "VmHWM")), **_fields_kib(pid, "smaps_rollup", ("Pss",)))
    return {{"VmRSS": "rss", "VmHWM": "hwm", "Pss": "pss"}[k]: v for k, v in found.items()}


def rss_kib(pid):
    """VmRSS in KiB."""
    return _field_kib(pid, "status", "VmRSS")


def pss_kib(pid):
    """Pss in KiB."""
    return _field_kib(pid, "smaps_rollup", "Pss")


def thread_count(pid):
    return len(os.listdir("/proc/%d/task" % pid))
