"""A real nats-server for a test, and a minimal NATS client speaking the
text protocol over a socket (bookworm has no python3-nats).

Protocol (https://docs.nats.io/reference/reference-protocols/nats-protocol):
server INFO {...}; client CONNECT {...}, SUB <subject> <sid>,
PUB <subject> <bytes>\\r\\n<payload>; server MSG <subject> <sid> [reply] <bytes>,
PING/PONG both ways."""
import json
import queue
import socket
import subprocess
import tempfile
import threading
import time

from netlab import free_port, terminate

NATS_SERVER = "/usr/sbin/nats-server"


class NatsServer:
    """`monitor=True` also opens nats-server's HTTP monitoring port (GET
    /healthz answers 200, an "internet" probe target for the agent);
    `log_path` keeps the server's log in that file (else a temp file)."""

    def __init__(self, port, monitor=False, log_path=None):
        self.port = port
        self.monitor_port = free_port() if monitor else None
        self.log_path = log_path
        self.proc = None
        self.log = None

    def start(self, timeout=10.0):
        self.log = open(self.log_path, "w+b") if self.log_path else tempfile.TemporaryFile()
        args = [NATS_SERVER, "-a", "127.0.0.1", "-p", str(self.port)]
        if self.monitor_port:
            args += ["-m", str(self.monitor_port)]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise RuntimeError("nats-server exited on port %d: %s" % (self.port, self.log.read().decode()[-500:]))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    if s.recv(4).startswith(b"INFO"):
                        if self.monitor_port:
                            socket.create_connection(("127.0.0.1", self.monitor_port), timeout=0.5).close()
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nats-server did not start on port %d" % self.port)

    @classmethod
    def start_on_free_port(cls, attempts=3, **kwargs):
        """A free port can be taken by another process before the server
        binds it (tests run in parallel): try a few. `kwargs` go to the
        constructor (monitor, log_path)."""
        for attempt in range(attempts):
            server = cls(free_port(), **kwargs)
            try:
                return server.start()
            except RuntimeError:
                server.stop()
                if attempt == attempts - 1:
                    raise

    def stop(self):
        terminate(self.proc)
        self.proc = None
        if self.log:
            self.log.close()
            self.log = None

    @property
    def url(self):
        return "nats://127.0.0.1:%d" % self.port

    @property
    def healthz_url(self):
        return "http://127.0.0.1:%d/healthz" % self.monitor_port


class NatsPeer:
    """Plays core/scheduler: subscribes, publishes, collects messages."""

    def __init__(self, port, name="peer"):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.settimeout(None)
        self.buf = b""
        self.messages = queue.Queue()
        self.pongs = queue.Queue()
        self.sids = 0
        self.lock = threading.Lock()
        line = self._readline_blocking()
        assert line.startswith(b"INFO "), line
        self._send(b"CONNECT " + json.dumps({"verbose": False, "pedantic": False, "name": name,
                                             "lang": "python", "version": "0", "protocol": 1}).encode() + b"\r\n")
        self.closed = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.flush()

    def _send(self, data):
        with self.lock:
            self.sock.sendall(data)

    def _readline_blocking(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _readexact(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def _run(self):
        try:
            while True:
                line = self._readline_blocking()
                if line.startswith(b"MSG "):
                    parts = line.split()
                    size = int(parts[-1])
                    payload = self._readexact(size + 2)[:-2]
                    self.messages.put((time.monotonic(), parts[1].decode(), payload))
                elif line == b"PING":
                    self._send(b"PONG\r\n")
                elif line == b"PONG":
                    self.pongs.put(True)
                elif line.startswith(b"-ERR"):
                    raise RuntimeError(line.decode())
        except (EOFError, OSError):
            self.closed = True

    def sub(self, subject):
        self.sids += 1
        self._send(("SUB %s %d\r\n" % (subject, self.sids)).encode())
        self.flush()

    def pub(self, subject, payload):
        if not isinstance(payload, bytes):
            payload = json.dumps(payload).encode()
        self._send(("PUB %s %d\r\n" % (subject, len(payload))).encode() + payload + b"\r\n")

    def flush(self, timeout=5):
        """A PING/PONG round trip: everything sent before has been processed."""
        self._send(b"PING\r\n")
        self.pongs.get(timeout=timeout)

    def next(self, timeout=5, subject=None, raw=False):
        """The next message (optionally on `subject`), as (time, subject, json),
        or (time, subject, bytes) with `raw`; TimeoutError when none comes
        within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        missing = "no NATS message%s within %.1f s" % (" on " + subject if subject else "", timeout)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(missing)
            try:
                t, s, payload = self.messages.get(timeout=left)
            except queue.Empty:
                raise TimeoutError(missing) from None
            if subject is None or s == subject:
                return t, s, payload if raw else json.loads(payload)

    def drain(self):
        items = []
        while True:
            try:
                items.append(self.messages.get_nowait())
            except queue.Empty:
                return items

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
