"""Groups, acks, dedup, roles, sequence ids, buffer bounds, ping, protocol errors."""
import asyncio
import base64
import json
import unittest

from hubtest import HubTestCase, bounded

from wps.client import JSON_PROTOCOL, AckError

DUPLICATE_TEXT = "Message with ack-id: %d has been processed"


class GroupsAndAcks(HubTestCase):
    @bounded(10)
    async def test_join_send_ack_and_delivery(self):
        a = await self.client("alice")
        b = await self.client("bob")
        self.assertEqual(await a.join_group("g"), {"ackId": 1, "isDuplicated": False})
        await b.join_group("g")
        self.assertEqual(await b.send_to_group("g", {"n": 1}), {"ackId": 2, "isDuplicated": False})
        got = await a.next_message(2)
        self.assertEqual(got, {"type": "message", "from": "group", "group": "g", "fromUserId": "bob",
                               "dataType": "json", "data": {"n": 1}, "sequenceId": 1})
        echo = await b.next_message(2)  # noEcho defaults to false
        self.assertEqual(echo["data"], {"n": 1})
        await b.send_to_group("g", "plain", data_type="text")
        await b.send_to_group("g", base64.b64encode(b"\x00\x01").decode(), data_type="binary")
        self.assertEqual([(m["dataType"], m["data"]) for m in (await a.next_message(2), await a.next_message(2))],
                         [("text", "plain"), ("binary", "AAE=")])

    @bounded(10)
    async def test_no_echo(self):
        a = await self.client("alice")
        b = await self.client("bob")
        await a.join_group("g")
        await b.join_group("g")
        await b.send_to_group("g", {"n": 1}, no_echo=True)
        self.assertEqual((await a.next_message(2))["data"], {"n": 1})
        await b.ping()  # everything queued for b before the pong has arrived by now
        self.assertEqual(b.drain_inbox(), [])
        log = self.hub.messages("g")["messages"]
        self.assertEqual([(m["noEcho"], m["recipients"]) for m in log], [(True, 1)])

    @bounded(10)
    async def test_sender_need_not_be_a_member_and_leave_stops_delivery(self):
        a = await self.client("alice")
        b = await self.client("bob")
        await a.join_group("g")
        await b.send_to_group("g", 1)
        self.assertEqual((await a.next_message(2))["data"], 1)
        await a.leave_group("g")
        self.assertEqual(self.hub.state()["groups"], {})
        await b.send_to_group("g", 2)
        await a.ping()
        self.assertEqual(a.drain_inbox(), [])

    @bounded(10)
    async def test_duplicate_ack_id_is_not_run_again(self):
        a = await self.client("alice")
        b = await self.client("bob")
        await a.join_group("g")
        self.assertEqual(await b.send_to_group("g", {"n": 1}, ack_id=7), {"ackId": 7, "isDuplicated": False})
        self.assertEqual(await b.send_to_group("g", {"n": 1}, ack_id=7), {"ackId": 7, "isDuplicated": True})
        error_ack = [json.loads(f) for f in b.frames if '"success":false' in f][-1]
        self.assertEqual(error_ack["error"], {"name": "Duplicate", "message": DUPLICATE_TEXT % 7})
        self.assertEqual((await a.next_message(2))["data"], {"n": 1})
        await a.ping()
        self.assertEqual(a.drain_inbox(), [])  # exactly once
        outcomes = [(m["ackId"], m["outcome"], m["connectionId"]) for m in self.hub.messages("g")["messages"]]
        self.assertEqual(outcomes, [(7, "delivered", b.connection_id), (7, "duplicate", b.connection_id)])
        # joinGroup ackIds share the same set.
        self.assertTrue((await b.join_group("g", ack_id=7))["isDuplicated"])
        self.assertNotIn("g", self.session_state(b.connection_id)["groups"])

    @bounded(10)
    async def test_failed_ack_id_can_be_reused_and_new_connection_clears_the_set(self):
        c = await self.client("carol", roles=["webpubsub.sendToGroup.g1"])
        with self.assertRaises(AckError) as cm:
            await c.join_group("g1", ack_id=3)
        self.assertEqual(cm.exception.name, "Forbidden")
        self.assertEqual(await c.send_to_group("g1", 1, ack_id=3), {"ackId": 3, "isDuplicated": False})
        d = await self.client("carol", roles=["webpubsub.sendToGroup.g1"])
        self.assertFalse((await d.send_to_group("g1", 1, ack_id=3))["isDuplicated"])

    @bounded(10)
    async def test_extreme_ack_ids(self):
        a = await self.client("alice")
        self.assertFalse((await a.join_group("g", ack_id=0))["isDuplicated"])
        self.assertFalse((await a.join_group("h", ack_id=2 ** 64 - 1))["isDuplicated"])
        await a.send_json({"type": "joinGroup", "group": "i", "ackId": 2 ** 64})
        self.assertEqual((await a.wait_transport_closed(3))[0], 1007)

    @bounded(10)
    async def test_events_are_acked_and_recorded(self):
        a = await self.client("alice", roles=[])
        self.assertFalse((await a.send_event("refresh", {"x": 1}))["isDuplicated"])
        events = self.hub.events()["events"]
        self.assertEqual([(e["event"], e["data"], e["userId"]) for e in events], [("refresh", {"x": 1}, "alice")])


class Roles(HubTestCase):
    async def allowed(self, client, action, group):
        try:
            if action == "join":
                await client.join_group(group)
            else:
                await client.send_to_group(group, "x", data_type="text")
            return True
        except AckError as e:
            self.assertEqual(e.name, "Forbidden")
            return False

    @bounded(10)
    async def test_no_role_is_forbidden(self):
        a = await self.client("alice", roles=[])
        self.assertFalse(await self.allowed(a, "join", "g"))
        self.assertFalse(await self.allowed(a, "send", "g"))
        self.assertEqual(self.hub.counters["forbidden"], 2)
        self.assertEqual([m["outcome"] for m in self.hub.messages("g")["messages"]], ["forbidden"])

    @bounded(10)
    async def test_group_and_pattern_roles(self):
        a = await self.client("alice", roles=["webpubsub.joinLeaveGroup.g1", "webpubsub.sendToGroups.dev.*",
                                              "webpubsub.joinLeaveGroups.a.**", "webpubsub.sendToGroups.x?"])
        expectations = [("join", "g1", True), ("join", "g2", False), ("send", "g1", False),
                        ("send", "dev.a", True), ("send", "dev.a.b", False), ("send", "dev", False),
                        ("join", "a.b.c", True), ("join", "b.a", False),
                        ("send", "x1", True), ("send", "x12", False)]
        for action, group, expected in expectations:
            with self.subTest(action=action, group=group):
                self.assertEqual(await self.allowed(a, action, group), expected)


class Sequencing(HubTestCase):
    @bounded(10)
    async def test_sequence_ids_and_cumulative_ack_trimming(self):
        r = await self.client("recv", sequence_ack="manual")
        j = await self.client("json", subprotocol=JSON_PROTOCOL)
        s = await self.client("send")
        await r.join_group("g")
        await j.join_group("g")
        for n in range(5):
            await s.send_to_group("g", n)
        got = [await r.next_message(2) for _ in range(5)]
        self.assertEqual([m["sequenceId"] for m in got], [1, 2, 3, 4, 5])
        plain = [await j.next_message(2) for _ in range(5)]
        self.assertTrue(all("sequenceId" not in m for m in plain))
        # Acks, pongs and system messages carry no sequenceId.
        await r.ping()
        for frame in r.frames:
            msg = json.loads(frame)
            self.assertEqual("sequenceId" in msg, msg["type"] == "message", frame)
        self.assertEqual(self.session_state(r.connection_id)["unacked"], 5)
        await r.send_sequence_ack(3)
        await r.ping()
        self.assertEqual(self.session_state(r.connection_id)["unacked"], 2)
        await r.send_sequence_ack(5)
        await r.ping()
        st = self.session_state(r.connection_id)
        self.assertEqual((st["unacked"], st["unackedBytes"], st["nextSequenceId"]), (0, 0, 6))

    @bounded(15)
    async def test_default_bound_is_1000_unacked_messages(self):
        r = await self.client("recv", sequence_ack="manual", auto_recover=False)
        s = await self.client("send")
        await r.join_group("g")
        for n in range(1000):
            await s.send_to_group("g", n, ack=False)
        await s.ping()
        self.assertEqual(self.session_state(r.connection_id)["unacked"], 1000)
        await r.send_sequence_ack(1)  # frees one slot
        await r.ping()
        await s.send_to_group("g", 1000, ack=False)
        await s.ping()
        self.assertEqual(self.session_state(r.connection_id)["unacked"], 1000)
        await s.send_to_group("g", 1001, ack=False)
        self.assertEqual(await r.wait_transport_closed(5), (1008, "The reliable message buffer is full."))

    @bounded(10)
    async def test_sequence_ack_on_the_json_protocol_is_invalid(self):
        j = await self.client("json", subprotocol=JSON_PROTOCOL)
        await j.send_json({"type": "sequenceAck", "sequenceId": 1})
        self.assertEqual((await j.wait_transport_closed(3))[0], 1007)

    @bounded(10)
    async def test_ping_pong(self):
        a = await self.client("alice")
        await a.ping(timeout=2)
        self.assertIn('{"type":"pong"}', a.frames)


class BufferBounds(HubTestCase):
    server_options = {"max_unacked_messages": 5, "max_unacked_bytes": 4000}

    @bounded(10)
    async def test_past_the_message_bound_close_1008_and_session_gone(self):
        r = await self.client("recv", sequence_ack="manual", auto_recover=False)
        s = await self.client("send")
        await r.join_group("g")
        for n in range(5):
            await s.send_to_group("g", n)
        self.assertEqual([(await r.next_message(2))["sequenceId"] for _ in range(5)], [1, 2, 3, 4, 5])
        await s.send_to_group("g", 5)
        code, reason = await r.wait_transport_closed(3)
        self.assertEqual((code, reason), (1008, "The reliable message buffer is full."))
        self.assertEqual(r.last_disconnected_message, "The reliable message buffer is full.")
        self.assertIsNone(self.session_state(r.connection_id))
        await r.recover()
        self.assertEqual((await r.wait_transport_closed(3))[0], 1008)

    @bounded(10)
    async def test_past_the_byte_bound(self):
        r = await self.client("recv", sequence_ack="manual")
        s = await self.client("send")
        await r.join_group("g")
        await s.send_to_group("g", "x" * 1500, data_type="text")
        await s.send_to_group("g", "x" * 1500, data_type="text")
        self.assertEqual(self.session_state(r.connection_id)["unacked"], 2)
        await s.send_to_group("g", "x" * 1500, data_type="text")
        self.assertEqual((await r.wait_transport_closed(3))[0], 1008)

    @bounded(10)
    async def test_acked_messages_do_not_count(self):
        r = await self.client("recv")  # acks each arrival
        s = await self.client("send")
        await r.join_group("g")
        for n in range(20):
            await s.send_to_group("g", n)
            await r.next_message(2)
        self.assertEqual(r.closes, [])


class OutboundBound(HubTestCase):
    server_options = {"max_outbound_frames": 3, "close_timeout": 0.5}

    @bounded(20)
    async def test_a_reader_that_stops_is_closed_1008(self):
        r = await self.client("recv", subprotocol=JSON_PROTOCOL)
        s = await self.client("send")
        await r.join_group("g")
        r.pause_reading()
        big = "y" * 500000
        for _ in range(60):
            await s.send_to_group("g", big, data_type="text", ack=False)
            if self.hub.counters["outbound_overflows"]:
                break
        await s.ping()
        self.assertEqual(self.hub.counters["outbound_overflows"], 1)
        self.assertIsNone(self.session_state(r.connection_id))
        # Its close handshake cannot finish: the hub drops the transport after close_timeout.
        await self.until(lambda: self.hub.counters["closes_aborted"] == 1, 3, "transport dropped")
        r.abort()


class ProtocolErrors(HubTestCase):
    # After 1009 websockets waits close_timeout for the peer, which is still sending.
    server_options = {"close_timeout": 0.5}
    async def expect_close(self, frame, code):
        a = await self.client("alice", auto_recover=False)
        await a.send_raw(frame)
        got, _ = await a.wait_transport_closed(3)
        self.assertEqual(got, code)
        return a

    @bounded(10)
    async def test_malformed_json_is_1007_after_disconnected(self):
        a = await self.expect_close("{not json", 1007)
        self.assertEqual(a.system_messages[-1]["event"], "disconnected")
        self.assertIsNone(self.session_state(a.connection_id))

    @bounded(10)
    async def test_bad_messages_are_1007(self):
        for frame in ['{"type":"surprise"}', '[1]', '{"type":"joinGroup","group":"g","ackId":"1"}',
                      '{"type":"joinGroup","group":" "}', '{"type":"sendToGroup","group":"g","data":null}',
                      '{"type":"sendToGroup","group":"g","dataType":"text","data":1}',
                      '{"type":"sendToGroup","group":"g","dataType":"binary","data":"**"}',
                      '{"type":"sendToGroup","group":"g","noEcho":"yes","data":1}',
                      '{"type":"event","event":"9bad","data":1}']:
            with self.subTest(frame=frame):
                await self.expect_close(frame, 1007)

    @bounded(10)
    async def test_binary_frame_is_1003(self):
        await self.expect_close(b'{"type":"ping"}', 1003)

    @bounded(10)
    async def test_frame_over_1_mib_is_1009(self):
        await self.expect_close('{"type":"ping","pad":"%s"}' % ("z" * (1024 * 1024)), 1009)


class ServerMessages(HubTestCase):
    @bounded(10)
    async def test_send_to_connection_user_and_all(self):
        a = await self.client("alice")
        b = await self.client("bob", subprotocol=JSON_PROTOCOL)
        self.assertEqual(self.hub.send({"k": 1}, connection_id=a.connection_id), {"recipients": 1})
        self.assertEqual(await a.next_message(2), {"type": "message", "from": "server", "dataType": "json",
                                                   "data": {"k": 1}, "sequenceId": 1})
        self.hub.send("hi", "text", user_id="bob")
        self.assertEqual(await b.next_message(2), {"type": "message", "from": "server", "dataType": "text",
                                                   "data": "hi"})
        self.assertEqual(self.hub.send(2, to_all=True), {"recipients": 2})
        self.assertEqual([(await a.next_message(2))["data"], (await b.next_message(2))["data"]], [2, 2])
        with self.assertRaises(ValueError):
            self.hub.send(1, group="g", to_all=True)


if __name__ == "__main__":
    unittest.main()
