"""The real binary: CLI, config errors, logging format, signals, sd_notify."""
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

AGENT = None
FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures")

# A config the agent can start with; the hub URL points nowhere reachable.
RUNNABLE = """[Websocket]
groupName = test-group
url = ws://127.0.0.1:9/client/hubs/dunebugger?access_token=SECRET-TOKEN-123
heartBeatEverySecs = 50
[MessageQueue]
mQueueServers = nats://127.0.0.1:9
[Log]
dunebuggerLogLevel = {level}
"""

SECRETS = ["SECRET-TOKEN-123", "auth0-secret-xyz", "auth0-password-xyz", "AccessKeyValue42"]


def run(args, env=None, timeout=10):
    return subprocess.run([AGENT] + args, capture_output=True, text=True, timeout=timeout,
                          env=env if env is not None else {"PATH": os.environ["PATH"]})


def write_config(text):
    fd, path = tempfile.mkstemp(prefix="dbr-cli-", suffix=".conf")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path


class CommandLine(unittest.TestCase):
    def test_version(self):
        r = run(["--version"])
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^dunebugger-remote \d+\.\d+\.\d+\n$")

    def test_help(self):
        r = run(["--help"])
        self.assertEqual(r.returncode, 0)
        self.assertIn("--check-config", r.stdout)
        self.assertIn("/etc/dunebugger/dunebugger.conf", r.stdout)

    def test_unknown_flag_prints_usage_to_stderr_and_exits_2(self):
        r = run(["--bogus"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown argument '--bogus'", r.stderr)
        self.assertIn("Usage:", r.stderr)
        self.assertEqual(r.stdout, "")

    def test_python_agent_file_checks_ok(self):
        r = run(["--config", os.path.join(FIXTURES, "python-agent-dunebugger.conf"), "--check-config"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("config OK", r.stdout)
        self.assertNotIn("error", r.stderr)

    def test_missing_file(self):
        r = run(["--config", "/nonexistent/x.conf", "--check-config"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("/nonexistent/x.conf: error: cannot read config file: No such file or directory", r.stderr)
        r = run(["--config", "/nonexistent/x.conf"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("No such file or directory", r.stderr)


BROKEN = [
    ("[Websocket]\nconnectionTimeoutSecs = 45s\n", 2, "connectionTimeoutSecs"),
    ("[Websocket]\nheartBeatEverySecs = 2.5\n", 2, "heartBeatEverySecs"),
    ("[Websocket]\n\nconnectionIntervalSecs =\n", 3, "connectionIntervalSecs"),
    ("[Websocket]\nwebsocketEnabled =\n", 2, "websocketEnabled"),
    ("[Websocket]\nprotocol = mqtt\n", 2, "protocol"),
    ("[Websocket]\nreconnectJitter = 2\n", 2, "reconnectJitter"),
    ("[Auth]\nauthURL = https://x.auth0.com/\n", 2, "authURL"),
    ("[Websocket]\nurl = http://h/\n", 2, "url"),
    ("[Websocket]\ndnsServers = resolver.local\n", 2, "dnsServers"),
    ("[Websocket]\nmaxMessageBytes = -1\n", 2, "maxMessageBytes"),
    ("[MessageQueue]\nmQueueSubjectRoot = a.b\n", 2, "mQueueSubjectRoot"),
    ("[Websocket]\nkeepAliveTimeoutSecs = 5\n", 2, "keepAliveTimeoutSecs"),
    ("[Websocket]\nreconnectMaxDelaySecs = 0.5\n", 2, "reconnectMaxDelaySecs"),
    ("[General]\ndeviceId = a\nnot a key line\n", 3, ""),
    ("[Websocket]\ngroupName = a\ngroupName = b\n", 3, "groupName"),
]


class BrokenConfigs(unittest.TestCase):
    def test_each_broken_config_exits_2_naming_file_line_and_key(self):
        self.assertGreaterEqual(len(BROKEN), 10)
        for text, line, key in BROKEN:
            with self.subTest(text=text):
                path = write_config(text)
                for args in (["--check-config"], []):
                    r = run(["--config", path] + args)
                    self.assertEqual(r.returncode, 2, r.stderr)
                    pattern = re.escape("%s:%d" % (path, line)) + r": error: .*" + re.escape(key)
                    self.assertRegex(r.stderr, pattern)
                os.unlink(path)

    def test_start_needs_a_group_and_a_url_source(self):
        path = write_config("[Websocket]\nheartBeatEverySecs = 50\n")
        r = run(["--config", path, "--check-config"])
        self.assertEqual(r.returncode, 0)
        self.assertIn("(required at start)", r.stderr)
        r = run(["--config", path])
        self.assertEqual(r.returncode, 2)
        self.assertIn("WS_GROUP_NAME", r.stderr)
        os.unlink(path)


class Running(unittest.TestCase):
    def test_sigterm_exits_0_within_2s_with_ready_and_stopping(self):
        a = AgentProcess(AGENT, RUNNABLE.format(level="INFO"), notify=True)
        try:
            self.assertTrue(a.notify.wait_for("READY=1", 5), a.output())
            code, took = a.stop()
            self.assertEqual(code, 0, a.output())
            self.assertLess(took, 2.0)
            self.assertTrue(a.notify.wait_for("STOPPING=1", 1))
        finally:
            a.close()

    def test_sigint_also_exits_0(self):
        a = AgentProcess(AGENT, RUNNABLE.format(level="INFO"), notify=True)
        try:
            self.assertTrue(a.notify.wait_for("READY=1", 5))
            a.signal(signal.SIGINT)
            self.assertEqual(a.proc.wait(2), 0)
        finally:
            a.close()

    def test_watchdog_pings_when_enabled(self):
        a = AgentProcess(AGENT, RUNNABLE.format(level="INFO"), notify=True,
                         env={"WATCHDOG_USEC": "200000"})
        try:
            self.assertTrue(a.notify.wait_for("READY=1", 5))
            time.sleep(1.0)
            pings = [m for _, m in a.notify.messages if "WATCHDOG=1" in m.split("\n")]
            # sd-event pings at least every half interval (100 ms here).
            self.assertGreaterEqual(len(pings), 5, a.notify.messages)
            self.assertEqual(a.stop()[0], 0)
        finally:
            a.close()

    def test_journal_lines_carry_priority_and_no_timestamp(self):
        a = AgentProcess(AGENT, RUNNABLE.format(level="DEBUG"), stderr_file="journal")
        try:
            self.assertIsNotNone(a.wait_for_line("started", 5), a.output())
            self.assertEqual(a.stop()[0], 0)
            lines = a.output()
            self.assertTrue(lines)
            for line in lines:
                self.assertRegex(line, r"^<[0-7]>")
                self.assertNotRegex(line, r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}")
            self.assertTrue(any(line.startswith("<6>") for line in lines))
        finally:
            a.close()

    def test_console_lines_are_timestamped(self):
        a = AgentProcess(AGENT, RUNNABLE.format(level="INFO"), stderr_file="console")
        try:
            self.assertIsNotNone(a.wait_for_line("started", 5))
            self.assertEqual(a.stop()[0], 0)
            for line in a.output():
                self.assertRegex(line, r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} ")
        finally:
            a.close()

    def test_sighup_reloads_and_rejects_an_invalid_config(self):
        a = AgentProcess(AGENT, RUNNABLE.format(level="INFO"))
        try:
            self.assertIsNotNone(a.wait_for_line("started", 5))
            with open(a.config_path, "w") as f:
                f.write(RUNNABLE.format(level="DEBUG"))
            a.signal(signal.SIGHUP)
            self.assertIsNotNone(a.wait_for_line("log level now DEBUG", 5), a.output())
            with open(a.config_path, "w") as f:
                f.write(RUNNABLE.format(level="INFO") + "[Websocket]\n")
            a.signal(signal.SIGHUP)
            self.assertIsNotNone(a.wait_for_line("config reload rejected", 5), a.output())
            self.assertIsNone(a.proc.poll())
            self.assertEqual(a.stop()[0], 0)
        finally:
            a.close()

    def test_no_secret_reaches_the_log(self):
        a = AgentProcess(AGENT, RUNNABLE.format(level="DEBUG"),
                         env={"AUTH0_CLIENT_SECRET": "auth0-secret-xyz", "AUTH0_PASSWORD": "auth0-password-xyz",
                              "WEBPUBSUB_CONNECTION_STRING":
                                  "Endpoint=https://h.example;AccessKey=AccessKeyValue42;Version=1.0"})
        try:
            self.assertIsNotNone(a.wait_for_line("started", 5))
            time.sleep(0.5)
            self.assertEqual(a.stop()[0], 0)
            text = "\n".join(a.output())
            for s in SECRETS:
                self.assertNotIn(s, text)
        finally:
            a.close()


if __name__ == "__main__":
    test_main.run("agent")
