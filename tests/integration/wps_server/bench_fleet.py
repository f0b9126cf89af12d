"""Load figures for the hub as a process: N reliable clients, each in its own
group with one peer, exchanging acked messages. Not a test; prints figures.

    /usr/bin/python3 tests/integration/wps_server/bench_fleet.py --devices 500 --rounds 5
"""
import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time

SUPPORT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "support"))
sys.path.insert(0, SUPPORT)

from wps.client import WpsClient  # noqa: E402
from wps.control_client import ControlClient  # noqa: E402


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def main(a):
    hub = subprocess.Popen(["/usr/bin/python3", os.path.join(SUPPORT, "wps", "server.py"), "--port", "0",
                            "--control-port", "0", "--log-level", "warning"], stdout=subprocess.PIPE)
    try:
        ready = json.loads(hub.stdout.readline())
        control = ControlClient("http://127.0.0.1:%d" % ready["controlPort"])
        url = control.token("bench")["url"]
        cpu0 = cpu_seconds(hub.pid)
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
              % (2 * a.devices, connect_s, rss_mib(hub.pid), cpu_seconds(hub.pid) - cpu0))

        latencies = []

        async def one(i):
            for r in range(a.rounds):
                start = time.monotonic()
                await devices[i].send_to_group("dev-%d" % i, {"subject": "heartbeat", "body": "I am alive", "r": r},
                                               no_echo=True)
                msg = await peers[i].next_message(10)
                assert msg["data"]["r"] == r
                latencies.append(time.monotonic() - start)

        cpu1 = cpu_seconds(hub.pid)
        t1 = time.monotonic()
        await asyncio.gather(*(one(i) for i in range(a.devices)))
        elapsed = time.monotonic() - t1
        n = len(latencies)
        latencies.sort()
        print("%d acked round trips in %.2f s (%.0f/s); latency median %.1f ms, p99 %.1f ms; hub CPU %.2f s"
              % (n, elapsed, n / elapsed, 1000 * statistics.median(latencies), 1000 * latencies[int(n * 0.99) - 1],
                 cpu_seconds(hub.pid) - cpu1))
        print("hub RSS after traffic %.1f MiB" % rss_mib(hub.pid))
        await asyncio.gather(*(c.stop() for c in devices + peers))
    finally:
        hub.terminate()
        hub.wait(10)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--devices", type=int, default=500)
    p.add_argument("--rounds", type=int, default=5)
    asyncio.run(main(p.parse_args()))
