"""The hub, the token tool and the console front end as processes (their CLIs)."""
import asyncio
import json
import os
import signal
import ssl
import subprocess
import tempfile
import unittest

from hubtest import SUPPORT, bounded, stop_clients

import ws_compat
from netlab import free_port
from test_ca import TestCA
from wps.client import WpsClient
from wps.control_client import ControlClient

PYTHON = "/usr/bin/python3"
WPS = os.path.join(SUPPORT, "wps")
ROLES = ["webpubsub.sendToGroup", "webpubsub.joinLeaveGroup"]


class HubProcess(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.procs = []
        self.clients = []

    async def asyncTearDown(self):
        await stop_clients(self.clients)
        for p in self.procs:
            if p.returncode is None:
                p.kill()
                await p.wait()

    async def spawn(self, *args):
        p = await asyncio.create_subprocess_exec(PYTHON, *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                                 stdin=subprocess.DEVNULL)
        self.procs.append(p)
        return p

    async def start_hub(self, *extra):
        p = await self.spawn(os.path.join(WPS, "server.py"), "--port", "0", "--control-port", "0",
                             "--ws-ping-interval", "0", *extra)
        line = await asyncio.wait_for(p.stdout.readline(), 10)
        ready = json.loads(line)
        self.assertEqual(ready["event"], "listening")
        return p, ready

    async def client(self, url, **kwargs):
        c = WpsClient(url, **kwargs)
        self.clients.append(c)
        await c.start()
        return c

    @bounded(20)
    async def test_cli_hub_control_restart_and_sigterm(self):
        p, ready = await self.start_hub("--print-url", "dev1", "--hub", "dunebugger")
        token_line = json.loads(await asyncio.wait_for(p.stdout.readline(), 5))
        self.assertEqual((token_line["event"], token_line["userId"]), ("token", "dev1"))
        control = ControlClient("http://127.0.0.1:%d" % ready["controlPort"])
        a = await self.client(token_line["url"], auto_recover=False)
        await a.join_group("g")
        state = await asyncio.to_thread(control.state)
        self.assertEqual(state["groups"], {"g": [a.connection_id]})
        self.assertEqual(state["port"], ready["port"])
        restarted = await asyncio.to_thread(control.restart, 0.2)
        self.assertEqual(restarted, {"listening": True, "port": ready["port"]})
        self.assertEqual((await a.wait_transport_closed(3))[0], 1006)
        b = await self.client(token_line["url"])  # the same URL works after the restart
        await b.ping()
        p.send_signal(signal.SIGTERM)
        self.assertEqual(await asyncio.wait_for(p.wait(), 10), 0)
        log = (await p.stderr.read()).decode()
        self.assertIn("listening on ws://127.0.0.1:%d" % ready["port"], log)
        self.assertIn("restart", log)
        token = token_line["url"].split("access_token=")[1]
        self.assertNotIn(token, log)
        self.assertNotIn(a.reconnection_token, log)

    @bounded(20)
    async def test_tls_and_a_fixed_port(self):
        with tempfile.TemporaryDirectory() as d:
            ca = TestCA(d)
            cert, key = ca.issue("hub", dns=["localhost"], ips=["127.0.0.1"])
            port = free_port()
            p, ready = await self.start_hub("--port", str(port), "--tls-cert", cert, "--tls-key", key,
                                            "--access-key", "a-different-key")
            self.assertEqual((ready["port"], ready["tls"]), (port, True))
            ctx = ssl.create_default_context(cafile=ca.cert_path)
            control = ControlClient("http://127.0.0.1:%d" % ready["controlPort"])
            issued = await asyncio.to_thread(control.token, "dev1")
            self.assertTrue(issued["url"].startswith("wss://127.0.0.1:%d/" % port))
            a = await self.client(issued["url"], ssl=ctx)
            await a.ping()
            # The same token through "localhost" (a different Host, so a different audience) is refused.
            with self.assertRaises(ws_compat.InvalidStatus) as cm:
                await self.client(issued["url"].replace("127.0.0.1", "localhost"), ssl=ctx)
            self.assertEqual(ws_compat.status_of(cm.exception), 401)

    @bounded(20)
    async def test_token_tool_prints_a_working_url(self):
        p, ready = await self.start_hub("--access-key", "k-123")
        tool = await self.spawn(os.path.join(WPS, "access_token.py"), "--access-key", "k-123",
                                "--endpoint", ready["endpoint"], "--user", "dev9", "--role", ROLES[0],
                                "--role", ROLES[1], "--group", "dev-9")
        out, _ = await asyncio.wait_for(tool.communicate(), 10)
        url = out.decode().strip()
        a = await self.client(url)
        self.assertEqual(a.user_id, "dev9")
        control = ControlClient("http://127.0.0.1:%d" % ready["controlPort"])
        self.assertEqual((await asyncio.to_thread(control.state))["groups"], {"dev-9": [a.connection_id]})

    @bounded(25)
    async def test_console_frontend_against_a_fake_device(self):
        p, ready = await self.start_hub()
        control = ControlClient("http://127.0.0.1:%d" % ready["controlPort"])
        group = "device-7"

        async def answer(client, msg):
            data = msg["data"]
            if data.get("subject") == "controller.heartbeat":
                await client.send_to_group(group, {"body": "I am alive", "subject": "heartbeat",
                                                   "source": "controller", "destination": "broadcast"},
                                           no_echo=True)

        device = await self.client((await asyncio.to_thread(control.token, "device"))["url"], on_message=answer)
        await device.join_group(group)
        fe = await self.spawn(os.path.join(WPS, "frontend.py"), "--control", "http://127.0.0.1:%d" %
                              ready["controlPort"], "--group", group, "--print", "--duration", "1.5",
                              "--request", "core.refresh_gpios", "--require-online")
        out, err = await asyncio.wait_for(fe.communicate(), 15)
        text = out.decode()
        self.assertEqual(fe.returncode, 0, err.decode()[-2000:])
        self.assertIn("hub connected, connectionId", text)
        self.assertIn("-> controller.heartbeat I am here", text)
        self.assertIn("<- heartbeat I am alive", text)
        self.assertIn("device ONLINE", text)
        self.assertIn("-> core.refresh_gpios null", text)
        log = await asyncio.to_thread(control.messages, group)
        subjects = [m["data"]["subject"] for m in log["messages"] if m["userId"] == "frontend"]
        self.assertEqual(subjects, ["controller.heartbeat", "core.refresh_gpios"])


if __name__ == "__main__":
    unittest.main()
