"""The front-end simulator against the hub, with a scripted fake device (the client library)."""
import asyncio
import unittest

from hubtest import HubTestCase, bounded

from wps.frontend import FrontendSimulator

GROUP = "device-1"


class FakeDevice:
    """Answers like the agent (dunebugger-protocol.md §1.4): "I am alive" to every
    controller.heartbeat; gpio_state to core.refresh_gpios; envelopes carry
    source "controller" and a destination."""

    def __init__(self, test):
        self.test = test
        self.requests = []
        self.answer_heartbeats = True
        self.client = None

    async def start(self):
        self.client = await self.test.client("device", on_message=self.on_message, retry_delay=0.1)
        await self.client.join_group(GROUP)

    async def broadcast(self, subject, body, destination="broadcast"):
        await self.client.send_to_group(GROUP, {"body": body, "subject": subject, "source": "controller",
                                                "destination": destination}, no_echo=True)

    def on_message(self, client, msg):
        data = msg["data"]
        if data.get("source") == "controller":
            return  # loop guard, as the agent does
        self.requests.append((msg["fromUserId"], data))
        if data["subject"] == "controller.heartbeat" and self.answer_heartbeats:
            return self.broadcast("heartbeat", "I am alive")
        if data["subject"] == "core.refresh_gpios":
            return self.broadcast("gpio_state", [{"pin": 0, "state": "HIGH"}])

    def heartbeats_from(self, connection_id):
        return [d for _, d in self.requests if d == {"subject": "controller.heartbeat", "body": "I am here",
                                                     "connectionId": connection_id}]


class Frontend(HubTestCase):
    server_options = {"reconnect_window": 2.0}

    async def start(self, heartbeat_timeout=5.0):
        self.device = FakeDevice(self)
        await self.device.start()
        fe = FrontendSimulator(lambda: self.url("frontend"), GROUP, heartbeat_timeout,
                               client_options={"retry_delay": 0.1})
        self.clients.append(fe.client)
        await fe.start()
        return fe

    @bounded(10)
    async def test_connects_joins_says_i_am_here_and_goes_online(self):
        fe = await self.start()
        await fe.wait_online(True, 3)
        self.assertEqual(len(self.device.heartbeats_from(fe.connection_id)), 1)
        self.assertEqual(self.device.requests[0][0], "frontend")
        self.assertIn(GROUP, self.session_state(fe.connection_id)["groups"])
        self.assertEqual((await fe.wait_for("heartbeat", 1))["body"], "I am alive")
        # Its own messages are sent with noEcho: nothing of its own comes back.
        self.assertFalse(any("connectionId" in d for d in list(fe.received) + list(fe.dropped)))

    @bounded(10)
    async def test_answers_is_anyone_there(self):
        fe = await self.start()
        await fe.wait_online(True, 3)
        await self.device.broadcast("heartbeat", "Is anyone there?")
        await self.until(lambda: len(self.device.heartbeats_from(fe.connection_id)) == 2, 3, "I am here again")

    @bounded(10)
    async def test_liveness_countdown(self):
        fe = await self.start(heartbeat_timeout=0.6)
        await fe.wait_online(True, 3)
        self.device.answer_heartbeats = False
        await fe.wait_online(False, 2)
        went_online, went_offline = fe.online_changes[0][0], fe.online_changes[1][0]
        self.assertGreaterEqual(went_offline - went_online, 0.55)
        await self.device.broadcast("heartbeat", "I am alive", destination=fe.connection_id)
        await fe.wait_online(True, 2)

    @bounded(10)
    async def test_drops_messages_for_someone_else(self):
        fe = await self.start(heartbeat_timeout=0.6)
        await fe.wait_online(True, 3)
        self.device.answer_heartbeats = False
        await self.device.broadcast("log", {"message": "not for you"}, destination="other-connection")
        await self.device.broadcast("heartbeat", "I am alive", destination="other-connection")
        await self.device.broadcast("log", {"message": "for you"}, destination=fe.connection_id)
        got = await fe.wait_for("log", 2)
        self.assertEqual(got["body"], {"message": "for you"})
        self.assertEqual([d["destination"] for d in fe.dropped], ["other-connection", "other-connection"])
        await fe.wait_online(False, 2)  # the misaddressed heartbeat did not count

    @bounded(10)
    async def test_request_reaches_the_device_and_reply_comes_back(self):
        fe = await self.start()
        await fe.wait_online(True, 3)
        await fe.request("core.refresh_gpios")
        reply = await fe.wait_for("gpio_state", 2)
        self.assertEqual(reply["body"], [{"pin": 0, "state": "HIGH"}])
        self.assertIn(("frontend", {"subject": "core.refresh_gpios", "body": "null",
                                    "connectionId": fe.connection_id}), self.device.requests)

    @bounded(10)
    async def test_recovers_silently_after_a_drop(self):
        fe = await self.start()
        await fe.wait_online(True, 3)
        cid = fe.connection_id
        self.hub.drop(connection_id=cid)
        await self.device.broadcast("log", {"message": "while dropped"})
        got = await fe.wait_for("log", 3)
        self.assertEqual(got["body"], {"message": "while dropped"})
        self.assertEqual((fe.connection_id, fe.client.recoveries), (cid, 1))
        # Recovery is not "connected": no second join or "I am here".
        self.assertEqual(len(self.device.heartbeats_from(cid)), 1)

    @bounded(10)
    async def test_disconnected_for_good_goes_offline_and_stops(self):
        fe = await self.start()
        await fe.wait_online(True, 3)
        self.hub.expire_sessions(fe.connection_id)
        await asyncio.wait_for(fe.stopped.wait(), 3)
        self.assertFalse(fe.online)
        self.assertEqual(fe.client.closes[-1][0], 1008)


if __name__ == "__main__":
    unittest.main()
