"""A DuneBugger web front end simulator (dunebugger-protocol.md §1).

Like the real front end it uses the reliable JSON protocol through a client
that recovers on its own; on every "connected" (new connection) it joins the
device group, sends controller.heartbeat "I am here" and starts a liveness
countdown (65 s) that any heartbeat addressed to broadcast or to itself
restarts; it answers "Is anyone there?" with "I am here"; it drops messages
whose destination is neither "broadcast" nor its connectionId; on
"disconnected" (the connection is lost for good) it goes offline and stops.

Importable (FrontendSimulator, with a view that is told what happens) and
runnable as a plain logger of the conversation, one line per message:
    /usr/bin/python3 tests/support/wps/frontend.py --control http://127.0.0.1:8081 \
        --group device-1 --print --request core.refresh_gpios
The demo's interactive console (prompt, help, whole replies) is
tests/support/console/console.py, built on this class.
"""
import argparse
import asyncio
import collections
import json
import os
import sys
import time

if __package__ in (None, ""):  # run as a script: make "wps" importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from wps.client import AckError, ConnectionLost, WpsClient  # noqa: E402

HEARTBEAT_TIMEOUT_SECONDS = 65.0
I_AM_HERE = "I am here"
IS_ANYONE_THERE = "Is anyone there?"


class FrontendSimulator:
    def __init__(self, url, group, heartbeat_timeout=HEARTBEAT_TIMEOUT_SECONDS, printer=None, keep=10000,
                 stop_on_disconnected=True, client_options=None, view=None):
        """url: a client access URL, or a (async) function returning a fresh one.
        printer: a function taking one line of text, to show the conversation
        one line per event (LineView); view: an object with LineView's
        methods, told every event instead (the demo console)."""
        self.group = group
        self.heartbeat_timeout = heartbeat_timeout
        self.view = view if view is not None else (LineView(printer) if printer is not None else None)
        self.stop_on_disconnected = stop_on_disconnected
        self.online = False
        self.online_changes = []          # (monotonic time, bool)
        self.received = collections.deque(maxlen=keep)  # accepted payloads addressed to us
        self.dropped = collections.deque(maxlen=keep)   # payloads for someone else
        self.sent = collections.deque(maxlen=keep)
        self.stopped = asyncio.Event()
        self.ready = asyncio.Event()  # set once the first "connected" handling is done
        self._countdown = None
        self._arrived = asyncio.Event()
        opts = dict(client_options or {})
        opts.setdefault("auto_reconnect", not stop_on_disconnected)
        self.client = WpsClient(url, on_connected=self._on_connected, on_disconnected=self._on_disconnected,
                                on_message=self._on_message, name="frontend", **opts)

    @property
    def connection_id(self):
        return self.client.connection_id

    async def start(self, timeout=10.0):
        """Connects, then waits until the group is joined and "I am here" is sent."""
        await self.client.start()
        await asyncio.wait_for(self.ready.wait(), timeout)

    async def stop(self):
        self._cancel_countdown()
        await self.client.stop()
        self.stopped.set()

    def _tell(self, event, *args):
        if self.view is not None:
            getattr(self.view, event)(*args)

    # The SDK "connected" event: first connection and every new one after a loss.
    async def _on_connected(self, client):
        self._tell("hub_connected", client.connection_id)
        await client.join_group(self.group)
        await self.request("controller.heartbeat", I_AM_HERE)
        self._restart_countdown(set_online=False)
        self.ready.set()

    def _on_disconnected(self, client, message):
        self._tell("hub_disconnected", message or "connection lost")
        self._set_online(False)
        self._cancel_countdown()
        if self.stop_on_disconnected:
            self.stopped.set()

    def _on_message(self, client, msg):
        data = msg.get("data")
        if not isinstance(data, dict):
            self.dropped.append(msg)
            return
        destination = data.get("destination")
        if destination not in ("broadcast", client.connection_id):
            self.dropped.append(data)
            return
        self.received.append(data)
        self._arrived.set()
        self._arrived = asyncio.Event()
        self._tell("received", data)
        subject, body = data.get("subject"), data.get("body")
        if subject == "heartbeat":
            self._restart_countdown(set_online=True)
            if body == IS_ANYONE_THERE:
                self._spawn(self.request("controller.heartbeat", I_AM_HERE))

    def _restart_countdown(self, set_online):
        if set_online:
            self._set_online(True)
        self._cancel_countdown()
        self._countdown = asyncio.get_running_loop().call_later(self.heartbeat_timeout, self._set_online, False)

    def _cancel_countdown(self):
        if self._countdown is not None:
            self._countdown.cancel()
            self._countdown = None

    def _set_online(self, online):
        if online != self.online:
            self.online = online
            self.online_changes.append((time.monotonic(), online))
            self._tell("device_online", online)

    def _spawn(self, coro):
        task = asyncio.get_running_loop().create_task(coro)
        task.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def request(self, subject, body="null"):
        """Send a front-end envelope: {"subject", "body", "connectionId"} (§1.1),
        with sendToGroup(group, obj, json, noEcho true)."""
        payload = {"subject": subject, "body": body, "connectionId": self.client.connection_id}
        self.sent.append(payload)
        self._tell("sent", payload)
        try:
            await self.client.send_to_group(self.group, payload, no_echo=True)
        except (AckError, ConnectionLost, asyncio.TimeoutError) as e:
            self._tell("not_sent", payload, e)
            raise

    async def wait_for(self, subject, timeout, predicate=None):
        """The first accepted payload with this subject (and predicate), received so far or later."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for data in self.received:
                if data.get("subject") == subject and (predicate is None or predicate(data)):
                    return data
            event = self._arrived
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise asyncio.TimeoutError("no %s within %.1f s" % (subject, timeout))
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    async def wait_online(self, online, timeout):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.online != online:
            if loop.time() >= deadline:
                raise asyncio.TimeoutError("device not %s within %.1f s" % ("online" if online else "offline",
                                                                           timeout))
            await asyncio.sleep(0.02)


class LineView:
    """One timestamped line per event, bodies cut to `limit` characters:
    a log to grep (frontend.py --print), not a console to read."""

    def __init__(self, printer, limit=160):
        self.printer = printer
        self.limit = limit

    def _line(self, text):
        self.printer(time.strftime("%H:%M:%S ") + text)

    def hub_connected(self, connection_id):
        self._line("hub connected, connectionId %s" % connection_id)

    def hub_disconnected(self, reason):
        self._line("hub disconnected (%s)" % reason)

    def device_online(self, online):
        self._line("device %s" % ("ONLINE" if online else "OFFLINE"))

    def received(self, data):
        self._line("<- %s %s" % (data.get("subject"), _short(data.get("body"), self.limit)))

    def sent(self, payload):
        self._line("-> %s %s" % (payload["subject"], _short(payload["body"], self.limit)))

    def not_sent(self, payload, error):
        self._line("!! %s not sent: %s" % (payload["subject"], error))


def _short(body, limit=160):
    text = body if isinstance(body, str) else json.dumps(body)
    text = text.replace("\n", "\\n")  # one line per message on the console
    return text if len(text) <= limit else text[:limit] + "..."


def url_source(a):
    """The client access URL source for parsed add_connection_arguments()."""
    if a.url:
        return a.url
    if a.control:
        from wps.control_client import ControlClient
        control = ControlClient(a.control)

        async def fetch():
            # A fresh token for every new connection, as the real front end gets from Auth0.
            result = await asyncio.get_running_loop().run_in_executor(None, lambda: control.token(a.user))
            return result["url"]
        return fetch
    from wps.access_token import client_access_url
    return lambda: client_access_url(a.access_key, a.endpoint, a.hub, a.user,
                                     ["webpubsub.sendToGroup", "webpubsub.joinLeaveGroup"])["url"]


def add_connection_arguments(p):
    """How a front end reaches the hub and its group (this CLI and the console's)."""
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--url", help="a client access URL")
    src.add_argument("--control", help="the hub's control API base URL; tokens come from POST /token")
    src.add_argument("--endpoint", help="http(s)://host:port of the hub; sign tokens with --access-key")
    p.add_argument("--access-key", default=os.environ.get("WPS_ACCESS_KEY", "wps-local-test-access-key"))
    p.add_argument("--hub", default="dunebugger")
    p.add_argument("--user", default="frontend")
    p.add_argument("--group", required=True, help="the device group (WS_GROUP_NAME)")
    p.add_argument("--heartbeat-timeout", type=float, default=HEARTBEAT_TIMEOUT_SECONDS)


async def _run(a):
    printer = (lambda line: print(line, flush=True)) if a.print else None
    fe = FrontendSimulator(url_source(a), a.group, a.heartbeat_timeout, printer)
    await fe.start()
    try:
        if a.wait_online:
            # Requests sent before the device answers its first heartbeat would
            # reach nobody (the agent may still be connecting).
            try:
                await fe.wait_online(True, a.wait_online)
            except asyncio.TimeoutError:
                print("device did not come online within %g s" % a.wait_online, file=sys.stderr, flush=True)
        for item in a.request:
            subject, _, body = item.partition("=")
            await fe.request(subject, body or "null")
        try:
            await asyncio.wait_for(fe.stopped.wait(), a.duration)
        except asyncio.TimeoutError:
            pass  # duration elapsed
    finally:
        await fe.stop()
    return 0 if any(on for _, on in fe.online_changes) or not a.require_online else 1


def main(argv=None):
    p = argparse.ArgumentParser(description="DuneBugger front end simulator (a log of the conversation).")
    add_connection_arguments(p)
    p.add_argument("--print", action="store_true", help="show the conversation on stdout")
    p.add_argument("--request", action="append", default=[], metavar="SUBJECT[=BODY]",
                   help="send once connected (repeatable), e.g. core.refresh_gpios")
    p.add_argument("--duration", type=float, help="exit after this many seconds (default: when the hub is gone)")
    p.add_argument("--wait-online", type=float, default=0, metavar="S",
                   help="send the --request items once the device is online (waiting up to S seconds)")
    p.add_argument("--require-online", action="store_true", help="exit 1 if the device never came online")
    a = p.parse_args(argv)
    try:
        return asyncio.run(_run(a))
    except KeyboardInterrupt:
        # _run has already closed the connection on its way out.
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
