"""Checks that the reference agent (reference/agent.js) does the job it is
compared on, against the real hub, a real nats-server and the front-end
simulator, with short timings: join, "I am alive" on controller.heartbeat,
the heartbeat loop and its "Is anyone there?", core.* to NATS, NATS to the
group with the agent envelope, unknown NATS subjects dropped, probes to core
and scheduler. run-compare runs it before a series: a reference that does
less than its job would make the comparison meaningless.

    /usr/bin/python3 bench/compare/check_reference.py [--node node] [--reference agent.js]
Exit status 0 when every check passes."""
import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import compare  # noqa: E402  (also puts tests/support on sys.path)
from hub_process import HubProcess  # noqa: E402
from nats_peer import NatsPeer, NatsServer  # noqa: E402
from wps.frontend import FrontendSimulator  # noqa: E402

USER, GROUP = "reference-check", "reference-check"


async def run(node_binary, script):
    work = tempfile.mkdtemp(prefix="dbr-reference-check-")
    hub = HubProcess()
    try:
        nats = NatsServer.start_on_free_port(log_path=os.path.join(work, "nats.log"))
    except RuntimeError:
        hub.stop()
        raise
    log_path = os.path.join(work, "agent.log")
    with open(log_path, "w") as log:
        env = dict(os.environ, NODE_PATH=os.path.join(HERE, "reference", "node_modules"))
        agent = subprocess.Popen([node_binary, script, "--token-url",
                                  "http://127.0.0.1:%d/token" % hub.control_port, "--user", USER, "--group", GROUP,
                                  "--nats", nats.url, "--heartbeat-every", "1", "--loop-duration", "3",
                                  "--probe-every", "1"], stdout=subprocess.DEVNULL, stderr=log, env=env)
    fe = peer = None
    failures = []
    loop = asyncio.get_running_loop()

    def check(name, ok):
        print("%s %s" % ("ok  " if ok else "FAIL", name), flush=True)
        if not ok:
            failures.append(name)

    try:
        peer = NatsPeer(nats.port, name="core")
        peer.sub("dunebugger.core.*")
        peer.sub("dunebugger.scheduler.*")
        joined, _ = await compare.poll_state(hub, lambda s: compare.agent_in_group(s, USER, GROUP), 20, 0.05)
        check("joins its group", joined is not None)
        # The broadcast follows the join: it may reach the hub's log a little after the agent shows in its group.
        asking = await compare.control(
            hub, "wait_for_messages", GROUP, 1, 5.0,
            lambda m: m["data"] == compare_envelope("heartbeat", "Is anyone there?") and m["noEcho"])
        check("broadcasts 'Is anyone there?' after joining", len(asking) >= 1)

        async def url():
            return (await compare.control(hub, "token", "frontend"))["url"]
        fe = FrontendSimulator(url, GROUP)
        await fe.start()
        # start() sent controller.heartbeat "I am here"; any heartbeat marks the
        # device online, so wait for the answer itself.
        try:
            await fe.wait_for("heartbeat", 5, lambda d: d.get("body") == "I am alive")
            check("answers controller.heartbeat with 'I am alive'", True)
        except asyncio.TimeoutError:
            check("answers controller.heartbeat with 'I am alive'", False)

        await fe.request("core.refresh_gpios", "null")
        await fe.request("scheduler.refresh", "null")
        got = {}
        for subject in ("dunebugger.core.refresh_gpios", "dunebugger.scheduler.refresh"):
            try:
                got[subject] = (await loop.run_in_executor(None, lambda s=subject: peer.next(5, s)))[2]
            except TimeoutError:
                got[subject] = None
        check("forwards core.* to NATS as {subject, body, connectionId}",
              got["dunebugger.core.refresh_gpios"] == {"subject": "refresh_gpios", "body": "null",
                                                       "connectionId": fe.connection_id})
        check("forwards scheduler.* to NATS", (got["dunebugger.scheduler.refresh"] or {}).get("subject") == "refresh")

        peer.pub("dunebugger.remote.bogus", {"body": 0, "subject": "bogus", "source": "core"})
        peer.pub("dunebugger.remote.gpio_state", {"body": [{"pin": 4}], "subject": "gpio_state", "source": "core"})
        try:
            relayed = await fe.wait_for("gpio_state", 5)
        except asyncio.TimeoutError:
            relayed = None
        check("relays NATS gpio_state to the group in the agent envelope",
              relayed == compare_envelope("gpio_state", [{"pin": 4}]))
        check("drops unknown NATS subjects", not any(d.get("subject") == "bogus" for d in fe.received))

        probes = set()
        for _ in range(2):
            try:
                probes.add((await loop.run_in_executor(None, lambda: peer.next(5, None)))[1])
            except TimeoutError:
                break
        check("probes core and scheduler", {"dunebugger.core.heartbeat", "dunebugger.scheduler.heartbeat"} <= probes)

        await asyncio.sleep(4.5)  # past the 3 s loop duration
        bodies = [d["body"] for d in fe.received if d.get("subject") == "heartbeat"]
        check("heartbeat loop: more 'I am alive' after the first", bodies.count("I am alive") >= 3)
        check("heartbeat loop ends with 'Is anyone there?'", "Is anyone there?" in bodies)
    finally:
        if fe is not None:
            await fe.stop()
        if peer is not None:
            peer.close()
        code = compare.stop_process(agent)
        nats.stop()
        hub.stop()
    check("stops with exit code 0 on SIGTERM", code == 0)
    if failures:
        print("reference agent log: %s" % log_path)
    else:
        shutil.rmtree(work, ignore_errors=True)
    return len(failures)


def compare_envelope(subject, body):
    return {"body": body, "subject": subject, "source": "controller", "destination": "broadcast"}


def main():
    p = argparse.ArgumentParser(description="Checks the reference agent's job.")
    p.add_argument("--node", default="node")
    p.add_argument("--reference", default=compare.REFERENCE_AGENT,
                   help="the agent script (a changed copy shows that the checks can fail)")
    a = p.parse_args()
    failed = asyncio.run(run(a.node, a.reference))
    print("reference agent: %s" % ("all checks passed" if not failed else "%d check(s) failed" % failed))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
