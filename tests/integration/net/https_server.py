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
import json
import os
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "support"))
from test_ca import TestCA  # noqa: E402


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


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # The default backlog of 5 drops the SYNs of 8 concurrent connects while
    # TLS handshakes run one at a time in accept(); a dropped SYN costs 1 s.
    request_queue_size = 64

    def handle_error(self, request, client_address):
        pass  # clients that hang up early (the remove() tests) are expected


def start(ctx=None):
    server = Server(("127.0.0.1", 0), Handler)
    if ctx is not None:
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main():
    with tempfile.TemporaryDirectory(prefix="dbr-net-") as tmp:
        ca_a = TestCA(os.path.join(tmp, "a"), name="test-ca-a")
        ca_b = TestCA(os.path.join(tmp, "b"), name="test-ca-b")
        https = start(ca_a.server_context())
        https_b = start(ca_b.server_context())
        plain = start()
        print(json.dumps({"https": https.server_address[1], "https_b": https_b.server_address[1],
                          "http": plain.server_address[1], "ca": ca_a.cert_path, "ca_b": ca_b.cert_path}), flush=True)
        while sys.stdin.read(4096):
            pass


if __name__ == "__main__":
    main()
