"""100 forced abrupt drops on the reliable protocol with continuous numbered
traffic both ways: every message arrives exactly once, in order, and every
drop is recovered on the same session.

Each cycle: 100-200 ms of traffic on the recovered link, then /fault/drop.
The client starts recovery attempts at most once a second (docs/pubsub.md,
"never more often than once a second start to start"), so a cycle takes
about a second and the link is down for most of it: the device's outbox
and the hub's replay buffer both carry traffic across every drop."""
import random
import statistics
import time

import harness
from harness import DriverTraffic, PubsubTestCase

DROPS = 100


class Soak(PubsubTestCase):
    def test_100_abrupt_drops_with_traffic_both_ways(self):
        # Device and control messages both go to the hub's message log.
        hub = self.hub(message_log_limit=50000)
        d, cid = self.start_connected(hub)
        rng = random.Random(5)
        traffic = self.track(DriverTraffic(hub, d, period=0.02)).start()
        started = time.monotonic()
        down_for = []
        for i in range(DROPS):
            time.sleep(rng.uniform(0.1, 0.2))
            mark = d.mark()
            t0 = time.monotonic()
            self.assertEqual(hub.control.drop(cid)["dropped"], 1, "drop %d" % i)
            e = d.wait_event("connected", 10, start=mark)
            self.assertEqual(e["connectionId"], cid, "drop %d: recovered the same session" % i)
            self.assertFalse(e["is_new"])
            down_for.append(e["t"] / 1000 - t0)
        time.sleep(0.2)
        traffic.stop()
        elapsed = time.monotonic() - started
        figures = traffic.verify(self, timeout=30)
        c = d.counters()
        print("\n  %d drops in %.1f s: %s; link down per drop: min %.3f s, median %.3f s, max %.3f s; "
              "driver: recoveries %d, recovery attempts %d, resends %d, duplicates_in %d"
              % (DROPS, elapsed, figures, min(down_for), statistics.median(down_for), max(down_for),
                 c["recoveries"], c["recovery_attempts"], c["resends"], c["duplicates_in"]))
        self.assertEqual(c["connections"], 1)
        self.assertEqual(c["recoveries"], DROPS)
        self.assertEqual(c["drops"], DROPS)
        self.assertEqual(c["recovery_attempts"], DROPS, "each drop needed one attempt")
        self.assertEqual(c["outbox_drops"], 0)
        self.assertEqual(c["malformed_frames"], 0)
        self.assertEqual(c["unexpected_inputs"], 0)
        self.assertEqual(d.of("dropped"), [])
        self.assertEqual(hub.counters().get("recoveries"), DROPS)
        self.assertEqual(hub.counters().get("connections_accepted"), 1)
        self.assertGreater(figures["device_to_group"], 20 * DROPS)
        self.assertGreater(figures["group_to_device"], 20 * DROPS)
        # The recovery pacing: never a second recovery attempt within 1 s.
        self.assertLess(max(down_for), 1.5)


if __name__ == "__main__":
    harness.main()
