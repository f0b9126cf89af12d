"""Soak: the REAL agent binary through thousands of connect/drop cycles
against the local Web PubSub hub (tests/support/wps), with the agent's
resident memory (VmRSS), open file descriptors and threads sampled
throughout: `run_soak` returns the figures, `print_result` prints them. The
benchmark (bench/soak/soak.py, 10 000 cycles) and the short soak in the test
command (tests/integration/soak/test_soak.py) both run it.

A cycle = the hub takes the agent's connection away and the agent is
Connected again. The kinds (docs/test-server.md, control API):
  drop      POST /fault/drop: abrupt TCP drop; the agent recovers its session
  expire    POST /fault/expire_sessions {connectionId}: transport dropped and
            the session forgotten; the recovery gets 1008, then a new connection
  close     POST /close code 1000: `disconnected` + close 1000, the session
            ends; the recovery gets 1008, then a new connection
  close1008 POST /close code 1008: no recovery, a new connection
  restart   POST /restart: the hub drops everything and listens again
The agent paces recoveries at one a second start to start (docs/pubsub.md),
so a kind that makes it recover (drop, expire, close, in turn) is chosen
only when its last recovery attempt began at least RECOVERY_PACING ago;
in between, close1008 cycles, each a new connection after the 100 ms
backoff floor. Every `restart_every`-th cycle is a hub restart.

"Connected again" is checked on both sides: the hub counts one more
recovery (drop) or one more new connection (the others) and shows an
attached session of the device in its group; the agent's status.json says
Connected with its reconnect counter above the value before the fault.

Run with Debian's /usr/bin/python3."""
import collections
import json
import os
import shutil
import tempfile
import time

from agent_process import AgentProcess
from hub_process import HubProcess
from netlab import free_port

DEVICE_ID = "soak-device"
GROUP = "soak-crib"
RECOVERY_PACING = 1.05  # s; the agent's 1 s recovery pacing plus a margin
RECOVERY_KINDS = ("drop", "expire", "close")
CYCLE_TIMEOUT = 20.0  # s per cycle; a restart cycle includes the probe saying offline/online


def agent_config(hub, nats_port):
    """Short timings: every new connection waits the 100 ms backoff floor
    (initial = max = 0.1 s, no jitter); the internet probe is the hub's
    /health, checked every second; NATS at a port nobody listens on (the
    bridge keeps retrying, which the soak covers too)."""
    return "\n".join([
        "[General]",
        "deviceId = %s" % DEVICE_ID,
        "locationDescription = soak",
        "[Websocket]",
        "groupName = %s" % GROUP,
        "hub = dunebugger",
        "connectionString = %s" % hub.connection_string(),
        "probeUrl = %s/health" % hub.endpoint,
        "connectionIntervalSecs = 1",
        "connectionTimeoutSecs = 2",
        "networkSettleSecs = 0",
        "reconnectInitialDelaySecs = 0.1",
        "reconnectMaxDelaySecs = 0.1",
        "reconnectJitter = 0",
        "heartBeatEverySecs = 5",
        "heartBeatLoopDurationSecs = 60",
        "[MessageQueue]",
        "mQueueServers = nats://127.0.0.1:%d" % nats_port,
        "[Log]",
        "dunebuggerLogLevel = INFO",
        "",
    ])


def proc_sample(pid):
    """(VmRSS KiB, RssAnon KiB, open fds, threads) of a live process.
    RssAnon is the heap and stacks without the mapped binary and libraries,
    whose pages come and go with the page cache."""
    fields = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "Threads"):
                fields[key] = int(value.split()[0])
    fds = len(os.listdir("/proc/%d/fd" % pid))
    return fields["VmRSS"], fields["RssAnon"], fds, fields["Threads"]


def slope_per_1000(xs, ys):
    """Least-squares slope of ys over xs, times 1000 (per 1000 cycles)."""
    n = len(xs)
    if n < 2:
        return 0.0
    mx = sum(xs) / n
    my = sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return 0.0
    return 1000.0 * sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx


class SoakError(AssertionError):
    pass


class Soak:
    def __init__(self, agent, cycles, sample_every=50, restart_every=250, restart_delay=0.2,
                 agent_env=None, progress=None):
        self.agent_binary = agent
        self.cycles = cycles
        self.sample_every = sample_every
        self.restart_every = restart_every
        self.restart_delay = restart_delay
        self.agent_env = agent_env or {}
        self.progress = progress or (lambda text: None)
        self.dir = tempfile.mkdtemp(prefix="dbr-soak-")
        self.hub = None
        self.agent = None  # an AgentProcess
        self.status_path = os.path.join(self.dir, "status.json")
        self.samples = []  # (cycle, VmRSS KiB, RssAnon KiB, fds, threads, seconds since start)
        self.kind_counts = {}
        self.kind_seconds = {}
        self.anomalies = []
        self.connection_id = None
        self.reconnects = 0

    # ------------------------------------------------------------ pieces

    def start(self):
        self.hub = HubProcess("--log-level", "warning")
        # stderr to a file; the agent's pid is agent.proc.pid (sampled in /proc).
        self.agent = AgentProcess(self.agent_binary, agent_config(self.hub, free_port()),
                                  env={"RUNTIME_DIRECTORY": self.dir, **self.agent_env}, stderr_file=True)

    def stop_agent(self, timeout=10.0):
        """SIGTERM; returns the exit code (the agent exits 0; LSan reports at exit)."""
        try:
            return self.agent.stop(timeout)[0]
        except AssertionError as e:  # killed after the timeout
            raise SoakError(str(e)) from None

    def close(self):
        if self.agent is not None:
            self.agent.close()  # kills it if still running
        if self.hub is not None:
            self.hub.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def stderr_text(self):
        with open(self.agent.stderr_path, errors="replace") as f:
            return f.read()

    # ------------------------------------------------------------ checks

    def agent_status(self):
        try:
            with open(self.status_path) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None  # not written yet (it is replaced atomically)

    def device_session(self, state):
        for s in state["sessions"]:
            if s["userId"] == DEVICE_ID and s["attached"] and GROUP in s["groups"]:
                return s
        return None

    def wait_connected(self, before, need, timeout):
        """Until the hub counts one more `need` ("recoveries" or
        "connections_accepted") than `before`, shows the device attached in
        its group, and the agent says Connected with more reconnects than
        self.reconnects. Returns the hub counters then."""
        deadline = time.monotonic() + timeout
        while True:
            if self.agent.proc.poll() is not None:
                raise SoakError("the agent exited with %s" % self.agent.proc.returncode)
            try:
                state = self.hub.control.state()
            except OSError:
                state = None  # the control API is up, but a restart may be in progress
            if state is not None:
                counters = state["counters"]
                session = self.device_session(state)
                if counters.get(need, 0) > before.get(need, 0) and session is not None:
                    status = self.agent_status()
                    if (status and status["state"] == "Connected"
                            and status["counters"]["reconnects"] > self.reconnects):
                        self.connection_id = session["connectionId"]
                        self.reconnects = status["counters"]["reconnects"]
                        return counters
            if time.monotonic() >= deadline:
                raise SoakError("not Connected again within %.0f s (waiting for %s; hub state %s; agent %s)"
                                % (timeout, need, state and state["counters"], self.agent_status()))
            time.sleep(0.002)

    def wait_first_connection(self, timeout=30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.hub.control.state()
            session = self.device_session(state)
            status = self.agent_status()
            if session is not None and status and status["state"] == "Connected":
                self.connection_id = session["connectionId"]
                self.reconnects = status["counters"]["reconnects"]
                return state["counters"]
            if self.agent.proc.poll() is not None:
                raise SoakError("the agent exited with %s" % self.agent.proc.returncode)
            time.sleep(0.02)
        raise SoakError("the agent did not connect within %.0f s" % timeout)

    # ------------------------------------------------------------ cycles

    def fault(self, kind):
        """Takes the connection away; returns the hub counter that proves it is back."""
        control = self.hub.control
        if kind == "drop":
            if control.drop(user_id=DEVICE_ID)["dropped"] != 1:
                raise SoakError("drop: the device's connection was not attached")
            return "recoveries"
        if kind == "expire":
            control.expire_sessions(self.connection_id)
        elif kind == "close":
            control.close(self.connection_id, 1000, "soak: server close")
        elif kind == "close1008":
            control.close(self.connection_id, 1008, "soak: server close 1008")
        elif kind == "restart":
            control.restart(self.restart_delay, wait=True)
        else:
            raise ValueError(kind)
        return "connections_accepted"

    def sample(self, cycle, t0):
        self.samples.append((cycle, *proc_sample(self.agent.proc.pid), time.monotonic() - t0))

    def run(self):
        self.start()
        counters = self.wait_first_connection()
        t0 = time.monotonic()
        last_recovery = 0.0  # when the last cycle that made the agent recover ended
        rotation = 0
        self.sample(0, t0)
        for cycle in range(1, self.cycles + 1):
            if self.restart_every and cycle % self.restart_every == 0:
                kind = "restart"
            elif time.monotonic() - last_recovery >= RECOVERY_PACING:
                kind = RECOVERY_KINDS[rotation % len(RECOVERY_KINDS)]
                rotation += 1
            else:
                kind = "close1008"
            start = time.monotonic()
            need = self.fault(kind)
            after = self.wait_connected(counters, need, CYCLE_TIMEOUT)
            if kind == "drop" and after.get("connections_accepted", 0) != counters.get("connections_accepted", 0):
                self.anomalies.append("cycle %d: drop answered with a new connection, not a recovery" % cycle)
            counters = after
            now = time.monotonic()
            if kind != "close1008":
                last_recovery = now
            self.kind_counts[kind] = self.kind_counts.get(kind, 0) + 1
            self.kind_seconds.setdefault(kind, []).append(now - start)
            if cycle % self.sample_every == 0 or cycle == self.cycles:
                self.sample(cycle, t0)
            if cycle % 500 == 0:
                s = self.samples[-1]
                self.progress("cycle %d: %.0f s, VmRSS %d KiB, RssAnon %d KiB, %d fds, %d threads"
                              % (cycle, now - t0, s[1], s[2], s[3], s[4]))
        self.wall_seconds = time.monotonic() - t0
        self.hub_counters = counters
        status = self.agent_status()
        self.agent_reconnects = status["counters"]["reconnects"] if status else None
        self.exit_code = self.stop_agent()
        return self.result()

    # ------------------------------------------------------------ figures

    def result(self):
        half = [s for s in self.samples if s[0] >= self.cycles / 2]
        xs = [s[0] for s in half]
        text = self.stderr_text()
        sanitizer_lines = [line for line in text.splitlines()
                           if "LeakSanitizer" in line or "AddressSanitizer" in line or "runtime error:" in line]
        first, last = self.samples[0], self.samples[-1]

        def figures(column):
            ys = [s[column] for s in half]
            return {"first": first[column], "last": last[column], "min": min(s[column] for s in self.samples),
                    "max": max(s[column] for s in self.samples), "slope_per_1000_cycles": slope_per_1000(xs, ys)}
        return {
            "cycles": self.cycles,
            "wall_seconds": self.wall_seconds,
            "ms_per_cycle": 1000.0 * self.wall_seconds / self.cycles,
            "kinds": dict(self.kind_counts),
            "kind_median_ms": {k: 1000.0 * sorted(v)[len(v) // 2] for k, v in self.kind_seconds.items()},
            "kind_max_ms": {k: 1000.0 * max(v) for k, v in self.kind_seconds.items()},
            "samples": len(self.samples),
            "rss_kib": figures(1),
            "anon_kib": figures(2),
            "fds": figures(3),
            "threads": figures(4),
            "agent_reconnects": self.agent_reconnects,
            "hub_counters": {k: v for k, v in self.hub_counters.items()
                             if k in ("connections_accepted", "recoveries", "recoveries_failed", "restarts",
                                      "faults_drop", "sessions_ended")},
            "anomalies": self.anomalies,
            "exit_code": self.exit_code,
            "sanitizer_lines": sanitizer_lines[:20],
            "stderr_lines": len(text.splitlines()),
            # Console format: "YYYY-mm-dd HH:MM:SS.mmm <level> <text>".
            "log_levels": dict(collections.Counter(line.split()[2] for line in text.splitlines()
                                                   if len(line.split()) > 2 and line[:2] == "20")),
        }


def run_soak(agent, cycles, **kw):
    soak = Soak(agent, cycles, **kw)
    try:
        result = soak.run()
        result["sample_table"] = soak.samples
        return result
    finally:
        soak.close()


def print_result(r, samples_csv=None):
    print("cycles %d in %.1f s (%.1f ms per cycle)" % (r["cycles"], r["wall_seconds"], r["ms_per_cycle"]))
    for kind in sorted(r["kinds"]):
        print("  %-10s %6d cycles, median %7.1f ms, max %7.1f ms"
              % (kind, r["kinds"][kind], r["kind_median_ms"][kind], r["kind_max_ms"][kind]))
    for what in ("rss_kib", "anon_kib", "fds", "threads"):
        d = r[what]
        print("  %-8s first %s, last %s, max %s; slope over the second half %+.2f per 1000 cycles"
              % (what, d["first"], d["last"], d["max"], d["slope_per_1000_cycles"]))
    print("  agent reconnects %s; hub %s" % (r["agent_reconnects"], r["hub_counters"]))
    print("  anomalies %d %s" % (len(r["anomalies"]), r["anomalies"][:5]))
    print("  agent exit code %s after SIGTERM; sanitizer lines %d %s; %d stderr lines %s"
          % (r["exit_code"], len(r["sanitizer_lines"]), r["sanitizer_lines"][:3], r["stderr_lines"],
             r["log_levels"]))
    if samples_csv:
        with open(samples_csv, "w") as f:
            f.write("cycle,vmrss_kib,rssanon_kib,fds,threads,seconds\n")
            for s in r["sample_table"]:
                f.write("%d,%d,%d,%d,%d,%.2f\n" % s)
        print("  samples written to %s" % samples_csv)
