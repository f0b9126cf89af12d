"""The idle floor: what the agent costs while it has nothing to do.

Starts the local hub (tests/support/wps), a nats-server and the real agent
with the shipped config (pointed at them as bench/compare does), with the
systemd environment the unit gives it (its Environment= lines, NOTIFY_SOCKET,
WATCHDOG_USEC of its WatchdogSec=30, RUNTIME_DIRECTORY on tmpfs for
status.json, as /run is), all in a private
network namespace with only loopback (unless --shared-net). Once the agent
has joined its group and NATS is up, nothing talks to it: no front end, no
NATS traffic but what the agent itself does. Over the window it prints, per
thread, its name, its wakeups per minute (voluntary context switches: each
is a sleep that something ended) and its CPU time (schedstat, in ns), then
the process's memory.

    /usr/bin/python3 bench/floor/idle_floor.py --agent build/release/src/dunebugger-remote \\
        [--window 300] [--repeats 3] [--json FILE]

Every wait has a timeout; every process it starts is stopped on every path.
"""
import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "support"))
sys.path.insert(0, os.path.join(TOP, "bench", "compare"))

from agent_process import AgentProcess  # noqa: E402
from compare import agent_in_group, cpp_config, runtime_directory, unit_environment  # noqa: E402
from hub_process import HubProcess  # noqa: E402
from nats_peer import NatsServer  # noqa: E402
from netlab import reexec_in_private_netns  # noqa: E402
from proc_stats import cpu_seconds, memory_kib, thread_deltas, threads  # noqa: E402

WATCHDOG_USEC = 30 * 1000 * 1000  # the unit's WatchdogSec=30


def wait_until(predicate, timeout, what, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise RuntimeError("%s not within %s s" % (what, timeout))


def status_file(runtime):
    try:
        with open(os.path.join(runtime, "status.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def run_once(a, work):
    hub = HubProcess(directory=work)
    nats = None
    agent = None
    runtime = None
    try:
        nats = NatsServer.start_on_free_port(monitor=True, log_path=os.path.join(work, "nats.log"))
        config_text, _ = cpp_config(hub, nats, "bench-idle", "bench-idle")
        runtime = runtime_directory("dbr-idle-run-")
        agent = AgentProcess(a.agent, config_text, notify=True, stderr_file=True,
                             env=dict(unit_environment(), RUNTIME_DIRECTORY=runtime,
                                      WATCHDOG_USEC=str(WATCHDOG_USEC)))
        wait_until(lambda: agent_in_group(hub.control.state(), "bench-idle", "bench-idle"), 30, "joined")
        wait_until(lambda: (status_file(runtime) or {}).get("nats_connected"), 30, "NATS connected")
        time.sleep(a.warmup)
        pid = agent.proc.pid
        t0, cpu0, before = time.monotonic(), cpu_seconds(pid), threads(pid)
        time.sleep(a.window)
        t1, cpu1, after = time.monotonic(), cpu_seconds(pid), threads(pid)
        memory = memory_kib(pid)
        if agent.proc.poll() is not None:
            raise RuntimeError("the agent exited during the window")
        rows = thread_deltas(before, after, t1 - t0)
        watchdog_pings = sum(1 for _, m in agent.notify.messages if "WATCHDOG=1" in m.split("\n"))
        return {"window_s": round(t1 - t0, 1), "threads": rows, "memory_kib": memory,
                "cpu_s": round(cpu1 - cpu0, 3), "cpu_ms_schedstat": round(sum(r["cpu_ms"] for r in rows), 2),
                "watchdog_pings_total": watchdog_pings}
    finally:
        stop_all(work, agent, nats, hub, runtime)


def stop_all(work, agent, nats, hub, runtime):
    """Stops what a repeat started (any of them may be None), keeping the
    agent's log in `work`."""
    if agent is not None:
        try:
            agent.stop(timeout=5)
        except AssertionError:
            pass
        with open(os.path.join(work, "agent.log"), "w") as f:
            f.write("\n".join(agent.output()) + "\n")
        agent.close()
    if nats is not None:
        nats.stop()
    if hub is not None:
        hub.stop()
    if runtime:
        shutil.rmtree(runtime, ignore_errors=True)


def spread(values, digits=1):
    if len(values) == 1:
        return ("%%.%df" % digits) % values[0]
    return ("%%.%df / %%.%df / %%.%df" % (digits, digits, digits)) % (min(values), statistics.median(values),
                                                                        max(values))


def summarize(runs):
    out = ["%d repeat(s), idle window %s s each (min / median / max over the repeats)." %
           (len(runs), runs[0]["window_s"]), "",
           "| thread | wakeups / min | CPU ms over the window |", "|---|---:|---:|"]
    names = []
    for r in runs:
        for t in r["threads"]:
            if t["name"] not in names:
                names.append(t["name"])
    for name in names:
        per_run = [[t for t in r["threads"] if t["name"] == name] for r in runs]
        wake = [sum(t["wakeups_per_min"] for t in ts) for ts in per_run]
        cpu = [sum(t["cpu_ms"] for t in ts) for ts in per_run]
        count = max(len(ts) for ts in per_run)
        out.append("| %s%s | %s | %s |" % (name, " (×%d)" % count if count > 1 else "", spread(wake), spread(cpu, 2)))
    out.append("| **all threads** | %s | %s |" % (
        spread([sum(t["wakeups_per_min"] for t in r["threads"]) for r in runs]),
        spread([r["cpu_ms_schedstat"] for r in runs], 2)))
    out.append("")
    out.append("threads: %s; VmRSS %s MiB; RssAnon %s MiB; VmHWM %s MiB; Pss %s MiB" % (
        spread([len(r["threads"]) for r in runs], 0),
        spread([r["memory_kib"]["rss"] / 1024 for r in runs], 2),
        spread([r["memory_kib"]["anon"] / 1024 for r in runs], 2),
        spread([r["memory_kib"]["hwm"] / 1024 for r in runs], 2),
        spread([r["memory_kib"]["pss"] / 1024 for r in runs], 2)))
    return "\n".join(out) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--agent", required=True)
    p.add_argument("--window", type=float, default=300.0, help="idle window in seconds (default 300)")
    p.add_argument("--warmup", type=float, default=20.0, help="seconds connected before the window")
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--json", help="also write the raw figures here")
    p.add_argument("--shared-net", action="store_true",
                   help="stay in this network namespace (default: a private one with only loopback, so other "
                        "processes' interface changes do not wake the agent's netlink watcher)")
    a = p.parse_args(argv)
    if not a.shared_net:
        reexec_in_private_netns()
    a.agent = os.path.abspath(a.agent)
    runs = []
    with tempfile.TemporaryDirectory(prefix="dbr-idle-") as work:
        for i in range(a.repeats):
            d = os.path.join(work, "run-%d" % (i + 1))
            os.makedirs(d)
            runs.append(run_once(a, d))
            print("idle_floor: repeat %d: %s" % (i + 1, json.dumps(runs[-1])), flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(runs, f, indent=1)
    sys.stdout.write(summarize(runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
