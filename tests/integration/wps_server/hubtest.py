"""Shared fixture for the hub's tests: a WpsServer in the test's own loop."""
import asyncio
import functools
import logging
import os
import sys
import unittest

SUPPORT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "support"))
sys.path.insert(0, SUPPORT)

import ws_compat  # noqa: E402
from wps.client import RELIABLE_PROTOCOL, WpsClient  # noqa: E402
from wps.control_client import ControlClient  # noqa: E402
from wps.server import ServerOptions, WpsServer  # noqa: E402

ALL_ROLES = ["webpubsub.sendToGroup", "webpubsub.joinLeaveGroup"]

logging.basicConfig(level=os.environ.get("WPS_TEST_LOG", "WARNING"), stream=sys.stderr,
                    format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def bounded(seconds):
    """Fail (instead of hanging) if the async test takes longer than ``seconds``."""
    def wrap(fn):
        @functools.wraps(fn)
        async def run(self, *args, **kwargs):
            await asyncio.wait_for(fn(self, *args, **kwargs), seconds)
        return run
    return wrap


async def stop_clients(clients):
    """Stops every client, 5 s each at most; a client that fails to stop
    does not keep the others (or the hub) from being torn down."""
    for c in clients:
        try:
            await asyncio.wait_for(c.stop(), 5)
        except Exception:
            pass


class HubTestCase(unittest.IsolatedAsyncioTestCase):
    server_options = {}

    async def asyncSetUp(self):
        opts = dict(ws_ping_interval=0, control_port=0)
        opts.update(self.server_options)
        self.hub = await WpsServer(ServerOptions(**opts)).start()
        self.control = ControlClient("http://127.0.0.1:%d" % self.hub.control_port, timeout=5)
        self.clients = []
        self.raw = []

    async def asyncTearDown(self):
        await stop_clients(self.clients)
        for ws in self.raw:
            ws.transport.abort()
        await asyncio.wait_for(self.hub.stop(), 10)

    def url(self, user="u1", roles=ALL_ROLES, groups=None, minutes=60):
        return self.hub.issue_token(user, roles, groups, minutes)["url"]

    async def client(self, user="u1", roles=ALL_ROLES, groups=None, start=True, **kwargs):
        c = WpsClient(kwargs.pop("url", None) or self.url(user, roles, groups), name=user, **kwargs)
        self.clients.append(c)
        if start:
            await c.start()
        return c

    async def raw_connect(self, url, subprotocols=(RELIABLE_PROTOCOL,), **kwargs):
        opts = dict(ping_interval=None, open_timeout=5, close_timeout=2, max_size=None)
        opts.update(kwargs)
        ws = await ws_compat.connect(url, subprotocols=list(subprotocols), **opts)
        self.raw.append(ws)
        return ws

    async def ctl(self, method, *args, **kwargs):
        """Call the control API over HTTP without blocking the loop."""
        return await asyncio.to_thread(getattr(self.control, method), *args, **kwargs)

    def session_state(self, connection_id):
        for s in self.hub.state()["sessions"]:
            if s["connectionId"] == connection_id:
                return s
        return None

    async def until(self, predicate, timeout, what="condition"):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            if loop.time() >= deadline:
                self.fail("%s not reached within %.1f s" % (what, timeout))
            await asyncio.sleep(0.01)
