"""HTTP(S) peers for the CurlMulti tests, on loopback.

Prints one JSON line once listening and exits when stdin closes:
  {"https": port, "https_b": port, "http": port, "ca": path, "ca_b": path}
  https    certificate from test CA "a" (ca)
  https_b  certificate from test CA "b" (ca_b)
  http     plain
Paths: /delay/MS answers "ok" after MS milliseconds (requests are served
concurrently); /size/N answers N bytes; anything else answers "ok".
"""
import http.server
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "support"))
from test_ca import TestCA  # noqa: E402
from loopback_http import announce_and_wait, start  # noqa: E402


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = b"ok"
        if self.path.startswith("/delay/"):
            time.sleep(int(self.path[len("/delay/"):]) / 1000.0)
        elif self.path.startswith("/size/"):
            n = int(self.path[len("/size/"):])
            body = bytes(ord("a") + i % 26 for i in range(n))
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    with tempfile.TemporaryDirectory(prefix="dbr-net-") as tmp:
        ca_a = TestCA(os.path.join(tmp, "a"), name="test-ca-a")
        ca_b = TestCA(os.path.join(tmp, "b"), name="test-ca-b")
        https = start(Handler, ca_a.server_context())
        https_b = start(Handler, ca_b.server_context())
        plain = start(Handler)
        announce_and_wait({"https": https.server_address[1], "https_b": https_b.server_address[1],
                           "http": plain.server_address[1], "ca": ca_a.cert_path, "ca_b": ca_b.cert_path})


if __name__ == "__main__":
    main()
