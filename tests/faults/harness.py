"""The fault suite's world: the REAL agent in a network namespace made by the
test, joined by a veth pair to the test's Web PubSub hub, dnsmasq and HTTPS
probe server in the root namespace, with nats-server and a NATS peer (playing
the DuneBugger core) inside the namespace, as on the device. Numbered
messages flow both ways the whole time; the fault hooks (link, nftables,
NFQUEUE delay, DNS, probe answers, hub control API) are methods of `Lab`.

Run with Debian's /usr/bin/python3, as root. Every wait has a timeout. Every
namespace, veth, rule and process is removed in Lab.close(), on every path;
a run that was killed (SIGKILL by a CTest timeout) is cleaned up by the next
one (`sweep_stale`).

Clock: everything is stamped with time.time() (CLOCK_REALTIME), because three
processes stamp events: the agent's log lines (its own wall clock, ms), the
hub's message log (time.time() in the hub) and this process. The figures are
differences of a few seconds between such stamps."""
import contextlib
import ctypes
import datetime
import json
import os
import queue
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SUPPORT = os.path.join(HERE, "..", "support")
sys.path.insert(0, SUPPORT)

from agent_process import AgentProcess  # noqa: E402
from hub_process import ACCESS_KEY, HubProcess  # noqa: E402
from nats_peer import NatsPeer  # noqa: E402
from http_peer import PROBE_HOST, ProbeServer  # noqa: E402
from netlab import Dnsmasq, NetNs, run, terminate  # noqa: E402
from test_ca import TestCA  # noqa: E402
from traffic import Traffic  # noqa: E402

PYTHON = "/usr/bin/python3"
NATS_SERVER = "/usr/sbin/nats-server"
DELAYER = os.path.join(HERE, "nfqueue_delay.py")
GROUP = "fault-crib"
DEVICE_ID = "fault-device"
NATS_PORT = 4222           # inside the namespace: nothing else listens there
NFQUEUE_NUM = 7
NFT_TABLE = "dbrfault"     # inside the namespace
STATE_DIR = "/run/dbr-faults"   # one file per live lab, for sweep_stale
NS_PREFIX = "dbrflt"
TRAFFIC_PERIOD_S = 0.1     # one numbered message each way every 100 ms

# The agent's timings (docs/reliability.md, "Fault suite" lists them with the table).
AGENT_TIMINGS = {
    "connectionIntervalSecs": "60",
    "connectionTimeoutSecs": "2",
    "keepAliveIntervalSecs": "2",
    "keepAliveTimeoutSecs": "6",
    "reconnectInitialDelaySecs": "0.5",
    "reconnectMaxDelaySecs": "5",
    "reconnectJitter": "0.3",
    "networkSettleSecs": "1",
}

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)
INFO_AND_ABOVE = ("info", "warning", "error", "critical")
LOG_TIME_RE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) (\w+)\s+(.*)$")


def wall():
    return time.time()


def in_netns(ns_name, fn, timeout=15):
    """Runs fn() on a short-lived thread that has joined the namespace, and
    returns its result. Sockets keep the namespace they were made in, so a
    socket made by fn stays usable from any thread (setns(2) is per thread)."""
    result = {}

    def target():
        try:
            fd = os.open("/run/netns/" + ns_name, os.O_RDONLY)
            try:
                if _libc.setns(fd, CLONE_NEWNET) != 0:
                    err = ctypes.get_errno()
                    raise OSError(err, "setns: " + os.strerror(err))
            finally:
                os.close(fd)
            result["value"] = fn()
        except BaseException as e:  # handed to the caller
            result["error"] = e

    t = threading.Thread(target=target, name="in-netns", daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        raise TimeoutError("in_netns(%s) did not finish within %s s" % (ns_name, timeout))
    if "error" in result:
        raise result["error"]
    return result["value"]


def proc_start_time(pid):
    """The kernel's start time of pid (clock ticks since boot), or None when
    there is no such process or it has exited (a zombie)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return None if fields[0] == "Z" else int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


def kill_pid(pid, start_time):
    """SIGKILL pid if it is still the same process (pids are reused)."""
    if start_time is not None and proc_start_time(pid) == start_time:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def remove_netns(name, outer):
    """Kills whatever runs in the namespace, then deletes it and its veth."""
    pids = run("ip", "netns", "pids", name, check=False).stdout.split()
    for pid in pids:
        with contextlib.suppress(OSError, ValueError):
            os.kill(int(pid), signal.SIGKILL)
    deadline = time.monotonic() + 5
    while pids and time.monotonic() < deadline:
        pids = run("ip", "netns", "pids", name, check=False).stdout.split()
        time.sleep(0.02)
    if outer:
        run("ip", "link", "del", outer, check=False)
    run("ip", "netns", "del", name, check=False)


def sweep_stale():
    """Removes what an earlier, killed run of the suite left behind: its
    namespace (with everything in it) and its processes in the root
    namespace. Only labs whose owning process is gone are touched."""
    if not os.path.isdir(STATE_DIR):
        return []
    swept = []
    for entry in os.listdir(STATE_DIR):
        path = os.path.join(STATE_DIR, entry)
        try:
            with open(path) as f:
                state = json.load(f)
        except (OSError, ValueError):
            continue
        owner = state.get("owner", {})
        if proc_start_time(owner.get("pid", 0)) == owner.get("start") and owner.get("start") is not None:
            continue  # its run is alive
        for p in state.get("processes", []):
            kill_pid(p["pid"], p["start"])
        if state.get("netns"):
            remove_netns(state["netns"], state.get("outer"))
        with contextlib.suppress(OSError):
            os.unlink(path)
        swept.append(state.get("netns"))
    return swept


def parse_log_line(line):
    """(wall time, level, text) of one agent log line, or None."""
    m = LOG_TIME_RE.match(line)
    if not m:
        return None
    stamp = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp()
    return stamp, m.group(2).lower(), m.group(3)


class StatusWatch:
    """Reads the agent's status.json every 20 ms and keeps every change of
    (state, internet online) with the time it was seen."""

    def __init__(self, path, period=0.02):
        self.path, self.period = path, period
        self.changes = []   # (t, state, online, reason, pid)
        self.last = None
        self.pids = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="status-watch", daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                with open(self.path) as f:
                    j = json.load(f)
            except (OSError, ValueError):
                j = None
            if j is not None:
                now = wall()
                internet = j.get("internet") or {}
                key = (j.get("state"), internet.get("online"), internet.get("reason"))
                self.pids.add(j.get("pid"))
                self.last = j
                if not self.changes or self.changes[-1][1:4] != key:
                    self.changes.append((now,) + key + (j.get("pid"),))
            self._stop.wait(self.period)

    def state(self):
        return self.changes[-1][1] if self.changes else None

    def first(self, after, predicate):
        for c in self.changes:
            if c[0] >= after and predicate(c):
                return c
        return None

    def state_at(self, t):
        state = None
        for c in self.changes:
            if c[0] > t:
                break
            state = c[1]
        return state

    def wait(self, predicate, timeout, after=0.0):
        """The first change at or after `after` matching, waiting up to `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            c = self.first(after, predicate)
            if c is not None or time.monotonic() >= deadline:
                return c
            time.sleep(0.02)

    def close(self):
        self._stop.set()
        self._thread.join(2)


class FaultTraffic(Traffic):
    """Numbered messages both ways, every TRAFFIC_PERIOD_S (tests/support/traffic.py):

    - device -> group: the NATS peer publishes <root>.remote.log (a §1.3 push);
      the agent sends it to the group; arrival = the hub's message log entry
      (outcome "delivered"), stamped by the hub.
    - group -> device: POST /send to the group from "frontend" (the hub's
      control API, as the web front end would send core.dunebugger_set); the
      agent publishes it on <root>.core.dunebugger_set; arrival = the NATS
      peer receiving it. The hub answers how many group members it was
      sequenced for: 0 means the device had no session in the group (hub
      restarted, session ended), and the service drops it by design
      (Web PubSub does not buffer for absent members); those are counted as
      "not addressed", not as lost."""

    def __init__(self, lab):
        self.lab = lab
        self._mono_to_wall = time.time() - time.monotonic()
        super().__init__(lab.hub.control, GROUP, TRAFFIC_PERIOD_S)

    def send_device(self, n):
        self.lab.peer.pub("dunebugger.remote.log", {"subject": "log", "body": {
            "success": True, "level": "info", "message": "fault-suite d2g %d" % n}})

    def group_data(self, n):
        return {"subject": "core.dunebugger_set", "body": "fault-suite g2d %d" % n}

    def d2g_number(self, m):
        data = m.get("data")
        if m.get("source") != "client" or not isinstance(data, dict) or data.get("subject") != "log":
            return None
        return int(data["body"]["message"].rsplit(" ", 1)[1])

    def read_g2d(self, timeout):
        try:
            t, subject, payload = self.lab.peer.messages.get(timeout=timeout)
        except queue.Empty:
            return []
        if subject == "dunebugger.core.heartbeat":
            # The agent's liveness probe to the core (componentHeartbeatSecs).
            self.lab.probe_arrivals.append(t + self._mono_to_wall)
            return []
        if subject != "dunebugger.core.dunebugger_set":
            return []
        try:
            n = int(json.loads(payload)["body"].rsplit(" ", 1)[1])
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            return []
        return [(n, t + self._mono_to_wall)]


class Lab:
    """One case's world. Build with Lab(agent_binary, **agent_overrides).start(),
    always close() (it is idempotent and runs every step even if one fails)."""

    def __init__(self, agent_binary, traffic=True, agent_env=None, suite_timings=True, log_level="DEBUG",
                 ca_backdate_days=0, **agent_overrides):
        self.ca_backdate_days = ca_backdate_days
        self.agent_binary = agent_binary
        self.with_traffic = traffic
        self.suite_timings = suite_timings
        self.log_level = log_level
        self.agent_env = dict(agent_env or {})
        self.overrides = agent_overrides
        self._cleanups = []
        self.dir = tempfile.mkdtemp(prefix="dbr-faults-")
        self._cleanups.append(lambda: shutil.rmtree(self.dir, True))
        self.ns = self.hub = self.dns = self.probe = self.nats = self.peer = None
        self.agent = self.status = self.traffic = self.delayer = None
        self.state_path = None
        self.saved_logs = {}
        self.probe_arrivals = []   # wall times the NATS peer got the agent's probes

    # ------------------------------------------------------------- building

    def start(self):
        sweep_stale()
        os.makedirs(STATE_DIR, exist_ok=True)
        self.ns = NetNs(prefix=NS_PREFIX, outer_prefix="dbfo", inner_prefix="dbfi", net="10.214")
        self.state_path = os.path.join(STATE_DIR, self.ns.name + ".json")
        self._processes = []
        self._write_state()
        self._cleanups.append(lambda: remove_netns(self.ns.name, self.ns.outer))
        self._cleanups.append(lambda: os.path.exists(self.state_path) and os.unlink(self.state_path))
        self._nft_base()
        self._cleanups.append(lambda: terminate(self.delayer))

        ca = TestCA(os.path.join(self.dir, "ca"), backdate_days=self.ca_backdate_days)
        self.ca_path = ca.cert_path
        self.probe = ProbeServer(host=self.ns.outer_ip,
                                 ssl_context=ca.server_context("probe", dns=[PROBE_HOST], ips=[self.ns.outer_ip]))
        self._cleanups.append(self.probe.close)
        self.dns = Dnsmasq(listen=self.ns.outer_ip, address=self.ns.outer_ip)
        self._cleanups.append(self.dns.close)
        self._track(self.dns.proc)

        self.hub = HubProcess("--host", self.ns.outer_ip, "--control-host", "127.0.0.1",
                              "--access-key", ACCESS_KEY)
        self._cleanups.append(self._stop_hub)
        self._track(self.hub.proc)
        self.count_hub_syns()

        self.nats = subprocess.Popen(self.ns.prefix() + [NATS_SERVER, "-a", "127.0.0.1", "-p", str(NATS_PORT)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._cleanups.append(lambda: terminate(self.nats))
        self.peer = self._nats_peer()
        self._cleanups.append(self.peer.close)
        self.peer.sub("dunebugger.core.>")

        self._start_agent()
        if self.with_traffic:
            self.traffic = FaultTraffic(self).start()
            self._cleanups.append(self.traffic.close)
        return self

    def _write_state(self):
        me = os.getpid()
        with open(self.state_path, "w") as f:
            json.dump({"owner": {"pid": me, "start": proc_start_time(me)}, "netns": self.ns.name,
                       "outer": self.ns.outer, "processes": self._processes}, f)

    def _track(self, proc):
        self._processes.append({"pid": proc.pid, "start": proc_start_time(proc.pid)})
        self._write_state()

    def _stop_hub(self):
        with contextlib.suppress(Exception):
            self.saved_logs["hub"] = self.hub.log_text()
        self.hub.stop()

    def _nats_peer(self, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            try:
                return in_netns(self.ns.name, lambda: NatsPeer(NATS_PORT, name="fault-core"))
            except (OSError, EOFError, AssertionError):
                if self.nats.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("nats-server did not start in the namespace")
                time.sleep(0.05)

    def agent_config(self):
        sections = {
            "General": {"deviceId": DEVICE_ID, "locationDescription": "fault suite"},
            "Websocket": dict({
                "groupName": GROUP,
                "hub": "dunebugger",
                "connectionString": "Endpoint=http://%s:%d;AccessKey=%s;Version=1.0"
                                    % (self.ns.outer_ip, self.hub.port, ACCESS_KEY),
                "testDomain": PROBE_HOST,
                "probeUrl": self.probe.url(),
                "dnsServers": "%s:%d" % (self.ns.outer_ip, self.dns.port),
                "caFile": self.ca_path,
                "heartBeatEverySecs": "20",
                "heartBeatLoopDurationSecs": "300",
            }, **(AGENT_TIMINGS if self.suite_timings else {})),
            "MessageQueue": {"mQueueServers": "nats://127.0.0.1:%d" % NATS_PORT, "componentHeartbeatSecs": "30"},
            "Log": {"dunebuggerLogLevel": self.log_level},
        }
        for key, value in self.overrides.items():
            # "Section.key" for a key outside [Websocket].
            section, _, name = key.rpartition(".")
            sections[section or "Websocket"][name] = str(value)
        out = []
        for name, keys in sections.items():
            out.append("[%s]" % name)
            out += ["%s = %s" % kv for kv in keys.items()]
        return "\n".join(out) + "\n"

    def _start_agent(self):
        run_dir = os.path.join(self.dir, "run")
        os.makedirs(run_dir)
        umask = os.umask(0o077)   # the config holds the access key
        try:
            self.agent = AgentProcess(self.agent_binary, self.agent_config(),
                                      env=dict({"RUNTIME_DIRECTORY": run_dir}, **self.agent_env),
                                      prefix=self.ns.prefix())
        finally:
            os.umask(umask)
        self._track(self.agent.proc)
        self._cleanups.append(self._stop_agent)
        self.status = StatusWatch(os.path.join(run_dir, "status.json"))
        self._cleanups.append(self.status.close)
        if not self.agent.wait_for_line("joined group", 30):
            raise RuntimeError("the agent did not join its group within 30 s; tail:\n" + self.tail())
        self.agent_pid = self.agent.proc.pid

    def _stop_agent(self):
        self.saved_logs["agent"] = "\n".join(self.agent.output())
        try:
            self.agent_exit = self.agent.stop(timeout=10)
        finally:
            self.agent.close()

    def close(self):
        errors = []
        if self.ns is not None and self.ns.created:
            # Undo the faults first, so that the agent's close and the hub's
            # stop find a working path (a blackholed close waits its timeout).
            try:
                self.heal()
            except Exception as e:
                errors.append("heal: %s" % e)
        while self._cleanups:
            step = self._cleanups.pop()
            try:
                step()
            except Exception as e:  # every step runs; report them all
                errors.append("%s: %s" % (getattr(step, "__name__", step), e))
        return errors

    # ------------------------------------------------------------ queries

    def tail(self, n=40):
        return "\n".join(self.agent.output()[-n:]) if self.agent else ""

    def log_events(self):
        """The agent's log as (wall time, level, text)."""
        out = []
        for line in self.agent.output():
            parsed = parse_log_line(line)
            if parsed:
                out.append(parsed)
        return out

    def log_lines_at_info(self, after, until=None):
        """The agent's log lines at INFO and above stamped in [after, until]:
        what an agent at the default level (INFO) would have written. The
        suite runs it at DEBUG; the level filter is the only difference."""
        return [e for e in self.log_events()
                if e[0] >= after and (until is None or e[0] <= until) and e[1] in INFO_AND_ABOVE]

    def log_first(self, after, fragment, level=None):
        for t, lvl, text in self.log_events():
            if t >= after and fragment in text and (level is None or lvl == level):
                return t, lvl, text
        return None

    def wait_log(self, after, fragment, timeout, level=None):
        deadline = time.monotonic() + timeout
        while True:
            hit = self.log_first(after, fragment, level)
            if hit or time.monotonic() >= deadline:
                return hit
            time.sleep(0.02)

    def hub_log(self):
        """The hub's log as (wall time, text): lines start HH:MM:SS.mmm."""
        text = self.saved_logs.get("hub") or self.hub.log_text()
        today = datetime.date.today()
        out = []
        for line in text.splitlines():
            m = re.match(r"^(\d\d:\d\d:\d\d\.\d{3}) \w+ [\w.]+: (.*)$", line)
            if m:
                clock = datetime.datetime.strptime(m.group(1), "%H:%M:%S.%f").time()
                out.append((datetime.datetime.combine(today, clock).timestamp(), m.group(2)))
        return out

    def hub_log_lines(self, fragment):
        return [(t, text) for t, text in self.hub_log() if fragment in text]

    def hub_joined_new(self, old_connection_id, timeout):
        """The wall time the hub first showed the device in its group on a
        connection other than `old_connection_id` (polled every 20 ms), or None."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for s in self.hub.control.state()["sessions"]:
                if (s["userId"] == DEVICE_ID and s["connectionId"] != old_connection_id and s["attached"]
                        and GROUP in s["groups"]):
                    return wall()
            time.sleep(0.02)
        return None

    def hub_syns(self):
        """TCP SYNs the namespace has sent to the hub's port (every connection
        attempt, plus the kernel's SYN retransmissions)."""
        out = self.ns.exec("nft", "list", "counter", "inet", NFT_TABLE, "hub_syn").stdout
        return int(re.search(r"packets (\d+)", out).group(1))

    def agent_session(self):
        for s in self.hub.control.state()["sessions"]:
            if s["userId"] == DEVICE_ID:
                return s
        return None

    # ------------------------------------------------------------- faults

    def heal(self):
        """Every network fault off (idempotent)."""
        self.link(True)
        self.blackhole(False)
        self.loss_and_delay(False)

    def nft(self, script):
        path = os.path.join(self.dir, "rules.nft")
        with open(path, "w") as f:
            f.write(script)
        self.ns.exec("nft", "-f", path)

    def _nft_base(self):
        """A table in the namespace counting SYNs to the hub, with empty
        chains the faults fill (removed with the namespace)."""
        self.nft("""
table inet %(t)s {
    counter hub_syn { }
    chain out { type filter hook output priority 0; }
    chain pre { type filter hook prerouting priority -300; }
    chain post { type filter hook postrouting priority 300; }
}
""" % {"t": NFT_TABLE})

    def count_hub_syns(self):
        self.ns.exec("nft", "add", "rule", "inet", NFT_TABLE, "out", "ip", "daddr", self.ns.outer_ip, "tcp", "dport",
                     str(self.hub.port), "tcp", "flags", "&", "(syn|ack)", "==", "syn", "counter", "name", "hub_syn")

    def link(self, up):
        """The root side of the veth: down = the device's link loses carrier
        (as when the Wi-Fi access point or the cable goes), up = it returns.
        The device keeps its address and routes, as on a real link loss."""
        run("ip", "link", "set", self.ns.outer, "up" if up else "down")

    def blackhole(self, on):
        """Every packet to and from the hub's address and port is dropped;
        neither side sees a reset, so the TCP connection stays "open"."""
        if on:
            hub = (self.ns.outer_ip, self.hub.port)
            self.ns.exec("nft", "add", "rule", "inet", NFT_TABLE, "out", "ip", "daddr", hub[0], "tcp", "dport",
                         str(hub[1]), "counter", "drop", "comment", '"blackhole"')
            self.ns.exec("nft", "add", "rule", "inet", NFT_TABLE, "pre", "ip", "saddr", hub[0], "tcp", "sport",
                         str(hub[1]), "counter", "drop", "comment", '"blackhole"')
        else:
            self._delete_rules("blackhole")

    def _delete_rules(self, comment):
        listing = self.ns.exec("nft", "-a", "list", "table", "inet", NFT_TABLE).stdout
        chain = None
        for line in listing.splitlines():
            m = re.match(r"\s*chain (\w+)", line)
            if m:
                chain = m.group(1)
            m = re.search(r'comment "%s" # handle (\d+)' % comment, line)
            if m:
                self.ns.exec("nft", "delete", "rule", "inet", NFT_TABLE, chain, "handle", m.group(1))

    def loss_and_delay(self, on, loss_percent=20, delay_ms=300):
        """`loss_percent` of the packets crossing the veth dropped at random,
        each direction (nftables numgen), and every packet crossing it held
        `delay_ms` before it goes on, each direction (NFQUEUE + nfqueue_delay.py),
        standing in for tc netem, which this kernel does not have."""
        inner = self.ns.inner
        if on:
            self.delayer = subprocess.Popen(self.ns.prefix() + [PYTHON, DELAYER, "--queue", str(NFQUEUE_NUM),
                                                                "--delay-ms", str(delay_ms)],
                                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            self._track(self.delayer)
            readable, _, _ = select.select([self.delayer.stdout], [], [], 10)
            ready = self.delayer.stdout.readline() if readable else ""
            if '"ready"' not in ready:
                # A live delayer holds its stderr open: end it first, or the read blocks.
                if self.delayer.poll() is None:
                    self.delayer.kill()
                _, err = self.delayer.communicate()
                self.delayer = None
                raise RuntimeError("the NFQUEUE delayer did not start: %s %s" % (ready, err))
            for chain, flag in (("OUTPUT", "-o"), ("INPUT", "-i")):
                self.ns.exec("iptables", "-A", chain, flag, inner, "-j", "NFQUEUE", "--queue-num", str(NFQUEUE_NUM),
                             "--queue-bypass")
            self.ns.exec("nft", "add", "rule", "inet", NFT_TABLE, "pre", "iifname", inner, "numgen", "random", "mod",
                         "100", "<", str(loss_percent), "counter", "drop", "comment", '"loss"')
            self.ns.exec("nft", "add", "rule", "inet", NFT_TABLE, "post", "oifname", inner, "numgen", "random", "mod",
                         "100", "<", str(loss_percent), "counter", "drop", "comment", '"loss"')
        else:
            self._delete_rules("loss")
            for chain, flag in (("OUTPUT", "-o"), ("INPUT", "-i")):
                self.ns.exec("iptables", "-D", chain, flag, inner, "-j", "NFQUEUE", "--queue-num",
                             str(NFQUEUE_NUM), "--queue-bypass", check=False)
            if self.delayer:
                self.delayer.terminate()
                out, err = self.delayer.communicate(timeout=10)
                self.delayer_stats = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
                self.delayer = None

    def loss_counters(self):
        listing = self.ns.exec("nft", "list", "table", "inet", NFT_TABLE).stdout
        return [int(p) for p in re.findall(r"counter packets (\d+) bytes \d+ drop comment \"loss\"", listing)]
