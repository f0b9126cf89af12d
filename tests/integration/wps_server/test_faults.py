"""Fault hooks and the control API, driven over HTTP as other languages' tests will."""
import asyncio
import json
import time
import unittest
import urllib.parse

from hubtest import HubTestCase, bounded

import ws_compat
from wps.client import RELIABLE_PROTOCOL
from wps.control_client import ControlError

NOT_RECOVERED = (1008, "The connection could not be recovered.")


class Faults(HubTestCase):
    async def detached(self, cid):
        await self.until(lambda: not (self.session_state(cid) or {}).get("attached", True), 3, "session detached")

    @bounded(10)
    async def test_drop_is_abrupt_and_recoverable(self):
        a = await self.client("a", auto_recover=False)
        b = await self.client("b", auto_recover=False)
        self.assertEqual(await self.ctl("drop", a.connection_id), {"dropped": 1})
        code, _ = await a.wait_transport_closed(3)
        self.assertEqual(code, 1006)         # no close frame
        self.assertIsNone(ws_compat.close_frames(a.ws).close_rcvd)
        await self.detached(a.connection_id)
        await a.recover()
        await a.ping()
        self.assertEqual(await self.ctl("drop", all=True), {"dropped": 2})
        await b.wait_transport_closed(3)
        self.assertEqual(b.ws.close_code, 1006)

    @bounded(10)
    async def test_silence_keeps_tcp_open_and_recovery_replaces_it(self):
        a = await self.client("a", auto_recover=False)
        s = await self.client("s")
        await a.join_group("g")
        self.assertEqual(await self.ctl("silence", a.connection_id), {"silenced": 1})
        with self.assertRaises(asyncio.TimeoutError):
            await a.ping(timeout=0.5)
        await s.send_to_group("g", "during silence", data_type="text")
        self.assertTrue(ws_compat.is_open(a.ws))  # TCP and WebSocket still look fine to the client
        st = self.session_state(a.connection_id)
        self.assertEqual((st["attached"], st["silenced"], st["unacked"]), (True, True, 1))
        # A recovery while the old transport still looks attached replaces it.
        query = urllib.parse.urlencode({"awps_connection_id": a.connection_id,
                                        "awps_reconnection_token": a.reconnection_token})
        ws = await self.raw_connect("ws://127.0.0.1:%d/client/hubs/dunebugger?%s" % (self.hub.port, query))
        replay = json.loads(await asyncio.wait_for(ws.recv(), 2))
        self.assertEqual((replay["data"], replay["sequenceId"]), ("during silence", 1))
        await asyncio.wait_for(a.ws.wait_closed(), 3)  # the old transport was dropped
        self.assertEqual(a.ws.close_code, 1006)
        self.assertFalse(self.session_state(a.connection_id)["silenced"])

    @bounded(10)
    async def test_silenced_connection_reads_nothing(self):
        ws = await self.raw_connect(self.url("a"), close_timeout=0.5)
        cid = json.loads(await ws.recv())["connectionId"]
        await self.ctl("silence", cid)
        await ws.send('{"type":"joinGroup","group":"g"}')
        await ws.close()  # the hub never reads the close frame, so never answers it
        self.assertEqual(ws.close_code, 1006)
        st = self.session_state(cid)
        self.assertEqual((st["attached"], st["groups"]), (True, []))

    @bounded(10)
    async def test_refuse_with_status_and_retry_after_count(self):
        url = self.url("a")
        await self.ctl("refuse", 503, retry_after=5, count=2)
        for _ in range(2):
            with self.assertRaises(ws_compat.InvalidStatus) as cm:
                await self.raw_connect(url)
            self.assertEqual(ws_compat.status_of(cm.exception), 503)
            self.assertEqual(ws_compat.headers_of(cm.exception)["Retry-After"], "5")
        await self.raw_connect(url)
        self.assertEqual(self.hub.counters["refused_by_fault"], 2)

    @bounded(10)
    async def test_refuse_for_seconds_and_only_recovery(self):
        url = self.url("a")
        await self.ctl("refuse", 429, for_seconds=0.3)
        with self.assertRaises(ws_compat.InvalidStatus) as cm:
            await self.raw_connect(url)
        self.assertEqual(ws_compat.status_of(cm.exception), 429)
        self.assertNotIn("Retry-After", ws_compat.headers_of(cm.exception))
        await asyncio.sleep(0.35)
        await self.raw_connect(url)
        a = await self.client("a", auto_recover=False)
        a.abort()
        await self.detached(a.connection_id)
        await self.ctl("refuse", 502, only="recovery")
        await self.raw_connect(url)  # new connections still work
        with self.assertRaises(ws_compat.InvalidStatus) as cm:
            await a.recover()
        self.assertEqual(ws_compat.status_of(cm.exception), 502)
        await self.ctl("clear_faults")
        await a.recover()
        await a.ping()

    @bounded(10)
    async def test_refuse_rejects_bad_arguments(self):
        for body in ({"status": 200}, {"status": 503, "only": "sometimes"}, {}):
            with self.subTest(body=body):
                with self.assertRaises(ControlError) as cm:
                    await asyncio.to_thread(self.control.post, "/fault/refuse", body)
                self.assertEqual(cm.exception.status, 400)

    @bounded(15)
    async def test_malformed_frames(self):
        expectations = {
            "json": ("text", '{"type":"message","from":'),
            "not_object": ("text", '["not","an","object"]'),
            "unknown_type": ("text", '{"type":"surprise","data":1}'),
            "binary": ("bytes", b'{"type":"pong"}'),
            "invalid_utf8": ("closed", 1007),
            "bad_opcode": ("closed", 1002),
            "rsv": ("closed", 1002),
            "masked": ("closed", 1002),
            "fragmented_control": ("closed", 1002),
            "truncated": ("silent", None),
        }
        for kind, (outcome, value) in expectations.items():
            with self.subTest(kind=kind):
                ws = await self.raw_connect(self.url("m"))
                cid = json.loads(await ws.recv())["connectionId"]
                self.assertEqual(await self.ctl("malformed", kind, connection_id=cid), {"sent": 1})
                if outcome in ("text", "bytes"):
                    self.assertEqual(await asyncio.wait_for(ws.recv(), 2), value)
                elif outcome == "closed":
                    # The client fails the connection and says why in its own close frame.
                    with self.assertRaises(ws_compat.ConnectionClosed):
                        await asyncio.wait_for(ws.recv(), 2)
                    self.assertEqual(ws_compat.close_frames(ws).close_sent.code, value)
                else:
                    with self.assertRaises(asyncio.TimeoutError):
                        await asyncio.wait_for(ws.recv(), 0.3)
                ws.transport.abort()
        with self.assertRaises(ControlError):
            await self.ctl("malformed", "nonsense", all=True)

    @bounded(10)
    async def test_expire_sessions(self):
        a = await self.client("a", auto_recover=False)
        b = await self.client("b", auto_recover=False)
        a.abort()
        await self.detached(a.connection_id)
        self.assertEqual(await self.ctl("expire_sessions"), {"expired": 1})  # only the detached one
        await a.recover()
        self.assertEqual(await a.wait_transport_closed(3), NOT_RECOVERED)
        # One attached session by id: its transport drops, its recovery gets 1008.
        self.assertEqual(await self.ctl("expire_sessions", b.connection_id), {"expired": 1})
        self.assertEqual((await b.wait_transport_closed(3))[0], 1006)
        await b.recover()
        self.assertEqual(await b.wait_transport_closed(3), NOT_RECOVERED)

    @bounded(10)
    async def test_lost_ack_then_retry_is_duplicate_and_delivered_once(self):
        r = await self.client("r")
        s = await self.client("s")
        await r.join_group("g")
        await self.ctl("lose_acks", 1, connection_id=s.connection_id)
        with self.assertRaises(asyncio.TimeoutError):
            await s.send_to_group("g", {"n": 1}, ack_id=9, timeout=0.5)
        self.assertEqual(await s.send_to_group("g", {"n": 1}, ack_id=9), {"ackId": 9, "isDuplicated": True})
        self.assertEqual((await r.next_message(2))["data"], {"n": 1})
        await r.ping()
        self.assertEqual(r.drain_inbox(), [])
        log = await asyncio.to_thread(self.control.messages, "g", connection_id=s.connection_id)
        self.assertEqual([(m["ackId"], m["outcome"]) for m in log["messages"]], [(9, "delivered"), (9, "duplicate")])
        self.assertEqual(self.hub.counters["acks_lost"], 1)

    @bounded(10)
    async def test_delayed_ack(self):
        a = await self.client("a")
        await self.ctl("delay_acks", 0.4, count=1)
        start = time.monotonic()
        await a.join_group("g", timeout=2)
        self.assertGreaterEqual(time.monotonic() - start, 0.35)
        start = time.monotonic()
        await a.join_group("h", timeout=2)
        self.assertLess(time.monotonic() - start, 0.3)

    @bounded(10)
    async def test_duplicate_replays_recent_frames_with_original_ids(self):
        r = await self.client("r")
        s = await self.client("s")
        await r.join_group("g")
        for n in range(3):
            await s.send_to_group("g", n)
            await r.next_message(2)
        self.assertEqual(await self.ctl("post", "/fault/duplicate", {"connectionId": r.connection_id, "count": 2}),
                         {"sent": 2})
        await r.ping()
        self.assertEqual(r.duplicates_dropped, 2)
        self.assertEqual(r.drain_inbox(), [])
        self.assertEqual([json.loads(f).get("sequenceId") for f in r.frames if '"message"' in f][-2:], [2, 3])

    @bounded(10)
    async def test_server_close_sends_disconnected_then_code(self):
        a = await self.client("a", auto_recover=False)
        await self.ctl("close", a.connection_id, code=4000, reason="maintenance")
        self.assertEqual(await a.wait_transport_closed(3), (4000, "maintenance"))
        self.assertEqual(a.system_messages[-1], {"type": "system", "event": "disconnected", "message": "maintenance"})
        self.assertIsNone(self.session_state(a.connection_id))

    @bounded(15)
    async def test_restart_on_the_same_port_loses_sessions(self):
        a = await self.client("a", auto_recover=False)
        port = self.hub.port
        result = await self.ctl("restart", delay=0.3)
        self.assertEqual(result, {"listening": True, "port": port})
        self.assertEqual((await a.wait_transport_closed(3))[0], 1006)
        self.assertEqual(self.hub.state()["sessions"], [])
        b = await self.client("b")  # same URL, same port
        await b.ping()
        await a.recover()
        self.assertEqual(await a.wait_transport_closed(3), NOT_RECOVERED)
        # Without wait the call returns while the hub is down.
        result = await self.ctl("restart", delay=0.5, wait=False)
        self.assertFalse(result["listening"])
        with self.assertRaises(OSError):
            await self.raw_connect(self.url("c"))
        await self.until(lambda: self.hub.listening, 3, "listening again")
        await self.raw_connect(self.url("c"))
        self.assertEqual(self.hub.counters["restarts"], 2)


class ControlApi(HubTestCase):
    @bounded(10)
    async def test_send_messages_state_and_token(self):
        token = await self.ctl("token", "fe", groups=["dev-1"])
        self.assertTrue(token["url"].startswith("ws://127.0.0.1:%d/client/hubs/dunebugger?access_token=" %
                                                self.hub.port))
        a = await self.client(url=token["url"])
        self.assertEqual(a.user_id, "fe")
        self.assertEqual(await self.ctl("send_to_group", "dev-1", {"subject": "x"}, from_user_id="device"),
                         {"recipients": 1})
        msg = await a.next_message(2)
        self.assertEqual((msg["fromUserId"], msg["group"], msg["data"]), ("device", "dev-1", {"subject": "x"}))
        await self.ctl("send_to_connection", a.connection_id, "direct", data_type="text")
        self.assertEqual((await a.next_message(2))["from"], "server")
        await a.send_to_group("dev-1", {"n": 1}, ack_id=1)
        log = await asyncio.to_thread(self.control.messages, "dev-1")
        self.assertEqual([(m["source"], m["connectionId"], m["ackId"]) for m in log["messages"]],
                         [("control", None, None), ("client", a.connection_id, 1)])
        later = await asyncio.to_thread(self.control.messages, "dev-1", since=log["messages"][0]["index"])
        self.assertEqual(len(later["messages"]), 1)
        state = await self.ctl("state")
        self.assertEqual(state["connections"], [a.connection_id])
        self.assertEqual(state["groups"], {"dev-1": [a.connection_id]})
        self.assertEqual(state["sessions"][0]["userId"], "fe")
        self.assertGreaterEqual(state["counters"]["frames_in"], 1)

    @bounded(10)
    async def test_long_poll_returns_when_a_message_arrives(self):
        a = await self.client("a")
        start = time.monotonic()
        poll = asyncio.ensure_future(asyncio.to_thread(self.control.messages, "g", wait=5))
        await asyncio.sleep(0.2)
        await a.send_to_group("g", 1)
        got = await poll
        self.assertEqual([m["data"] for m in got["messages"]], [1])
        self.assertLess(time.monotonic() - start, 3)

    @bounded(10)
    async def test_errors(self):
        for method, path, body, status in (("GET", "/nowhere", None, 404), ("POST", "/state", {}, 405),
                                           ("POST", "/close", {"connectionId": "nope"}, 400),
                                           ("POST", "/send", {"data": 1}, 400)):
            with self.subTest(path=path):
                with self.assertRaises(ControlError) as cm:
                    await asyncio.to_thread(self.control.call, method, path, body)
                self.assertEqual(cm.exception.status, status)
        reader, writer = await asyncio.open_connection("127.0.0.1", self.hub.control_port)
        writer.write(b"POST /send HTTP/1.1\r\nContent-Length: 5\r\n\r\n[1,2]")
        self.assertIn(b" 400 ", await asyncio.wait_for(reader.readline(), 2))
        writer.close()


class ServerPings(HubTestCase):
    server_options = {"ws_ping_interval": 0.2, "ws_ping_timeout": 0.3, "close_timeout": 0.5}

    @bounded(10)
    async def test_unanswered_pings_detach_and_answered_pings_keep(self):
        a = await self.client("a", auto_recover=False)
        b = await self.client("b", auto_recover=False)
        a.pause_reading()
        await self.until(lambda: not self.session_state(a.connection_id)["attached"], 3, "a detached")
        await asyncio.sleep(0.5)
        self.assertTrue(self.session_state(b.connection_id)["attached"])  # websockets answers pings itself
        a.abort()
        await a.recover()  # a ping timeout leaves the session recoverable
        await a.ping()


if __name__ == "__main__":
    unittest.main()
