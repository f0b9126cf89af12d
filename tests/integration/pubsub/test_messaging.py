"""pubsub::Client against the local hub: connect, join, messages both ways
with acks, and a clean stop (close 1000 ends the session) by command and by
SIGTERM."""
import time

import harness
from harness import DEVICE, GROUP, PubsubTestCase


class Messaging(PubsubTestCase):
    def test_connect_join_and_send_with_ack(self):
        hub = self.hub()
        d, cid = self.start_connected(hub)
        state = hub.control.state()
        session = [s for s in state["sessions"] if s["connectionId"] == cid][0]
        self.assertEqual(session["userId"], DEVICE)
        self.assertEqual(session["protocol"], "json.reliable.webpubsub.azure.v1")
        self.assertEqual(session["groups"], [GROUP])

        for n in range(5):
            d.send({"n": n, "text": "hello"})
        logged = hub.control.wait_for_messages(GROUP, 5, timeout=10)
        self.assertEqual([m["data"] for m in logged], [{"n": n, "text": "hello"} for n in range(5)])
        for m in logged:
            self.assertEqual(m["outcome"], "delivered")
            self.assertEqual(m["connectionId"], cid)
            self.assertEqual(m["userId"], DEVICE)
            self.assertTrue(m["noEcho"])
            self.assertIsInstance(m["ackId"], int)
        self.assertEqual(len({m["ackId"] for m in logged}), 5, "every message has its own ackId")
        # Nothing more arrives: each message is in the hub's log once.
        time.sleep(0.5)
        self.assertEqual(len(hub.control.messages(GROUP)["messages"]), 5)

        deadline = time.monotonic() + 5
        while d.counters()["messages_out"] < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        c = d.counters()
        self.assertEqual(c["messages_out"], 5)
        self.assertEqual(c["resends"], 0)
        self.assertEqual(c["outbox"], 0)
        self.assertEqual(c["connections"], 1)
        self.assertEqual(c["state"], "Connected")
        self.assertEqual(d.of("dropped"), [])
        # The device's own messages are not echoed back to it (noEcho).
        self.assertEqual(d.of("message"), [])

    def test_group_messages_from_a_peer_arrive_once(self):
        hub = self.hub()
        d, _ = self.start_connected(hub)
        peer = hub.client("frontend")

        async def peer_sends():
            await peer.start()
            await peer.join_group(GROUP)
            for n in range(20):
                await peer.send_to_group(GROUP, {"peer": n})
            await peer.stop()
        hub.run(peer_sends())
        for n in range(20):
            hub.control.send_to_group(GROUP, {"control": n}, from_user_id="frontend-rest")
        hub.control.send_to_connection(hub.control.state()["connections"][0], "to you", data_type="text")

        d.wait_for(lambda e: e["event"] == "message" and e["data"] == {"control": 19}, 10)
        d.wait_for(lambda e: e["event"] == "message" and e.get("from") == "server", 10)
        time.sleep(0.5)  # would-be duplicates have time to show
        msgs = d.of("message")
        group = [m for m in msgs if m["from"] == "group"]
        self.assertEqual([m["data"] for m in group if "peer" in m["data"]], [{"peer": n} for n in range(20)])
        self.assertEqual([m["data"] for m in group if "control" in m["data"]], [{"control": n} for n in range(20)])
        self.assertEqual(len(group), 40)
        for m in group:
            self.assertEqual(m["group"], GROUP)
            self.assertEqual(m["dataType"], "json")
            self.assertEqual(m["fromUserId"], "frontend" if "peer" in m["data"] else "frontend-rest")
        server = [m for m in msgs if m["from"] == "server"]
        self.assertEqual([(m["dataType"], m["data"]) for m in server], [("text", "to you")])
        c = d.counters()
        self.assertEqual(c["messages_in"], 41)
        self.assertEqual(c["duplicates_in"], 0)

    def _assert_clean_stop(self, hub, d, cid, seconds):
        print("\n  exit %.3f s after the stop request" % seconds)
        self.assertEqual(d.exit_code, 0)
        self.assertLess(seconds, 2.0)
        self.assertTrue(d.of("stopped"), "the driver reports Client::stop completing")
        state_changes = [(e["from"], e["to"]) for e in d.of("state")]
        self.assertEqual(state_changes[-1], ("Connected", "Stopped"))
        # The hub saw our close 1000, which ends the session (§4) ...
        deadline = time.monotonic() + 5
        while cid in [s["connectionId"] for s in hub.control.state()["sessions"]] and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertNotIn(cid, [s["connectionId"] for s in hub.control.state()["sessions"]])
        self.assertTrue(hub.log_lines("session %s ended: closed (code 1000)" % cid),
                        "hub log: %s" % hub.log_lines(cid))
        # ... so a recovery with its token is refused with 1008.
        self.assertEqual(hub.recovery_close_code(cid), 1008)

    def test_stop_command_closes_with_1000(self):
        hub = self.hub()
        d, cid = self.start_connected(hub)
        seconds = d.stop(timeout=5)
        self._assert_clean_stop(hub, d, cid, seconds)

    def test_sigterm_closes_with_1000(self):
        hub = self.hub()
        d, cid = self.start_connected(hub)
        seconds = d.terminate(timeout=5)
        self._assert_clean_stop(hub, d, cid, seconds)
        self.assertTrue(d.log_lines("shutting down (SIGTERM)"))

    def test_reload_retunes_the_outbox_bound(self):
        hub = self.hub()
        hub.control.refuse(503, only="new")  # the device stays away and queues
        cs = harness.connection_string(hub)
        d = self.driver(harness.config_text({"connectionString": cs, "outboxMaxMessages": "10"}))
        d.wait_state("BackingOff", 10)
        ids = []
        for n in range(6):
            mark = d.mark()
            d.send({"q": n})
            ids.append(d.wait_event("sent", 5, start=mark)["id"])
        self.assertEqual(d.counters()["outbox"], 6)
        with open(d.config_path, "w") as f:
            f.write(harness.config_text({"connectionString": cs, "outboxMaxMessages": "2"}))
        mark = d.mark()
        d.command(cmd="reload")
        d.wait_event("reloaded", 5, start=mark)
        dropped = d.of("dropped", mark)
        self.assertEqual([e["id"] for e in dropped], ids[:4], "the oldest go first")
        self.assertEqual({e["reason"] for e in dropped}, {"outbox bound lowered by a config reload"})
        c = d.counters()
        self.assertEqual((c["outbox"], c["outbox_drops"]), (2, 4))
        hub.control.clear_faults()
        d.wait_event("joined", 15)
        logged = hub.control.wait_for_messages(GROUP, 2, timeout=10)
        self.assertEqual([m["data"] for m in logged], [{"q": 4}, {"q": 5}])

    def test_stop_while_backing_off_exits_at_once(self):
        hub = self.hub()
        hub.control.refuse(500)
        d = self.driver(harness.config_text({"connectionString": harness.connection_string(hub),
                                             "reconnectInitialDelaySecs": "5",
                                             "reconnectMaxDelaySecs": "10"}))
        d.wait_state("BackingOff", 10)
        seconds = d.terminate(timeout=5)
        print("\n  exit %.3f s after SIGTERM while backing off" % seconds)
        self.assertEqual(d.exit_code, 0)
        self.assertLess(seconds, 1.0)


if __name__ == "__main__":
    harness.main()
