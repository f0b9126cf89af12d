"""The C++ monitor_driver (tests/support/monitor_driver.cpp) as a process,
for the monitor tests and bench/monitor, and a UDP black hole for DNS. Its
peers are netlab's (dnsmasq, a network namespace) and http_peer.ProbeServer.
Run with Debian's /usr/bin/python3."""
import json
import queue
import socket
import subprocess
import tempfile
import threading
import time

from agent_process import clean_env


class UdpBlackHole:
    """A UDP port that receives DNS queries and never answers."""

    def __init__(self, host="127.0.0.1"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.port = self.sock.getsockname()[1]

    def close(self):
        self.sock.close()


class MonitorDriver:
    """The C++ monitor_driver; JSON lines from stdout land in self.events."""

    def __init__(self, binary, url, dns=(), timeout=1, interval=60, ca_file=None, prefix=(), tick_ms=10,
                 netlink=True, ntp=(), ntp_interval=None, ntp_timeout=None):
        cmd = list(prefix) + [binary, "--url", url, "--timeout", str(timeout), "--interval", str(interval),
                              "--tick-ms", str(tick_ms)]
        for d in dns:
            cmd += ["--dns", d]
        if ca_file:
            cmd += ["--ca-file", ca_file]
        if not netlink:
            cmd += ["--no-netlink"]
        for server in ntp:
            cmd += ["--ntp", server]
        if ntp_interval is not None:
            cmd += ["--ntp-interval", str(ntp_interval)]
        if ntp_timeout is not None:
            cmd += ["--ntp-timeout", str(ntp_timeout)]
        self.stderr = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr,
                                     text=True, env=clean_env())
        self.events = queue.Queue()
        self.history = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.next_event("started", 10)

    def _read(self):
        for line in self.proc.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            self.history.append(event)
            self.events.put(event)

    def send(self, command):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def next_event(self, kind, timeout, where=lambda e: True):
        """The next event of `kind` satisfying `where`; others are skipped."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no %s event within %.1f s; log:\n%s" % (kind, timeout, self.log()[-3000:]))
            try:
                event = self.events.get(timeout=left)
            except queue.Empty:
                continue
            if event.get("event") == kind and where(event):
                return event

    def next_report(self, timeout, **match):
        return self.next_event("report", timeout, lambda e: all(e.get(k) == v for k, v in match.items()))

    def next_ntp(self, timeout, **match):
        return self.next_event("ntp", timeout, lambda e: all(e.get(k) == v for k, v in match.items()))

    def drain(self):
        while True:
            try:
                self.events.get_nowait()
            except queue.Empty:
                return

    def request(self):
        self.send("request")
        return self.next_event("requested", 5)["at"]

    def evidence(self, mode):
        """The hub connection, as the agent reports it: "on" (answers every
        200 ms), "quiet" (open, silent), "down" (none)."""
        self.send("evidence " + mode)
        return self.next_event("evidence", 5)["at"]

    def stats(self):
        self.send("stats")
        return self.next_event("stats", 5)

    def stop(self):
        self.send("stop")
        stopped = self.next_event("stopped", 10)
        code = self.proc.wait(10)
        return stopped, code

    def finish(self, test):
        """Stops the driver and checks, with `test`'s asserts, a clean exit
        (under ASan/LSan a leak makes the exit code non-zero) and that no
        socket or thread outlived the Monitor. Returns the "stopped" event."""
        stopped, code = self.stop()
        test.assertEqual(code, 0, self.log()[-3000:])
        test.assertEqual(stopped["fds_after"], stopped["fds_before"], stopped)
        test.assertEqual(stopped["threads_after"], stopped["threads_before"], stopped)
        return stopped

    def log(self):
        self.stderr.seek(0)
        return self.stderr.read()

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass
        self._reader.join(timeout=2)
        self.stderr.close()
