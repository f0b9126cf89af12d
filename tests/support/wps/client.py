"""A small asyncio Web PubSub client (JSON and reliable JSON) on websockets 10 or 15 (ws_compat).

It behaves like the official SDKs where tests depend on it
(webpubsub-protocol.md §4, §6): the first frame must be system/connected;
ackIds count from 1 per client and never reset; on the reliable protocol it
drops data messages whose sequenceId is not above the largest seen and acks
the largest seen; after an abnormal close it recovers with
awps_connection_id + awps_reconnection_token for up to 30 s, 1 s apart, and
gives up at once on close 1008; optionally it then starts a new connection
(fresh URL) and fires on_connected again.

    client = WpsClient(url)                 # url: str, or a (async) function returning one
    await client.start()                    # waits for "connected"
    await client.join_group("g")            # -> {"ackId": 1, "isDuplicated": False}
    await client.send_to_group("g", {"x": 1}, no_echo=True)
    msg = await client.next_message(timeout=2)
    await client.stop()                     # close 1000 ends the session

Bounds: the message history and the raw frame log keep the last
``keep_frames`` entries; the inbox drops its oldest entry when full (counted
in ``inbox_dropped``). Every wait takes a timeout.
"""
import asyncio
import collections
import inspect
import json
import logging
import urllib.parse

import json_raw
import ws_compat
from ws_compat import ConnectionClosed, InvalidHandshake

JSON_PROTOCOL = "json.webpubsub.azure.v1"
RELIABLE_PROTOCOL = "json.reliable.webpubsub.azure.v1"
CLOSE_POLICY = 1008

log = logging.getLogger("wps.client")


class AckError(Exception):
    """The service answered success:false with an error other than Duplicate."""

    def __init__(self, ack_id, name, message):
        super().__init__("ack %s failed: %s: %s" % (ack_id, name, message))
        self.ack_id, self.name, self.message = ack_id, name, message


class ConnectionLost(Exception):
    """The request could not be sent, or its transport closed before the ack."""


class WpsClient:
    def __init__(self, url, subprotocol=RELIABLE_PROTOCOL, *, offer=None, extra_headers=None, ssl=None,
                 auto_recover=True, auto_reconnect=False, recovery_window=30.0, retry_delay=1.0,
                 sequence_ack="immediate", open_timeout=5.0, on_connected=None, on_disconnected=None,
                 on_message=None, keep_frames=10000, name=None):
        """sequence_ack: "immediate" (on every arrival), "manual", or a period in seconds.
        offer: the Sec-WebSocket-Protocol list to offer (default [subprotocol])."""
        self._url_source = url
        self.subprotocol = subprotocol
        self.offer = list(offer) if offer is not None else [subprotocol]
        self.extra_headers = extra_headers
        self.ssl = ssl
        self.auto_recover = auto_recover
        self.auto_reconnect = auto_reconnect
        self.recovery_window = recovery_window
        self.retry_delay = retry_delay
        self.sequence_ack = sequence_ack
        self.open_timeout = open_timeout
        self.on_connected = on_connected
        self.on_disconnected = on_disconnected
        self.on_message = on_message
        self.name = name or "client"

        self.ws = None
        self.url = None
        self.negotiated = None
        self.connection_id = None
        self.user_id = None
        self.reconnection_token = None
        self.last_sequence_id = 0
        self.state = "idle"  # idle, connected, recovering, reconnecting, disconnected, stopped
        self.history = collections.deque(maxlen=keep_frames)   # delivered data messages
        self.frames = collections.deque(maxlen=keep_frames)    # every inbound text frame, raw
        self.system_messages = collections.deque(maxlen=keep_frames)
        self.closes = []  # (code, reason) of each transport close
        self.last_disconnected_message = None
        self.duplicates_dropped = 0
        self.binary_frames = 0
        self.bad_frames = 0
        self.inbox_dropped = 0
        self.recoveries = 0
        self.new_connections = 0
        self._inbox = collections.deque()
        self._inbox_limit = keep_frames
        self._arrived = asyncio.Event()
        self._connected = asyncio.Event()
        self._pending = {}
        self._pongs = []
        self._next_ack_id = 1
        self._stopping = False
        self._task = None
        self._ack_task = None
        self._seq_dirty = False
        self._background = set()

    # ------------------------------------------------------------ lifecycle

    @property
    def reliable(self):
        return self.negotiated == RELIABLE_PROTOCOL

    async def start(self):
        """Opens a new connection and waits for "connected"; returns that message."""
        connected = await self._open_new()
        self._task = asyncio.get_running_loop().create_task(self._supervise())
        if isinstance(self.sequence_ack, (int, float)) and not isinstance(self.sequence_ack, bool):
            self._ack_task = asyncio.get_running_loop().create_task(self._periodic_sequence_ack())
        self._fire(self.on_connected, self)
        return connected

    async def stop(self, code=1000, reason=""):
        """Close (1000 ends the session on the service) and stop all retries."""
        self._stopping = True
        ws = self.ws
        if ws is not None and not ws_compat.is_closed(ws):
            try:
                await asyncio.wait_for(ws.close(code, reason), 5)
            except asyncio.TimeoutError:
                ws.transport.abort()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, 5)
            except asyncio.TimeoutError:
                self._task.cancel()
        if self._ack_task is not None:
            self._ack_task.cancel()
        for task in list(self._background):
            task.cancel()
        self.state = "stopped"

    def abort(self):
        """Drop the TCP connection without a close frame (a network loss)."""
        if self.ws is not None:
            self.ws.transport.abort()

    def pause_reading(self):
        """Stop reading the socket (client-side half-open); the server's pings go unanswered."""
        self.ws.transport.pause_reading()

    async def wait_connected(self, timeout):
        await asyncio.wait_for(self._connected.wait(), timeout)

    async def wait_transport_closed(self, timeout):
        """Waits until the current transport is closed; returns (code, reason)."""
        ws = self.ws
        await asyncio.wait_for(ws.wait_closed(), timeout)
        return ws.close_code, ws.close_reason

    async def wait_stopped(self, timeout):
        """Waits until the client gave up (no auto recovery/reconnect left)."""
        await asyncio.wait_for(asyncio.shield(self._task), timeout)

    async def _url(self):
        source = self._url_source
        url = source() if callable(source) else source
        if inspect.isawaitable(url):
            url = await url
        return url

    async def _connect(self, url):
        return await ws_compat.connect(url, subprotocols=self.offer, additional_headers=self.extra_headers,
                                       ssl=self.ssl, open_timeout=self.open_timeout, ping_interval=None,
                                       close_timeout=2, max_size=None, compression=None)

    async def _open_new(self):
        url = await self._url()
        ws = await self._connect(url)
        try:
            first = await asyncio.wait_for(ws.recv(), self.open_timeout)
            msg = json.loads(first)
            if msg.get("type") != "system" or msg.get("event") != "connected":
                raise ConnectionLost("first frame is not system/connected: %s" % first[:200])
        except BaseException:
            ws.transport.abort()
            raise
        self.frames.append(first)
        self.system_messages.append(msg)
        self.ws, self.url, self.negotiated = ws, url, ws.subprotocol
        self.connection_id = msg.get("connectionId")
        self.user_id = msg.get("userId")
        self.reconnection_token = msg.get("reconnectionToken")
        # "The counter is reset only when a new connection starts." (§6)
        self.last_sequence_id = 0
        self.new_connections += 1
        self.state = "connected"
        self._connected.set()
        return msg

    def recovery_url(self):
        sep = "&" if "?" in self.url else "?"
        return self.url + sep + urllib.parse.urlencode({"awps_connection_id": self.connection_id,
                                                         "awps_reconnection_token": self.reconnection_token})

    async def _open_recovery(self):
        ws = await self._connect(self.recovery_url())
        self.ws = ws
        self.recoveries += 1
        self.state = "connected"
        self._connected.set()

    async def recover(self):
        """Manual recovery (auto_recover=False): open the recovery URL once and
        read from it. The service may still close it with 1008 right after."""
        await self._open_recovery()
        self._task = asyncio.get_running_loop().create_task(self._supervise())

    async def reconnect(self):
        """Manual new connection (fresh URL, new connectionId)."""
        msg = await self._open_new()
        self._task = asyncio.get_running_loop().create_task(self._supervise())
        self._fire(self.on_connected, self)
        return msg

    async def _supervise(self):
        while True:
            ws = self.ws
            await self._read(ws)
            self._connected.clear()
            self.closes.append((ws.close_code, ws.close_reason))
            self._fail_pending(ConnectionLost("connection closed (%s)" % ws.close_code))
            if self._stopping:
                self.state = "stopped"
                return
            # "If stopping, or the close code is 1008, or the protocol is not
            # reliable, or connectionId/token is missing: not recoverable." (§6)
            recoverable = (self.reliable and self.connection_id and self.reconnection_token
                           and ws.close_code != CLOSE_POLICY)
            if recoverable and self.auto_recover:
                self.state = "recovering"
                if await self._retry(self._open_recovery, self.recovery_window):
                    continue
            self.state = "disconnected"
            self._fire(self.on_disconnected, self, self.last_disconnected_message)
            if not self.auto_reconnect or self._stopping:
                return
            self.state = "reconnecting"
            if not await self._retry(self._open_new, None):
                return
            self._fire(self.on_connected, self)

    async def _retry(self, opener, window):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + window if window is not None else None
        while not self._stopping and (deadline is None or loop.time() < deadline):
            try:
                await opener()
                return True
            except (OSError, InvalidHandshake, asyncio.TimeoutError, ConnectionLost, ConnectionClosed) as e:
                log.debug("%s: attempt failed: %s", self.name, e)
            await asyncio.sleep(self.retry_delay)
        return False

    # ------------------------------------------------------------- reading

    async def _read(self, ws):
        try:
            async for frame in ws:
                await self._on_frame(ws, frame)
        except ConnectionClosed:
            pass

    async def _on_frame(self, ws, frame):
        if isinstance(frame, bytes):
            self.binary_frames += 1
            return
        self.frames.append(frame)
        try:
            msg = json.loads(frame)
        except ValueError:
            self.bad_frames += 1
            return
        if not isinstance(msg, dict):
            self.bad_frames += 1
            return
        kind = msg.get("type")
        if kind == "ack":
            fut = self._pending.pop(msg.get("ackId"), None)
            if fut is not None and not fut.done():
                fut.set_result(msg)
        elif kind == "message":
            seq = msg.get("sequenceId")
            if self.reliable and isinstance(seq, int):
                duplicate = seq <= self.last_sequence_id
                if not duplicate:
                    self.last_sequence_id = seq
                await self._ack_arrival(ws)
                if duplicate:
                    # "drops any message with an id less than or equal to it" (§4)
                    self.duplicates_dropped += 1
                    return
            self._deliver(msg)
        elif kind == "system":
            self.system_messages.append(msg)
            if msg.get("event") == "connected" and msg.get("reconnectionToken"):
                self.reconnection_token = msg["reconnectionToken"]
            elif msg.get("event") == "disconnected":
                self.last_disconnected_message = msg.get("message")
        elif kind == "pong":
            pongs, self._pongs = self._pongs, []
            for fut in pongs:
                if not fut.done():
                    fut.set_result(True)

    async def _ack_arrival(self, ws):
        # "The client sends sequenceAck when a message arrives, not after it has been processed." (§4)
        if self.sequence_ack == "immediate":
            try:
                await ws.send(json.dumps({"type": "sequenceAck", "sequenceId": self.last_sequence_id}))
            except ConnectionClosed:
                pass
        elif self.sequence_ack != "manual":
            self._seq_dirty = True

    async def _periodic_sequence_ack(self):
        while True:
            await asyncio.sleep(self.sequence_ack)
            if self._seq_dirty and self.ws is not None and not ws_compat.is_closed(self.ws):
                self._seq_dirty = False
                try:
                    await self.send_sequence_ack()
                except (ConnectionLost, ConnectionClosed):
                    self._seq_dirty = True

    def _deliver(self, msg):
        self.history.append(msg)
        if len(self._inbox) >= self._inbox_limit:
            self._inbox.popleft()
            self.inbox_dropped += 1
        self._inbox.append(msg)
        self._arrived.set()
        self._arrived = asyncio.Event()
        self._fire(self.on_message, self, msg)

    async def next_message(self, timeout):
        """The next delivered data message (group or server); TimeoutError if none."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self._inbox:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise asyncio.TimeoutError("no message within %.1f s" % timeout)
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except asyncio.TimeoutError:
                pass
        return self._inbox.popleft()

    async def wait_for(self, predicate, timeout):
        """The first message in the history (or arriving) for which predicate(msg) holds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for msg in self.history:
                if predicate(msg):
                    return msg
            event = self._arrived
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise asyncio.TimeoutError("no matching message within %.1f s" % timeout)
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    def drain_inbox(self):
        items = list(self._inbox)
        self._inbox.clear()
        return items

    # ------------------------------------------------------------- sending

    async def send_raw(self, frame):
        """Send a text (str) or binary (bytes) frame as it is."""
        ws = self.ws
        if ws is None or ws_compat.is_closed(ws):
            raise ConnectionLost("not connected")
        try:
            await ws.send(frame)
        except ConnectionClosed as e:
            raise ConnectionLost(str(e)) from None

    async def send_json(self, obj):
        # json_raw.Raw members (data given as text) are written as they are.
        await self.send_raw(json_raw.dumps(obj) if json_raw.has_raw(obj) else json.dumps(obj))

    async def _invoke(self, obj, ack, ack_id, timeout):
        if not ack:
            await self.send_json(obj)
            return None
        if ack_id is None:
            ack_id = self._next_ack_id
            self._next_ack_id += 1
        obj["ackId"] = ack_id
        fut = asyncio.get_running_loop().create_future()
        self._pending[ack_id] = fut
        try:
            await self.send_json(obj)
            msg = await asyncio.wait_for(fut, timeout)
        finally:
            if self._pending.get(ack_id) is fut:
                del self._pending[ack_id]
        if msg.get("success"):
            return {"ackId": ack_id, "isDuplicated": False}
        error = msg.get("error") or {}
        # "Duplicate (this ackId was already processed; counts as success, do not retry)" (§3)
        if error.get("name") == "Duplicate":
            return {"ackId": ack_id, "isDuplicated": True}
        raise AckError(ack_id, error.get("name"), error.get("message"))

    async def join_group(self, group, ack=True, ack_id=None, timeout=5.0):
        return await self._invoke({"type": "joinGroup", "group": group}, ack, ack_id, timeout)

    async def leave_group(self, group, ack=True, ack_id=None, timeout=5.0):
        return await self._invoke({"type": "leaveGroup", "group": group}, ack, ack_id, timeout)

    async def send_to_group(self, group, data, data_type="json", no_echo=False, ack=True, ack_id=None, timeout=5.0,
                            data_text=None):
        """`data_text`: JSON text sent as it is instead of `data` (for byte-exact relays)."""
        if data_text is not None:
            data = json_raw.Raw(data_text)
        return await self._invoke({"type": "sendToGroup", "group": group, "dataType": data_type, "data": data,
                                   "noEcho": no_echo}, ack, ack_id, timeout)

    async def send_event(self, event, data, data_type="json", ack=True, ack_id=None, timeout=5.0):
        return await self._invoke({"type": "event", "event": event, "dataType": data_type, "data": data},
                                  ack, ack_id, timeout)

    async def send_sequence_ack(self, sequence_id=None):
        await self.send_json({"type": "sequenceAck",
                              "sequenceId": self.last_sequence_id if sequence_id is None else sequence_id})

    async def ping(self, timeout=5.0):
        """App-level ping; returns once {"type":"pong"} arrives."""
        fut = asyncio.get_running_loop().create_future()
        self._pongs.append(fut)
        await self.send_json({"type": "ping"})
        await asyncio.wait_for(fut, timeout)

    # ------------------------------------------------------------- helpers

    def _fail_pending(self, exc):
        pending, self._pending = self._pending, {}
        for fut in pending.values():
            if not fut.done():
                fut.set_exception(exc)
        pongs, self._pongs = self._pongs, []
        for fut in pongs:
            if not fut.done():
                fut.set_exception(exc)

    def _fire(self, callback, *args):
        if callback is None:
            return
        result = callback(*args)
        if inspect.isawaitable(result):
            task = asyncio.get_running_loop().create_task(self._guard(result))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _guard(self, awaitable):
        try:
            await awaitable
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s: callback failed", self.name)
