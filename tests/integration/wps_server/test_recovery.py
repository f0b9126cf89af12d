"""Reliable protocol recovery: replay with original ids, kept groups/dedup/protocol, 1008 cases."""
import asyncio
import json
import unittest
import urllib.parse

from hubtest import HubTestCase, bounded

from wps.client import JSON_PROTOCOL, RELIABLE_PROTOCOL

NOT_RECOVERED = (1008, "The connection could not be recovered.")


def sequence_ids(frames):
    return [json.loads(f)["sequenceId"] for f in frames if '"type":"message"' in f]


class Recovery(HubTestCase):
    async def detached(self, client):
        await self.until(lambda: not (self.session_state(client.connection_id) or {}).get("attached", True),
                         3, "session detached")

    @bounded(10)
    async def test_replay_with_original_ids_then_live_traffic(self):
        r = await self.client("recv", sequence_ack="manual", auto_recover=False)
        s = await self.client("send")
        await r.join_group("g", ack_id=1)
        for n in (1, 2, 3):
            await s.send_to_group("g", n)
        self.assertEqual([(await r.next_message(2))["data"] for _ in range(3)], [1, 2, 3])
        await r.send_sequence_ack(1)
        await r.ping()
        r.abort()
        await self.detached(r)
        for n in (4, 5):  # sent while r is away
            await s.send_to_group("g", n)
        self.assertEqual(self.session_state(r.connection_id)["unacked"], 4)
        cid = r.connection_id
        r.frames.clear()
        await r.recover()
        self.assertEqual([(await r.next_message(2))["data"] for _ in range(2)], [4, 5])
        self.assertEqual(sequence_ids(r.frames), [2, 3, 4, 5])  # replayed 2, 3 with their original ids
        self.assertEqual(r.duplicates_dropped, 2)
        self.assertEqual(r.connection_id, cid)
        await s.send_to_group("g", 6)  # still in the group
        self.assertEqual(await r.next_message(2), {"type": "message", "from": "group", "group": "g",
                                                   "fromUserId": "send", "dataType": "json", "data": 6,
                                                   "sequenceId": 6})
        # The dedup set survived recovery.
        self.assertTrue((await r.join_group("g", ack_id=1))["isDuplicated"])
        self.assertEqual(self.hub.counters["recoveries"], 1)

    @bounded(10)
    async def test_recovery_ignores_access_token_and_keeps_the_protocol(self):
        r = await self.client("recv", auto_recover=False)
        s = await self.client("send")
        await r.join_group("g")
        r.abort()
        await self.detached(r)
        await s.send_to_group("g", "while away", data_type="text")
        query = urllib.parse.urlencode({"access_token": "not-a-token", "awps_connection_id": r.connection_id,
                                        "awps_reconnection_token": r.reconnection_token})
        # The recovery offers only the plain JSON protocol; the session stays reliable.
        ws = await self.raw_connect("ws://127.0.0.1:%d/client/hubs/dunebugger?%s" % (self.hub.port, query),
                                    subprotocols=[JSON_PROTOCOL])
        replay = json.loads(await asyncio.wait_for(ws.recv(), 2))
        self.assertEqual((replay["data"], replay["sequenceId"]), ("while away", 1))
        self.assertEqual(self.session_state(r.connection_id)["protocol"], RELIABLE_PROTOCOL)

    async def recovery_refused(self, connection_id, token):
        query = urllib.parse.urlencode({"awps_connection_id": connection_id, "awps_reconnection_token": token})
        ws = await self.raw_connect("ws://127.0.0.1:%d/client/hubs/dunebugger?%s" % (self.hub.port, query))
        # Accepted, then "disconnected" and close 1008.
        first = json.loads(await asyncio.wait_for(ws.recv(), 2))
        self.assertEqual(first, {"type": "system", "event": "disconnected", "message": NOT_RECOVERED[1]})
        await asyncio.wait_for(ws.wait_closed(), 3)
        self.assertEqual((ws.close_code, ws.close_reason), NOT_RECOVERED)

    @bounded(10)
    async def test_unknown_session_and_wrong_token_get_1008(self):
        await self.recovery_refused("no-such-connection", "whatever")
        r = await self.client("recv", auto_recover=False)
        r.abort()
        await self.detached(r)
        await self.recovery_refused(r.connection_id, r.reconnection_token + "x")
        await self.recovery_refused(r.connection_id, "")
        self.assertEqual(self.hub.counters["recoveries_failed"], 3)
        # The session is still there for the right token.
        await r.recover()
        await r.ping()

    @bounded(10)
    async def test_clean_client_close_ends_the_session(self):
        r = await self.client("recv", auto_recover=False)
        cid, token = r.connection_id, r.reconnection_token
        await r.stop(1000)
        await self.until(lambda: self.session_state(cid) is None, 3, "session ended")
        await self.recovery_refused(cid, token)

    @bounded(10)
    async def test_other_client_close_codes_keep_the_session(self):
        r = await self.client("recv", auto_recover=False)
        await r.ws.close(1001)
        await self.detached(r)
        await r.recover()
        await r.ping()

    @bounded(10)
    async def test_json_protocol_sessions_are_not_recoverable(self):
        j = await self.client("json", subprotocol=JSON_PROTOCOL, auto_recover=False)
        cid = j.connection_id
        j.abort()
        await self.until(lambda: self.session_state(cid) is None, 3, "session ended")
        await self.recovery_refused(cid, "")

    @bounded(10)
    async def test_auto_recovery_delivers_everything_once_in_order(self):
        r = await self.client("recv", retry_delay=0.1)
        s = await self.client("send")
        await r.join_group("g")
        for n in range(3):
            await s.send_to_group("g", n)
        r.abort()
        for n in range(3, 6):
            await s.send_to_group("g", n)
        got = [(await r.next_message(3))["data"] for _ in range(6)]
        self.assertEqual(got, list(range(6)))
        self.assertEqual((r.recoveries, r.new_connections), (1, 1))


class RecoveryWindow(HubTestCase):
    server_options = {"reconnect_window": 0.5}

    @bounded(10)
    async def test_session_expires_after_the_window(self):
        r = await self.client("recv", auto_recover=False)
        await r.join_group("g")
        r.abort()
        await asyncio.sleep(0.2)
        self.assertIsNotNone(self.session_state(r.connection_id))
        self.assertEqual(self.hub.state()["groups"], {"g": [r.connection_id]})
        await self.until(lambda: self.session_state(r.connection_id) is None, 2, "session expired")
        self.assertEqual(self.hub.state()["groups"], {})
        await r.recover()
        self.assertEqual(await r.wait_transport_closed(3), NOT_RECOVERED)

    @bounded(10)
    async def test_client_starts_a_new_connection_after_1008(self):
        connected = []
        r = await self.client("recv", retry_delay=0.1, auto_reconnect=True,
                              on_connected=lambda c: connected.append(c.connection_id))
        first = r.connection_id
        r.abort()
        self.hub.expire_sessions(first)
        await self.until(lambda: len(connected) == 2, 5, "new connection")
        self.assertNotEqual(connected[1], first)
        self.assertEqual(r.closes[-1], NOT_RECOVERED)
        self.assertEqual(r.last_sequence_id, 0)


if __name__ == "__main__":
    unittest.main()
