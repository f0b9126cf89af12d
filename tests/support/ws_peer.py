"""An independent WebSocket peer for the interop tests (test_ws_interop) and
the echo benchmark (bench/ws/ws_echo_bench): Debian's
python3-websockets (10 on bookworm, 15 on trixie, through ws_compat) on loopback.

Prints one JSON line on stdout once every listener is up:
  {"ws": port, "wss": port, "wss_untrusted": port, "stall": port,
   "silent": port, "backlog": port, "proxy": port, "ca": path}
and exits when its stdin closes (so it never outlives the test).

  ws / wss        the echo service, plain and TLS (a cert from the test CA)
  wss_untrusted   the same over TLS with a cert from a CA nobody trusts
  stall           accepts the upgrade, then never reads (tiny read buffers)
  silent          accepts TCP and never answers anything
  backlog         a listener whose accept queue is full: SYNs are dropped
  proxy           an HTTP CONNECT proxy (counts the tunnels it opened)

Request paths (any port):
  /echo?id=X      echoes every message; text commands instead of an echo:
                    "send-text N" / "send-binary N"  a message of N bytes
                    "fragments A B C"                one text message in fragments
                    "ping P"                         a ping; "pong-ok P" after the pong
                    "close CODE REASON"              the server closes
                  the close code/reason the peer sent is recorded under X
  /last-close?id=X  sends "CODE REASON" recorded under X (waits up to 5 s)
  /status/NNN     refuses the upgrade with HTTP NNN (503 adds Retry-After: 7)
  /tunnels        sends the number of CONNECT tunnels the proxy has opened
"""
import asyncio
import json
import os
import socket
import ssl
import sys
import tempfile
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ws_compat  # noqa: E402
from test_ca import TestCA  # noqa: E402

closes = {}
close_recorded = asyncio.Event()
tunnels = []


def pattern_text(n):
    return "".join(chr(ord("a") + i % 26) for i in range(n))


def pattern_binary(n):
    return bytes((i * 7) & 0xFF for i in range(n))


def process_request(ws, path, headers):
    parts = urllib.parse.urlsplit(path)
    if parts.path.startswith("/status/"):
        status = int(parts.path[len("/status/"):])
        extra = [("Retry-After", "7")] if status == 503 else []
        return status, extra, "refused\n"
    return None


async def echo(ws, query):
    conn_id = query.get("id", [""])[0]
    try:
        async for message in ws:
            if isinstance(message, str) and message.startswith("send-text "):
                await ws.send(pattern_text(int(message.split()[1])))
            elif isinstance(message, str) and message.startswith("send-binary "):
                await ws.send(pattern_binary(int(message.split()[1])))
            elif isinstance(message, str) and message.startswith("fragments "):
                await ws.send(message.split()[1:])
            elif isinstance(message, str) and message.startswith("ping "):
                payload = message[len("ping "):]
                pong = await ws.ping(payload.encode())
                await asyncio.wait_for(pong, 5)
                await ws.send("pong-ok " + payload)
            elif isinstance(message, str) and message.startswith("close "):
                _, code, reason = (message.split(" ", 2) + [""])[:3]
                await ws.close(int(code), reason)
            else:
                await ws.send(message)
    except ws_compat.ConnectionClosed:
        pass
    if conn_id:
        closes[conn_id] = "%s %s" % (ws.close_code, ws.close_reason)
        close_recorded.set()


async def last_close(ws, query):
    conn_id = query.get("id", [""])[0]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while conn_id not in closes and loop.time() < deadline:
        close_recorded.clear()
        try:
            await asyncio.wait_for(close_recorded.wait(), max(0.01, deadline - loop.time()))
        except asyncio.TimeoutError:
            break
    await ws.send(closes.get(conn_id, "none"))
    await ws.wait_closed()


async def handler(ws):
    parts = urllib.parse.urlsplit(ws_compat.request_path(ws))
    query = urllib.parse.parse_qs(parts.query)
    if parts.path == "/last-close":
        await last_close(ws, query)
    elif parts.path == "/tunnels":
        await ws.send(str(len(tunnels)))
        await ws.wait_closed()
    else:
        await echo(ws, query)


async def stall(ws):
    # Reads nothing more from the socket, so the kernel buffers fill up.
    ws.transport.pause_reading()
    await asyncio.sleep(3600)


async def silent(reader, writer):
    try:
        while await reader.read(65536):
            pass
    finally:
        writer.close()


async def relay(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def connect_proxy(reader, writer):
    """Just enough of an HTTP CONNECT proxy (RFC 9110 §9.3.6) for curl."""
    head = await reader.readuntil(b"\r\n\r\n")
    method, target, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
    if method != "CONNECT":
        writer.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
        writer.close()
        return
    host, port = target.rsplit(":", 1)
    up_reader, up_writer = await asyncio.open_connection(host, int(port))
    tunnels.append(target)
    writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
    await writer.drain()
    await asyncio.gather(relay(reader, up_writer), relay(up_reader, writer))


def full_backlog_listener():
    """A listener that never accepts, with its accept queue already full:
    Linux then drops new SYNs, so a connect hangs in SYN-SENT."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(s)
    return listener, fillers, port


async def main():
    with tempfile.TemporaryDirectory(prefix="dbr-ws-interop-") as tmp:
        await serve(tmp)


async def serve(tmp):
    ca = TestCA(os.path.join(tmp, "ca"))
    untrusted = TestCA(os.path.join(tmp, "untrusted"), name="nobody-trusts-this-ca")
    opts = dict(compression=None, max_size=4 * 1024 * 1024, ping_interval=None, process_request=process_request,
                subprotocols=["json.reliable.webpubsub.azure.v1", "json.webpubsub.azure.v1"])
    plain = await ws_compat.serve(handler, "127.0.0.1", 0, **opts)
    tls = await ws_compat.serve(handler, "127.0.0.1", 0, ssl=ca.server_context(), **opts)
    bad_tls = await ws_compat.serve(handler, "127.0.0.1", 0, ssl=untrusted.server_context(), **opts)
    stalled = await ws_compat.serve(stall, "127.0.0.1", 0, compression=None, ping_interval=None, max_queue=1,
                                    max_size=4 * 1024 * 1024)
    silent_server = await asyncio.start_server(silent, "127.0.0.1", 0)
    proxy = await asyncio.start_server(connect_proxy, "127.0.0.1", 0)
    listener, fillers, backlog_port = full_backlog_listener()

    def port(server):
        return server.sockets[0].getsockname()[1]

    print(json.dumps({"ws": port(plain), "wss": port(tls), "wss_untrusted": port(bad_tls), "stall": port(stalled),
                      "silent": port(silent_server), "backlog": backlog_port, "proxy": port(proxy),
                      "ca": ca.cert_path}), flush=True)

    stdin_closed = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_stdin():
        if not os.read(sys.stdin.fileno(), 4096):
            loop.remove_reader(sys.stdin.fileno())
            stdin_closed.set()

    loop.add_reader(sys.stdin.fileno(), on_stdin)
    await stdin_closed.wait()
    listener.close()
    for s in fillers:
        s.close()


if __name__ == "__main__":
    asyncio.run(main())
