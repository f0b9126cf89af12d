"""HTTP(S) peer for the net::HttpRequest tests, on loopback.

Prints one JSON line once listening and exits when stdin closes:
  {"http": port, "https": port, "ca": path, "closed": port}
  https    certificate from a test CA (ca), for localhost and 127.0.0.1
  closed   a port nobody listens on (connection refused)
Paths (any method):
  /echo                 200, JSON {method, path, headers, body}
  /status/N             status N; query retry_after=V adds "Retry-After: V",
                        retry_after_date=S adds an HTTP-date S seconds after
                        the response's Date header
  /size/N               200 with N bytes
  /delay/MS             200 "ok" after MS milliseconds
"""
import email.utils
import http.server
import json
import os
import socket
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "support"))
from test_ca import TestCA  # noqa: E402
from loopback_http import announce_and_wait, start  # noqa: E402


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _handle(self):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, extra, payload = 200, [], b"ok"
        if url.path == "/echo":
            payload = json.dumps({"method": self.command, "path": self.path, "client_port": self.client_address[1],
                                  "headers": {k.lower(): v for k, v in self.headers.items()},
                                  "body": body.decode(errors="replace")}).encode()
        elif url.path.startswith("/status/"):
            status = int(url.path[len("/status/"):])
            payload = b"status body"
            if "retry_after" in query:
                extra.append(("Retry-After", query["retry_after"]))
            if "retry_after_date" in query:
                now = time.time()
                extra.append(("Date", email.utils.formatdate(now, usegmt=True)))
                extra.append(("Retry-After", email.utils.formatdate(now + int(query["retry_after_date"]),
                                                                    usegmt=True)))
        elif url.path.startswith("/size/"):
            n = int(url.path[len("/size/"):])
            payload = bytes(ord("a") + i % 26 for i in range(n))
        elif url.path.startswith("/delay/"):
            time.sleep(int(url.path[len("/delay/"):]) / 1000.0)
        self.send_response_only(status)
        has_date = any(name == "Date" for name, _ in extra)
        if not has_date:
            self.send_header("Date", self.date_time_string())
        for name, value in extra:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _handle

    def log_message(self, *args):
        pass


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    with tempfile.TemporaryDirectory(prefix="dbr-http-") as tmp:
        ca = TestCA(os.path.join(tmp, "ca"))
        https = start(Handler, ca.server_context())
        plain = start(Handler)
        announce_and_wait({"http": plain.server_address[1], "https": https.server_address[1], "ca": ca.cert_path,
                           "closed": closed_port()})


if __name__ == "__main__":
    main()
