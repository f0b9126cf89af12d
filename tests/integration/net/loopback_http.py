"""The plumbing shared by this folder's HTTP(S) peers: a threaded server on
127.0.0.1 (port chosen by the kernel), optionally wrapped in TLS, and the
peer protocol of net/peer_process.hpp (one JSON line once listening; exit
when stdin closes)."""
import http.server
import json
import sys
import threading


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # The default backlog of 5 drops the SYNs of 8 concurrent connects while
    # TLS handshakes run one at a time in accept(); a dropped SYN costs 1 s.
    request_queue_size = 64

    def handle_error(self, request, client_address):
        pass  # clients that hang up early (cancel, timeout, body cap) are expected


def start(handler, ctx=None):
    """Serves `handler` on a thread; TLS with `ctx` when given."""
    server = Server(("127.0.0.1", 0), handler)
    if ctx is not None:
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def announce_and_wait(ports):
    """Prints the ports as one JSON line, then returns when stdin closes."""
    print(json.dumps(ports), flush=True)
    while sys.stdin.read(4096):
        pass
