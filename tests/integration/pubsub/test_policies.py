"""pubsub::Client's retry policies against the local hub's refusal faults:
401 (one immediate retry, then reconnectMaxDelaySecs apart, one ERROR),
503 with Retry-After, 5xx on the backoff, a long refusal (cap and jitter),
and the internet gate (offline: no attempts; settle after offline->online).

Gaps are measured in the driver's own events: from the failure (the state
change into BackingOff) to the next attempt (BackingOff -> Connecting)."""
import re
import time

import harness
from harness import PubsubTestCase, config_text, connection_string

INITIAL, MAXIMUM, JITTER = 0.2, 2.0, 0.3
# Scheduling margins: timers fire a little late on a loaded machine, and the
# failure's event is printed a little after the loop's `now` was sampled.
EARLY, LATE = 0.02, 0.15


def nominal(k):
    """The backoff after the k-th consecutive failure (k from 1)."""
    return min(INITIAL * 2 ** (k - 1), MAXIMUM)


def backoff_gaps(events):
    """(failure time, next attempt time, stated delay) for each BackingOff."""
    out = []
    pending = None
    for e in events:
        if e["event"] != "state":
            continue
        if e["to"] == "BackingOff":
            m = re.search(r"retrying in ([0-9.]+) s", e["reason"])
            pending = (e["t"] / 1000, float(m.group(1)) if m else None)
        elif e["from"] == "BackingOff" and e["to"] == "Connecting" and pending:
            out.append((pending[0], e["t"] / 1000, pending[1]))
            pending = None
    return out


class Policies(PubsubTestCase):
    def config(self, hub, **keys):
        ws = {"connectionString": connection_string(hub), "reconnectInitialDelaySecs": str(INITIAL),
              "reconnectMaxDelaySecs": str(MAXIMUM), "reconnectJitter": str(JITTER)}
        ws.update(keys)
        return config_text(ws)

    def assert_gap_within(self, gap, d, what):
        self.assertGreaterEqual(gap, d * (1 - JITTER) - EARLY, what)
        self.assertLessEqual(gap, d * (1 + JITTER) + LATE, what)

    def test_401_one_immediate_retry_then_the_max_delay_and_one_error(self):
        hub = self.hub()
        max_delay = 1.5
        hub.control.refuse(401, count=4, only="new")
        t0 = time.monotonic()
        d = self.driver(self.config(hub, reconnectMaxDelaySecs=str(max_delay)))
        d.wait_event("connected", 15)
        refused = [t for t, _ in hub.log_lines("upgrade refused by fault hook with 401", since=t0)]
        accepted = [t for t, _ in hub.log_lines(" protocol=json", since=t0)]
        attempts = refused + accepted[:1]
        g = harness.gaps(attempts)
        print("\n  attempt gaps at the hub: %s s" % ["%.3f" % x for x in g])
        self.assertEqual(len(refused), 4)
        self.assertLess(g[0], 0.3, "the first 401 gets one immediate retry")
        for x in g[1:]:
            self.assertGreaterEqual(x, max_delay - EARLY)
            self.assertLessEqual(x, max_delay + LATE, "exactly reconnectMaxDelaySecs, no jitter")
        states = [(e["from"], e["to"]) for e in d.of("state")]
        self.assertIn(("Connecting", "Connecting"), states)
        errors = d.wait_log_lines("credentials refused (HTTP 401)")
        self.assertEqual(len(errors), 1, errors)
        self.assertIn(" error ", errors[0])
        c = d.counters()
        self.assertEqual(c["attempts"], 5)
        self.assertEqual(c["connections"], 1)

    def test_503_with_retry_after_waits_at_least_that_long(self):
        hub = self.hub()
        hub.control.refuse(503, retry_after=2, count=1, only="new")
        d = self.driver(self.config(hub))
        d.wait_event("connected", 15)
        (failed, attempt, stated), = backoff_gaps(d.events)
        print("\n  503 with Retry-After: 2 -> next attempt after %.3f s" % (attempt - failed))
        self.assertGreaterEqual(attempt - failed, 2.0 - EARLY)
        self.assertLessEqual(attempt - failed, 2.0 + LATE)
        self.assertEqual(stated, 2.0)
        self.assertTrue(d.wait_log_lines("HTTP 503 (retry after 2 s)"))

    def test_5xx_without_retry_after_follows_the_backoff(self):
        hub = self.hub()
        hub.control.refuse(502, count=3, only="new")
        d = self.driver(self.config(hub))
        d.wait_event("connected", 15)
        found = backoff_gaps(d.events)
        print("\n  502 x3: gaps %s s" % ["%.3f" % (b - a) for a, b, _ in found])
        self.assertEqual(len(found), 3)
        for k, (failed, attempt, _) in enumerate(found, start=1):
            self.assert_gap_within(attempt - failed, nominal(k), "gap after failure %d" % k)
        self.assertEqual(d.of("check_internet"), [], "an HTTP answer proves the path works")

    def test_long_refusal_follows_backoff_with_cap_and_jitter(self):
        hub = self.hub()
        refusing = 20.0
        hub.control.refuse(500, for_seconds=refusing, only="new")
        t0 = time.monotonic()
        d = self.driver(self.config(hub))
        d.wait_event("connected", refusing + MAXIMUM * (1 + JITTER) + 10)
        up = time.monotonic() - t0
        found = backoff_gaps(d.events)
        gaps = [b - a for a, b, _ in found]
        print("\n  refused for %.0f s: %d failures, connected after %.1f s; gaps %s s"
              % (refusing, len(found), up, ["%.2f" % x for x in gaps]))
        self.assertGreaterEqual(len(found), 10)
        for k, (failed, attempt, stated) in enumerate(found, start=1):
            self.assert_gap_within(attempt - failed, nominal(k), "gap after failure %d" % k)
            self.assertAlmostEqual(attempt - failed, stated, delta=0.1 + LATE)
        at_cap = [b - a for (a, b, _), k in zip(found, range(1, len(found) + 1)) if nominal(k) == MAXIMUM]
        self.assertGreaterEqual(len(at_cap), 6)
        self.assertGreater(max(at_cap) - min(at_cap), 0.1, "the delays at the cap are jittered")
        self.assertEqual(len(hub.log_lines("upgrade refused by fault hook with 500", since=t0)), len(found))
        # The outage log: a WARNING for the first failure, then every 10th
        # attempt; one INFO when connected again.
        warnings = d.wait_log_lines("HTTP 500")
        self.assertGreaterEqual(len(warnings), 1)
        self.assertLessEqual(len(warnings), 1 + len(found) // 10 + 1)
        self.assertEqual(len(d.wait_log_lines("Web PubSub connected again after")), 1)

    def test_offline_means_no_attempt_and_settle_after_offline(self):
        hub = self.hub()
        settle = 1.0
        d = self.driver(self.config(hub, networkSettleSecs=str(settle)), online=False)
        d.wait_event("started", 10)
        time.sleep(1.5)
        d.internet(False)
        time.sleep(0.5)
        c = d.counters()
        self.assertEqual(c["attempts"], 0)
        self.assertEqual(c["state"], "WaitingForInternet")
        counters = hub.counters()
        self.assertEqual([k for k in counters if k.startswith(("connections", "rejected", "refused"))], [],
                         "the hub saw no connection attempt: %s" % counters)
        self.assertEqual(hub.log_lines(" protocol=json"), [])
        mark = d.mark()
        t_online = harness.monotonic_ms() / 1000
        d.internet(True)
        settling = d.wait_state("Settling", 5, start=mark)
        connecting = d.wait_state("Connecting", settle + 5, start=mark)
        d.wait_event("connected", 10, start=mark)
        waited = connecting["t"] / 1000 - t_online
        print("\n  offline -> online: attempt after %.3f s (networkSettleSecs %.1f)" % (waited, settle))
        self.assertGreaterEqual(connecting["t"] - settling["t"], settle * 1000 - EARLY * 1000)
        self.assertLessEqual(waited, settle + LATE + 0.1)
        # An open connection outlives an offline report: it is the best proof
        # of internet.
        mark = d.mark()
        d.internet(False)
        time.sleep(0.5)
        self.assertEqual(d.of("state", mark), [])
        self.assertEqual(d.counters()["state"], "Connected")

    def test_first_online_report_attempts_at_once(self):
        hub = self.hub()
        d = self.driver(self.config(hub, networkSettleSecs="3"), online=False)
        d.wait_event("started", 10)
        time.sleep(0.5)
        self.assertEqual(d.counters()["attempts"], 0)
        t_online = harness.monotonic_ms() / 1000
        d.internet(True)
        connecting = d.wait_state("Connecting", 5)
        d.wait_event("connected", 10)
        print("\n  first online report -> attempt after %.3f s" % (connecting["t"] / 1000 - t_online))
        self.assertLess(connecting["t"] / 1000 - t_online, 0.5, "no settle delay for the first report")


if __name__ == "__main__":
    harness.main()
