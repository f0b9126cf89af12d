"""Network test peers shared by the monitor tests, the fault suite and
bench/monitor: dnsmasq answering the probe host, and a network namespace
joined to the root one by a veth pair (the probe's HTTP(S) server is
http_peer.ProbeServer). Run with Debian's /usr/bin/python3; the namespace
needs root."""
import os
import random
import socket
import subprocess
import sys
import tempfile
import time

from http_peer import PROBE_HOST

DNSMASQ = "/usr/sbin/dnsmasq"


def free_port(host="127.0.0.1", kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def terminate(proc, timeout=5):
    """Ends a peer process: SIGTERM, then SIGKILL after `timeout` s. None or
    an exited process: nothing to do."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def free_dns_port(host):
    """A port free for both UDP and TCP on `host` (dnsmasq binds both)."""
    while True:
        port = free_port(host, socket.SOCK_DGRAM)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((host, port))
                return port
            except OSError:
                continue


class Dnsmasq:
    """dnsmasq answering PROBE_HOST and `extra_hosts` with `address` (and with
    `address6` for AAAA; without it an AAAA query is REFUSED, as dnsmasq has
    no upstream), logging every query. Its answers carry TTL `ttl` (dnsmasq's
    default for its own answers is 0: never cache). Without `port` it picks a free one, and
    picks again (3 tries) when another process takes it first (tests run in
    parallel)."""

    def __init__(self, listen="127.0.0.1", port=None, address="127.0.0.1", netns=None, extra_hosts=(), ttl=None,
                 address6=None):
        self.listen, self.address, self.address6 = listen, address, address6
        self.hosts = [PROBE_HOST] + list(extra_hosts)
        self.ttl = ttl
        self.log_path = tempfile.mktemp(prefix="dbr-dnsmasq-", suffix=".log")
        self.proc = None
        for attempt in range(3):
            self.port = port or free_dns_port(listen)
            try:
                self.start()
                return
            except RuntimeError as e:
                if port or attempt == 2 or "Address already in use" not in str(e):
                    raise

    def start(self):
        self._log = open(self.log_path, "a")
        cmd = [DNSMASQ, "--no-daemon", "--conf-file=/dev/null", "--port=%d" % self.port,
               "--listen-address=" + self.listen, "--bind-interfaces", "--no-resolv", "--no-hosts",
               "--log-queries", "--log-facility=-", "--pid-file=", "--user=root", "--cache-size=0"]
        cmd += ["--address=/%s/%s" % (host, self.address) for host in self.hosts]
        if self.address6:
            cmd += ["--address=/%s/%s" % (host, self.address6) for host in self.hosts]
        if self.ttl is not None:
            cmd.append("--local-ttl=%d" % self.ttl)
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=self._log)
        # Ready when it answers.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self._log.close()
                self.proc = None
                with open(self.log_path) as f:
                    raise RuntimeError("dnsmasq exited: " + f.read())
            if self._answers():
                return
            time.sleep(0.05)
        self.proc.kill()
        self.proc.wait()
        self.proc = None
        self._log.close()
        with open(self.log_path) as f:
            raise RuntimeError("dnsmasq did not answer within 5 s: " + f.read()[-500:])

    def _answers(self):
        # A minimal A query for PROBE_HOST.
        q = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
        for label in PROBE_HOST.split("."):
            q += bytes([len(label)]) + label.encode()
        q += b"\x00\x00\x01\x00\x01"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.2)
            try:
                s.sendto(q, (self.listen, self.port))
                return len(s.recv(512)) > 12
            except OSError:
                return False

    def queries(self, qtype="A", host=PROBE_HOST):
        with open(self.log_path) as f:
            return sum(1 for line in f if ("query[%s] %s " % (qtype, host)) in line)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(5)
        if self.proc:
            self._log.close()
        self.proc = None

    def close(self):
        self.stop()
        try:
            os.unlink(self.log_path)
        except OSError:
            pass


def reexec_in_private_netns(marker="DBR_PRIVATE_NETNS"):
    """Runs this script again (same interpreter and arguments) in a new
    network namespace that has only loopback, up; returns at once when
    already there. For benchmarks: interfaces that other processes on the
    machine create and delete (other test suites) would otherwise wake the
    agent's netlink watcher. Needs root (unshare --net)."""
    if os.environ.get(marker) == "1":
        return
    env = dict(os.environ, **{marker: "1"})
    os.execvpe("unshare", ["unshare", "--net", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "sh",
                           sys.executable] + sys.argv, env)


def run(*cmd, check=True):
    return subprocess.run(list(cmd), check=check, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


class NetNs:
    """A network namespace joined to the root one by a veth pair:
    root side `outer` = <net>.N.1/30, namespace side `inner` = <net>.N.2/30,
    with a default route via the root side. Removed by close().

    `prefix` names the namespace (prefix + tag) and the interfaces
    (outer_prefix/inner_prefix + tag, at most 15 characters)."""

    def __init__(self, prefix="dbrmon", outer_prefix="dbmo", inner_prefix="dbmi", net="10.213"):
        tag = "%d%03d" % (os.getpid() % 10000, random.randint(0, 999))
        self.name = prefix + tag
        self.outer, self.inner = outer_prefix + tag, inner_prefix + tag
        self.octet = random.randint(1, 250)
        self.outer_ip = "%s.%d.1" % (net, self.octet)
        self.inner_ip = "%s.%d.2" % (net, self.octet)
        self.created = False
        r = run("ip", "netns", "add", self.name, check=False)
        if r.returncode != 0:
            raise OSError("ip netns add failed: " + r.stderr.strip())
        self.created = True
        try:
            run("ip", "link", "add", self.outer, "type", "veth", "peer", "name", self.inner)
            run("ip", "link", "set", self.inner, "netns", self.name)
            run("ip", "addr", "add", self.outer_ip + "/30", "dev", self.outer)
            run("ip", "link", "set", self.outer, "up")
            self.exec("ip", "link", "set", "lo", "up")
            self.exec("ip", "addr", "add", self.inner_ip + "/30", "dev", self.inner)
            self.exec("ip", "link", "set", self.inner, "up")
            self.exec("ip", "route", "add", "default", "via", self.outer_ip)
        except Exception:
            self.close()
            raise
    def exec(self, *cmd, check=True):
        return run("ip", "netns", "exec", self.name, *cmd, check=check)

    def prefix(self):
        return ["ip", "netns", "exec", self.name]

    def set_inner(self, state):
        self.exec("ip", "link", "set", self.inner, state)

    def outer_bytes(self):
        """(rx, tx) of the root-side veth: every byte the namespace sent/received."""
        base = "/sys/class/net/%s/statistics/" % self.outer
        with open(base + "rx_bytes") as rx, open(base + "tx_bytes") as tx:
            return int(rx.read()), int(tx.read())

    def close(self):
        if self.created:
            run("ip", "link", "del", self.outer, check=False)
            run("ip", "netns", "del", self.name, check=False)
            self.created = False


