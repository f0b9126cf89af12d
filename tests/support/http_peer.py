"""The one local HTTP(S) peer of the tests and benchmarks: a server on a
thread whose answers a function gives, with the faults the tests switch.

    peer = HttpPeer(respond, host="127.0.0.1", ssl_context=None, port=0)
    respond(request, body) -> (status, [(header, value)], payload bytes),
                              or None: the request is never answered

`request` is the http.server.BaseHTTPRequestHandler (command, path, headers,
client_address); Content-Length is added. The peer counts completed
(TLS) connections, TLS sessions resumed, requests and User-Agent values;
`hang(True)` accepts connections and never answers (nor completes TLS),
`listening(False)` stops listening (connects are refused) and True listens
again on the same port. TLS is done per connection on its own thread, so
slow handshakes do not hold the others up.

Three kinds are made from it: ProbeServer (the internet probe: the
monitor tests, the fault suite, bench/monitor), the fake Auth0 of the
pubsub tests (tests/integration/pubsub/harness.py) and, run as a script,
the request server of the C++ net tests (test_curl_multi, test_http_request),
which prints one JSON line once listening and exits when stdin closes:
  {"http": port, "https": port, "https_b": port, "ca": path, "ca_b": path, "closed": port}
  http     plain
  https    certificate from test CA "a" (ca), for localhost and 127.0.0.1
  https_b  certificate from test CA "b" (ca_b)
  closed   a port nobody listens on (connection refused)
  Paths (any method), served concurrently:
    /echo                 200, JSON {method, path, client_port, headers, body}
    /status/N             status N; query retry_after=V adds "Retry-After: V",
                          retry_after_date=S adds an HTTP-date S seconds after
                          the response's Date header
    /size/N               200 with N bytes
    /delay/MS             200 "ok" after MS milliseconds
    anything else         200 "ok"
Run with Debian's /usr/bin/python3."""
import email.utils
import http.server
import json
import os
import select
import socket
import sys
import tempfile
import threading
import time
import urllib.parse

PROBE_HOST = "probe.test"


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30  # an idle kept-alive connection is closed after it

    def _handle(self):
        peer = self.server  # the HttpPeer
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with peer.lock:
            peer.requests += 1
            peer.methods.append(self.command)
            if "User-Agent" in self.headers:
                peer.user_agents.append(self.headers["User-Agent"])
        answer = None if peer.hanging else peer.respond(self, body)
        if answer == CLOSE_UNANSWERED:
            self.close_connection = True  # not a byte back
            return
        if answer is None:
            time.sleep(30)
            self.close_connection = True
            return
        status, headers, payload = answer
        self.send_response_only(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

    def log_message(self, *args):
        pass


class HttpPeer:
    """See the module's docstring."""

    def __init__(self, respond, host="127.0.0.1", ssl_context=None, port=0):
        self.respond, self.host, self.ctx, self.port = respond, host, ssl_context, port
        self.lock = threading.Lock()
        self.connections = 0   # completed (TLS) connections
        self.resumed = 0       # of which resumed a TLS session
        self.requests = 0
        self.methods = []  # of every request, in order
        self.user_agents = []
        self.hanging = False
        self.hung = []
        self.listener = None
        self._stop = False
        self._listen()

    @property
    def scheme(self):
        return "https" if self.ctx else "http"

    def url(self, host=None, path="/"):
        return "%s://%s:%d%s" % (self.scheme, host or self.host, self.port, path)

    # ---- faults

    def hang(self, on):
        with self.lock:
            was, self.hanging = self.hanging, on
        if was and not on:
            self._drop_hung()

    def listening(self, on):
        if not on and self.listener:
            self._unlisten()
            self._drop_hung()
        elif on and self.listener is None:
            self._listen()

    # ---- serving

    def _listen(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.host, self.port))
        # The default backlog of 5 drops the SYNs of 8 concurrent connects;
        # a dropped SYN costs 1 s.
        s.listen(64)
        self.port = s.getsockname()[1]
        self.listener = s
        self._acceptor = threading.Thread(target=self._accept_loop, args=(s,), daemon=True)
        self._acceptor.start()

    def _unlisten(self):
        # shutdown() stops the kernel listening at once (later connects are
        # refused), even while the accept thread still holds the socket.
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._acceptor.join(5)
        self.listener.close()
        self.listener = None

    def _drop_hung(self):
        with self.lock:
            hung, self.hung = self.hung, []
        for c in hung:
            try:
                c.close()
            except OSError:
                pass

    def _accept_loop(self, listener):
        while not self._stop:
            try:
                r, _, _ = select.select([listener], [], [], 0.2)
            except (OSError, ValueError):
                return
            if not r:
                continue
            try:
                conn, addr = listener.accept()
            except OSError:
                return  # shut down
            with self.lock:
                if self.hanging:
                    self.hung.append(conn)
                    continue
            threading.Thread(target=self._serve, args=(conn, addr), daemon=True).start()

    def _serve(self, conn, addr):
        try:
            conn.settimeout(30)
            if self.ctx:
                conn = self.ctx.wrap_socket(conn, server_side=True)
            with self.lock:
                self.connections += 1
                if self.ctx and conn.session_reused:
                    self.resumed += 1
            _Handler(conn, addr, self)
        except Exception:  # noqa: BLE001
            pass  # clients that hang up early (cancel, timeout, body cap, bad TLS) are expected
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def close(self):
        self._stop = True
        if self.listener:
            self._unlisten()
        self._drop_hung()


# A respond() result: close the connection without answering.
CLOSE_UNANSWERED = "close unanswered"


class ProbeServer(HttpPeer):
    """The internet probe's server, whose behaviour the test switches:
    "200", "500", "302" answer with that status; "no-head" answers HEAD with
    `no_head_status` (405; "close": closes without a byte, as python3-websockets
    does on trixie) and GET with 200; "hang" accepts connections and never answers (nor
    completes TLS); "closed" stops listening (refused)."""

    STATUS = {"200": 200, "500": 500, "302": 302}

    def __init__(self, host="127.0.0.1", ssl_context=None, port=0):
        self.mode = "200"
        self.no_head_status = 405
        super().__init__(self._answer, host, ssl_context, port)

    def _answer(self, request, body):
        mode = self.mode
        if mode == "no-head":
            if request.command == "HEAD":
                if self.no_head_status == "close":
                    return CLOSE_UNANSWERED
                return self.no_head_status, [("Allow", "GET")], b""
            mode = "200"
        if mode not in self.STATUS:
            return None
        headers = [("Location", "http://portal.test/login?session=secret-portal-token")] if mode == "302" else []
        return self.STATUS[mode], headers + [("Content-Type", "text/plain")], b"ok\n"

    def url(self, host=PROBE_HOST, path="/"):
        return super().url(host, path)

    def set_mode(self, mode):
        self.mode = mode
        self.listening(mode != "closed")
        self.hang(mode == "hang")


# ------------------------------------------------ the net tests' request server

def request_server_answer(request, body):
    """The answers of the C++ net tests' request server (the module's docstring)."""
    url = urllib.parse.urlsplit(request.path)
    query = dict(urllib.parse.parse_qsl(url.query))
    status, extra, payload = 200, [], b"ok"
    if url.path == "/echo":
        payload = json.dumps({"method": request.command, "path": request.path,
                              "client_port": request.client_address[1],
                              "headers": {k.lower(): v for k, v in request.headers.items()},
                              "body": body.decode(errors="replace")}).encode()
    elif url.path.startswith("/status/"):
        status = int(url.path[len("/status/"):])
        payload = b"status body"
        if "retry_after" in query:
            extra.append(("Retry-After", query["retry_after"]))
        if "retry_after_date" in query:
            now = time.time()
            extra.append(("Date", email.utils.formatdate(now, usegmt=True)))
            extra.append(("Retry-After", email.utils.formatdate(now + int(query["retry_after_date"]), usegmt=True)))
    elif url.path.startswith("/size/"):
        n = int(url.path[len("/size/"):])
        payload = bytes(ord("a") + i % 26 for i in range(n))
    elif url.path.startswith("/delay/"):
        time.sleep(int(url.path[len("/delay/"):]) / 1000.0)
    if not any(name == "Date" for name, _ in extra):
        extra.insert(0, ("Date", request.date_time_string()))
    return status, extra, payload


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from test_ca import TestCA
    with tempfile.TemporaryDirectory(prefix="dbr-http-") as tmp:
        ca_a = TestCA(os.path.join(tmp, "a"), name="test-ca-a")
        ca_b = TestCA(os.path.join(tmp, "b"), name="test-ca-b")
        peers = {"http": HttpPeer(request_server_answer),
                 "https": HttpPeer(request_server_answer, ssl_context=ca_a.server_context()),
                 "https_b": HttpPeer(request_server_answer, ssl_context=ca_b.server_context())}
        ports = {name: peer.port for name, peer in peers.items()}
        ports.update(ca=ca_a.cert_path, ca_b=ca_b.cert_path, closed=closed_port())
        print(json.dumps(ports), flush=True)
        while sys.stdin.read(4096):
            pass


if __name__ == "__main__":
    main()
