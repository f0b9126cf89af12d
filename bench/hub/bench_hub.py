"""Load figures for the hub as a process: N reliable clients, each in its own
group with one peer, exchanging acked messages. Not a test; prints figures.

    build/release/bench/hub/bench_hub --devices 500 --rounds 5
    /usr/bin/python3 bench/hub/bench_hub.py --devices 500 --rounds 5
"""
import argparse
import asyncio
import os
import statistics
import sys
import time

SUPPORT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "tests", "support"))
sys.path.insert(0, SUPPORT)

from hub_process import HubProcess  # noqa: E402
from proc_stats import cpu_seconds, rss_kib  # noqa: E402
from wps.client import WpsClient  # noqa: E402


def rss_mib(pid):
    return rss_kib(pid) / 1024.0


async def main(a):
    hub = HubProcess("--log-level", "warning")
    try:
        control = hub.control
        pid = hub.proc.pid
        url = control.token("bench")["url"]
        cpu0 = cpu_seconds(pid)
        t0 = time.monotonic()
        devices = []
        peers = []
        for i in range(a.devices):
            for bucket in (devices, peers):
                c = WpsClient(url, name="c%d" % i)
                await c.start()
                await c.join_group("dev-%d" % i)
                bucket.append(c)
        connect_s = time.monotonic() - t0
        print("connected+joined %d clients in %.2f s; hub RSS %.1f MiB, hub CPU %.2f s"
              % (2 * a.devices, connect_s, rss_mib(pid), cpu_seconds(pid) - cpu0))

        latencies = []

        async def one(i):
            for r in range(a.rounds):
                start = time.monotonic()
                await devices[i].send_to_group("dev-%d" % i, {"subject": "heartbeat", "body": "I am alive", "r": r},
                                               no_echo=True)
                msg = await peers[i].next_message(10)
                assert msg["data"]["r"] == r
                latencies.append(time.monotonic() - start)

        cpu1 = cpu_seconds(pid)
        t1 = time.monotonic()
        await asyncio.gather(*(one(i) for i in range(a.devices)))
        elapsed = time.monotonic() - t1
        n = len(latencies)
        latencies.sort()
        print("%d acked round trips in %.2f s (%.0f/s); latency median %.1f ms, p99 %.1f ms; hub CPU %.2f s"
              % (n, elapsed, n / elapsed, 1000 * statistics.median(latencies), 1000 * latencies[int(n * 0.99) - 1],
                 cpu_seconds(pid) - cpu1))
        print("hub RSS after traffic %.1f MiB" % rss_mib(pid))
        await asyncio.gather(*(c.stop() for c in devices + peers))
    finally:
        # The hub's warnings and errors go to its log file, which stop() deletes.
        log = hub.log_text()
        hub.stop()  # SIGTERM, then SIGKILL after 5 s
        if log.strip():
            sys.stderr.write(log)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--devices", type=int, default=500)
    p.add_argument("--rounds", type=int, default=5)
    asyncio.run(main(p.parse_args()))
