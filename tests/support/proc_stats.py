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


_MEMORY_KEYS = {"VmRSS": "rss", "VmHWM": "hwm", "RssAnon": "anon", "Pss": "pss"}


def memory_kib(pid):
    """{"rss": VmRSS, "hwm": VmHWM, "anon": RssAnon, "pss": Pss} in KiB.
    RssAnon is the process's private memory (heap, stacks, anonymous maps:
    what it costs the machine on its own); Pss (proportional set size)
    splits shared library pages among their users."""
    found = dict(_fields_kib(pid, "status", ("VmRSS", "VmHWM", "RssAnon")),
                 **_fields_kib(pid, "smaps_rollup", ("Pss",)))
    return {_MEMORY_KEYS[k]: v for k, v in found.items()}


def rss_kib(pid):
    """VmRSS in KiB."""
    return _field_kib(pid, "status", "VmRSS")


def pss_kib(pid):
    """Pss in KiB."""
    return _field_kib(pid, "smaps_rollup", "Pss")


def thread_count(pid):
    return len(os.listdir("/proc/%d/task" % pid))


def threads(pid):
    """{tid: {"name", "wakeups", "cpu_ns"}} of every live thread: its name
    (comm), voluntary context switches (each one a sleep that ended in a
    wakeup) and CPU time in ns (/proc/PID/task/TID/schedstat, exact, unlike
    the 10 ms ticks of /stat). A thread that exits between the listing and
    the reads is left out."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        base = "/proc/%d/task/%s/" % (pid, tid)
        try:
            with open(base + "comm") as f:
                name = f.read().strip()
            with open(base + "schedstat") as f:
                cpu_ns = int(f.read().split()[0])
            wakeups = None
            with open(base + "status") as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches:"):
                        wakeups = int(line.split()[1])
        except OSError:
            continue
        out[int(tid)] = {"name": name, "wakeups": wakeups, "cpu_ns": cpu_ns}
    return out


def thread_deltas(before, after, seconds):
    """Per live thread of `after`: name, wakeups per minute and CPU ms over
    the `seconds` between the two threads() samples (a thread born in
    between counts from zero)."""
    rows = []
    for tid, a in sorted(after.items()):
        b = before.get(tid, {"wakeups": 0, "cpu_ns": 0})
        rows.append({"tid": tid, "name": a["name"],
                     "wakeups_per_min": round((a["wakeups"] - b["wakeups"]) * 60.0 / seconds, 1),
                     "cpu_ms": round((a["cpu_ns"] - b["cpu_ns"]) / 1e6, 2)})
    return rows
