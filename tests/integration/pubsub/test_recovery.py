"""pubsub::Client against the local hub when the link breaks: an abrupt drop
(the same session is recovered, nothing lost or duplicated either way), a
session the hub forgot (a new connection, the group rejoined, the outbox
delivered in order), a half-open link (replaced within keepalive interval +
timeout) and a hub restart."""
import time

import harness
from harness import GROUP, DriverTraffic, PubsubTestCase


class Recovery(PubsubTestCase):
    def test_abrupt_drop_recovers_the_same_session_with_traffic_both_ways(self):
        hub = self.hub()
        d, cid = self.start_connected(hub)
        traffic = self.track(DriverTraffic(hub, d, period=0.01)).start()
        recovered_after = []
        for _ in range(3):
            time.sleep(0.3)
            mark = d.mark()
            t0 = time.monotonic()
            self.assertEqual(hub.control.drop(cid)["dropped"], 1)
            e = d.wait_event("connected", 10, start=mark)
            recovered_after.append(e["t"] / 1000 - t0)
            self.assertEqual(e["connectionId"], cid)
            self.assertFalse(e["is_new"])
        time.sleep(0.3)
        traffic.stop()
        figures = traffic.verify(self)
        print("\n  %s; recovered %s s after each drop" % (figures, ["%.3f" % s for s in recovered_after]))
        c = d.counters()
        self.assertEqual(c["connections"], 1)
        self.assertEqual(c["recoveries"], 3)
        self.assertEqual(c["drops"], 3)
        self.assertEqual(c["connectionId"], cid)
        self.assertEqual(d.of("dropped"), [])
        self.assertEqual([e["connectionId"] for e in d.of("connected")], [cid] * 4)
        self.assertEqual(hub.counters().get("recoveries"), 3)
        # The recovery is reported once the hub has answered on it; the two
        # drops that follow within the 30 s flap window continue that outage
        # quietly (core/outage_log.hpp): two lines for three drops.
        self.assertEqual(len(d.wait_log_lines("Web PubSub session recovered after")), 1)
        self.assertEqual(len(d.wait_log_lines("Web PubSub connection lost")), 1)
        self.assertGreater(figures["device_to_group"], 50)
        self.assertGreater(figures["group_to_device"], 50)

    def test_session_gone_gives_a_new_connection_rejoin_and_the_outbox_in_order(self):
        hub = self.hub()
        d, old = self.start_connected(hub)
        d.send({"before": 0})
        hub.control.wait_for_messages(GROUP, 1, timeout=5)
        # New connections are refused for a while, so the device stays away
        # and queues what it sends.
        hub.control.refuse(503, only="new", for_seconds=1.5)
        mark = d.mark()
        hub.control.expire_sessions(old)  # drops the transport and forgets the session
        d.wait_state("BackingOff", 10, start=mark)
        for n in range(10):
            d.send({"o": n})
        hub.control.send_to_group(GROUP, {"lost": True})  # nobody in the group: nowhere to go
        # The hub accepts the recovery's upgrade and only then closes with
        # 1008 (as the emulator does, §4), so a "recovered" Connected may
        # come first; the new connection is the one that counts.
        connected = d.wait_event("connected", 15, start=mark, is_new=True)
        d.wait_event("joined", 10, start=mark)
        new = connected["connectionId"]
        self.assertNotEqual(new, old)
        self.assertTrue(connected["is_new"])
        logged = hub.control.wait_for_messages(GROUP, 10, timeout=10, predicate=lambda m: "o" in m["data"])
        self.assertEqual([m["data"]["o"] for m in logged], list(range(10)))
        self.assertEqual({m["connectionId"] for m in logged}, {new})
        self.assertEqual({m["outcome"] for m in logged}, {"delivered"})
        session = [s for s in hub.control.state()["sessions"] if s["connectionId"] == new][0]
        self.assertEqual(session["groups"], [GROUP])
        # The recovery of the old session was refused with 1008, not retried.
        states = [(e["from"], e["to"]) for e in d.of("state", mark)]
        self.assertEqual(states[0], ("Connected", "Recovering"))
        self.assertTrue([e for e in d.of("state", mark) if "1008" in e["reason"]], states)
        self.assertEqual(hub.recovery_close_code(old), 1008)
        # The refused recovery is never reported as a recovery; the line that
        # ends the outage says why a new session was needed, in the hub's words.
        self.assertEqual(d.log_lines("session recovered"), [])
        back = d.wait_log_lines("Web PubSub connected again after")
        self.assertEqual(len(back), 1, d.stderr_lines[-12:])
        self.assertIn("a new session: the ", back[0])
        self.assertIn("close 1008: The connection could not be recovered", back[0])
        # Traffic both ways on the new connection.
        hub.control.send_to_group(GROUP, {"after": 1})
        d.wait_for(lambda e: e["event"] == "message" and e["data"] == {"after": 1}, 10)
        c = d.counters()
        self.assertEqual(c["connections"], 2)
        self.assertEqual(c["outbox"], 0)
        self.assertEqual(c["messages_out"], 11)
        self.assertEqual(d.of("dropped"), [])

    def test_half_open_link_is_replaced_within_interval_plus_timeout(self):
        interval, timeout = 1.0, 3.0
        hub = self.hub()
        d, cid = self.start_connected(hub, {"keepAliveIntervalSecs": str(interval),
                                            "keepAliveTimeoutSecs": str(timeout)})
        time.sleep(1.5)  # a few keepalive pings answered: no false death
        self.assertEqual(d.counters()["drops"], 0)
        mark = d.mark()
        t0 = time.monotonic()
        hub.control.silence(cid)
        # Traffic both ways while the link is silently dead.
        for n in range(5):
            d.send({"d": n})
            hub.control.send_to_group(GROUP, {"g": n})
        e = d.wait_event("connected", interval + timeout + 5, start=mark)
        replaced = e["t"] / 1000 - t0
        lost = d.wait_state("Recovering", 1, start=mark)
        detected = lost["t"] / 1000 - t0
        print("\n  silence detected after %.3f s, session recovered after %.3f s (interval %.0f s + timeout %.0f s)"
              % (detected, replaced, interval, timeout))
        self.assertEqual(e["connectionId"], cid)
        self.assertFalse(e["is_new"])
        self.assertLessEqual(replaced, interval + timeout + 0.3)
        # Nothing arrived for the timeout: at least timeout - interval after
        # the last pong, which came at most one interval before the silence.
        self.assertGreaterEqual(detected, timeout - interval - 0.1)
        self.assertIn("nothing received for too long", lost["reason"])
        got = d.wait_for(lambda e: e["event"] == "message" and e["data"] == {"g": 4}, 5)
        self.assertTrue(got)
        self.assertEqual([m["g"] for m in d.messages(mark) if "g" in m], list(range(5)))
        logged = hub.control.wait_for_messages(GROUP, 5, timeout=5,
                                               predicate=lambda m: "d" in m["data"] and m["outcome"] == "delivered")
        self.assertEqual([m["data"]["d"] for m in logged], list(range(5)))

    def test_hub_restart_gives_a_new_connection_and_traffic_resumes(self):
        hub = self.hub()
        d, old = self.start_connected(hub)
        mark = d.mark()
        t0 = time.monotonic()
        hub.control.restart(delay=0.5)
        connected = d.wait_event("connected", 15, start=mark, is_new=True)
        d.wait_event("joined", 10, start=mark)
        back = connected["t"] / 1000 - t0
        print("\n  new connection %.3f s after the restart began (hub down 0.5 s)" % back)
        self.assertNotEqual(connected["connectionId"], old)
        states = [(e["from"], e["to"]) for e in d.of("state", mark)]
        self.assertEqual(states[0], ("Connected", "Recovering"))
        print("  states after the restart: %s" % states)
        for n in range(3):
            d.send({"after_restart": n})
            hub.control.send_to_group(GROUP, {"to_device": n})
        logged = hub.control.wait_for_messages(GROUP, 3, timeout=10, predicate=lambda m: "after_restart" in m["data"])
        self.assertEqual([m["data"]["after_restart"] for m in logged], [0, 1, 2])
        d.wait_for(lambda e: e["event"] == "message" and e["data"] == {"to_device": 2}, 10)
        self.assertEqual([m["to_device"] for m in d.messages(mark) if "to_device" in m], [0, 1, 2])
        self.assertLess(back, 10)


if __name__ == "__main__":
    harness.main()
