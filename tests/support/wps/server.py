"""A local Azure Web PubSub-compatible hub (JSON and reliable JSON subprotocols).

Runs on Debian's python3-websockets (10 on bookworm, 15 on trixie, through
ws_compat), independent of the agent's own WebSocket code. Used in-process
by Python tests (WpsServer) and as a process (CLI below) by the fault suite,
the fleet simulation and the local demo. Spec:
/work/shared/docs/webpubsub-protocol.md (§n below); usage: docs/test-server.md.

    /usr/bin/python3 tests/support/wps/server.py --port 8080 --control-port 8081

Threading: everything runs on one asyncio loop; state changes happen in
plain (non-async) methods, so each is atomic with respect to the others.
"""
import argparse
import asyncio
import collections
import dataclasses
import email.utils
import http
import json
import logging
import os
import secrets
import signal
import ssl
import sys
import time
import urllib.parse

if __package__ in (None, ""):  # run as a script: make "wps" (and ws_compat) importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import ws_compat  # noqa: E402
from ws_compat import ConnectionClosed  # noqa: E402

from wps import access_token, protocol  # noqa: E402
from wps.session import BufferFull, Session  # noqa: E402

log = logging.getLogger("wps")

# A development key, never a real one: tests and the demo sign with it.
DEFAULT_ACCESS_KEY = "wps-local-test-access-key"
DEFAULT_HUB = "dunebugger"


@dataclasses.dataclass
class ServerOptions:
    host: str = "127.0.0.1"
    port: int = 0  # 0: pick a free port once; restarts reuse it
    hub: str = DEFAULT_HUB
    access_key: str = DEFAULT_ACCESS_KEY
    tls_cert: str = None
    tls_key: str = None
    control_port: int = None  # None: no control API; 0: a free port
    control_host: str = None  # default: host
    # "The service sends WebSocket ping frames every WebSocketKeepAliveIntervalInSeconds
    # (hub setting, 1–120 s, default 20 s)" (§5). 0 disables.
    ws_ping_interval: float = 20.0
    ws_ping_timeout: float = 20.0
    # "The service keeps the session ... for at least 30 s after the drop." (§4)
    reconnect_window: float = 30.0
    max_unacked_messages: int = 1000
    max_unacked_bytes: int = 16 * 1024 * 1024
    # "The emulator's frame limit is 1 MiB; larger frames get close 1009." (§3)
    max_frame_bytes: int = 1024 * 1024
    # Frames waiting to be written to one connection; past it: close 1008.
    max_outbound_frames: int = 2000
    clock_skew_seconds: float = access_token.DEFAULT_SKEW_SECONDS
    # The hub's clock is time.time() + this: tokens' exp/nbf are checked
    # against it and every upgrade response's Date header carries it, as a
    # service whose clock differs from the device's (a Raspberry Pi without
    # a real-time clock runs hours behind until NTP). The message log and
    # the control API keep the real time.
    clock_offset_seconds: float = 0.0
    # host[:port] values accepted in the token audience besides the Host header.
    audience_hosts: list = dataclasses.field(default_factory=list)
    # Entries kept by GET /messages and GET /events; the oldest go first.
    message_log_limit: int = 10000
    close_timeout: float = 5.0


class _Close:
    def __init__(self, code, reason):
        self.code, self.reason = code, reason


class _Raw(bytes):
    """Bytes written to the transport as they are (malformed-frame faults)."""


class _Binary(bytes):
    """A binary data frame."""


# The malformed-frame fault kinds: what each one puts on the wire.
MALFORMED_FRAMES = {
    "json": '{"type":"message","from":',             # truncated JSON text
    "not_object": '["not","an","object"]',
    "unknown_type": '{"type":"surprise","data":1}',  # valid; clients must ignore it
    "binary": _Binary(b'{"type":"pong"}'),
    "invalid_utf8": _Raw(b"\x81\x02\xff\xfe"),       # text frame, invalid UTF-8
    "bad_opcode": _Raw(b"\x83\x00"),                 # reserved opcode 0x3
    "rsv": _Raw(b"\xc1\x01x"),                       # RSV1 set, no extension
    "masked": _Raw(b"\x81\x81\x01\x02\x03\x04" + bytes([ord("x") ^ 1])),  # server frames must not be masked
    "fragmented_control": _Raw(b"\x09\x00"),         # ping without FIN
    "truncated": _Raw(b"\x81\x7e\x10\x00abc"),       # promises 4096 bytes, sends 3: the stream stalls
}


class _Connection:
    """One attached WebSocket: an ordered outbound queue and its writer task."""

    def __init__(self, server, ws, session):
        self.server = server
        self.ws = ws
        self.session = session
        self.remote = "%s:%s" % tuple(ws.remote_address[:2]) if ws.remote_address else "?"
        self.out = collections.deque()
        self.wake = asyncio.Event()
        self.silenced = False
        self.closing = False            # no more frames are queued
        self.closing_gracefully = False  # "disconnected" and a close frame are queued
        self.ends_session = False
        self.writer = asyncio.get_running_loop().create_task(self._write_loop())

    def send(self, item):
        """Queues a frame; returns False when it will not be written."""
        if self.silenced or self.closing:
            return False
        if len(self.out) >= self.server.options.max_outbound_frames:
            self.server.counters["outbound_overflows"] += 1
            self.out.clear()
            self.close(protocol.CLOSE_POLICY, protocol.REASON_OUTBOUND_FULL)
            return False
        self.out.append(item)
        self.wake.set()
        return True

    def close(self, code, reason):
        """Server-side close: "disconnected" first (§3), then the close frame. Ends the session."""
        if self.closing:
            return
        self.ends_session = True
        self.server._end_session(self.session, "server closed the connection: %s" % reason)
        if self.silenced:
            self.abort()
            return
        self.out.append(protocol.disconnected_frame(reason))
        self.out.append(_Close(code, reason))
        self.closing = True
        self.closing_gracefully = True
        self.wake.set()
        # A peer that stopped reading would hold the writer forever in drain().
        asyncio.get_running_loop().call_later(self.server.options.close_timeout + 1, self._abort_if_open)

    def _abort_if_open(self):
        if not ws_compat.is_closed(self.ws):
            log.info("%s: close did not complete, dropping the transport", self.session.connection_id)
            self.server.counters["closes_aborted"] += 1
            self.ws.transport.abort()

    def abort(self):
        """Drops TCP at once, no close frame."""
        self.closing = True
        self.ws.transport.abort()

    def silence(self):
        """Half-open: stop reading and writing, keep TCP open."""
        self.silenced = True
        self.ws.transport.pause_reading()
        self.writer.cancel()
        keepalive = ws_compat.keepalive_task(self.ws)
        if keepalive is not None:
            keepalive.cancel()

    async def _write_loop(self):
        counters = self.server.counters
        try:
            while True:
                if not self.out:
                    self.wake.clear()
                    await self.wake.wait()
                    continue
                item = self.out.popleft()
                if isinstance(item, str):
                    await self.ws.send(item)
                    counters["frames_out"] += 1
                    if log.isEnabledFor(logging.DEBUG):
                        log.debug("%s > %s", self.session.connection_id, item[:300])
                elif isinstance(item, _Close):
                    await self.ws.close(item.code, item.reason)
                    return
                elif isinstance(item, _Raw):
                    self.ws.transport.write(bytes(item))
                elif isinstance(item, _Binary):
                    await self.ws.send(bytes(item))
        except ConnectionClosed:
            pass


def _reject(status, reason, headers=None):
    return status, list(headers or []), reason + "\n"


def _http_date(t):
    """An IMF-fixdate (RFC 9110 §5.6.7) for the Date header."""
    return email.utils.formatdate(t, usegmt=True)


def _claim_list(claims, name):
    """A role/group claim: absent, one string, or a list of strings."""
    value = claims.get(name)
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise ValueError("claim %s must be a string or a list of strings" % name)


def _offered_subprotocols(headers):
    return [p.strip() for value in headers.get_all("Sec-WebSocket-Protocol") for p in value.split(",") if p.strip()]


class WpsServer:
    """The hub. ``await start()`` / ``await stop()``; the public methods below
    are also what the control API calls."""

    def __init__(self, options=None, **overrides):
        self.options = dataclasses.replace(options or ServerOptions(), **overrides)
        self.port = self.options.port
        self.control_port = None
        self.sessions = {}   # connectionId -> Session (attached or waiting for recovery)
        self.groups = {}     # group -> set of connectionIds
        self.counters = collections.Counter()
        self.message_log = collections.deque(maxlen=self.options.message_log_limit)
        self.event_log = collections.deque(maxlen=self.options.message_log_limit)
        self._log_index = 0
        self._log_changed = None
        self._refusal = None
        self._lose_acks = None   # {"count", "connectionId"}
        self._delay_acks = None  # {"seconds", "count", "connectionId"}
        self._ws_server = None
        self._control = None
        self._restart_task = None
        self._ssl = None
        if self.options.tls_cert:
            self._ssl = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._ssl.load_cert_chain(self.options.tls_cert, self.options.tls_key)

    # ------------------------------------------------------------ lifecycle

    @property
    def listening(self):
        return self._ws_server is not None

    @property
    def scheme(self):
        return "wss" if self._ssl else "ws"

    @property
    def url_host(self):
        host = self.options.host
        if host in ("", "0.0.0.0", "::"):
            host = "127.0.0.1"
        return "[%s]" % host if ":" in host else host

    @property
    def endpoint(self):
        """The http(s) endpoint a connection string would name."""
        return "%s://%s:%d" % ("https" if self._ssl else "http", self.url_host, self.port)

    async def start(self):
        self._log_changed = asyncio.Event()
        await self._start_listener()
        if self.options.control_port is not None:
            from wps.control import ControlServer
            self._control = ControlServer(self, self.options.control_host or self.options.host,
                                          self.options.control_port)
            await self._control.start()
            self.control_port = self._control.port
        return self

    async def stop(self):
        if self._restart_task is not None:
            self._restart_task.cancel()
        if self._control is not None:
            await self._control.stop()
            self._control = None
        if self._ws_server is not None:
            for session in list(self.sessions.values()):
                if session.conn is not None and session.conn.silenced:
                    session.conn.abort()
            server, self._ws_server = self._ws_server, None
            server.close()
            await server.wait_closed()
        for session in list(self.sessions.values()):
            self._end_session(session, "server stopped")
        log.info("hub stopped")

    async def _start_listener(self):
        o = self.options
        # Looked up per request (not bound here): tests wrap _check_request.
        self._ws_server = await ws_compat.serve(
            self._handle, o.host, self.port,
            process_request=lambda ws, path, headers: self._check_request(ws, path, headers),
            response_headers=self._response_headers,
            select_subprotocol=lambda ws, offered: self._select_subprotocol(ws, offered),
            subprotocols=list(protocol.SUBPROTOCOLS),
            ping_interval=o.ws_ping_interval or None, ping_timeout=o.ws_ping_timeout or None,
            max_size=o.max_frame_bytes, max_queue=32, close_timeout=o.close_timeout,
            compression=None, ssl=self._ssl, server_header="wps-test-server",
            logger=logging.getLogger("wps.websockets"))
        self.port = self._ws_server.sockets[0].getsockname()[1]
        log.info("hub %r listening on %s://%s:%d", o.hub, self.scheme, o.host, self.port)

    async def _stop_listener_abruptly(self):
        """As a crash: every transport dropped without a close frame, sessions lost."""
        for session in list(self.sessions.values()):
            if session.conn is not None:
                session.conn.abort()
            self._end_session(session, "server restart")
        server, self._ws_server = self._ws_server, None
        if server is not None:
            server.close()
            await server.wait_closed()

    async def restart(self, delay=0.0, wait=True):
        """Stops the listener and all connections abruptly, listens again on the
        same port after ``delay`` seconds. Returns once down (wait=False) or back up."""
        self.counters["restarts"] += 1
        log.info("restart: dropping every connection, listening again in %.1f s", delay)
        await self._stop_listener_abruptly()

        async def come_back():
            await asyncio.sleep(delay)
            await self._start_listener()

        if wait:
            await come_back()
        else:
            self._restart_task = asyncio.get_running_loop().create_task(come_back())
        return {"listening": self.listening, "port": self.port}

    # ------------------------------------------------------- before upgrade

    def _check_request(self, ws, path, headers):
        """Runs before the upgrade; returns an HTTP response to refuse, or None."""
        url = urllib.parse.urlsplit(path)
        if url.path in ("/health", "/healthz"):
            return _reject(200, "ok")
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        recovery = "awps_connection_id" in query
        refusal = self._take_refusal("recovery" if recovery else "new")
        if refusal is not None:
            return refusal
        lower = url.path.lower()
        if lower.startswith("/client/hubs/"):
            hub = urllib.parse.unquote(url.path[len("/client/hubs/"):]).rstrip("/")
        elif lower in ("/client", "/client/"):
            hub = query.get("hub", [""])[0]
        else:
            return self._refused(404, "not found: use /client/hubs/<hub>")
        if not protocol.HUB_NAME.match(hub):
            return self._refused(400, "invalid hub name")
        if hub.lower() != self.options.hub.lower():
            return self._refused(404, "hub %r is not served here" % hub)
        offered = _offered_subprotocols(headers)
        if recovery:
            # "When awps_connection_id is present the server must ignore access_token." (§4)
            ws.wps_request = {"kind": "recovery", "offered": offered,
                              "connectionId": query["awps_connection_id"][0],
                              "token": query.get("awps_reconnection_token", [""])[0]}
            return None
        token = query.get("access_token", [None])[0]
        if token is None:
            auth = headers.get("Authorization", "")
            if auth[:7].lower() == "bearer ":
                token = auth[7:].strip()
        if not token:
            return self._refused(401, "Unauthorized: missing access token")
        host = headers.get("Host")
        hosts = ([host] if host else []) + list(self.options.audience_hosts)
        audiences = [s + "://" + h + "/client/hubs/" + hub for h in hosts for s in ("http", "https")]
        try:
            claims = access_token.verify_token(token, self.options.access_key, audiences, now=self.clock(),
                                               skew_seconds=self.options.clock_skew_seconds)
            user_id = claims.get("sub")
            if user_id is not None and not isinstance(user_id, str):
                raise access_token.TokenError("sub must be a string")
            roles = _claim_list(claims, "role")
            groups = _claim_list(claims, "webpubsub.group")
        except (access_token.TokenError, ValueError) as e:
            return self._refused(401, "Unauthorized: %s" % e)
        if not all(protocol.valid_group_name(g) for g in groups):
            return self._refused(400, "invalid group name in webpubsub.group")
        if not any(p in protocol.SUBPROTOCOLS for p in offered):
            # Simple (subprotocol-less) clients need an upstream handler; none here.
            return self._refused(400, "no supported subprotocol offered (want %s)" % " or ".join(protocol.SUBPROTOCOLS))
        ws.wps_request = {"kind": "new", "offered": offered, "userId": user_id, "roles": roles, "groups": groups}
        return None

    def _refused(self, status, reason):
        self.counters["rejected_%d" % status] += 1
        log.info("upgrade refused with %d: %s", status, reason)
        return _reject(status, reason, [("Date", _http_date(self.clock()))])

    def clock(self):
        """The hub's wall clock (ServerOptions.clock_offset_seconds)."""
        return time.time() + self.options.clock_offset_seconds

    def set_clock_offset(self, seconds):
        """From now on the hub's clock is time.time() + seconds."""
        self.options = dataclasses.replace(self.options, clock_offset_seconds=float(seconds))
        log.info("clock offset now %+.0f s", self.options.clock_offset_seconds)
        return {"clockOffset": self.options.clock_offset_seconds}

    def _response_headers(self):
        """Headers for every 101: the hub's clock in Date."""
        return [("Date", _http_date(self.clock()))]

    def _take_refusal(self, kind):
        r = self._refusal
        if r is None:
            return None
        if r["until"] is not None and time.monotonic() >= r["until"]:
            self._refusal = None
            return None
        if r["only"] not in ("all", kind):
            return None
        if r["remaining"] is not None:
            r["remaining"] -= 1
            if r["remaining"] <= 0:
                self._refusal = None
        headers = [("Retry-After", str(r["retry_after"]))] if r["retry_after"] is not None else []
        headers.append(("Date", _http_date(self.clock())))
        self.counters["refused_by_fault"] += 1
        log.info("upgrade refused by fault hook with %d", r["status"])
        return _reject(r["status"], r["body"], headers)

    def _select_subprotocol(self, ws, client_subprotocols):
        request = getattr(ws, "wps_request", None) or {}
        if request.get("kind") == "recovery":
            session = self.sessions.get(request["connectionId"])
            if session is not None and session.subprotocol in client_subprotocols:
                return session.subprotocol
        # Several known ones offered: the client's first (no connect handler to ask).
        for p in client_subprotocols:
            if p in protocol.SUBPROTOCOLS:
                return p
        return None

    # ----------------------------------------------------------- connection

    async def _handle(self, ws):
        request = ws.wps_request
        if request["kind"] == "recovery":
            conn = self._recover(ws, request)
            if conn is None:
                self.counters["recoveries_failed"] += 1
                log.info("recovery of %s refused: %s", request["connectionId"], protocol.REASON_NOT_RECOVERED)
                # "The emulator accepts the upgrade and then closes with 1008" (§4).
                try:
                    await ws.send(protocol.disconnected_frame(protocol.REASON_NOT_RECOVERED))
                    await ws.close(protocol.CLOSE_POLICY, protocol.REASON_NOT_RECOVERED)
                except ConnectionClosed:
                    pass
                return
        else:
            conn = self._open_session(ws, request)
        try:
            async for frame in ws:
                if conn.silenced or conn.closing:
                    continue
                self._on_frame(conn, frame)
        except ConnectionClosed:
            pass
        finally:
            await self._finish_writer(conn)
            self._on_transport_gone(conn)

    def _open_session(self, ws, request):
        subprotocol = ws.subprotocol
        session = Session(secrets.token_urlsafe(18), request["userId"], request["roles"], subprotocol,
                          secrets.token_urlsafe(32), self.options.max_unacked_messages,
                          self.options.max_unacked_bytes)
        self.sessions[session.connection_id] = session
        conn = _Connection(self, ws, session)
        session.conn = conn
        self.counters["connections_accepted"] += 1
        log.info("connected %s user=%s protocol=%s from %s", session.connection_id, session.user_id,
                 subprotocol, conn.remote)
        # "Send connected first; include reconnectionToken only for the reliable protocol." (§7.2)
        conn.send(protocol.connected_frame(session.connection_id, session.user_id, session.reconnection_token))
        for group in request["groups"]:
            self._join(session, group)
        return conn

    def _recover(self, ws, request):
        session = self.sessions.get(request["connectionId"])
        if (session is None or not session.reliable or not request["token"]
                or not secrets.compare_digest(session.reconnection_token, request["token"])):
            return None
        old = session.conn
        if old is not None:
            # "A recovery attempt replaces a transport that still looks attached (half-open)." (§4)
            log.info("recovery of %s replaces its old transport from %s", session.connection_id, old.remote)
            session.conn = None
            old.abort()
        if session.expiry is not None:
            session.expiry.cancel()
            session.expiry = None
        conn = _Connection(self, ws, session)
        session.conn = conn
        replay = session.replay_frames()
        for text in replay:
            conn.send(text)
        self.counters["recoveries"] += 1
        log.info("recovered %s from %s, replaying %d unacked message(s)", session.connection_id, conn.remote,
                 len(replay))
        return conn

    async def _finish_writer(self, conn):
        if conn.closing_gracefully and not conn.writer.done():
            # Our own close is in flight; let it finish its handshake.
            try:
                await asyncio.wait_for(asyncio.shield(conn.writer), self.options.close_timeout + 1)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                pass
        conn.writer.cancel()

    def _on_transport_gone(self, conn):
        session = conn.session
        ws = conn.ws
        if session.ended or session.conn is not conn:
            return
        session.conn = None
        frames = ws_compat.close_frames(ws)
        rcvd = frames.close_rcvd
        client_clean_close = rcvd is not None and rcvd.code == protocol.CLOSE_NORMAL and frames.close_rcvd_then_sent
        if conn.ends_session or not session.reliable or client_clean_close:
            # "A clean close 1000 from the client ends the session in the emulator." (§4)
            self._end_session(session, "closed (code %s)" % ws.close_code)
            return
        # "Any other close or an abort leaves the session recoverable." (§4)
        self.counters["sessions_detached"] += 1
        session.expiry = asyncio.get_running_loop().call_later(self.options.reconnect_window, self._expire, session)
        log.info("connection %s lost (code %s); session kept %.0f s for recovery", session.connection_id,
                 ws.close_code, self.options.reconnect_window)

    def _expire(self, session):
        session.expiry = None
        if not session.ended and session.conn is None:
            self._end_session(session, "not recovered within %.0f s" % self.options.reconnect_window)

    def _end_session(self, session, reason):
        if session.ended:
            return
        session.ended = True
        if session.expiry is not None:
            session.expiry.cancel()
            session.expiry = None
        self.sessions.pop(session.connection_id, None)
        for group in session.groups:
            members = self.groups.get(group)
            if members is not None:
                members.discard(session.connection_id)
                if not members:
                    del self.groups[group]
        self.counters["sessions_ended"] += 1
        log.info("session %s ended: %s", session.connection_id, reason)

    # -------------------------------------------------------------- frames

    def _on_frame(self, conn, frame):
        session = conn.session
        self.counters["frames_in"] += 1
        if isinstance(frame, bytes):
            # "The emulator closes with 1003 on a binary frame" (§3).
            self.counters["protocol_errors"] += 1
            log.info("%s sent a binary frame; closing 1003", session.connection_id)
            conn.close(protocol.CLOSE_UNSUPPORTED_DATA, protocol.REASON_BINARY)
            return
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s < %s", session.connection_id, frame[:300])
        try:
            req = protocol.parse_client_message(frame, session.reliable)
        except protocol.ProtocolViolation as e:
            # "Malformed JSON, an unknown type, or a bad field: the emulator closes with 1007" (§3).
            self.counters["protocol_errors"] += 1
            log.info("%s sent an invalid message (%s); closing 1007", session.connection_id, e)
            conn.close(protocol.CLOSE_INVALID_PAYLOAD, protocol.REASON_BAD_MESSAGE)
            return
        kind = req["type"]
        if kind == "ping":
            conn.send(protocol.PONG_FRAME)
            return
        if kind == "sequenceAck":
            session.ack_sequence(req["sequenceId"])
            return
        ack_id = req["ackId"]
        if session.is_duplicate(ack_id):
            # "The service remembers ackIds and answers a repeat with Duplicate
            # without running the request again." (§3)
            self.counters["duplicates"] += 1
            if kind == "sendToGroup":
                self._log_group_message(req["group"], "client", session, req, "duplicate", 0)
            self._ack(conn, ack_id, "Duplicate", protocol.duplicate_message(ack_id))
            return
        if kind in ("joinGroup", "leaveGroup"):
            group = req["group"]
            if not session.permissions.allows("join", group):
                self._forbidden(conn, ack_id, "join or leave group '%s'" % group)
                return
            if kind == "joinGroup":
                self._join(session, group)
            else:
                self._leave(session, group)
        elif kind == "sendToGroup":
            group = req["group"]
            if not session.permissions.allows("send", group):
                self._log_group_message(group, "client", session, req, "forbidden", 0)
                self._forbidden(conn, ack_id, "send to group '%s'" % group)
                return
            body = protocol.group_message_body(group, session.user_id, req["dataType"], req["data"], req["dataText"])
            exclude = session.connection_id if req["noEcho"] else None
            recipients = self._publish(group, body, exclude)
            self._log_group_message(group, "client", session, req, "delivered", recipients)
        elif kind == "event":
            # No upstream event handler here: events are recorded and acked.
            self._log_entry(self.event_log, {"event": req["event"], "connectionId": session.connection_id,
                                             "userId": session.user_id, "ackId": ack_id,
                                             "dataType": req["dataType"], "data": req["data"]})
        session.record_success(ack_id)
        self._ack(conn, ack_id)

    def _forbidden(self, conn, ack_id, what):
        self.counters["forbidden"] += 1
        self._ack(conn, ack_id, "Forbidden", "The connection does not have permission to %s." % what)

    def _ack(self, conn, ack_id, error_name=None, error_message=None):
        if ack_id is None:
            return  # "Without one the send is fire-and-forget and errors are never reported." (§3)
        cid = conn.session.connection_id
        frame = protocol.ack_frame(ack_id, error_name, error_message)
        lose = self._lose_acks
        if lose is not None and lose["connectionId"] in (None, cid):
            lose["count"] -= 1
            if lose["count"] <= 0:
                self._lose_acks = None
            self.counters["acks_lost"] += 1
            log.info("fault: ack %d for %s not sent", ack_id, cid)
            return
        delay = self._delay_acks
        if delay is not None and delay["connectionId"] in (None, cid):
            delay["count"] -= 1
            if delay["count"] <= 0:
                self._delay_acks = None
            self.counters["acks_delayed"] += 1
            log.info("fault: ack %d for %s delayed %.1f s", ack_id, cid, delay["seconds"])
            asyncio.get_running_loop().call_later(delay["seconds"], conn.send, frame)
            return
        conn.send(frame)

    def _join(self, session, group):
        session.groups.add(group)
        self.groups.setdefault(group, set()).add(session.connection_id)

    def _leave(self, session, group):
        session.groups.discard(group)
        members = self.groups.get(group)
        if members is not None:
            members.discard(session.connection_id)
            if not members:
                del self.groups[group]

    def _deliver(self, session, body):
        """Sequences a data message for a session and queues it if attached."""
        try:
            text = session.sequence(body)
        except BufferFull:
            self.counters["buffer_overflows"] += 1
            log.info("session %s: %d unacked messages / %d bytes, closing 1008", session.connection_id,
                     len(session.unacked), session.unacked_bytes)
            if session.conn is not None:
                session.conn.out.clear()
                session.conn.close(protocol.CLOSE_POLICY, protocol.REASON_BUFFER_FULL)
            else:
                self._end_session(session, protocol.REASON_BUFFER_FULL)
            return False
        self.counters["messages_delivered"] += 1
        if session.conn is not None:
            session.conn.send(text)
        return True

    def _publish(self, group, body, exclude=None):
        recipients = 0
        for cid in list(self.groups.get(group, ())):
            session = self.sessions.get(cid)
            if cid != exclude and session is not None and self._deliver(session, body):
                recipients += 1
        return recipients

    def _log_entry(self, target, entry):
        self._log_index += 1
        entry["index"] = self._log_index
        entry["time"] = time.time()
        if len(target) == target.maxlen:
            self.counters["log_entries_dropped"] += 1
        target.append(entry)
        self._log_changed.set()
        self._log_changed = asyncio.Event()

    def _log_group_message(self, group, source, session, req, outcome, recipients):
        self._log_entry(self.message_log, {
            "group": group, "source": source,
            "connectionId": session.connection_id if session else None,
            "userId": session.user_id if session else req.get("fromUserId"),
            "ackId": req.get("ackId"), "noEcho": req.get("noEcho", False), "dataType": req["dataType"],
            "data": req["data"], "outcome": outcome, "recipients": recipients})

    # ------------------------------------------------------ public: queries

    def state(self):
        sessions = []
        for s in self.sessions.values():
            conn = s.conn
            sessions.append({
                "connectionId": s.connection_id, "userId": s.user_id, "protocol": s.subprotocol,
                "roles": s.permissions.roles, "groups": sorted(s.groups), "attached": conn is not None,
                "silenced": bool(conn and conn.silenced), "remote": conn.remote if conn else None,
                "nextSequenceId": s.next_sequence_id, "unacked": len(s.unacked), "unackedBytes": s.unacked_bytes,
                "succeededAckIds": len(s.succeeded_ack_ids), "queuedFrames": len(conn.out) if conn else 0})
        return {"listening": self.listening, "hub": self.options.hub, "port": self.port,
                "endpoint": self.endpoint, "controlPort": self.control_port,
                "connections": [s["connectionId"] for s in sessions if s["attached"]],
                "sessions": sessions,
                "groups": {g: sorted(m) for g, m in self.groups.items()},
                "counters": dict(self.counters),
                "faults": {"refuse": dict(self._refusal) if self._refusal else None,
                           "loseAcks": dict(self._lose_acks) if self._lose_acks else None,
                           "delayAcks": dict(self._delay_acks) if self._delay_acks else None}}

    def messages(self, group=None, since=0, connection_id=None):
        """Group messages sent by clients (source "client") and by the control API
        (source "control"), in order, with ackId and dedup outcome."""
        out = [m for m in self.message_log if m["index"] > since
               and (group is None or m["group"] == group)
               and (connection_id is None or m["connectionId"] == connection_id)]
        return {"messages": out, "last": self._log_index}

    def events(self, since=0):
        return {"events": [e for e in self.event_log if e["index"] > since], "last": self._log_index}

    async def wait_messages(self, group=None, since=0, connection_id=None, timeout=0.0):
        """messages(), waiting up to ``timeout`` seconds for at least one."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            result = self.messages(group, since, connection_id)
            remaining = deadline - asyncio.get_running_loop().time()
            if result["messages"] or remaining <= 0:
                return result
            try:
                await asyncio.wait_for(self._log_changed.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    def issue_token(self, user_id=None, roles=None, groups=None, minutes=60, host=None):
        """{"token", "baseUrl", "url"} for this hub, like getClientAccessToken."""
        endpoint = "%s://%s:%d" % ("https" if self._ssl else "http", host or self.url_host, self.port)
        return access_token.client_access_url(self.options.access_key, endpoint, self.options.hub, user_id,
                                              roles, groups, minutes)

    # ---------------------------------------------------- public: messages

    def send(self, data, data_type="json", group=None, connection_id=None, user_id=None, to_all=False,
             from_user_id=None):
        """Exactly one target: a group message (fromUserId = from_user_id), or a
        server message to a connection, a user's connections, or everyone."""
        if sum(x is not None for x in (group, connection_id, user_id)) + bool(to_all) != 1:
            raise ValueError("give exactly one of group, connectionId, userId, all")
        if data_type not in protocol.DATA_TYPES or (data_type != "json" and not isinstance(data, str)):
            raise ValueError("bad dataType or data")
        if group is not None:
            if not protocol.valid_group_name(group):
                raise ValueError("invalid group name")
            body = protocol.group_message_body(group, from_user_id, data_type, data)
            recipients = self._publish(group, body)
            self._log_group_message(group, "control", None, {"dataType": data_type, "data": data,
                                                              "fromUserId": from_user_id}, "delivered", recipients)
            return {"recipients": recipients}
        body = protocol.server_message_body(data_type, data)
        if connection_id is not None:
            targets = [self._session(connection_id)]
        elif user_id is not None:
            targets = [s for s in self.sessions.values() if s.user_id == user_id]
        else:
            targets = list(self.sessions.values())
        return {"recipients": sum(1 for s in targets if self._deliver(s, body))}

    def close_connection(self, connection_id, code=1000, reason="Closed by the server."):
        """Server-side close: "disconnected" then the close frame; the session ends."""
        session = self._session(connection_id)
        if session.conn is not None:
            session.conn.close(code, reason)
        else:
            self._end_session(session, "closed by the control API")
        return {"closed": 1}

    # ------------------------------------------------------ public: faults

    def _session(self, connection_id):
        session = self.sessions.get(connection_id)
        if session is None:
            raise KeyError("no session %r" % connection_id)
        return session

    def _select(self, connection_id=None, user_id=None, all_=False):
        """Attached connections picked by exactly one selector."""
        if sum(x is not None for x in (connection_id, user_id)) + bool(all_) != 1:
            raise ValueError("give exactly one of connectionId, userId, all")
        if connection_id is not None:
            conn = self._session(connection_id).conn
            return [conn] if conn is not None else []
        return [s.conn for s in list(self.sessions.values())
                if s.conn is not None and (all_ or s.user_id == user_id)]

    def drop(self, connection_id=None, user_id=None, all_=False):
        """Abrupt TCP drop, no close frame; the sessions stay recoverable."""
        conns = self._select(connection_id, user_id, all_)
        for conn in conns:
            log.info("fault: dropping %s", conn.session.connection_id)
            conn.abort()
        self.counters["faults_drop"] += len(conns)
        return {"dropped": len(conns)}

    def silence(self, connection_id=None, user_id=None, all_=False):
        """Stop reading and writing, TCP kept open (half-open)."""
        conns = [c for c in self._select(connection_id, user_id, all_) if not c.silenced]
        for conn in conns:
            log.info("fault: silencing %s", conn.session.connection_id)
            conn.silence()
        self.counters["faults_silence"] += len(conns)
        return {"silenced": len(conns)}

    def refuse(self, status, retry_after=None, count=None, for_seconds=None, only="all", body=None):
        """Answer upgrade requests with ``status`` (and Retry-After) ``count`` times
        or for ``for_seconds`` (neither: until cleared). only: all, new, recovery."""
        status = int(status)
        if not 400 <= status <= 599:
            raise ValueError("status must be 4xx or 5xx")
        http.HTTPStatus(status)  # ValueError for a status websockets cannot write
        if only not in ("all", "new", "recovery"):
            raise ValueError("only must be all, new or recovery")
        if count is not None and int(count) <= 0:
            raise ValueError("count must be positive")
        self._refusal = {"status": status, "retry_after": retry_after,
                         "remaining": int(count) if count is not None else None,
                         "until": time.monotonic() + float(for_seconds) if for_seconds is not None else None,
                         "only": only, "body": body or http.HTTPStatus(status).phrase}
        log.info("fault: refusing upgrades with %d (count=%s, for %s s, only %s)", status, count, for_seconds, only)
        return {"refusing": True}

    def malformed(self, kind="json", connection_id=None, user_id=None, all_=False):
        """Queue a malformed frame (see MALFORMED_FRAMES) in order with other frames."""
        if kind not in MALFORMED_FRAMES:
            raise ValueError("kind must be one of " + ", ".join(sorted(MALFORMED_FRAMES)))
        conns = self._select(connection_id, user_id, all_)
        sent = sum(1 for c in conns if c.send(MALFORMED_FRAMES[kind]))
        log.info("fault: malformed frame %r sent to %d connection(s)", kind, sent)
        self.counters["faults_malformed"] += sent
        return {"sent": sent}

    def expire_sessions(self, connection_id=None):
        """Forget recoverable sessions (all detached ones, or one session, whose
        transport is then dropped) so the next recovery gets 1008."""
        if connection_id is not None:
            session = self._session(connection_id)
            if session.conn is not None:
                session.conn.abort()
            targets = [session]
        else:
            targets = [s for s in self.sessions.values() if s.conn is None]
        for s in targets:
            self._end_session(s, "expired by the control API")
        return {"expired": len(targets)}

    def lose_acks(self, count=1, connection_id=None):
        """The next ``count`` acks (for one connection or any) are not sent; the
        request itself still runs, so a retry with the same ackId gets Duplicate."""
        self._lose_acks = {"count": int(count), "connectionId": connection_id}
        return {"losing": int(count)}

    def delay_acks(self, seconds, count=1, connection_id=None):
        self._delay_acks = {"seconds": float(seconds), "count": int(count), "connectionId": connection_id}
        return {"delaying": int(count)}

    def duplicate(self, connection_id, count=1):
        """Send the last ``count`` sequenced frames again, with their original ids."""
        session = self._session(connection_id)
        frames = list(session.recent)[-int(count):] if count else []
        sent = sum(1 for text in frames if session.conn is not None and session.conn.send(text))
        return {"sent": sent}

    def clear_faults(self):
        self._refusal = self._lose_acks = self._delay_acks = None
        return {"cleared": True}


# ---------------------------------------------------------------- the CLI

def _parse_args(argv):
    p = argparse.ArgumentParser(description="Local Azure Web PubSub-compatible test hub (see docs/test-server.md).")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port (printed on stdout)")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--access-key", default=os.environ.get("WPS_ACCESS_KEY", DEFAULT_ACCESS_KEY))
    p.add_argument("--hub", default=DEFAULT_HUB)
    p.add_argument("--control-port", type=int, help="serve the HTTP/JSON control API (0: a free port)")
    p.add_argument("--control-host", help="default: --host")
    p.add_argument("--ws-ping-interval", type=float, default=20.0, help="seconds; 0 disables")
    p.add_argument("--ws-ping-timeout", type=float, default=20.0)
    p.add_argument("--reconnect-window", type=float, default=30.0, help="seconds a dropped session stays recoverable")
    p.add_argument("--max-unacked-messages", type=int, default=1000)
    p.add_argument("--max-unacked-bytes", type=int, default=16 * 1024 * 1024)
    p.add_argument("--max-frame-bytes", type=int, default=1024 * 1024)
    p.add_argument("--audience-host", action="append", default=[],
                   help="extra host[:port] accepted in the token audience (e.g. behind a proxy)")
    p.add_argument("--message-log-limit", type=int, default=10000)
    p.add_argument("--clock-offset", type=float, default=0.0,
                   help="seconds added to the hub's clock (token checks, Date headers)")
    p.add_argument("--print-url", action="append", default=[], metavar="USER",
                   help="print a client URL for USER (roles sendToGroup, joinLeaveGroup) once listening")
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    a = p.parse_args(argv)
    if bool(a.tls_cert) != bool(a.tls_key):
        p.error("--tls-cert and --tls-key go together")
    return a


async def _main_async(a):
    server = WpsServer(ServerOptions(
        host=a.host, port=a.port, hub=a.hub, access_key=a.access_key, tls_cert=a.tls_cert, tls_key=a.tls_key,
        control_port=a.control_port, control_host=a.control_host, ws_ping_interval=a.ws_ping_interval,
        ws_ping_timeout=a.ws_ping_timeout, reconnect_window=a.reconnect_window,
        max_unacked_messages=a.max_unacked_messages, max_unacked_bytes=a.max_unacked_bytes,
        max_frame_bytes=a.max_frame_bytes, audience_hosts=a.audience_host, message_log_limit=a.message_log_limit,
        clock_offset_seconds=a.clock_offset))
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signo in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signo, stop.set)
    print(json.dumps({"event": "listening", "host": a.host, "port": server.port, "controlPort": server.control_port,
                      "hub": a.hub, "tls": bool(a.tls_cert), "endpoint": server.endpoint}), flush=True)
    for user in a.print_url:
        issued = server.issue_token(user, ["webpubsub.sendToGroup", "webpubsub.joinLeaveGroup"])
        print(json.dumps({"event": "token", "userId": user, "url": issued["url"]}), flush=True)
    await stop.wait()
    log.info("signal received, stopping")
    await server.stop()


def main(argv=None):
    a = _parse_args(argv)
    logging.basicConfig(level=a.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s.%(msecs)03d %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("wps.websockets").setLevel(logging.WARNING)
    asyncio.run(_main_async(a))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
