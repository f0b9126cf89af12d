"""Short soak in the test command: the real agent through a few hundred
connect/drop cycles against the local hub (tests/support/agent_soak.py,
which the 10 000-cycle benchmark bench/soak runs too). Fails when resident
memory, open fds or threads grow over the second half, when a cycle does
not end Connected, when a drop is not recovered on the same session, or
when the agent does not exit 0 on SIGTERM with nothing from the sanitizers
(LeakSanitizer reports at exit).

    /usr/bin/python3 tests/integration/soak/test_soak.py --agent B/dunebugger-remote [--sanitized] [--cycles 400]

Thresholds (per 1000 cycles, least-squares slope over the second half,
200 cycles, 21 samples):
  memory  release: RssAnon (heap, stacks) 1024 KiB, VmRSS 2048 KiB. A leak
          of 1 KiB per cycle is 1000 KiB per 1000 cycles; an allocator step
          of h KiB in the middle of the window reads as 1.5 h / 200 cycles,
          so one 132 KiB heap extension stays under the bound. Measured
          without a leak: +94 KiB (VmRSS) over 400 cycles, 0 to +3 KiB per
          1000 cycles over 10 000.
          sanitized: 40960 KiB, with a 4 MiB quarantine (see below). ASan
          records the allocation and free stack of every block in its stack
          depot, which is never freed and keeps growing as new call paths
          appear: measured +13 500 (quarantine 0) to +16 800 KiB (4 MiB)
          per 1000 cycles, +1 200 with malloc_context_size=0. The release
          tree makes the memory check; in this tree LeakSanitizer does, at
          exit.
  fds     10 (one leaked socket per cycle is 1000), and the last sample at
          most 2 above the first (NATS and probe sockets come and go)
  threads 0 growth: the last sample equals the first"""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
import test_main  # noqa: E402
from agent_soak import print_result, run_soak  # noqa: E402

# Set by test_main.run from the command line (--agent, --sanitized,
# --cycles, --sample-every).
AGENT = SANITIZED = CYCLES = SAMPLE_EVERY = None

ANON_SLOPE_KIB = {False: 1024.0, True: 40960.0}
RSS_SLOPE_KIB = {False: 2048.0, True: 40960.0}
FD_SLOPE = 10.0


class ShortSoak(unittest.TestCase):
    def test_no_growth_over_cycles(self):
        env = {}
        if SANITIZED:
            # LeakSanitizer reports at exit, whatever the caller set. ASan
            # keeps freed blocks in a quarantine (256 MiB by default; the
            # agent frees about 770 KiB per cycle, so it fills over the
            # whole short run and reads as growth); 4 MiB still catches a
            # use after free within the cycle.
            env["ASAN_OPTIONS"] = (os.environ.get("ASAN_OPTIONS", "") +
                                   ":detect_leaks=1:quarantine_size_mb=4").lstrip(":")
        t0 = time.monotonic()
        r = run_soak(AGENT, CYCLES, sample_every=SAMPLE_EVERY, restart_every=CYCLES // 4,
                     agent_env=env)
        print_result(r)
        print("short soak took %.1f s" % (time.monotonic() - t0))
        self.assertEqual(sum(r["kinds"].values()), CYCLES)
        # Every kind of cycle happened.
        for kind in ("drop", "expire", "close", "close1008", "restart"):
            self.assertGreater(r["kinds"].get(kind, 0), 0, kind)
        self.assertEqual(r["anomalies"], [])
        # The hub agrees: every drop recovered, the others new connections.
        self.assertEqual(r["hub_counters"].get("recoveries", 0), r["kinds"]["drop"])
        self.assertGreaterEqual(r["hub_counters"]["connections_accepted"],
                                1 + CYCLES - r["kinds"]["drop"])
        self.assertEqual(r["exit_code"], 0)
        self.assertEqual(r["sanitizer_lines"], [])
        self.assertLessEqual(r["anon_kib"]["slope_per_1000_cycles"], ANON_SLOPE_KIB[SANITIZED],
                             "heap grows: %s" % r["anon_kib"])
        self.assertLessEqual(r["rss_kib"]["slope_per_1000_cycles"], RSS_SLOPE_KIB[SANITIZED],
                             "resident memory grows: %s" % r["rss_kib"])
        self.assertLessEqual(r["fds"]["slope_per_1000_cycles"], FD_SLOPE, "open fds grow: %s" % r["fds"])
        self.assertLessEqual(r["fds"]["last"], r["fds"]["first"] + 2, "open fds grow: %s" % r["fds"])
        self.assertEqual(r["threads"]["last"], r["threads"]["first"], "threads: %s" % r["threads"])


if __name__ == "__main__":
    test_main.run("agent", sanitized=dict(action="store_true", help="the agent is an ASan/UBSan build"),
                  cycles=dict(type=int, default=400), sample_every=dict(type=int, default=10))
