"""Bounded under the unit's limits: the agent's peak memory with every
bound reached at once.

Starts the local hub (tests/support/wps), a nats-server and the real agent
with the shipped config and the unit's environment (as bench/floor does),
in a private network namespace with only loopback (unless --shared-net).
Once the agent has joined its group and NATS is up:

  - the hub holds back every ack (POST /fault/delay_acks), so what the agent
    relays to the group stays in its outbox until the bound
    (outboxMaxMessages, 1000 by default) drops the oldest ("outbox full");
  - a NATS publisher floods dunebugger.remote.playing_time as fast as one
    TCP connection takes it (--flood-seconds), --payload-bytes each, so the
    bridge's inbox (1024 messages) fills and drops the oldest ("NATS inbox
    full");
  - during the flood, with the outbox full, the hub sends the group one
    WebSocket message of --frame-bytes (2 MiB; the agent's bound is
    maxMessageBytes, 1 MiB: it must close with 1009 and reconnect).

It samples VmRSS and the thread count every 50 ms and prints, per repeat,
the peak (VmHWM), the largest VmRSS and thread count sampled, and which
bounds the agent's log shows were reached; then min / median / max.
The unit's limits (MemoryMax=64M, TasksMax=32) are compared with, not
enforced: this machine's cgroup tree is not ours to change.

    /usr/bin/python3 bench/bounds/bounds.py --agent build/release/src/dunebugger-remote \\
        [--repeats 3] [--payload-bytes 4096] [--flood-seconds 20] [--json FILE]

Every wait has a timeout; every process it starts is stopped on every path.
"""
import argparse
import asyncio
import json
import os
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "support"))
sys.path.insert(0, os.path.join(TOP, "bench", "compare"))
sys.path.insert(0, os.path.join(TOP, "bench", "floor"))

from agent_process import AgentProcess  # noqa: E402
from compare import agent_in_group, cpp_config, runtime_directory, unit_environment  # noqa: E402
from hub_process import HubProcess  # noqa: E402
from idle_floor import spread, status_file, stop_all, wait_until  # noqa: E402
from nats_peer import NatsPeer, NatsServer  # noqa: E402
from netlab import reexec_in_private_netns  # noqa: E402
from proc_stats import memory_kib, thread_count  # noqa: E402
from wps.client import WpsClient  # noqa: E402

USER = GROUP = "bench-bounds"
MEMORY_MAX_MIB = 64   # the unit's MemoryMax=64M
TASKS_MAX = 32        # the unit's TasksMax=32
PEAK_GOAL_MIB = 32    # issue 15: peak RSS under 32 MiB with every bound reached
# What the agent logs when a bound is reached (src/pubsub/core/session.cpp,
# src/bus/nats_bridge.cpp). The big message's bound shows in the hub's log:
# the agent's connection is lost after the hub sends (or replays) it.
BOUND_MARKERS = {"outbox": "outbox full", "nats_inbox": "NATS inbox full"}


class Sampler(threading.Thread):
    """VmRSS and thread count of `pid` every `interval` s, keeping the largest."""

    def __init__(self, pid, interval=0.05):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.max_rss_kib = 0
        self.max_threads = 0
        self.stop_event = threading.Event()

    def run(self):
        while not self.stop_event.is_set():
            try:
                self.max_rss_kib = max(self.max_rss_kib, memory_kib(self.pid)["rss"])
                self.max_threads = max(self.max_threads, thread_count(self.pid))
            except (OSError, KeyError):
                return
            self.stop_event.wait(self.interval)


def flood(port, seconds, payload_bytes, counter):
    """Publishes playing_time messages of `payload_bytes` for `seconds`, as fast
    as the socket takes them; counts them in counter[0]."""
    peer = NatsPeer(port, name="flood")
    try:
        pad = "x" * max(0, payload_bytes - 64)
        deadline = time.monotonic() + seconds
        n = 0
        while time.monotonic() < deadline:
            n += 1
            peer.pub("dunebugger.remote.playing_time",
                     json.dumps({"body": n, "subject": "playing_time", "source": "core", "pad": pad}).encode())
            counter[0] = n
        peer.flush(timeout=30)
    finally:
        peer.close()


def send_big_message(hub, size):
    """A front end sends the group one text message of `size` bytes, which the
    hub relays to the agent in one WebSocket frame. It does not join (its
    role allows sending): the flood relayed to the group is not for it."""
    async def go():
        client = WpsClient(hub.control.token("bench-frontend")["url"], name="big")
        await client.start()
        try:
            await client.wait_connected(10)
            await client.send_to_group(GROUP, "y" * size, data_type="text", no_echo=True, timeout=30)
        finally:
            await client.stop()
    asyncio.run(asyncio.wait_for(go(), 60))


def run_once(a, work):
    # The hub's own frame bound raised above the big message, so that it is
    # the agent's bound (maxMessageBytes) that is tested.
    hub = HubProcess("--max-frame-bytes", str(2 * a.frame_bytes), directory=work)
    nats = None
    agent = None
    runtime = None
    sampler = None
    try:
        nats = NatsServer.start_on_free_port(monitor=True, log_path=os.path.join(work, "nats.log"))
        config_text, _ = cpp_config(hub, nats, USER, GROUP)
        runtime = runtime_directory("dbr-bounds-run-")
        agent = AgentProcess(a.agent, config_text, notify=True, stderr_file=True,
                             env=dict(unit_environment(), RUNTIME_DIRECTORY=runtime))
        session = wait_until(lambda: agent_in_group(hub.control.state(), USER, GROUP), 30, "joined")
        wait_until(lambda: (status_file(runtime) or {}).get("nats_connected"), 30, "NATS connected")
        pid = agent.proc.pid
        idle = memory_kib(pid)
        sampler = Sampler(pid)
        sampler.start()
        hub.control.delay_acks(seconds=600, count=10 ** 9, connection_id=session["connectionId"])
        published = [0]
        flooder = threading.Thread(target=flood, args=(nats.port, a.flood_seconds, a.payload_bytes, published),
                                   daemon=True)
        flooder.start()
        time.sleep(a.flood_seconds / 2)  # the outbox is full by then (1000 messages)
        send_big_message(hub, a.frame_bytes)
        flooder.join(a.flood_seconds + 60)
        time.sleep(a.settle)
        if agent.proc.poll() is not None:
            raise RuntimeError("the agent exited (code %s)" % agent.proc.returncode)
        end = memory_kib(pid)
        sampler.stop_event.set()
        sampler.join(5)
        log = "\n".join(agent.output())
        reached = {k: (m in log) for k, m in BOUND_MARKERS.items()}
        hub_log = hub.log_text()
        after_big = hub_log[hub_log.find("user=bench-frontend"):] if "user=bench-frontend" in hub_log else ""
        reached["frame"] = ("connection %s lost" % session["connectionId"]) in after_big
        return {"published": published[0], "payload_bytes": a.payload_bytes, "frame_bytes": a.frame_bytes,
                "idle_kib": idle, "end_kib": end, "hwm_kib": end["hwm"], "max_rss_sampled_kib": sampler.max_rss_kib,
                "max_threads": sampler.max_threads,
                "bounds_reached": reached}
    finally:
        if sampler is not None:
            sampler.stop_event.set()
        stop_all(work, agent, nats, hub, runtime)

def summarize(runs):
    mib = lambda kib: kib / 1024  # noqa: E731
    hwm = [mib(r["hwm_kib"]) for r in runs]
    reached = {k: all(r["bounds_reached"][k] for r in runs) for k in runs[0]["bounds_reached"]}
    lines = [
        "%d repeat(s) (min / median / max); payload %d B per NATS message, one %d B WebSocket message." % (
            len(runs), runs[0]["payload_bytes"], runs[0]["frame_bytes"]),
        "",
        "| figure | value | limit |", "|---|---:|---:|",
        "| idle VmRSS before, MiB | %s | |" % spread([mib(r["idle_kib"]["rss"]) for r in runs], 2),
        "| NATS messages published | %s | |" % spread([r["published"] for r in runs], 0),
        "| **peak RSS (VmHWM), MiB** | **%s** | %d (goal), %d (MemoryMax) |" % (spread(hwm, 2), PEAK_GOAL_MIB,
                                                                              MEMORY_MAX_MIB),
        "| largest VmRSS sampled (50 ms), MiB | %s | |" % spread([mib(r["max_rss_sampled_kib"]) for r in runs], 2),
        "| RssAnon at the end, MiB | %s | |" % spread([mib(r["end_kib"]["anon"]) for r in runs], 2),
        "| largest thread count sampled | %s | %d (TasksMax) |" % (spread([r["max_threads"] for r in runs], 0),
                                                                  TASKS_MAX),
        "",
"bounds reached in every repeat (agent's and hub's logs): %s" % ", ".join(
            "%s %s" % (k, "yes" if v else "NO") for k, v in reached.items()),
    ]
    return "\n".join(lines) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--agent", required=True)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--payload-bytes", type=int, default=4096, help="size of each NATS message (default 4096)")
    p.add_argument("--frame-bytes", type=int, default=2 * 1024 * 1024, help="the hub's big message (2 MiB)")
    p.add_argument("--flood-seconds", type=float, default=20.0)
    p.add_argument("--settle", type=float, default=5.0, help="seconds after the flood before the last reading")
    p.add_argument("--json", help="also write the raw figures here")
    p.add_argument("--out-dir", help="keep the logs (agent, hub, nats) here (default: a temp dir, removed)")
    p.add_argument("--shared-net", action="store_true", help="stay in this network namespace")
    a = p.parse_args(argv)
    if not a.shared_net:
        reexec_in_private_netns()
    a.agent = os.path.abspath(a.agent)
    runs = []
    with tempfile.TemporaryDirectory(prefix="dbr-bounds-") as temp:
        work = a.out_dir or temp
        for i in range(a.repeats):
            d = os.path.join(work, "run-%d" % (i + 1))
            os.makedirs(d, exist_ok=True)
            runs.append(run_once(a, d))
            print("bounds: repeat %d: %s" % (i + 1, json.dumps(runs[-1])), flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(runs, f, indent=1)
    sys.stdout.write(summarize(runs))
    # The outbox and the big message must reach their bounds; whether the
    # inbox does depends on how fast one publisher can go (reported above).
    reached = all(r["bounds_reached"]["outbox"] and r["bounds_reached"]["frame"] for r in runs)
    return 0 if reached else 1


if __name__ == "__main__":
    raise SystemExit(main())
