"""The running agent's live status (STATUS= lines, status.json, the status
command) and config reload (SIGHUP), against the local hub."""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "support"))
import test_main  # noqa: E402
from agent_process import AgentProcess  # noqa: E402
from hub_process import HubProcess, ACCESS_KEY  # noqa: E402
from ntp_peer import Chrony, kernel_clock_synchronized  # noqa: E402

AGENT = None


def config(hub, group="crib", level="INFO", keepalive=20, extra=""):
    return """[General]
deviceId = status-test
[Websocket]
groupName = {group}
connectionString = {cs}
probeUrl = {endpoint}/health
heartBeatEverySecs = 50
keepAliveIntervalSecs = {keepalive}
keepAliveTimeoutSecs = 60
reconnectInitialDelaySecs = 0.2
reconnectMaxDelaySecs = 1
{extra}
[MessageQueue]
mQueueServers = nats://127.0.0.1:9
[Log]
dunebuggerLogLevel = {level}
""".format(group=group, cs=hub.connection_string(), endpoint=hub.endpoint, keepalive=keepalive, level=level,
           extra=extra)


def wait(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


class Base(unittest.TestCase):
    def setUp(self):
        # Cleanups run after tearDown even when its assertions fail (the
        # last added first): the agent is closed, then the hub stopped.
        self.hub = HubProcess()
        self.addCleanup(self.hub.stop)
        self.run_dir = tempfile.mkdtemp(prefix="dbr-run-")
        self.addCleanup(subprocess.run, ["rm", "-rf", self.run_dir])
        self.agent = None
        self.addCleanup(self._close_agent)

    def _close_agent(self):
        if self.agent:
            self.agent.close()

    def tearDown(self):
        if self.agent:
            text = "\n".join(self.agent.output())
            for secret in (ACCESS_KEY, "access_token=ey", "awps_reconnection_token=ey"):
                self.assertNotIn(secret, text)
            if self.agent.proc.poll() is None:
                code, took = self.agent.stop()
                self.assertEqual(code, 0)
                self.assertLess(took, 2.0)

    def start_agent(self, text, notify=False):
        self.agent = AgentProcess(AGENT, text, env={"RUNTIME_DIRECTORY": self.run_dir}, notify=notify)
        self.assertIsNotNone(self.agent.wait_for_line("joined group", 10), self.agent.output())

    def status(self):
        try:
            with open(os.path.join(self.run_dir, "status.json")) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def session_ids(self):
        return [s["connectionId"] for s in self.hub.control.state()["sessions"]]


class LiveStatus(Base):
    def test_status_json_notify_lines_and_the_status_command(self):
        self.start_agent(config(self.hub), notify=True)
        s = wait(lambda: (self.status() or {}).get("state") == "Connected" and self.status(), 5, "Connected status")
        self.assertEqual(s["group"], "crib")
        self.assertEqual(s["hub"], "ws://127.0.0.1:%d" % self.hub.port)
        self.assertTrue(s["internet"]["online"])
        self.assertEqual(s["pid"], self.agent.proc.pid)
        self.assertLessEqual(len(s["transitions"]), 20)
        self.assertEqual(s["transitions"][-1]["to"], "Connected")
        for key in ("reconnects", "messages_in", "messages_out", "outbox_dropped"):
            self.assertIn(key, s["counters"])

        # A drop: the session is recovered and counted as a reconnect.
        self.hub.control.post("/fault/drop", {"all": True})
        s = wait(lambda: (self.status() or {}).get("counters", {}).get("reconnects", 0) >= 1 and
                 self.status()["state"] == "Connected" and self.status(), 10, "a counted reconnect")
        self.assertIn("Recovering", [t["to"] for t in s["transitions"]])

        r = subprocess.run([AGENT, "status", "--file", os.path.join(self.run_dir, "status.json")],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("state:     Connected", r.stdout)
        self.assertIn("group: crib", r.stdout)
        self.assertRegex(r.stdout, r"counters:  1 reconnects")

        statuses = [m for _, m in self.agent.notify.messages if m.startswith("STATUS=")]
        self.assertTrue(any(re.match(r"STATUS=Connected to ws://127\.0\.0\.1:\d+ group crib; reconnects 1", m)
                            for m in statuses), statuses)
        for m in statuses:
            self.assertNotIn("access_token", m)
            self.assertNotIn("awps_reconnection_token", m)

    def test_ntp_and_clock_sync_in_status_json_the_status_command_and_status_lines(self):
        chrony = Chrony()
        self.addCleanup(chrony.close)
        ntp = "[NTP]\nntpServers = %s\nntpCheckIntervalSecs = 1\nntpTimeout = 1\n" % chrony.entry()
        self.start_agent(config(self.hub, extra=ntp), notify=True)
        s = wait(lambda: ((self.status() or {}).get("ntp") or {}).get("available") and self.status(), 5,
                 "NTP available in status.json")
        self.assertEqual(s["ntp"]["server"], chrony.entry())
        self.assertLess(abs(s["ntp"]["offset_ms"]), 50)
        self.assertIsInstance(s["ntp"]["delay_ms"], int)
        self.assertIsNotNone(s["ntp"]["checked_at"])
        synced = kernel_clock_synchronized()
        self.assertEqual(s["clock"]["synchronized"], synced)
        r = subprocess.run([AGENT, "status", "--file", os.path.join(self.run_dir, "status.json")],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"  NTP:       available via %s \(offset [+-]\d+ ms\); clock %s\n"
                         % (re.escape(chrony.entry()), "synchronized" if synced else "not synchronized"))

        chrony.stop()
        s = wait(lambda: (self.status() or {}).get("ntp", {}).get("available") is False and self.status(), 5,
                 "NTP unavailable in status.json")
        self.assertIn("refused", s["ntp"]["detail"])
        self.assertIsNone(s["ntp"]["offset_ms"])
        r = subprocess.run([AGENT, "status", "--file", os.path.join(self.run_dir, "status.json")],
                           capture_output=True, text=True)
        self.assertIn("  NTP:       unavailable (%s: 127.0.0.1 refused the request (port unreachable))"
                      % chrony.entry(), r.stdout)
        statuses = wait(lambda: [m for _, m in self.agent.notify.messages
                                 if m.startswith("STATUS=") and "NTP unavailable" in m], 5, "a STATUS= line")
        if not synced:
            self.assertIn("; clock not synchronized", statuses[-1])
        self.assertIsNotNone(self.agent.wait_for_line("NTP check: unavailable", 5))

    def test_stale_status_after_exit(self):
        self.start_agent(config(self.hub))
        wait(self.status, 5, "status.json")
        self.assertEqual(self.agent.stop()[0], 0)
        r = subprocess.run([AGENT, "status", "--file", os.path.join(self.run_dir, "status.json")],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 3)
        self.assertIn("not running", r.stdout)


class Reload(Base):
    def frames_in(self):
        return self.hub.control.state()["counters"].get("frames_in", 0)

    def test_log_level_and_keepalive_apply_without_a_new_connection(self):
        self.start_agent(config(self.hub, level="INFO", keepalive=20))
        before = self.session_ids()
        self.assertEqual(len(before), 1)
        with open(self.agent.config_path, "w") as f:
            f.write(config(self.hub, level="DEBUG", keepalive=1))
        start_frames = self.frames_in()
        self.agent.signal(signal.SIGHUP)
        self.assertIsNotNone(self.agent.wait_for_line("log level now DEBUG", 5), self.agent.output())
        self.assertIsNotNone(self.agent.wait_for_line("apply to the open connection", 5))
        time.sleep(3.5)
        # 1 s pings instead of 20 s ones, on the same connection.
        self.assertGreaterEqual(self.frames_in() - start_frames, 3)
        self.assertEqual(self.session_ids(), before)
        self.assertEqual(self.hub.control.state()["counters"].get("connections_accepted"), 1)

    def test_group_change_makes_a_new_connection_cleanly(self):
        self.start_agent(config(self.hub, group="crib"))
        old = self.session_ids()
        with open(self.agent.config_path, "w") as f:
            f.write(config(self.hub, group="stable"))
        self.agent.signal(signal.SIGHUP)
        self.assertIsNotNone(self.agent.wait_for_line("joined group 'stable'", 10), self.agent.output())
        state = wait(lambda: (lambda st: st if len(st["sessions"]) == 1 and st["sessions"][0]["connectionId"]
                              not in old else None)(self.hub.control.state()), 5, "only the new session")
        self.assertEqual(state["groups"].get("stable"), [state["sessions"][0]["connectionId"]])
        self.assertNotIn("crib", {g for g, members in state["groups"].items() if members})
        # The old session was ended by a clean close, not left to expire.
        self.assertGreaterEqual(state["counters"].get("sessions_ended", 0), 1)

    def test_an_invalid_config_is_rejected_and_the_connection_stays(self):
        self.start_agent(config(self.hub))
        before = self.session_ids()
        with open(self.agent.config_path, "w") as f:
            f.write(config(self.hub, extra="keepAliveTimeoutSecs = soon"))
        self.agent.signal(signal.SIGHUP)
        self.assertIsNotNone(self.agent.wait_for_line("config reload rejected", 5), self.agent.output())
        line = self.agent.wait_for_line("keepAliveTimeoutSecs", 1)
        self.assertIn(self.agent.config_path, line)
        time.sleep(0.5)
        self.assertEqual(self.session_ids(), before)
        self.assertIsNone(self.agent.proc.poll())


if __name__ == "__main__":
    test_main.run("agent")
