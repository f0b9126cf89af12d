"""NTP peers for the tests, on loopback: Debian's chronyd as a real NTP
server (its own config on a free port, -x so it never touches this
machine's clock), and SntpResponder, a UDP responder for what a real
server does not do on demand: answers with someone else's origin
timestamp, kiss-o'-death, an unsynchronized clock, silence. Run with
Debian's /usr/bin/python3."""
import ctypes
import os
import pwd
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time

from netlab import free_port, terminate

CHRONYD = "/usr/sbin/chronyd"
NTP_EPOCH_OFFSET = 2208988800  # seconds from 1900 to 1970


def to_ntp(unix_time):
    """A Unix time as the 8 bytes of an NTP timestamp."""
    seconds = int(unix_time // 1) + NTP_EPOCH_OFFSET
    fraction = int((unix_time % 1) * 2 ** 32)
    return struct.pack("!II", seconds % 2 ** 32, fraction)


def sntp_query(host, port, timeout=1.0):
    """One client request; the reply's bytes, or None without one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        request = bytes([0x23]) + bytes(39) + to_ntp(time.time())
        s.sendto(request, (host, port))
        try:
            return s.recvfrom(512)[0]
        except (socket.timeout, ConnectionRefusedError):
            return None


def kernel_clock_synchronized():
    """adjtimex(2) read as the agent reads it: not TIME_ERROR (5), no STA_UNSYNC."""
    class Timex(ctypes.Structure):
        _fields_ = [("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long),
                    ("maxerror", ctypes.c_long), ("esterror", ctypes.c_long), ("status", ctypes.c_int),
                    ("rest", ctypes.c_byte * 512)]
    tx = Timex()
    result = ctypes.CDLL(None, use_errno=True).adjtimex(ctypes.byref(tx))
    return result not in (-1, 5) and not tx.status & 0x40


class Chrony:
    """chronyd serving its local clock at stratum 10 on host:port to the
    clients `allow` names (a chrony.conf allow subnet) and to host itself."""

    def __init__(self, host="127.0.0.1", port=None, allow=None):
        if not os.path.exists(CHRONYD):
            raise RuntimeError("%s is missing: run scripts/install-deps (package chrony)" % CHRONYD)
        self.host = host
        self.dir = tempfile.mkdtemp(prefix="dbr-chrony-")
        self.port = port or free_port(host, socket.SOCK_DGRAM)
        self.conf = os.path.join(self.dir, "chrony.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join([
                "port %d" % self.port,
                "bindaddress %s" % host,
                "cmdport 0",  # no control socket
                "local stratum 10",  # serve its own clock without sources
                "allow %s" % host,  # its own readiness query
                "allow %s" % (allow or host),  # the clients it serves
                "pidfile %s" % os.path.join(self.dir, "chronyd.pid"),
                "driftfile %s" % os.path.join(self.dir, "drift"),
            ]) + "\n")
        self.log_path = os.path.join(self.dir, "chronyd.log")
        self.proc = None
        self.start()

    def start(self):
        user = pwd.getpwuid(os.geteuid()).pw_name
        # -x: never adjust the system clock; -d: foreground, log to stderr.
        cmd = [CHRONYD, "-x", "-d", "-f", self.conf, "-u", user]
        if os.geteuid() != 0:
            cmd.append("-U")  # allow a non-root start
        self._log = open(self.log_path, "a")
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=self._log)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("chronyd exited: " + self.log())
            reply = sntp_query(self.host, self.port, 0.2)
            if reply and len(reply) >= 48 and reply[1] != 0:
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("chronyd did not answer within 10 s: " + self.log())

    def stop(self):
        terminate(self.proc)
        self.proc = None
        if getattr(self, "_log", None):
            self._log.close()
            self._log = None

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def entry(self):
        return "%s:%d" % (self.host, self.port)


class SntpResponder:
    """Answers SNTP requests on a free UDP port as `mode` says:
    "good"          a valid server reply (stratum 2), `offset` s ahead;
    "wrong-origin"  a valid reply but with an originate timestamp that is not the request's;
    "stray-then-good" a wrong-origin reply first, then the good one;
    "kiss"          stratum 0 with the kiss code `kiss` (LI 3, as ntpd sends it);
    "unsync"        LI 3 (clock not synchronized), stratum 2;
    "silent"        reads requests and never answers."""

    def __init__(self, mode="good", host="127.0.0.1", offset=0.0, kiss=b"RATE"):
        self.mode, self.offset, self.kiss = mode, offset, kiss
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.host, self.port = host, self.sock.getsockname()[1]
        self.sock.settimeout(0.05)
        self.requests = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def entry(self):
        return "%s:%d" % (self.host, self.port)

    def _reply(self, request, origin, leap=0, stratum=2, reference=b"\xc0\x00\x02\x01"):
        now = time.time() + self.offset
        first = (leap << 6) | (4 << 3) | 4
        return (bytes([first, stratum, 6, 0xe9]) + bytes(8) + reference + to_ntp(now - 1) + origin
                + to_ntp(now) + to_ntp(now + 0.0001))

    def _serve(self):
        while not self._stop.is_set():
            try:
                request, peer = self.sock.recvfrom(512)
            except socket.timeout:
                continue
            except OSError:
                return
            self.requests += 1
            origin = request[40:48]
            forged = struct.pack("!II", *[(v + 1) % 2 ** 32 for v in struct.unpack("!II", origin)])
            replies = {
                "good": [self._reply(request, origin)],
                "wrong-origin": [self._reply(request, forged)],
                "stray-then-good": [self._reply(request, forged), self._reply(request, origin)],
                "kiss": [self._reply(request, origin, leap=3, stratum=0, reference=self.kiss)],
                "unsync": [self._reply(request, origin, leap=3)],
                "silent": [],
            }[self.mode]
            for r in replies:
                self.sock.sendto(r, peer)

    def close(self):
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()
