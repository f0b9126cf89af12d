"""Side-by-side benchmark: this agent (C++) and a reference agent on
Microsoft's official @azure/web-pubsub-client (bench/compare/reference),
running at the same time against one local hub (tests/support/wps), each
with its own group, its own nats-server, its own NATS publisher and its own
front-end simulator.

One repeat measures, for each agent:
  - CPU seconds (utime+stime, /proc/<pid>/stat) over a connected window
    (default 600 s) with front-end heartbeats and a NATS publisher;
  - resident memory: VmRSS (/proc/<pid>/status) and PSS
    (/proc/<pid>/smaps_rollup), sampled every 10 s; the end-of-window value
    and the largest sample;
  - relay latency NATS -> agent -> hub -> front end: the publisher puts a
    sequence number in the playing_time body and the front end records its
    arrival (one monotonic clock, one process); p50/p99 over the window;
  - hub restart -> agent rejoined: POST /restart (down 0 s and 5 s), then the hub's
    /state polled every 20 ms until the agent's user has an attached session
    in its group; --restarts times;
  - half-open detection: POST /fault/silence on the agent's connection, then
    /state polled every 100 ms until the agent's user has an attached,
    unsilenced transport again (a recovery replaced it, or a new session).

    /usr/bin/python3 bench/compare/compare.py --agent build/release/src/dunebugger-remote \
        [--window 600] [--repeats 3] [--rate 1] [--restarts 3] [--out-dir DIR]
    /usr/bin/python3 bench/compare/compare.py --summarize DIR      # markdown tables

Each repeat writes DIR/run-<n>.json as soon as it ends, so a long series
that is cut short keeps what it finished. Every wait has a timeout; every
process the driver starts is stopped on every path.
"""
import argparse
import asyncio
import configparser
import datetime
import glob
import io
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
SUPPORT = os.path.join(TOP, "tests", "support")
sys.path.insert(0, SUPPORT)

from agent_process import AgentProcess  # noqa: E402
from hub_process import HubProcess  # noqa: E402
from nats_peer import NatsPeer, NatsServer  # noqa: E402
from netlab import reexec_in_private_netns  # noqa: E402
from proc_stats import cpu_seconds, memory_kib, thread_count, thread_deltas, threads  # noqa: E402
from wps.frontend import FrontendSimulator  # noqa: E402

REFERENCE_AGENT = os.path.join(HERE, "reference", "agent.js")
SHIPPED_CONFIG = os.path.join(TOP, "config", "dunebugger.conf")
ROOT = "dunebugger"

CPP, NODE = "cpp", "node"
AGENTS = (CPP, NODE)


# ------------------------------------------------------------ figures

def percentile(values, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))  # ceil(n·p/100)
    return ordered[int(rank) - 1]


# ------------------------------------------------------------ the pieces

def stop_process(proc, timeout=5.0):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


UNIT = os.path.join(TOP, "systemd", "dunebugger-remote.service")


def unit_environment():
    """The Environment= settings of the shipped systemd unit: the agent runs
    here with the environment it has in the field."""
    env = {}
    with open(UNIT) as f:
        for line in f:
            if line.startswith("Environment="):
                key, _, value = line.strip()[len("Environment="):].partition("=")
                env[key] = value
    return env


def runtime_directory(prefix):
    """A fresh directory on tmpfs for status.json, as the unit's
    RuntimeDirectory= under /run is: the agent rewrites the file there, and
    on a disk file system a rename over the old file costs a writeback."""
    return tempfile.mkdtemp(prefix=prefix, dir="/dev/shm" if os.path.isdir("/dev/shm") else None)


def shipped_heartbeat_secs():
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read(SHIPPED_CONFIG)
    return int(parser["Websocket"]["heartBeatEverySecs"])


def cpp_config(hub, nats, user, group):
    """The shipped config/dunebugger.conf, with only what must point at this
    machine changed: device/group, the hub's connection string, NATS, and
    the internet probe (nats-server's /healthz instead of smart.dunebugger.it)."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys keep their case, as the agent reads them
    parser.read(SHIPPED_CONFIG)
    parser["General"]["deviceId"] = user
    ws = parser["Websocket"]
    ws["groupName"] = group
    ws["connectionString"] = hub.connection_string()
    ws["probeUrl"] = nats.healthz_url
    parser["MessageQueue"]["mQueueServers"] = nats.url
    text = io.StringIO()
    parser.write(text)
    shipped = {k: v for k, v in ws.items() if k in ("heartBeatEverySecs", "heartBeatLoopDurationSecs",
                                                   "keepAliveIntervalSecs", "keepAliveTimeoutSecs",
                                                   "reconnectInitialDelaySecs", "reconnectMaxDelaySecs",
                                                   "reconnectJitter", "connectionIntervalSecs")}
    return text.getvalue(), shipped


class TimedFrontend(FrontendSimulator):
    """The front-end simulator, also noting when each playing_time arrives."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.arrivals = {}  # sequence number -> monotonic arrival time
        self.heartbeats = []  # (monotonic, body)

    def _on_message(self, client, msg):
        now = time.monotonic()
        super()._on_message(client, msg)
        data = msg.get("data")
        if isinstance(data, dict) and data.get("destination") in ("broadcast", client.connection_id):
            if data.get("subject") == "playing_time" and isinstance(data.get("body"), int):
                self.arrivals.setdefault(data["body"], now)
            elif data.get("subject") == "heartbeat":
                self.heartbeats.append((now, data.get("body")))


class Side:
    """One agent with its nats-server, NATS publisher and front end."""

    def __init__(self, name, user, group):
        self.name, self.user, self.group = name, user, group
        self.nats = None
        self.proc = None       # a Popen (node) or AgentProcess (cpp)
        self.publisher = None
        self.frontend = None
        self.sent = {}         # sequence -> monotonic send time
        self.next_seq = 1

    @property
    def pid(self):
        return self.proc.proc.pid if isinstance(self.proc, AgentProcess) else self.proc.pid

    def alive(self):
        p = self.proc.proc if isinstance(self.proc, AgentProcess) else self.proc
        return p.poll() is None

    def publish(self):
        seq = self.next_seq
        self.next_seq += 1
        payload = json.dumps({"body": seq, "subject": "playing_time", "source": "core"}).encode()
        self.sent[seq] = time.monotonic()
        self.publisher.pub("%s.remote.playing_time" % ROOT, payload)


def agent_in_group(state, user, group):
    """The agent's session is attached, not silenced and in its group."""
    members = set(state["groups"].get(group, []))
    for s in state["sessions"]:
        if s["userId"] == user and s["attached"] and not s["silenced"] and s["connectionId"] in members:
            return s
    return None


async def control(hub, method, *args, **kwargs):
    """The blocking control client, off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(None, lambda: getattr(hub.control, method)(*args,
                                                                                                     **kwargs))


async def poll_rejoined(hub, sides, timeout, interval):
    """Polls /state until every side's agent is back in its group; returns
    {name: monotonic time first seen, or None}. One poll serves every side,
    so neither is timed late because the other was waited for."""
    seen = {}
    deadline = time.monotonic() + timeout
    while len(seen) < len(sides) and time.monotonic() < deadline:
        try:
            state = await control(hub, "state")
        except OSError:
            state = None  # the control API is briefly away while the hub restarts
        now = time.monotonic()
        for side in sides:
            if side.name not in seen and state is not None and agent_in_group(state, side.user, side.group):
                seen[side.name] = now
        await asyncio.sleep(interval)
    return {side.name: seen.get(side.name) for side in sides}


async def poll_state(hub, predicate, timeout, interval):
    """Polls /state until predicate(state) is truthy; returns (monotonic time, value) or (None, None)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = await control(hub, "state")
        except OSError:
            state = None  # the control API is briefly away while the hub restarts
        if state is not None:
            value = predicate(state)
            if value:
                return time.monotonic(), value
        await asyncio.sleep(interval)
    return None, None


# ------------------------------------------------------------ one repeat

async def run_once(a, work):
    hub = HubProcess()
    sides = {CPP: Side(CPP, "bench-cpp", "bench-cpp"), NODE: Side(NODE, "bench-node", "bench-node")}
    result = {"started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "window_s": a.window, "rate_per_s": a.rate, "agents": {}}
    tasks = []
    runtime = None
    try:
        for side in sides.values():
            # Its monitoring port's /healthz is the C++ agent's 'internet' probe
            # (a target independent of the hub, as smart.dunebugger.it is in the field).
            side.nats = NatsServer.start_on_free_port(monitor=True,
                                                      log_path=os.path.join(work, "nats-%s.log" % side.name))
        config_text, shipped = cpp_config(hub, sides[CPP].nats, sides[CPP].user, sides[CPP].group)
        result["cpp_config"] = shipped
        runtime = runtime_directory("dbr-compare-run-")
        cpp = sides[CPP]
        cpp.proc = AgentProcess(a.agent, config_text, env=dict(unit_environment(), RUNTIME_DIRECTORY=runtime),
                                stderr_file=True)
        node = sides[NODE]
        node_log = open(os.path.join(work, "node-agent.log"), "w")
        node.proc = subprocess.Popen([a.node, REFERENCE_AGENT, "--token-url", "http://127.0.0.1:%d/token" %
                                      hub.control_port, "--user", node.user, "--group", node.group,
                                      "--nats", node.nats.url, "--heartbeat-every", str(a.node_heartbeat_every)],
                                     stdout=subprocess.DEVNULL, stderr=node_log)
        node_log.close()
        started = time.monotonic()
        for side in sides.values():
            when, _ = await poll_state(hub, lambda s, side=side: agent_in_group(s, side.user, side.group), 30, 0.02)
            if when is None:
                raise RuntimeError("%s agent did not join its group within 30 s" % side.name)
            result["agents"].setdefault(side.name, {})["start_to_joined_s"] = round(when - started, 3)

        for side in sides.values():
            async def token_url(side=side):
                t = await control(hub, "token", "frontend-" + side.name)
                return t["url"]
            side.frontend = TimedFrontend(token_url, side.group, stop_on_disconnected=False)
            await side.frontend.start()
            side.publisher = NatsPeer(side.nats.port, name="core")
        for side in sides.values():
            await side.frontend.wait_online(True, 30)

        # Publishers: one message per 1/rate s to each agent, the two offset by half a period.
        period = 1.0 / a.rate

        async def publish_loop(side, offset):
            loop = asyncio.get_running_loop()
            next_at = loop.time() + offset
            while True:
                await asyncio.sleep(max(0.0, next_at - loop.time()))
                side.publish()
                next_at += period
        tasks.append(asyncio.create_task(publish_loop(sides[CPP], 0.0)))
        tasks.append(asyncio.create_task(publish_loop(sides[NODE], period / 2)))

        await asyncio.sleep(a.warmup)
        # ---- the connected window
        window_start = time.monotonic()
        first_seq = {n: s.next_seq for n, s in sides.items()}
        cpu0 = {n: cpu_seconds(s.pid) for n, s in sides.items()}
        threads0 = {n: threads(s.pid) for n, s in sides.items()}
        samples = {n: [] for n in sides}
        loads = [os.getloadavg()]
        while time.monotonic() - window_start < a.window:
            for n, s in sides.items():
                if not s.alive():
                    raise RuntimeError("%s agent exited during the window" % n)
                samples[n].append(memory_kib(s.pid))
            await asyncio.sleep(min(10.0, max(0.0, a.window - (time.monotonic() - window_start))))
        cpu1 = {n: cpu_seconds(s.pid) for n, s in sides.items()}
        window_end = time.monotonic()
        threads1 = {n: threads(s.pid) for n, s in sides.items()}
        last_seq = {n: s.next_seq for n, s in sides.items()}
        loads.append(os.getloadavg())
        await asyncio.sleep(3.0)  # let the last messages of the window arrive
        for n, s in sides.items():
            fe = s.frontend
            seqs = range(first_seq[n], last_seq[n])
            lat = [(fe.arrivals[q] - s.sent[q]) * 1000 for q in seqs if q in fe.arrivals]
            end = memory_kib(s.pid)
            offline = [t for t, on in fe.online_changes if not on and window_start <= t <= window_end]
            r = result["agents"][n]
            r.update({
                "pid_threads": thread_count(s.pid),
                "cpu_s": round(cpu1[n] - cpu0[n], 3),
                "cpu_s_at_window_start": round(cpu0[n], 3),
                "rss_kib_end": end["rss"], "pss_kib_end": end["pss"], "hwm_kib": end["hwm"],
                "anon_kib_end": end["anon"],
                "rss_kib_max": max(x["rss"] for x in samples[n]), "pss_kib_max": max(x["pss"] for x in samples[n]),
                "anon_kib_max": max(x["anon"] for x in samples[n]),
                "threads_in_window": thread_deltas(threads0[n], threads1[n], window_end - window_start),
                "relay_sent": len(seqs), "relay_received": len(lat),
                "relay_ms_p50": round(percentile(lat, 50), 3) if lat else None,
                "relay_ms_p99": round(percentile(lat, 99), 3) if lat else None,
                "relay_ms_max": round(max(lat), 3) if lat else None,
                "heartbeats_in_window": sum(1 for t, _ in fe.heartbeats if window_start <= t <= window_end),
                "frontend_offline_events_in_window": len(offline),
            })
        result["window_actual_s"] = round(window_end - window_start, 1)
        result["loadavg_window"] = [round(x, 2) for x in loads[0]] + [round(x, 2) for x in loads[1]]

        # ---- hub restart -> rejoined, for each downtime
        for k, delay in [(k, d) for d in a.restart_delays for k in range(a.restarts)]:
            await asyncio.sleep(a.settle)
            for side in sides.values():
                when, _ = await poll_state(hub, lambda st, side=side: agent_in_group(st, side.user, side.group), 120,
                                           0.1)
                if when is None:
                    raise RuntimeError("%s agent not in its group before restart %d" % (side.name, k))
            t0 = time.monotonic()
            await control(hub, "restart", delay, True)
            back = time.monotonic()
            seen = await poll_rejoined(hub, list(sides.values()), a.rejoin_timeout, 0.02)
            for n, when in seen.items():
                result["agents"][n].setdefault("restart_to_rejoined_s", {}).setdefault(
                    str(delay), []).append(round(when - t0, 3) if when is not None else None)
            result.setdefault("restart_call_s", {}).setdefault(str(delay), []).append(round(back - t0, 3))

        # ---- half-open detection
        if a.half_open:
            await asyncio.sleep(a.settle)
            before = {}
            for side in sides.values():
                _, s = await poll_state(hub, lambda st, side=side: agent_in_group(st, side.user, side.group), 120,
                                        0.1)
                if s is None:
                    raise RuntimeError("%s agent not in its group before the silence" % side.name)
                before[side.name] = s
            t0 = {}
            for side in sides.values():
                t0[side.name] = time.monotonic()
                await control(hub, "silence", before[side.name]["connectionId"])
            pending = dict(sides)
            found = {}
            deadline = time.monotonic() + a.half_open_timeout
            while pending and time.monotonic() < deadline:
                try:
                    state = await control(hub, "state")
                except OSError:
                    state = None
                now = time.monotonic()
                for n, side in list(pending.items()):
                    for s in (state or {}).get("sessions", []):
                        if s["userId"] == side.user and s["attached"] and not s["silenced"]:
                            same = s["connectionId"] == before[n]["connectionId"]
                            found[n] = {"half_open_detected_s": round(now - t0[n], 2),
                                        "half_open_outcome": "recovered" if same else "new connection"}
                            del pending[n]
                            break
                await asyncio.sleep(0.1)
            # The front end's view: was the device shown offline, and for how long?
            # (Wait until every front end that went offline is online again.)
            deadline = time.monotonic() + a.frontend_online_timeout
            while time.monotonic() < deadline and not all(s.frontend.online for s in sides.values()):
                await asyncio.sleep(0.2)
            for n in sides:
                result["agents"][n].update(found.get(n, {"half_open_detected_s": None,
                                                          "half_open_outcome": "not within %g s" %
                                                          a.half_open_timeout}))
                fe = sides[n].frontend
                offline = [t for t, on in fe.online_changes if not on and t >= t0[n]]
                online_again = [t for t, on in fe.online_changes if on and offline and t > offline[0]]
                if not offline:
                    shown_offline = 0.0
                elif online_again:
                    shown_offline = round(online_again[0] - offline[0], 1)
                else:
                    shown_offline = None  # still offline at the end of the wait
                result["agents"][n]["half_open_frontend_offline_s"] = shown_offline
    finally:
        for t in tasks:
            t.cancel()
        for side in sides.values():
            if side.frontend is not None:
                try:
                    await asyncio.wait_for(side.frontend.stop(), 10)
                except (asyncio.TimeoutError, Exception):  # noqa: BLE001 - cleanup goes on
                    pass
            if side.publisher is not None:
                side.publisher.close()
        if sides[CPP].proc is not None:
            try:
                code, _ = sides[CPP].proc.stop(timeout=5)
                result.setdefault("exit_codes", {})[CPP] = code
            except AssertionError:
                result.setdefault("exit_codes", {})[CPP] = "killed"
            with open(os.path.join(work, "cpp-agent.log"), "w") as f:
                f.write("\n".join(sides[CPP].proc.output()) + "\n")
            sides[CPP].proc.close()
        if sides[NODE].proc is not None:
            result.setdefault("exit_codes", {})[NODE] = stop_process(sides[NODE].proc)
        for side in sides.values():
            if side.nats is not None:
                side.nats.stop()
        with open(os.path.join(work, "hub.log"), "w") as f:
            f.write(hub.log_text())
        hub.stop()
        if runtime:
            shutil.rmtree(runtime, ignore_errors=True)
    return result


# ------------------------------------------------------------ environment

def describe_environment(a):
    def run(*cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return None
    lock = json.load(open(os.path.join(HERE, "reference", "package-lock.json")))["packages"]
    return {
        "commit": run("git", "-C", TOP, "rev-parse", "--short", "HEAD"),
        "agent_sha256": run("sha256sum", a.agent).split()[0],
        "agent_version": run(a.agent, "--version"),
        "node": run(a.node, "--version"),
        "web_pubsub_client": lock["node_modules/@azure/web-pubsub-client"]["version"],
        "nats_js": lock["node_modules/nats"]["version"],
        "cpu": run("sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"),
        "cores": os.cpu_count(),
        "kernel": run("uname", "-r"),
        "network_namespace": "shared" if a.shared_net else "private, loopback only",
    }


# ------------------------------------------------------------ summary

def spread(values, digits=2):
    values = [v for v in values if v is not None]
    if not values:
        return "–"
    fmt = "%%.%df" % digits
    if len(values) == 1:
        return fmt % values[0]
    return "%s / %s / %s" % (fmt % min(values), fmt % statistics.median(values), fmt % max(values))


def summarize(directory):
    runs = []
    for path in sorted(glob.glob(os.path.join(directory, "run-*.json"))):
        with open(path) as f:
            runs.append(json.load(f))
    if not runs:
        return "no run-*.json in %s\n" % directory
    out = []
    env = runs[0].get("environment", {})
    out.append("%d repeat(s); window %s s; %s msg/s each; commit %s; node %s; @azure/web-pubsub-client %s; "
               "nats.js %s; %s, %s cores." % (len(runs), runs[0]["window_s"], runs[0]["rate_per_s"],
                                               env.get("commit"), env.get("node"), env.get("web_pubsub_client"),
                                               env.get("nats_js"), env.get("cpu"), env.get("cores")))
    out.append("Load average (1 min) at window start / end: %s." % ", ".join(
        "%s/%s" % (r["loadavg_window"][0], r["loadavg_window"][3]) for r in runs if "loadavg_window" in r))
    out.append("")
    out.append("Figures are min / median / max over the repeats (a single value when there is one).")
    out.append("")

    def col(agent, key, scale=1.0):
        return [r["agents"][agent][key] * scale if r["agents"][agent].get(key) is not None else None for r in runs]

    def ratio(key):
        return [r["agents"][CPP][key] / r["agents"][NODE][key]
                if r["agents"][CPP].get(key) is not None and r["agents"][NODE].get(key) else None for r in runs]

    out.append("| measure | this agent (C++) | official client (Node.js) | ratio C++ ÷ official |")
    out.append("|---|---:|---:|---:|")
    rows = [("start → joined (s)", "start_to_joined_s", 1, 3),
            ("CPU seconds from start to window start", "cpu_s_at_window_start", 1, 2),
            ("VmRSS at window end (MiB)", "rss_kib_end", 1 / 1024, 1),
            ("RssAnon (private) at window end (MiB)", "anon_kib_end", 1 / 1024, 2),
            ("PSS at window end (MiB)", "pss_kib_end", 1 / 1024, 1),
            ("largest VmRSS sample (MiB)", "rss_kib_max", 1 / 1024, 1),
            ("largest PSS sample (MiB)", "pss_kib_max", 1 / 1024, 1),
            ("largest RssAnon sample (MiB)", "anon_kib_max", 1 / 1024, 2),
            ("CPU seconds over the window", "cpu_s", 1, 2),
            ("relay latency p50 (ms)", "relay_ms_p50", 1, 2),
            ("relay latency p99 (ms)", "relay_ms_p99", 1, 2)]
    for label, key, scale, digits in rows:
        out.append("| %s | %s | %s | %s |" % (label, spread(col(CPP, key, scale), digits),
                                             spread(col(NODE, key, scale), digits), spread(ratio(key), 3)))
    cpu_pct = lambda agent: [r["agents"][agent]["cpu_s"] / r["window_actual_s"] * 100 for r in runs]  # noqa: E731
    out.append("| CPU, %% of one core | %s | %s | |" % (spread(cpu_pct(CPP), 3), spread(cpu_pct(NODE), 3)))
    delays = sorted({d for r in runs for d in r["agents"][CPP].get("restart_to_rejoined_s", {})}, key=float)
    for d in delays:
        restart = {n: [x for r in runs for x in r["agents"][n].get("restart_to_rejoined_s", {}).get(d, [])]
                   for n in AGENTS}
        out.append("| hub restart (down %g s) → rejoined (s), %d restarts | %s | %s | %s |" % (
            float(d), len(restart[CPP]), spread(restart[CPP]), spread(restart[NODE]),
            spread([c / n for c, n in zip(restart[CPP], restart[NODE]) if c is not None and n], 3)))
    out.append("| half-open → new/recovery connection (s) | %s | %s | %s |" % (
        spread(col(CPP, "half_open_detected_s"), 1), spread(col(NODE, "half_open_detected_s"), 1),
        spread(ratio("half_open_detected_s"), 3)))
    out.append("| front end shows the device offline during the half-open (s) | %s | %s | |" % (
        spread(col(CPP, "half_open_frontend_offline_s"), 1), spread(col(NODE, "half_open_frontend_offline_s"), 1)))
    out.append("")
    out.append("Per repeat:")
    out.append("")
    out.append("| repeat | agent | RSS MiB | PSS MiB | CPU s | threads | relayed | p50 ms | p99 ms | max ms | "
               "heartbeats | restart → rejoined s | half-open s (outcome) |")
    out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for i, r in enumerate(runs, 1):
        for n in AGENTS:
            x = r["agents"][n]
            out.append("| %d | %s | %.1f | %.1f | %.2f | %s | %d/%d | %s | %s | %s | %s | %s | %s (%s) |" % (
                i, n, x["rss_kib_end"] / 1024, x["pss_kib_end"] / 1024, x["cpu_s"], x.get("pid_threads"),
                x["relay_received"], x["relay_sent"], x["relay_ms_p50"], x["relay_ms_p99"], x["relay_ms_max"],
                x["heartbeats_in_window"], "; ".join("down %s: %s" % (d, ", ".join(str(v) for v in vs))
                                                     for d, vs in x.get("restart_to_rejoined_s", {}).items()),
                x.get("half_open_detected_s"), x.get("half_open_outcome")))
    out.extend(thread_table(runs))
    return "\n".join(out) + "\n"


def thread_table(runs):
    """Each agent's threads over the window: wakeups per minute (voluntary
    context switches) and CPU ms, min / median / max over the repeats, one
    row per thread name (threads of one name are summed)."""
    if not any("threads_in_window" in r["agents"][CPP] for r in runs):
        return []
    out = ["", "Threads over the window (wakeups per minute, CPU ms; min / median / max over the repeats):", "",
           "| agent | thread | count | wakeups / min | CPU ms |", "|---|---|---:|---:|---:|"]
    for n in AGENTS:
        per_name = {}
        for r in runs:
            rows = r["agents"][n].get("threads_in_window")
            if rows is None:
                continue
            this = {}
            for t in rows:
                w, c, k = this.get(t["name"], (0.0, 0.0, 0))
                this[t["name"]] = (w + t["wakeups_per_min"], c + t["cpu_ms"], k + 1)
            for name, v in this.items():
                per_name.setdefault(name, []).append(v)
        for name, vs in sorted(per_name.items()):
            out.append("| %s | %s | %s | %s | %s |" % (n, name, spread([v[2] for v in vs], 0),
                                                        spread([v[0] for v in vs], 1), spread([v[1] for v in vs], 1)))
    return out


# ------------------------------------------------------------ main

def main(argv=None):
    # SIGTERM ends the run through the cleanups (run_once's finally): no agent,
    # nats-server or hub is left behind.
    signal.signal(signal.SIGTERM, lambda signo, frame: sys.exit(128 + signo))
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--agent", help="the dunebugger-remote binary")
    p.add_argument("--node", default="node")
    p.add_argument("--window", type=float, default=600.0, help="connected window in seconds (default 600)")
    p.add_argument("--warmup", type=float, default=20.0, help="seconds online before the window starts")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--first", type=int, default=1, help="number of the first repeat (file names)")
    p.add_argument("--rate", type=float, default=1.0, help="playing_time messages per second to each agent")
    p.add_argument("--restarts", type=int, default=3, help="hub restarts per repeat and downtime")
    p.add_argument("--restart-delays", default="0,5", type=lambda t: [float(x) for x in t.split(",")],
                   help="hub downtimes in seconds, comma-separated (default 0,5)")
    p.add_argument("--settle", type=float, default=40.0,
                   help="seconds connected before each fault (above the C++ agent's 30 s stability window, "
                        "so a restart finds a stable connection, as in the field)")
    p.add_argument("--frontend-online-timeout", type=float, default=150.0,
                   help="after the half-open is detected, how long to wait for the front ends to be online")
    p.add_argument("--rejoin-timeout", type=float, default=120.0)
    p.add_argument("--no-half-open", dest="half_open", action="store_false")
    p.add_argument("--half-open-timeout", type=float, default=400.0)
    p.add_argument("--node-heartbeat-every", type=int, default=shipped_heartbeat_secs(),
                   help="the reference agent's heartBeatEverySecs (default: the shipped config's, the C++ "
                        "agent's, so both send heartbeats at the same cadence)")
    p.add_argument("--out-dir", help="where run-<n>.json and the logs go (default: a new temp dir)")
    p.add_argument("--summarize", metavar="DIR", help="print the markdown summary of DIR/run-*.json and exit")
    p.add_argument("--shared-net", action="store_true",
                   help="stay in this network namespace (default: both agents in a private one with only "
                        "loopback, so other processes' interface changes do not wake the C++ agent's netlink "
                        "watcher)")
    a = p.parse_args(argv)
    if a.summarize:
        sys.stdout.write(summarize(a.summarize))
        return 0
    if not a.shared_net:
        reexec_in_private_netns()
    if not a.agent:
        p.error("--agent is required")
    a.agent = os.path.abspath(a.agent)
    if not os.path.isdir(os.path.join(HERE, "reference", "node_modules")):
        p.error("install the reference agent first: npm ci --prefix %s" % os.path.join(HERE, "reference"))
    out_dir = a.out_dir or tempfile.mkdtemp(prefix="dbr-compare-")
    os.makedirs(out_dir, exist_ok=True)
    # A private copy: a build tree may be rebuilt by someone else while this runs.
    copy = os.path.join(out_dir, "dunebugger-remote")
    shutil.copy2(a.agent, copy)
    a.agent = copy
    env = describe_environment(a)
    print("compare: results in %s" % out_dir, flush=True)
    for i in range(a.first, a.first + a.repeats):
        work = os.path.join(out_dir, "run-%d" % i)
        os.makedirs(work, exist_ok=True)
        began = time.monotonic()
        result = asyncio.run(run_once(a, work))
        result["environment"] = env
        result["repeat_s"] = round(time.monotonic() - began, 1)
        with open(os.path.join(out_dir, "run-%d.json" % i), "w") as f:
            json.dump(result, f, indent=1)
        print("compare: repeat %d done in %.0f s: %s" % (i, result["repeat_s"], json.dumps(result["agents"])),
              flush=True)
    sys.stdout.write(summarize(out_dir))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
