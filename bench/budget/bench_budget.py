"""Data budget: the bytes the REAL agent puts on the wire per idle connected
day, by kind, measured in a network namespace (not by adding payload sizes).

The world (as the fault suite's, tests/faults/harness.py): the agent in a
namespace made here, joined to the root namespace by a veth pair; in the
root namespace, on the veth's root side, the Web PubSub hub over TLS
(tests/support/wps, WebSocket pings every --hub-ping s, Azure's default
WebSocketKeepAliveIntervalInSeconds being 20), dnsmasq answering the probe
host and the shipped NTP server names (A: the root side; AAAA: an unused
documentation address, so AAAA queries get an answer as from a dual-stack
name rather than dnsmasq's REFUSED; TTL --dns-ttl), the HTTPS probe server, chronyd on
port 123, and a TCP listener standing in for 8.8.8.8:53 (the system-info
reachability probe, DNAT'd to it inside the namespace). nats-server runs
inside the namespace, on its loopback (as on the device: never on the wire).
No front end is open.

The agent runs with the shipped config (--conf, default config/dunebugger.conf)
unchanged but for what must point at this world (group, connection string,
probeUrl, dnsServers, caFile, mQueueServers) and the --set overrides.

Counting: the root-side veth's counters give the total (frame bytes and
packets; IP bytes = frame bytes - 14 per packet, the Ethernet header a 4G
link does not carry). nftables counters inside the namespace, on the veth,
both directions, split the IP bytes by kind:
  probe DNS      dnsmasq's port, question name probe.test (raw payload match)
  NTP DNS        dnsmasq's port, any other name (the NTP servers')
  probe HTTPS    the probe server's port
  NTP            UDP port 123
  hub            the hub's port: WebSocket keepalive (the hub's pings and our
                 answers, our pings and its pongs) and app messages; with no
                 front end open the window holds no app message (checked in
                 the hub's message log)
  sysinfo        TCP to 8.8.8.8:53 (system info's internet_reachable)
  gateway        to the default gateway (system info's latency; LAN only:
                 on a 4G router it never crosses the cellular link)
  other          anything else (the kernel's IPv6 neighbour discovery, ...)

With --set websocketEnabled=False no connection is made (a day the hub is
unreachable: the probe runs every interval). The window starts --settle s
after the agent joined (or its first online verdict) (start-up is reported on
its own) and lasts --minutes; per day = window x 86400 / window length.

Needs root. Run: build/release/bench/budget/bench_budget [--minutes 20] [--set key=value ...]"""
import argparse
import configparser
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SUPPORT = os.path.join(HERE, "..", "..", "tests", "support")
sys.path.insert(0, SUPPORT)
from agent_process import AgentProcess  # noqa: E402
from hub_process import ACCESS_KEY, HubProcess  # noqa: E402
from http_peer import PROBE_HOST, ProbeServer  # noqa: E402
from netlab import Dnsmasq, NetNs, run  # noqa: E402
from ntp_peer import Chrony  # noqa: E402
from test_ca import TestCA  # noqa: E402

NATS_SERVER = "/usr/sbin/nats-server"
NATS_PORT = 4222
REACH_IP, REACH_PORT = "8.8.8.8", 53
GROUP = "budget-crib"
TABLE = "dbrbudget"
ETHERNET_HEADER = 14
DAY_S = 86400
KINDS = ["probe_dns", "probe_https", "ntp_dns", "ntp", "hub", "sysinfo", "gateway", "other"]
LABELS = {
    "probe_dns": "internet probe: DNS (A + AAAA)",
    "probe_https": "internet probe: HTTPS",
    "ntp_dns": "NTP check: DNS of the server names",
    "ntp": "NTP check: SNTP (UDP 123)",
    "hub": "hub WebSocket (keepalive; app messages)",
    "sysinfo": "system info: TCP connect to 8.8.8.8:53",
    "gateway": "system info: gateway latency (LAN only)",
    "other": "other (kernel: IPv6 ND, ...)",
}


def ntp_names(conf_text):
    cp = configparser.ConfigParser(interpolation=None)
    cp.optionxform = str
    cp.read_string(conf_text)
    servers = cp.get("NTP", "ntpServers", fallback="")
    return [s.strip().split(":")[0] for s in servers.split(",") if s.strip()]


def agent_config(conf_text, lab, overrides):
    cp = configparser.ConfigParser(interpolation=None)
    cp.optionxform = str
    cp.read_string(conf_text)
    ws = cp["Websocket"]
    ws["groupName"] = GROUP
    ws["connectionString"] = "Endpoint=https://%s:%d;AccessKey=%s;Version=1.0" % (lab.ns.outer_ip, lab.hub.port,
                                                                                 ACCESS_KEY)
    ws["probeUrl"] = lab.probe.url(host=PROBE_HOST)
    ws["dnsServers"] = "%s:%d" % (lab.ns.outer_ip, lab.dns.port)
    ws["caFile"] = lab.ca.cert_path
    cp["General"]["deviceId"] = "budget-device"
    cp["MessageQueue"]["mQueueServers"] = "nats://127.0.0.1:%d" % NATS_PORT
    cp["Log"]["dunebuggerLogLevel"] = "DEBUG"
    for item in overrides:
        key, value = item.split("=", 1)
        section = next((s for s in cp.sections() if key in cp[s]), "Websocket")
        cp[section][key] = value
    out = io.StringIO()
    cp.write(out)
    return out.getvalue()


class ReachListener:
    """Accepts TCP connections and closes each when its peer does, as a DNS
    server's TCP port does for a client that sends nothing."""

    def __init__(self, host):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._drain, args=(conn,), daemon=True).start()

    @staticmethod
    def _drain(conn):
        conn.settimeout(10)
        try:
            while conn.recv(512):
                pass
        except OSError:
            pass
        conn.close()

    def close(self):
        self._stop = True
        self._thread.join(2)
        self.sock.close()


class Lab:
    def __init__(self, args, conf_text):
        self.cleanups = []
        try:
            self._build(args, conf_text)
        except BaseException:
            self.close()
            raise

    def _build(self, args, conf_text):
        self.dir = tempfile.mkdtemp(prefix="dbr-budget-")
        self.cleanups.append(lambda: shutil.rmtree(self.dir, True))
        self.ns = NetNs(prefix="dbrbud", outer_prefix="dbbo", inner_prefix="dbbi", net="10.215")
        self.cleanups.append(self.ns.close)
        self.ca = TestCA(os.path.join(self.dir, "ca"))
        self.probe = ProbeServer(host=self.ns.outer_ip,
                                 ssl_context=self.ca.server_context("probe", dns=[PROBE_HOST], ips=[self.ns.outer_ip]))
        self.cleanups.append(self.probe.close)
        self.dns = Dnsmasq(listen=self.ns.outer_ip, address=self.ns.outer_ip, extra_hosts=ntp_names(conf_text),
                           ttl=args.dns_ttl, address6="2001:db8::123")
        self.cleanups.append(self.dns.close)
        self.ntp = Chrony(host=self.ns.outer_ip, port=123, allow=self.ns.inner_ip)
        self.cleanups.append(self.ntp.close)
        self.reach = ReachListener(self.ns.outer_ip)
        self.cleanups.append(self.reach.close)
        cert, key = self.ca.issue("hub", dns=["localhost"], ips=[self.ns.outer_ip])
        self.hub = HubProcess("--host", self.ns.outer_ip, "--control-host", "127.0.0.1", "--tls-cert", cert,
                              "--tls-key", key, "--ws-ping-interval", str(args.hub_ping))
        self.cleanups.append(self.hub.stop)
        self.nats = subprocess.Popen(self.ns.prefix() + [NATS_SERVER, "-a", "127.0.0.1", "-p", str(NATS_PORT)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.cleanups.append(self._stop_nats)
        self._nft()
        self.agent = None

    def _stop_nats(self):
        self.nats.terminate()
        self.nats.wait(5)

    def _nft(self):
        inner, gw = self.ns.inner, self.ns.outer_ip
        dns, probe, hub = self.dns.port, self.probe.port, self.hub.port
        # "\x05probe": the first label of the question (offset 12 of the DNS
        # message, 20 of the UDP datagram), in queries and in answers.
        probe_label = "0x" + (bytes([len(PROBE_HOST.split(".")[0])]) + PROBE_HOST.split(".")[0].encode()).hex()
        label_bits = 8 * (1 + len(PROBE_HOST.split(".")[0]))
        counters = "\n".join("  counter %s {}" % k for k in KINDS)
        ruleset = f"""
table inet {TABLE} {{
{counters}
  chain classify {{
    udp dport {dns} @th,160,{label_bits} {probe_label} counter name probe_dns return
    udp sport {dns} @th,160,{label_bits} {probe_label} counter name probe_dns return
    udp dport {dns} counter name ntp_dns return
    udp sport {dns} counter name ntp_dns return
    tcp dport {dns} counter name ntp_dns return
    tcp sport {dns} counter name ntp_dns return
    tcp dport {probe} counter name probe_https return
    tcp sport {probe} counter name probe_https return
    udp dport 123 counter name ntp return
    udp sport 123 counter name ntp return
    tcp dport {hub} counter name hub return
    tcp sport {hub} counter name hub return
    ct original ip daddr {REACH_IP} counter name sysinfo return
    ip daddr {gw} counter name gateway return
    ip saddr {gw} counter name gateway return
    counter name other
  }}
  chain nat_out {{ type nat hook output priority -100; ip daddr {REACH_IP} tcp dport {REACH_PORT} dnat ip to {gw}:{self.reach.port}; }}
  chain out {{ type filter hook output priority 0; oifname "{inner}" jump classify; }}
  chain in {{ type filter hook input priority 0; iifname "{inner}" jump classify; }}
}}
"""
        path = os.path.join(self.dir, "budget.nft")
        with open(path, "w") as f:
            f.write(ruleset)
        self.ns.exec("nft", "-f", path)

    def counters(self):
        out = json.loads(self.ns.exec("nft", "-j", "list", "counters", "table", "inet", TABLE).stdout)
        result = {}
        for item in out["nftables"]:
            c = item.get("counter")
            if c:
                result[c["name"]] = (c["packets"], c["bytes"])
        return result

    def interface(self):
        base = "/sys/class/net/%s/statistics/" % self.ns.outer
        values = {}
        for name in ("rx_bytes", "tx_bytes", "rx_packets", "tx_packets"):
            with open(base + name) as f:
                values[name] = int(f.read())
        return values

    def snapshot(self):
        return {"t": time.monotonic(), "counters": self.counters(), "interface": self.interface()}

    def start_agent(self, binary, config_text):
        run_dir = os.path.join(self.dir, "run")
        os.makedirs(run_dir, exist_ok=True)
        self.run_dir = run_dir
        umask = os.umask(0o077)  # the config holds the access key
        try:
            self.agent = AgentProcess(binary, config_text, env={"RUNTIME_DIRECTORY": run_dir}, prefix=self.ns.prefix())
        finally:
            os.umask(umask)
        self.cleanups.append(self._stop_agent)

    def _stop_agent(self):
        self.agent.close()

    def close(self):
        for step in reversed(self.cleanups):
            try:
                step()
            except Exception as e:  # noqa: BLE001
                print("cleanup: %s" % e, file=sys.stderr)


def diff(a, b):
    kinds = {k: (b["counters"][k][0] - a["counters"][k][0], b["counters"][k][1] - a["counters"][k][1]) for k in KINDS}
    fa, fb = a["interface"], b["interface"]
    frames = (fb["rx_bytes"] - fa["rx_bytes"]) + (fb["tx_bytes"] - fa["tx_bytes"])
    packets = (fb["rx_packets"] - fa["rx_packets"]) + (fb["tx_packets"] - fa["tx_packets"])
    return {"seconds": b["t"] - a["t"], "kinds": kinds, "frame_bytes": frames, "packets": packets,
            "ip_bytes": frames - ETHERNET_HEADER * packets}


def kib(n):
    return n / 1024.0


def print_table(title, d, per_day):
    scale = DAY_S / d["seconds"] if per_day else 1.0
    unit = "KiB/day" if per_day else "KiB"
    print("\n%s (%.0f s%s)" % (title, d["seconds"], ", scaled to a day" if per_day else ""))
    print("| kind | packets | IP bytes | %s |" % unit)
    print("|---|---:|---:|---:|")
    wan = 0
    for k in KINDS:
        p, b = d["kinds"][k]
        if k not in ("gateway", "other"):
            wan += b
        print("| %s | %d | %d | %.1f |" % (LABELS[k], p, b, kib(b) * scale))
    print("| **WAN total (every kind but gateway and other)** | | %d | **%.1f** (%.3f MiB) |"
          % (wan, kib(wan) * scale, kib(wan) * scale / 1024))
    print("| interface (root-side veth): frames / IP (frames - 14 B x %d packets) | %d | %d / %d | %.1f / %.1f |"
          % (d["packets"], d["packets"], d["frame_bytes"], d["ip_bytes"], kib(d["frame_bytes"]) * scale,
             kib(d["ip_bytes"]) * scale))
    return wan * scale


def agent_lines(agent, fragment):
    return [line for line in agent.output() if fragment in line]


def half_open(lab, timeout):
    """Silences the agent's connection at the hub (half-open: TCP stays up,
    the hub reads and writes nothing, pings included) and returns the
    seconds until the agent's session is attached again, not silenced."""
    lab.hub.control.silence(all=True)
    t0 = time.monotonic()
    time.sleep(0.5)
    while time.monotonic() - t0 < timeout:
        sessions = lab.hub.control.state()["sessions"]
        if any(s["attached"] and not s["silenced"] for s in sessions):
            return time.monotonic() - t0
        time.sleep(0.1)
    return None


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--agent", required=True)
    p.add_argument("--conf", required=True, help="the shipped config to start from (config/dunebugger.conf)")
    p.add_argument("--minutes", type=float, default=20.0, help="the measured window")
    p.add_argument("--settle", type=float, default=30.0, help="seconds after joining before the window starts")
    p.add_argument("--hub-ping", type=float, default=20.0, help="the hub's WebSocket ping interval (0: none)")
    p.add_argument("--dns-ttl", type=int, default=150, help="TTL of dnsmasq's answers (s)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key")
    p.add_argument("--half-open", action="store_true", help="after the window, time a half-open connection")
    p.add_argument("--json", help="write the figures here too")
    p.add_argument("--log", help="write the agent's log here")
    a = p.parse_args()
    if os.geteuid() != 0:
        print("bench_budget: needs root (network namespaces, nftables); nothing measured")
        return 0
    # A SIGTERM unwinds through the lab's cleanup (namespace, peers, agent).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with open(a.conf) as f:
        conf_text = f.read()
    lab = Lab(a, conf_text)
    try:
        config_text = agent_config(conf_text, lab, a.set)
        t_start = lab.snapshot()
        lab.start_agent(os.path.abspath(a.agent), config_text)
        connecting = "websocketEnabled=False" not in a.set
        ready = "joined group" if connecting else "internet monitor: online"
        if not lab.agent.wait_for_line(ready, 60):
            print("no '%s' within 60 s:\n%s" % (ready, "\n".join(lab.agent.output()[-30:])))
            return 1
        since = time.time()
        time.sleep(a.settle)
        if not any("NTP check: available" in line for line in lab.agent.output()):
            print("bench_budget: the NTP check found no server answering (its figures would be an outage's):\n"
                  + "\n".join(lab.agent.output()[-20:]))
            return 1
        t_a = lab.snapshot()
        time.sleep(a.minutes * 60)
        t_b = lab.snapshot()
        messages = lab.hub.control.messages(group=GROUP)["messages"]
        print("bench_budget: agent %s, config %s, overrides %s, hub pings every %g s, DNS TTL %d s"
              % (a.agent, a.conf, a.set or "none", a.hub_ping, a.dns_ttl))
        start = diff(t_start, t_a)
        window = diff(t_a, t_b)
        print_table("start-up: agent start to %g s after joining" % a.settle, start, per_day=False)
        wan_day = print_table("idle window", window, per_day=True)
        window_wall = (since + a.settle, since + a.settle + window["seconds"])
        in_window = [m for m in messages if m.get("source") == "client" and window_wall[0] <= m["time"] <= window_wall[1]]
        evidence = len(agent_lines(lab.agent, "keepalive answered"))
        probes = len(agent_lines(lab.agent, "internet monitor: online via")) + len(
            agent_lines(lab.agent, "internet monitor: offline"))
        ntp_checks = len(agent_lines(lab.agent, "NTP check:"))
        print("\nin the log (whole run): %d probe verdicts, %d keepalive-evidence verdicts, %d NTP checks; "
              "app messages from the device in the hub's log during the window: %d; reachability connects: %d; "
              "dnsmasq queries for the NTP names: %d"
              % (probes, evidence, ntp_checks, len(in_window), lab.reach.accepted,
                 sum(lab.dns.queries(t, h) for h in ntp_names(conf_text) for t in ("A", "AAAA"))))
        result = {"agent": a.agent, "overrides": a.set, "hub_ping": a.hub_ping, "dns_ttl": a.dns_ttl,
                  "start": start, "window": window, "wan_per_day": wan_day, "probe_verdicts": probes,
                  "evidence_verdicts": evidence, "ntp_checks": ntp_checks}
        if a.half_open:
            took = half_open(lab, 200)
            print("half-open (hub silences the connection): new working transport after %s s"
                  % ("%.1f" % took if took is not None else "none within 200"))
            result["half_open_s"] = took
        if a.json:
            with open(a.json, "w") as f:
                json.dump(result, f, indent=1)
        if a.log:
            with open(a.log, "w") as f:
                f.write("\n".join(lab.agent.output()) + "\n")
        return 0
    finally:
        lab.close()


if __name__ == "__main__":
    sys.exit(main())
