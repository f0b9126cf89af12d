"""Real peers for the Web PubSub client tests: the local test hub in this
process (tests/support/wps, on its own asyncio thread, driven through its
control API), the C++ pubsub_driver as a process, and a fake Auth0 HTTPS
server. Run with Debian's /usr/bin/python3.

Every wait has a timeout; every process and server a test starts is ended
in its cleanup, and every driver's stdout and stderr are checked for
secrets there (PubsubTestCase.tearDown)."""
import asyncio
import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
SUPPORT = os.path.join(HERE, "..", "..", "support")
sys.path.insert(0, SUPPORT)

import test_main  # noqa: E402
from agent_process import clean_env  # noqa: E402
from http_peer import HttpPeer  # noqa: E402
from test_ca import TestCA  # noqa: E402,F401  (re-exported for the tests)
from traffic import Traffic  # noqa: E402
from wps.client import WpsClient, AckError, RELIABLE_PROTOCOL  # noqa: E402,F401  (AckError re-exported)
from wps.control_client import ControlClient  # noqa: E402
from wps.server import ServerOptions, WpsServer  # noqa: E402

GROUP = "crib-1"
DEVICE = "device-1"
# The header of every HS256 JWT the agent signs, base64url: a token's first
# bytes, wherever it appears.
JWT_HEADER = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"

DRIVER = None  # set by main() from --driver


def monotonic_ms():
    return time.monotonic() * 1000.0


# ----------------------------------------------------------------- the hub

class _HubLog(logging.Handler):
    """Keeps the hub's log lines with their monotonic time."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.lines = []

    def emit(self, record):
        self.lines.append((time.monotonic(), record.getMessage()))


class Hub:
    """The test hub in this process, on its own asyncio thread, with its
    control API on a free port (``self.control``)."""

    def __init__(self, **options):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="hub", daemon=True)
        self.thread.start()
        self.log = _HubLog()
        logger = logging.getLogger("wps")
        logger.setLevel(logging.INFO)
        logger.addHandler(self.log)
        logging.getLogger("wps.websockets").setLevel(logging.ERROR)
        options.setdefault("port", 0)
        options.setdefault("control_port", 0)
        self.server = WpsServer(ServerOptions(**options))
        self.access_key = self.server.options.access_key
        # Every reconnection token and every client access token the hub saw,
        # so the tests can prove none of them reaches the driver's output.
        self.reconnection_tokens = {}  # connectionId -> token
        self.access_tokens = []
        self._wrap_for_secrets()
        self.run(self.server.start())
        self.port = self.server.port
        self.control = ControlClient("http://127.0.0.1:%d" % self.server.control_port)

    def _wrap_for_secrets(self):
        server = self.server
        open_session, check_request = server._open_session, server._check_request

        def recording_open(ws, request):
            conn = open_session(ws, request)
            self.reconnection_tokens[conn.session.connection_id] = conn.session.reconnection_token
            return conn

        def recording_check(ws, path, headers):
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
            for token in query.get("access_token", []) + query.get("awps_reconnection_token", []):
                self.access_tokens.append(token)
            return check_request(ws, path, headers)

        server._open_session = recording_open
        server._check_request = recording_check

    def run(self, coro, timeout=30):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call(self, fn, *args, timeout=10, **kwargs):
        """Runs a plain function on the hub's loop thread and returns its result."""
        async def wrapper():
            return fn(*args, **kwargs)
        return self.run(wrapper(), timeout)

    @property
    def endpoint(self):
        return self.server.endpoint

    def secrets(self):
        return [self.access_key] + list(self.reconnection_tokens.values()) + list(self.access_tokens)

    def log_lines(self, fragment, since=0.0):
        return [(t, m) for t, m in list(self.log.lines) if fragment in m and t >= since]

    def counters(self):
        return self.control.state()["counters"]

    def recovery_close_code(self, connection_id, timeout=5.0):
        """Tries to recover ``connection_id`` with its reconnection token, as a
        client would; returns the close code the hub answers with (1008: the
        session is gone), or None if the recovery was accepted."""
        import ws_compat
        from ws_compat import ConnectionClosed
        token = self.reconnection_tokens[connection_id]
        url = "%s://127.0.0.1:%d/client/hubs/%s?awps_connection_id=%s&awps_reconnection_token=%s" % (
            self.server.scheme, self.port, self.server.options.hub, connection_id, token)

        async def attempt():
            async with ws_compat.connect(url, subprotocols=[RELIABLE_PROTOCOL], open_timeout=timeout,
                                         close_timeout=1) as ws:
                try:
                    while True:
                        await asyncio.wait_for(ws.recv(), timeout)
                except asyncio.TimeoutError:
                    return None
                except ConnectionClosed:
                    return ws.close_code
        return self.run(attempt(), timeout + 5)

    def close(self):
        try:
            self.run(self.server.stop(), timeout=15)
        finally:
            logging.getLogger("wps").removeHandler(self.log)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()

    def client(self, user="peer", roles=("webpubsub.sendToGroup", "webpubsub.joinLeaveGroup"), **kwargs):
        """A WpsClient peer with a fresh token; use it through run()."""
        url = self.control.token(user, roles=roles)["url"]
        self.access_tokens.append(url.split("access_token=", 1)[1])
        return WpsClient(url, **kwargs)


# ------------------------------------------------------------------ driver

def config_text(websocket=None, general=None, auth=None, level="DEBUG"):
    """A dunebugger.conf with short timings; ``websocket`` adds or overrides keys."""
    ws = {"groupName": GROUP, "hub": "dunebugger", "reconnectInitialDelaySecs": "0.2",
          "reconnectMaxDelaySecs": "2", "reconnectJitter": "0.3", "networkSettleSecs": "0.5",
          "keepAliveIntervalSecs": "5", "keepAliveTimeoutSecs": "15",
          # Keeps load_config's heartbeat-margin warning out of the output.
          "heartBeatEverySecs": "50"}
    ws.update(websocket or {})
    gen = {"deviceId": DEVICE}
    gen.update(general or {})
    lines = ["[General]"] + ["%s = %s" % kv for kv in gen.items()]
    if auth:
        lines += ["[Auth]"] + ["%s = %s" % kv for kv in auth.items()]
    lines += ["[Websocket]"] + ["%s = %s" % kv for kv in ws.items() if kv[1] is not None]
    lines += ["[Log]", "dunebuggerLogLevel = %s" % level]
    return "\n".join(lines) + "\n"


def connection_string(hub, host="127.0.0.1", key=None, scheme="http"):
    return "Endpoint=%s://%s:%d;AccessKey=%s;Version=1.0" % (scheme, host, hub.port, key or hub.access_key)


class Driver:
    """The pubsub_driver process: JSON-line commands in, JSON-line events out,
    the agent's log on stderr."""

    def __init__(self, config, env=None, online=True, directory=None):
        self.dir = directory or tempfile.mkdtemp(prefix="dbr-pubsub-")
        self.config_path = os.path.join(self.dir, "dunebugger.conf")
        with open(self.config_path, "w") as f:
            f.write(config)
        os.chmod(self.config_path, 0o600)
        # A clean environment: no proxy variables, no credentials but the test's.
        environment = clean_env(env)
        cmd = [DRIVER, "--config", self.config_path] + (["--online"] if online else [])
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(cmd, env=environment, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.events = []
        self.stdout_lines = []
        self.stderr_lines = []
        self._cond = threading.Condition()
        self._readers = [threading.Thread(target=self._read_stdout, daemon=True),
                         threading.Thread(target=self._read_stderr, daemon=True)]
        for r in self._readers:
            r.start()
        self.exit_code = None

    def _read_stdout(self):
        for raw in self.proc.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            with self._cond:
                self.stdout_lines.append(line)
                try:
                    self.events.append(json.loads(line))
                except ValueError:
                    self.events.append({"event": "unparsable", "line": line})
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def _read_stderr(self):
        for raw in self.proc.stderr:
            with self._cond:
                self.stderr_lines.append(raw.decode(errors="replace").rstrip("\n"))
                self._cond.notify_all()

    # --- commands
    def command(self, **cmd):
        self.proc.stdin.write((json.dumps(cmd) + "\n").encode())
        self.proc.stdin.flush()

    def send(self, data):
        self.command(cmd="send", data=data)

    def internet(self, online):
        self.command(cmd="internet", online=online)

    def counters(self, timeout=10):
        start = len(self.events)
        self.command(cmd="counters")
        return self.wait_for(lambda e: e["event"] == "counters", timeout, start=start)

    # --- events
    def wait_for(self, predicate, timeout, start=0, what=None):
        """The first event at index >= start matching predicate; fails the test on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for e in self.events[start:]:
                    if predicate(e):
                        return e
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._readers[0].is_alive()):
                    raise AssertionError("driver: no %s within %.1f s; last events: %s; log tail: %s" % (
                        what or "matching event", timeout, self.events[-8:], self.stderr_lines[-8:]))
                self._cond.wait(min(left, 0.2))

    def wait_event(self, kind, timeout, start=0, **fields):
        return self.wait_for(lambda e: e["event"] == kind and all(e.get(k) == v for k, v in fields.items()),
                             timeout, start, what="%s %s" % (kind, fields))

    def wait_state(self, to, timeout, start=0):
        return self.wait_event("state", timeout, start, to=to)

    def of(self, kind, start=0):
        with self._cond:
            return [e for e in self.events[start:] if e["event"] == kind]

    def mark(self):
        with self._cond:
            return len(self.events)

    def messages(self, start=0):
        return [e["data"] for e in self.of("message", start)]

    def log_lines(self, fragment):
        with self._cond:
            return [line for line in self.stderr_lines if fragment in line]

    def wait_log_lines(self, fragment, count=1, timeout=5.0):
        """The log lines holding fragment, once there are count of them or
        after timeout (then fewer: the caller's assertion says how many).
        stderr has its own reader thread, so a line the driver wrote before
        an event on stdout can arrive here after that event."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [line for line in self.stderr_lines if fragment in line]
                left = deadline - time.monotonic()
                if len(found) >= count or left <= 0:
                    return found
                self._cond.wait(min(left, 0.2))

    # --- ending
    def wait_exit(self, timeout):
        try:
            self.exit_code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("driver did not exit within %.1f s" % timeout)
        for r in self._readers:
            r.join(5)
        return self.exit_code

    def stop(self, timeout=5):
        """{"cmd":"stop"}; returns the seconds until the process exited."""
        t0 = time.monotonic()
        self.command(cmd="stop")
        self.wait_exit(timeout)
        return time.monotonic() - t0

    def terminate(self, timeout=5):
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        self.wait_exit(timeout)
        return time.monotonic() - t0

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for r in self._readers:
            r.join(5)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                stream.close()
            except (OSError, ValueError):
                pass

    def output(self):
        with self._cond:
            return "\n".join(self.stdout_lines + self.stderr_lines)


# ----------------------------------------------------------------- traffic

class DriverTraffic(Traffic):
    """Numbered messages both ways, continuously, until stop()
    (tests/support/traffic.py): the device sends {"d": n} through the
    driver; the front-end side sends {"g": n} to the group through the hub's
    POST /send. verify() checks that each one arrived exactly once and in
    order: device->group in the hub's message log, group->device in the
    driver's output."""

    def __init__(self, hub, driver, period=0.01, group=GROUP):
        self.driver = driver
        self._driver_at = driver.mark()
        super().__init__(hub.control, group, period, catch_up=False, log_pause=0.1)

    def send_device(self, n):
        self.driver.send({"d": n})

    def group_data(self, n):
        return {"g": n}

    def d2g_number(self, m):
        return m["data"]["d"] if isinstance(m["data"], dict) and "d" in m["data"] else None

    def read_g2d(self, timeout):
        time.sleep(min(timeout, 0.05))
        end = self.driver.mark()
        events, self._driver_at = self.driver.events[self._driver_at:end], end
        now = time.time()
        return [(e["data"]["g"], now) for e in events
                if e["event"] == "message" and isinstance(e["data"], dict) and "g" in e["data"]]

    def g2d_expected(self, recipients):
        return recipients is not None  # the hub keeps them for the device's session while it recovers

    def verify(self, test, timeout=20):
        """Waits for everything to arrive, then checks exactly once and in
        order both ways; returns a dict of figures."""
        self.settle(timeout, quiet=0.5)  # late duplicates have time to show
        self.assert_exactly_once_in_order(test)
        return {"device_to_group": len(self.d2g_sent),
                "group_to_device": sum(1 for _, r in self.g2d_sent.values() if r is not None),
                "hub_duplicates_absorbed": sum(1 for _, _, o, _ in self.d2g_log if o == "duplicate")}


# ---------------------------------------------------------------- fake Auth0

class FakeAuth0:
    """Auth0's password grant as the agent uses it (dunebugger-protocol.md §3),
    over HTTPS with a certificate from a test CA (an http_peer.HttpPeer). It
    checks what the agent sends and answers as ``mode`` says: ok, token_401,
    token_403 (Auth0's answer to a wrong password), token_500,
    no_access_token, userinfo_401, no_wss_url. ``wss_url`` is a
    callable giving the hub URL to hand out (fresh for every sign-in)."""

    CLIENT_ID = "test-client-id"
    USERNAME = "device-1@example.test"

    def __init__(self, ca, wss_url):
        self.client_secret = "client-secret-" + secrets.token_hex(8)
        self.password = "password-" + secrets.token_hex(8)
        self.access_tokens = []
        self.wss_url = wss_url
        self.mode = "ok"
        self.fail_count = None  # None: every request; n: the next n token requests
        self.requests = []      # (monotonic time, path, problem or None)
        self.handed_out = []    # wss_urls given out
        self._modes_by_token = {}
        self.server = HttpPeer(self._answer, ssl_context=ca.server_context("auth0"))
        self.port = self.server.port

    @staticmethod
    def _json(status, body):
        return status, [("Content-Type", "application/json")], json.dumps(body).encode()

    def _answer(self, request, raw):
        if request.command == "POST":
            return self._token(request, raw)
        if request.command == "GET":
            return self._userinfo(request)
        return self._json(405, {"error": "method not allowed"})

    def _token(self, request, raw):
        problem = None
        if request.path != "/oauth/token":
            problem = "unexpected path " + request.path
        elif "application/json" not in request.headers.get("Content-Type", ""):
            problem = "Content-Type is not JSON"
        else:
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            expected = {"grant_type": "password", "scope": "openid profile email",
                        "client_id": self.CLIENT_ID, "client_secret": self.client_secret,
                        "username": self.USERNAME, "password": self.password}
            if body != expected:
                problem = "unexpected token request body"
        self.requests.append((time.monotonic(), request.path, problem))
        if problem:
            return self._json(400, {"error": "invalid_request", "error_description": problem})
        mode = self._take_mode()
        if mode == "token_401":
            return self._json(401, {"error": "invalid_grant", "error_description": "Wrong email or password."})
        if mode == "token_403":
            return self._json(403, {"error": "invalid_grant", "error_description": "Wrong email or password."})
        if mode == "token_500":
            return self._json(500, {"error": "server_error"})
        token = "auth0-access-" + secrets.token_hex(12)
        self.access_tokens.append(token)
        self._modes_by_token[token] = mode
        if mode == "no_access_token":
            return self._json(200, {"token_type": "Bearer", "expires_in": 86400, "scope": "openid"})
        return self._json(200, {"access_token": token, "token_type": "Bearer", "expires_in": 86400,
                                "scope": "openid profile email"})

    def _userinfo(self, request):
        auth = request.headers.get("Authorization", "")
        problem = None
        if request.path != "/userinfo":
            problem = "unexpected path " + request.path
        elif not auth.startswith("Bearer ") or auth[7:] not in self.access_tokens:
            problem = "missing or unknown bearer token"
        self.requests.append((time.monotonic(), request.path, problem))
        if problem:
            return self._json(401, {"error": "unauthorized"})
        mode = self._modes_by_token.get(auth[7:], "ok")
        if mode == "userinfo_401":
            return self._json(401, {"error": "invalid_token"})
        if mode == "no_wss_url":
            return self._json(200, {"sub": "auth0|device-1", "email": self.USERNAME})
        url = self.wss_url()
        self.handed_out.append(url)
        return self._json(200, {"sub": "auth0|device-1", "email": self.USERNAME, "wss_url": url})

    def _take_mode(self):
        mode = self.mode
        if mode != "ok" and self.fail_count is not None:
            self.fail_count -= 1
            if self.fail_count <= 0:
                self.mode, self.fail_count = "ok", None
        return mode

    def env(self):
        return {"AUTH0_CLIENT_ID": self.CLIENT_ID, "AUTH0_CLIENT_SECRET": self.client_secret,
                "AUTH0_USERNAME": self.USERNAME, "AUTH0_PASSWORD": self.password}

    def secrets(self):
        return [self.client_secret, self.password] + list(self.access_tokens) + list(self.handed_out)

    def token_requests(self):
        return [r for r in self.requests if r[1] == "/oauth/token"]

    def problems(self):
        return [r[2] for r in self.requests if r[2]]

    def close(self):
        self.server.close()


# ---------------------------------------------------------------- test base

class PubsubTestCase(unittest.TestCase):
    """Starts nothing by itself; tracks what the test starts and ends it.
    Every driver's output is checked for every known secret in tearDown."""

    def setUp(self):
        self._drivers = []
        self._hubs = []
        self._others = []
        self.extra_secrets = []
        self.tmp = tempfile.TemporaryDirectory(prefix="dbr-pubsub-")

    def hub(self, **options):
        hub = Hub(**options)
        self._hubs.append(hub)
        return hub

    def driver(self, config, **kwargs):
        d = Driver(config, directory=tempfile.mkdtemp(dir=self.tmp.name), **kwargs)
        self._drivers.append(d)
        return d

    def track(self, thing):
        self._others.append(thing)
        return thing

    def tearDown(self):
        try:
            for d in self._drivers:
                d.close()
            self.assert_no_secrets()
        finally:
            for thing in self._others:
                thing.close()
            for hub in self._hubs:
                hub.close()
            self.tmp.cleanup()

    def assert_no_secrets(self):
        known = list(self.extra_secrets)
        for hub in self._hubs:
            known += hub.secrets()
        for thing in self._others:
            if hasattr(thing, "secrets"):
                known += thing.secrets()
        known = [s for s in known if s and len(s) >= 8]
        patterns = ["access_token=", "awps_reconnection_token", JWT_HEADER]
        for d in self._drivers:
            out = d.output()
            for s in known:
                self.assertNotIn(s, out, "a secret appears in the driver's output")
            for p in patterns:
                self.assertNotIn(p, out, "%r appears in the driver's output" % p)

    # Small helpers
    def start_connected(self, hub, websocket=None, **kwargs):
        """A driver on a connection string to ``hub``, connected and joined."""
        keys = {"connectionString": connection_string(hub)}
        keys.update(websocket or {})
        d = self.driver(config_text(keys), **kwargs)
        connected = d.wait_event("connected", 15)
        d.wait_event("joined", 15)
        return d, connected["connectionId"]


def gaps(times):
    return [b - a for a, b in zip(times, times[1:])]


def main():
    test_main.run("driver", into=sys.modules[__name__])
