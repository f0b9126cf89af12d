"""Fleet simulation: N real agent processes (dunebugger-remote) against one
local Web PubSub hub on loopback; the hub restarts with a delay and the
agents' reconnections are counted per second. Prints figures (not a test).

    /usr/bin/python3 bench/fleet/fleet.py --agent B/dunebugger-remote --agents 500 --down 20 --jitter 0.3
    /usr/bin/python3 bench/fleet/fleet.py --agent B/dunebugger-remote --agents 500 --matrix

Set-up:
  - one hub (tests/support/wps/server.py, log level info: one time-stamped
    line per new connection and per refused recovery, which is what is
    counted);
  - one nats-server: every agent's NATS bus (its own subject root), and its
    monitoring port's /healthz is every agent's internet probe, an "internet"
    that stays up while the hub restarts (with the hub's /health as the
    probe, a hub restart reads as "internet offline" and the monitor's
    interval decides when the fleet returns, not the backoff);
  - N agents, each with its own deviceId and group (fleet-<i>), the
    connection string of the hub, the backoff under test (initial 2 s,
    max 60 s, jitter 0.3 by default) and the default 60 s probe interval.
Run: start the agents (in batches), wait until all are Connected and in
their groups, wait until every connection is older than the 30 s stability
window (as in a fleet that has been up for a while, so the backoff starts
from zero), then POST /restart {delay}: the hub drops every transport and
session and listens again after `delay`. Then wait until every agent is
back in its group (hub /state) and Connected (its status.json).

Figures: new connections accepted per second from the hub's log (an ASCII
plot), the peak second's share of the fleet, the time from the hub being
back until all agents are back, and the recoveries the hub refused with
1008 (sessions are gone after a restart). Run with Debian's /usr/bin/python3."""
import argparse
import collections
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "support"))

from agent_process import clean_env  # noqa: E402
from hub_process import HubProcess  # noqa: E402
from nats_peer import NatsServer  # noqa: E402
from proc_stats import cpu_seconds, pss_kib, rss_kib  # noqa: E402

STABILITY_WINDOW = 30.0  # s, the supervisor's (docs/pubsub.md)
LOG_RE = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d{3}) \S+ \S+ (.*)$")


def agent_config(i, hub, nats, jitter, initial, maximum):
    return "\n".join([
        "[General]",
        "deviceId = fleet-%d" % i,
        "locationDescription = fleet simulation",
        "[Websocket]",
        "groupName = fleet-%d" % i,
        "hub = dunebugger",
        "connectionString = %s" % hub.connection_string(),
        "probeUrl = %s" % nats.healthz_url,
        "reconnectInitialDelaySecs = %s" % initial,
        "reconnectMaxDelaySecs = %s" % maximum,
        "reconnectJitter = %s" % jitter,
        "[MessageQueue]",
        "mQueueServers = %s" % nats.url,
        "mQueueClientID = fleet-%d" % i,
        "mQueueSubjectRoot = fleet%d" % i,
        "[Log]",
        "dunebuggerLogLevel = INFO",
        "",
    ])


class Fleet:
    def __init__(self, agent, count, jitter, initial=2.0, maximum=60.0, progress=print):
        self.agent_binary = agent
        self.count = count
        self.jitter = jitter
        self.initial = initial
        self.maximum = maximum
        self.progress = progress
        self.dir = tempfile.mkdtemp(prefix="dbr-fleet-")
        self.hub = None
        self.nats = None
        self.agents = []  # (index, Popen, dir)

    def start(self, batch=25, batch_pause=0.25):
        self.hub = HubProcess("--log-level", "info")
        # Its monitoring port's /healthz is every agent's internet probe.
        self.nats = NatsServer.start_on_free_port(monitor=True, log_path=os.path.join(self.dir, "nats.log"))
        base_env = clean_env()
        for i in range(self.count):
            d = os.path.join(self.dir, "a%03d" % i)
            os.mkdir(d)
            conf = os.path.join(d, "agent.conf")
            with open(conf, "w") as f:
                f.write(agent_config(i, self.hub, self.nats, self.jitter, self.initial, self.maximum))
            with open(os.path.join(d, "stderr.log"), "w") as err:
                p = subprocess.Popen([self.agent_binary, "--config", conf], env=dict(base_env, RUNTIME_DIRECTORY=d),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
            self.agents.append((i, p, d))
            if (i + 1) % batch == 0:
                time.sleep(batch_pause)

    def joined_count(self, state):
        # deviceId (the userId) and group are both fleet-<i>.
        return sum(1 for s in state["sessions"]
                   if s["attached"] and s["userId"].startswith("fleet-") and s["userId"] in s["groups"])

    def status(self, d):
        try:
            with open(os.path.join(d, "status.json")) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def connected_count(self):
        return sum(1 for _, _, d in self.agents if (self.status(d) or {}).get("state") == "Connected")

    def wait_all_joined(self, timeout):
        """Seconds until every agent is attached in its group (hub) and
        Connected (status.json)."""
        t0 = time.monotonic()
        while True:
            dead = [i for i, p, _ in self.agents if p.poll() is not None]
            if dead:
                raise RuntimeError("agents exited: %s" % dead[:10])
            joined = self.joined_count(self.hub.control.state())
            if joined == self.count and self.connected_count() == self.count:
                return time.monotonic() - t0
            if time.monotonic() - t0 > timeout:
                raise RuntimeError("only %d of %d joined after %.0f s" % (joined, self.count, timeout))
            time.sleep(0.5)

    def stop(self):
        """SIGTERM to every agent; returns (exit 0 count, slowest exit s)."""
        for _, p, _ in self.agents:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        ok = 0
        t0 = time.monotonic()
        for _, p, _ in self.agents:
            try:
                code = p.wait(max(1.0, 30 - (time.monotonic() - t0)))
            except subprocess.TimeoutExpired:
                p.kill()
                code = p.wait()
            ok += code == 0
        return ok, time.monotonic() - t0

    def close(self):
        for _, p, _ in self.agents:
            if p.poll() is None:
                p.kill()
                p.wait()
        if self.hub:
            self.hub.stop()
        if self.nats:
            self.nats.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def parse_hub_log(text, after_marker="restart: dropping every connection"):
    """Seconds-of-day events after the restart line: (t_restart, t_back,
    [(t, user) new connections], [t refused recoveries], [t recovered])."""
    t_restart = t_back = None
    connected, refused, recovered = [], [], []
    day = 0.0
    last = None
    for line in text.splitlines():
        m = LOG_RE.match(line)
        if not m:
            continue
        h, mi, s, ms, msg = int(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4)), m.group(5)
        t = h * 3600 + mi * 60 + s + ms / 1000.0 + day
        if last is not None and t < last - 3600:  # midnight
            day += 86400
            t += 86400
        last = t
        if t_restart is None:
            if after_marker in msg:
                t_restart = t
            continue
        if t_back is None and " listening on " in msg:
            t_back = t
        elif msg.startswith("connected "):
            user = re.search(r"user=(\S+)", msg)
            connected.append((t, user.group(1) if user else "?"))
        elif msg.startswith("recovery of ") and "refused" in msg:
            refused.append(t)
        elif msg.startswith("recovered "):
            recovered.append(t)
    return t_restart, t_back, connected, refused, recovered


def per_second(times, origin):
    counts = collections.Counter(int(t - origin) for t in times if t >= origin)
    return counts


def peak_window(times, width):
    """Most events in any half-open window [t, t + width) (times sorted)."""
    best = 0
    j = 0
    for i, t in enumerate(times):
        while times[j] <= t - width:
            j += 1
        best = max(best, i - j + 1)
    return best


def run_once(agent, count, jitter, down, initial=2.0, maximum=60.0, back_timeout=300.0, progress=print):
    fleet = Fleet(agent, count, jitter, initial, maximum, progress)
    result = {"agents": count, "jitter": jitter, "down_s": down, "initial_s": initial, "max_s": maximum}
    try:
        t0 = time.monotonic()
        fleet.start()
        fleet.wait_all_joined(180)
        result["all_joined_after_launch_s"] = time.monotonic() - t0
        progress("%d agents joined %.1f s after the first launch" % (count, result["all_joined_after_launch_s"]))
        rss = [rss_kib(p.pid) for _, p, _ in fleet.agents]
        result["agent_rss_kib"] = {"median": statistics.median(rss), "max": max(rss), "sum_mib": sum(rss) / 1024,
                                   "pss_sum_mib": sum(pss_kib(p.pid) for _, p, _ in fleet.agents) / 1024}
        # Every connection older than the stability window: the backoff starts from zero.
        time.sleep(STABILITY_WINDOW + 5)
        hub_cpu0 = cpu_seconds(fleet.hub.proc.pid)
        fleet.hub.control.restart(down, wait=False)
        t_restart_mono = time.monotonic()
        progress("hub restarted, down %.0f s" % down)
        # Until all are back: the hub shows each agent in its group, its status says Connected.
        while True:
            time.sleep(1.0)
            try:
                joined = fleet.joined_count(fleet.hub.control.state())
            except OSError:
                continue
            if joined == count and fleet.connected_count() == count:
                break
            if time.monotonic() - t_restart_mono > down + back_timeout:
                result["not_back"] = count - joined
                break
        result["hub_cpu_s_after_restart"] = cpu_seconds(fleet.hub.proc.pid) - hub_cpu0
        result["hub_rss_kib"] = rss_kib(fleet.hub.proc.pid)
        t_restart, t_back, connected, refused, recovered = parse_hub_log(fleet.hub.log_text())
        first_back = {}
        for t, user in connected:
            first_back.setdefault(user, t)
        back_times = sorted(first_back.values())
        result["back"] = len(back_times)
        result["hub_back_after_restart_s"] = t_back - t_restart
        result["new_connections"] = len(connected)
        result["recoveries_refused_1008"] = len(refused)
        result["recoveries_accepted"] = len(recovered)
        conn_ps = per_second([t for t, _ in connected], t_restart)
        ref_ps = per_second(refused, t_restart)
        result["per_second"] = [(s, conn_ps.get(s, 0), ref_ps.get(s, 0))
                                for s in range(0, 1 + max(list(conn_ps) + list(ref_ps) + [0]))]
        peak = max(conn_ps.values()) if conn_ps else 0
        result["peak_second_connections"] = peak
        result["peak_share"] = peak / count
        # The same over any 1 s window, not only those starting a whole
        # number of seconds after the restart: independent of where a burst
        # falls on the second boundaries.
        result["peak_window_connections"] = peak_window(sorted(t for t, _ in connected), 1.0)
        result["peak_window_share"] = result["peak_window_connections"] / count
        if back_times:
            result["first_back_after_hub_back_s"] = back_times[0] - t_back
            result["all_back_after_hub_back_s"] = back_times[-1] - t_back
            result["all_back_after_restart_s"] = back_times[-1] - t_restart
            q = lambda f: back_times[min(len(back_times) - 1, int(f * len(back_times)))] - t_back  # noqa: E731
            result["back_quantiles_after_hub_back_s"] = {"10%": q(0.1), "50%": q(0.5), "90%": q(0.9)}
        ok, slowest = fleet.stop()
        result["exit_0"] = ok
        result["slowest_exit_s"] = slowest
        return result
    finally:
        fleet.close()


def print_result(r):
    print("== %d agents, jitter %s, backoff %s..%s s, hub down %.0f s"
          % (r["agents"], r["jitter"], r["initial_s"], r["max_s"], r["down_s"]))
    print("  all joined %.1f s after the first launch; agent RSS median %d KiB, max %d KiB, sum %.0f MiB "
          "(PSS sum %.0f MiB)" % (r["all_joined_after_launch_s"], r["agent_rss_kib"]["median"],
                                  r["agent_rss_kib"]["max"], r["agent_rss_kib"]["sum_mib"],
                                  r["agent_rss_kib"]["pss_sum_mib"]))
    print("  hub back %.2f s after the restart; %d of %d agents back; %d new connections, "
          "%d recoveries refused (1008), %d recoveries accepted"
          % (r["hub_back_after_restart_s"], r["back"], r["agents"], r["new_connections"],
             r["recoveries_refused_1008"], r["recoveries_accepted"]))
    if "all_back_after_hub_back_s" in r:
        print("  peak second %d connections = %.1f %% of the fleet (any 1 s window: %d = %.1f %%); after the hub "
              "was back: first %.2f s, 10/50/90 %% %.2f/%.2f/%.2f s, all %.2f s (%.2f s after the restart)"
              % (r["peak_second_connections"], 100 * r["peak_share"], r["peak_window_connections"],
                 100 * r["peak_window_share"], r["first_back_after_hub_back_s"],
                 r["back_quantiles_after_hub_back_s"]["10%"], r["back_quantiles_after_hub_back_s"]["50%"],
                 r["back_quantiles_after_hub_back_s"]["90%"], r["all_back_after_hub_back_s"],
                 r["all_back_after_restart_s"]))
    print("  hub CPU %.1f s from the restart until all back; hub RSS %d KiB; exit 0 on SIGTERM: %d of %d "
          "(slowest %.1f s)" % (r["hub_cpu_s_after_restart"], r["hub_rss_kib"], r["exit_0"], r["agents"],
                                r["slowest_exit_s"]))
    print("  second after restart | new connections | refused recoveries (1008) | new connections, one # per %d"
          % max(1, r["agents"] // 100))
    scale = max(1, r["agents"] // 100)
    zero_run = 0
    for s, c, f in r["per_second"]:
        if c == 0 and f == 0:
            zero_run += 1
            continue
        if zero_run:
            print("  %5s  (%d s without any)" % ("...", zero_run))
            zero_run = 0
        print("  %5d  %5d  %5d  %s" % (s, c, f, "#" * ((c + scale - 1) // scale)))


def main():
    # SIGTERM ends the run through the cleanups: no agent or hub is left behind.
    signal.signal(signal.SIGTERM, lambda signo, frame: sys.exit(128 + signo))
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--agent", required=True)
    p.add_argument("--agents", type=int, default=500)
    p.add_argument("--down", type=float, default=20.0, help="seconds the hub stays down")
    p.add_argument("--jitter", type=float, default=0.3)
    p.add_argument("--initial", type=float, default=2.0)
    p.add_argument("--max", type=float, default=60.0)
    p.add_argument("--matrix", action="store_true",
                   help="jitter 0.3 and 0, each with the hub down --down s and --long-down s")
    p.add_argument("--long-down", type=float, default=45.0)
    p.add_argument("--json", help="append each result as a JSON line to this file")
    a = p.parse_args()
    runs = [(a.jitter, a.down)]
    if a.matrix:
        runs = [(0.3, a.down), (0.0, a.down), (0.3, a.long_down), (0.0, a.long_down)]
    for jitter, down in runs:
        r = run_once(a.agent, a.agents, jitter, down, a.initial, a.max,
                     progress=lambda text: print(text, flush=True))
        print_result(r)
        sys.stdout.flush()
        if a.json:
            with open(a.json, "a") as f:
                f.write(json.dumps(r) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
