"""End-to-end harness (tests/integration/app, tests/packages): the REAL
agent binary between the project's Web PubSub test hub (a process, driven
through its control API), a real nats-server, NATS peers playing core and
scheduler, and a front end (FrontendSimulator or a raw WpsClient) on an
asyncio loop of its own.

Run with Debian's /usr/bin/python3. Every wait has a timeout; every process,
socket and temp dir a test starts is ended in its cleanups, on every path.
After each test the agent's stderr is checked for secrets and the agent must
exit 0 within 2 s of SIGTERM (E2ETestCase.stop_agent_and_check)."""
import asyncio
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)

import hub_process  # noqa: E402
import test_main  # noqa: E402
from agent_process import AgentProcess  # noqa: E402
from hub_process import ACCESS_KEY  # noqa: E402
from nats_peer import NatsPeer, NatsServer  # noqa: E402
from netlab import free_port  # noqa: E402
from wps.client import WpsClient  # noqa: E402
from wps.frontend import FrontendSimulator  # noqa: E402
GROUP = "e2e-crib"
DEVICE_ID = "e2e-device"
LOCATION = "e2e bench"
ROOT = "dunebugger"

AGENT = None  # the binary, set by main() from --agent

# A signed JWT anywhere (header and payload are base64url JSON: "eyJ").
JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}")
# A secret-bearing key whose value is not the redaction mask "***".
UNMASKED_RE = re.compile(r"(access_token|awps_reconnection_token|reconnectionToken|AccessKey)"
                         r"(=|\"\s*:\s*\")(?!\*\*\*)[A-Za-z0-9_\-.%]{6,}")


def envelope(subject, body):
    """Agent -> group (dunebugger-protocol.md §1.1)."""
    return {"body": body, "subject": subject, "source": "controller", "destination": "broadcast"}


class HubProcess(hub_process.HubProcess):
    """The hub as a process (tests/support/hub_process.py), plus what the
    end-to-end tests ask it about the agent."""

    def __init__(self, directory, timeout=10.0):
        super().__init__(directory=directory, timeout=timeout)

    def agent_session(self, user_id=DEVICE_ID):
        for s in self.control.state()["sessions"]:
            if s["userId"] == user_id and s["attached"]:
                return s
        return None

    def agent_messages(self, since=0):
        """Group messages the agent sent (hub log), after index `since`."""
        batch = self.control.messages(GROUP, since)
        return [m for m in batch["messages"] if isinstance(m["data"], dict)
                and m["data"].get("source") == "controller"], batch["last"]


    def wait_agent_messages(self, count, timeout, since=0, predicate=None):
        """Polls the hub's log until `count` agent messages (matching
        `predicate`) came after index `since`; returns all agent messages then.
        The control API may be briefly away while the hub restarts."""
        deadline = time.monotonic() + timeout
        sent = []
        while True:
            try:
                sent, _ = self.agent_messages(since)
            except OSError:
                pass
            if len([m for m in sent if predicate is None or predicate(m)]) >= count:
                return sent
            if time.monotonic() >= deadline:
                return sent
            time.sleep(0.05)


class AsyncThread:
    """An asyncio loop on its own thread, so a synchronous test can block on
    NATS while the front end keeps reading its WebSocket."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="frontend-loop", daemon=True)
        self.thread.start()

    def run(self, coro, timeout=30):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call(self, fn, *args, timeout=10):
        """Runs a plain function on the loop thread (the front end's state lives there)."""
        async def wrapper():
            return fn(*args)
        return self.run(wrapper(), timeout)

    def close(self):
        async def cancel_all():
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()
        try:
            self.run(cancel_all(), 5)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)
            self.loop.close()


def agent_config(hub_port, nats_port, **overrides):
    """The agent's config: the local hub by connection string, its /health as
    the internet probe, short timings. overrides: key = value (None removes)."""
    sections = {
        "General": {"deviceId": DEVICE_ID, "locationDescription": LOCATION},
        "Websocket": {
            "groupName": GROUP,
            "hub": "dunebugger",
            "connectionString": "Endpoint=http://127.0.0.1:%d;AccessKey=%s;Version=1.0" % (hub_port, ACCESS_KEY),
            "probeUrl": "http://127.0.0.1:%d/health" % hub_port,
            "broadcastInitialState": "True",
            "heartBeatEverySecs": "2",
            "heartBeatLoopDurationSecs": "60",
            "networkSettleSecs": "0",
            # The probe is the hub's /health: a hub restart reads as "offline"
            # until the next check.
            "connectionIntervalSecs": "1",
            "reconnectInitialDelaySecs": "0.2",
            "reconnectMaxDelaySecs": "1",
            "reconnectJitter": "0",
            "outboxMaxMessages": "1000",
        },
        "MessageQueue": {
            "mQueueServers": "nats://127.0.0.1:%d" % nats_port,
            "componentHeartbeatSecs": "1",
            "componentTtlSecs": "3",
        },
        # No NTP server from the internet in a test: the discard port on
        # loopback answers nothing (a test that wants NTP sets its own).
        "NTP": {"ntpServers": "127.0.0.1:9", "ntpCheckIntervalSecs": "30", "ntpTimeout": "1"},
        "Log": {"dunebuggerLogLevel": "DEBUG"},
    }
    for key, value in overrides.items():
        for section in sections.values():
            if key in section:
                if value is None:
                    del section[key]
                else:
                    section[key] = str(value)
                break
        else:
            raise KeyError("unknown config key in the test: %s" % key)
    out = []
    for name, keys in sections.items():
        out.append("[%s]" % name)
        out += ["%s = %s" % kv for kv in keys.items()]
    return "\n".join(out) + "\n"


class E2ETestCase(unittest.TestCase):
    """Starts the pieces a test asks for; cleanups stop them in reverse order
    (the agent first, while its peers are still up).

    `agent_prefix` and `agent_binary` let a subclass run another build of the
    agent, e.g. an installed package's binary in a chroot under qemu-user
    (tests/packages/test_smoke_qemu.py); by default AGENT runs directly."""
    agent_prefix = ()
    agent_binary = None

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="dbr-e2e-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.hub = None
        self.nats = None
        self.agent = None
        self.aio = AsyncThread()
        self.addCleanup(self.aio.close)

    # ------------------------------------------------------------ pieces

    def start_hub(self):
        self.hub = HubProcess(self.dir)
        self.addCleanup(self.hub.stop)
        return self.hub

    def start_nats(self, port=None):
        server = NatsServer(port).start() if port else NatsServer.start_on_free_port()
        self.addCleanup(server.stop)
        self.nats = server
        return server

    def start_agent(self, nats_port=None, wait_joined=True, **overrides):
        run_dir = os.path.join(self.dir, "run")
        os.makedirs(run_dir, exist_ok=True)
        text = agent_config(self.hub.port, nats_port or self.nats.port, **overrides)
        # The config holds the access key: mode 0600, as the agent asks.
        umask = os.umask(0o077)
        try:
            self.agent = AgentProcess(self.agent_binary or AGENT, text, env={"RUNTIME_DIRECTORY": run_dir},
                                      prefix=self.agent_prefix)
        finally:
            os.umask(umask)
        self.addCleanup(self.agent.close)
        self.addCleanup(self.stop_agent_and_check)
        if wait_joined:
            self.wait_log("joined group", 20)
            if overrides.get("broadcastInitialState", "True") != "False":
                # The join's "Is anyone there?" and system_info have passed the
                # hub before a test's front end joins: it never sees them, on
                # a loaded machine too.
                joined = self.hub.wait_agent_messages(2, 10)
                self.assertEqual([m["data"]["subject"] for m in joined][:2], ["heartbeat", "system_info"])
        return self.agent

    def peer(self, name="peer", subscribe=()):
        p = NatsPeer(self.nats.port, name=name)
        self.addCleanup(p.close)
        for subject in subscribe:
            p.sub(subject)
        return p

    def frontend(self, **kwargs):
        """A FrontendSimulator, connected, joined and with its "I am here" sent."""
        fe = FrontendSimulator(self.token_source("frontend"), GROUP, **kwargs)
        self.aio.run(fe.start())
        self.addCleanup(lambda: self.aio.run(fe.stop(), 10))
        return fe

    def raw_client(self, user="raw-frontend", **kwargs):
        """A bare reliable-protocol client (no automatic answers), joined to the group."""
        client = WpsClient(self.token_source(user), name=user, **kwargs)
        self.aio.run(client.start())
        self.addCleanup(lambda: self.aio.run(client.stop(), 10))
        self.aio.run(client.join_group(GROUP))
        return client

    def token_source(self, user):
        control = self.hub.control

        async def fetch():
            result = await asyncio.get_running_loop().run_in_executor(None, lambda: control.token(user))
            return result["url"]
        return fetch

    # ------------------------------------------------------------ checks

    def wait_log(self, fragment, timeout):
        line = self.agent.wait_for_line(fragment, timeout)
        if line is None:
            self.fail("no agent log line with %r within %s s; tail:\n%s"
                      % (fragment, timeout, "\n".join(self.agent.output()[-40:])))
        return line

    def log_count(self, fragment):
        return sum(1 for line in self.agent.output() if fragment in line)

    def assert_agent_alive(self):
        self.assertIsNone(self.agent.proc.poll(), "the agent exited:\n" + "\n".join(self.agent.output()[-40:]))

    def stop_agent_and_check(self):
        """After every test: SIGTERM -> exit 0 within 2 s; no secret in stderr."""
        if self.agent.proc.poll() is not None:
            self.fail("the agent had exited with %s before the test ended; tail:\n%s"
                      % (self.agent.proc.returncode, "\n".join(self.agent.output()[-40:])))
        code, seconds = self.agent.stop(timeout=10)
        text = "\n".join(self.agent.output())
        self.assertEqual(code, 0, "agent exit code; tail:\n" + "\n".join(self.agent.output()[-40:]))
        self.assertLess(seconds, 2.0, "the agent took %.2f s to exit after SIGTERM; tail:\n%s"
                        % (seconds, "\n".join(self.agent.output()[-25:])))
        self.assertIn("shutting down (SIGTERM)", text)
        self.assertNotIn(ACCESS_KEY, text)
        self.assertIsNone(JWT_RE.search(text), "a JWT in the agent's output")
        unmasked = UNMASKED_RE.search(text)
        self.assertIsNone(unmasked, "an unmasked secret in the agent's output: %s" % (unmasked and unmasked.group(1)))

    # ------------------------------------------------------------ front end helpers

    def received(self, fe, subject=None):
        """The payloads the front end accepted so far (optionally one subject)."""
        items = self.aio.call(lambda: list(fe.received))
        return [d for d in items if subject is None or d.get("subject") == subject]

    def wait_received(self, fe, subject, timeout=5, predicate=None):
        return self.aio.run(fe.wait_for(subject, timeout, predicate), timeout + 5)

    def request(self, fe, subject, body="null"):
        self.aio.run(fe.request(subject, body))

    def system_info(self, fe, timeout=5, body="refresh"):
        """Asks controller.system_info and returns the NEW reply's inner object."""
        before = len(self.received(fe, "system_info"))
        self.request(fe, "controller.system_info", body)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            replies = self.received(fe, "system_info")
            if len(replies) > before:
                return replies[before]["body"]["system_info"]
            time.sleep(0.02)
        self.fail("no system_info reply within %s s" % timeout)


def main():
    test_main.run("agent", into=sys.modules[__name__])


__all__ = ["E2ETestCase", "envelope", "free_port", "NatsServer", "NatsPeer", "GROUP", "DEVICE_ID", "LOCATION",
           "ROOT", "ACCESS_KEY", "TOP", "main"]
