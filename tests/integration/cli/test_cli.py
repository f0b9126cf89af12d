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
from agent_process import AgentProcess, clean_env  # noqa: E402

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

# What the service's environment file would add: a group and a way to a URL.
SERVICE_ENV = {"WS_GROUP_NAME": "env-group",
               "WEBPUBSUB_CONNECTION_STRING": "Endpoint=https://h.example;AccessKey=AccessKeyValue42;Version=1.0"}


def run(args, env=None, timeout=10):
    """The binary with a clean environment plus `env` (no credentials of ours)."""
    return subprocess.run([AGENT] + args, capture_output=True, text=True, timeout=timeout, env=clean_env(env))


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

    def test_unknown_flag_prints_the_synopsis_not_the_whole_help(self):
        r = run(["status", "--bogus"])
        self.assertEqual(r.returncode, 2)
        self.assertLessEqual(len(r.stderr.splitlines()), 4, r.stderr)
        self.assertIn("--help", r.stderr)

    def test_python_agent_file_checks_ok(self):
        # Its group and credentials came from the Python agent's .env.
        r = run(["--config", os.path.join(FIXTURES, "python-agent-dunebugger.conf"), "--check-config"],
                env=SERVICE_ENV)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertIn("config OK", r.stderr)
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
                at = re.escape("%s:%d" % (path, line))
                # --check-config writes "file:line: error: ..."; start-up
                # logs the same at level error (the word once per line).
                for args, pattern in ((["--check-config"], at + r": error: .*" + re.escape(key)),
                                      ([], r"\berror\s+" + at + r": .*" + re.escape(key))):
                    r = run(["--config", path] + args, env=SERVICE_ENV)
                    self.assertEqual(r.returncode, 2, r.stderr)
                    self.assertRegex(r.stderr, pattern)
                os.unlink(path)

    def test_start_needs_a_group_and_a_url_source(self):
        path = write_config("[Websocket]\nheartBeatEverySecs = 50\n")
        for args in (["--check-config"], []):
            r = run(["--config", path] + args)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("WS_GROUP_NAME", r.stderr)
            self.assertIn("/etc/dunebugger/remote.env", r.stderr)
        self.assertEqual(run(["--config", path, "--check-config"], env=SERVICE_ENV).returncode, 0)
        os.unlink(path)


def check(text, env=None):
    """--check-config on `text`: (returncode, stderr lines, path). stdout must stay empty."""
    path = write_config(text)
    try:
        r = run(["--config", path, "--check-config"], env=env)
    finally:
        os.unlink(path)
    if r.stdout:
        raise AssertionError("--check-config wrote to stdout: %r" % r.stdout)
    return r.returncode, r.stderr.splitlines(), path


class CheckConfigAgreesWithStart(unittest.TestCase):
    """--check-config exits 2 for every file start-up refuses, and 0 for every
    file it takes: the same check (config::load_for_start)."""

    def assert_refused_by_both(self, text, env=None):
        code, lines, path = check(text, env)
        self.assertEqual(code, 2, lines)
        self.assertRegex(lines[-1], r": \d+ errors?(, \d+ warnings?)?: the agent would not start with it$")
        path = write_config(text)
        started = run(["--config", path], env=env, timeout=10)
        os.unlink(path)
        self.assertEqual(started.returncode, 2, started.stderr)
        return lines

    def test_empty_file_exits_2_naming_what_is_missing_and_where_it_may_come_from(self):
        lines = self.assert_refused_by_both("")
        text = "\n".join(lines)
        self.assertRegex(text, r": error: no group to join: set groupName in \[Websocket\], or WS_GROUP_NAME")
        self.assertRegex(text, r": error: no way to get a client URL: set url or connectionString in \[Websocket\]")
        for variable in ("WEBPUBSUB_CONNECTION_STRING", "AUTH0_CLIENT_ID", "AUTH0_USERNAME", "AUTH0_PASSWORD",
                         "/etc/dunebugger/remote.env"):
            self.assertIn(variable, text)
        # Nothing set from the service's environment here: say how to check with it.
        self.assertIn("EnvironmentFile=/etc/dunebugger/remote.env", text)

    def test_only_general_exits_2(self):
        self.assert_refused_by_both("[General]\ndeviceId = crib\n")

    def test_misspelt_websocket_section_exits_2_with_did_you_mean(self):
        lines = self.assert_refused_by_both("[Websokcet]\ngroupName = g\nurl = ws://127.0.0.1:9/client\n")
        self.assertTrue(any(re.search(r":1: warning: unknown section \[Websokcet\], ignoring it and its 2 keys "
                                      r"\(did you mean \[Websocket\]\?\)", l) for l in lines), lines)
        self.assertTrue(any("no group to join" in l for l in lines), lines)

    def test_a_startable_environment_makes_the_same_file_ok(self):
        code, lines, path = check("", env=SERVICE_ENV)
        self.assertEqual(code, 0, lines)
        self.assertEqual(lines, ["%s: config OK" % path])


class CheckConfigMessages(unittest.TestCase):
    def test_key_in_the_wrong_section_names_its_section(self):
        code, lines, path = check("[Websocket]\nmQueueServers = nats://127.0.0.1:4222\n", SERVICE_ENV)
        self.assertEqual(code, 0, lines)
        self.assertIn("%s:2: warning: unknown key 'mQueueServers' in [Websocket], ignoring "
                      "(it belongs in [MessageQueue])" % path, lines)
        self.assertEqual(lines[-1], "%s: config OK, 1 warning" % path)

    def test_misspelt_key_gets_the_closest_name_only_when_close(self):
        code, lines, path = check("[Websocket]\nhearbeatEverySecs = 30\nfrobnicate = 1\n", SERVICE_ENV)
        self.assertEqual(code, 0, lines)
        self.assertIn("%s:2: warning: unknown key 'hearbeatEverySecs' in [Websocket], ignoring "
                      "(did you mean 'heartBeatEverySecs'?)" % path, lines)
        self.assertIn("%s:3: warning: unknown key 'frobnicate' in [Websocket], ignoring" % path, lines)

    def test_warning_names_the_line_of_the_value_and_marks_defaults(self):
        code, lines, path = check("[General]\ndeviceId = crib\n[MessageQueue]\ncomponentTtlSecs = 20\n", SERVICE_ENV)
        self.assertEqual(code, 0, lines)
        self.assertIn("%s:4: warning: [MessageQueue] componentTtlSecs (20 s) is not above componentHeartbeatSecs "
                      "(30 s, default): components will show not_responding between probes" % path, lines)
        code, lines, path = check("[Websocket]\n\nheartBeatEverySecs = 60\n", SERVICE_ENV)
        self.assertTrue(any(l.startswith("%s:3: warning: [Websocket] heartBeatEverySecs = 60 leaves only 5 s" % path)
                            for l in lines), lines)

    def test_no_warning_about_defaults_or_about_a_value_never_written(self):
        # The built-in heartBeatEverySecs (60, upstream's) is not remarked on.
        code, lines, path = check("[General]\n", SERVICE_ENV)
        self.assertEqual((code, lines), (0, ["%s: config OK" % path]))
        # A rejected value is its own error, not also a remark on the default.
        code, lines, path = check("[Websocket]\nheartBeatEverySecs = 70\n", SERVICE_ENV)
        self.assertEqual(code, 2)
        self.assertEqual(lines, ['%s:2: error: [Websocket] heartBeatEverySecs = "70": expected a whole number of '
                                 'seconds from 1 to 64' % path,
                                 "%s: 1 error: the agent would not start with it" % path])

    def test_upstream_log_level_names(self):
        for level in ("WARN", "FATAL", "NOTSET", "WARNING", "CRITICAL", "DEBUG"):
            with self.subTest(level=level):
                code, lines, path = check("[Log]\ndunebuggerLogLevel = %s\n" % level, SERVICE_ENV)
                self.assertEqual((code, lines), (0, ["%s: config OK" % path]))
        code, lines, path = check("[Log]\ndunebuggerLogLevel = VERBOSE\n", SERVICE_ENV)
        self.assertEqual(code, 0)
        self.assertIn("unknown level, using INFO", lines[0])

    def test_everything_on_stderr_and_each_error_once(self):
        text = "[Websocket]\nconnectionTimeoutSecs = 45s\nprotocol = mqtt\n[Websokcet]\n"
        code, lines, path = check(text)  # check() fails on any stdout
        self.assertEqual(code, 2)
        for line in lines:
            self.assertLessEqual(line.count("error"), 1, line)
        for key in ("connectionTimeoutSecs", "protocol", "[Websokcet]", "no group to join", "no way to get"):
            self.assertEqual(len([l for l in lines if key in l]), 1, (key, lines))
        self.assertEqual(lines[-1], "%s: 4 errors, 1 warning: the agent would not start with it" % path)
        # Start-up logs the same diagnostics, each once, "error" once per line.
        path = write_config(text)
        r = run(["--config", path])
        os.unlink(path)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stdout, "")
        logged = r.stderr.splitlines()
        self.assertEqual(len(logged), 5, logged)
        for line in logged:
            self.assertLessEqual(line.count("error"), 1, line)
        self.assertEqual(len([l for l in logged if re.search(r"\berror\s", l)]), 4, logged)

    def test_shipped_config_needs_only_the_service_environment(self):
        shipped = os.path.join(os.path.dirname(__file__), "..", "..", "..", "config", "dunebugger.conf")
        r = run(["--config", shipped, "--check-config"], env=SERVICE_ENV)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "%s: config OK\n" % shipped)
        r = run(["--config", shipped, "--check-config"])
        self.assertEqual(r.returncode, 2, r.stderr)


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

    def test_upstream_level_names_take_effect(self):
        # Console lines carry the level as their third field.
        def levels_logged(name):
            a = AgentProcess(AGENT, RUNNABLE.format(level=name), notify=True)
            try:
                self.assertTrue(a.notify.wait_for("READY=1", 5), a.output())
                time.sleep(0.5)  # the NATS and monitor verdicts come just after READY
                self.assertEqual(a.stop()[0], 0)
                return {line.split()[2] for line in a.output() if len(line.split()) > 2}
            finally:
                a.close()
        self.assertIn("debug", levels_logged("NOTSET"))  # everything: DEBUG, the lowest the agent has
        warn = levels_logged("WARN")
        self.assertIn("warning", warn)  # NATS at 127.0.0.1:9 is not there
        self.assertFalse(warn & {"debug", "info"}, warn)
        self.assertFalse(levels_logged("FATAL") & {"debug", "info", "warning", "error"})

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


class StatusCommand(unittest.TestCase):
    """`status` against a real agent writing status.json in its
    RUNTIME_DIRECTORY, as under systemd (the hub URL points nowhere: the
    status file is written whatever the connection does)."""

    def setUp(self):
        self.run_dir = tempfile.mkdtemp(prefix="dbr-run-")
        self.addCleanup(subprocess.run, ["rm", "-rf", self.run_dir])
        self.status_path = os.path.join(self.run_dir, "status.json")

    def start_agent(self):
        a = AgentProcess(AGENT, RUNNABLE.format(level="INFO"), env={"RUNTIME_DIRECTORY": self.run_dir}, notify=True)
        self.addCleanup(a.close)
        self.assertTrue(a.notify.wait_for("READY=1", 5), a.output())
        deadline = time.monotonic() + 5
        while not os.path.exists(self.status_path) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertTrue(os.path.exists(self.status_path), a.output())
        return a

    def status(self, *args):
        return run(["status"] + list(args), env={"RUNTIME_DIRECTORY": self.run_dir})

    def test_the_units_config_option_finds_the_running_agent(self):
        a = self.start_agent()
        # The unit's ExecStart arguments, with "status" before or after them.
        for args in (["status", "--config", a.config_path], ["--config", a.config_path, "status"]):
            with self.subTest(args=args):
                r = run(args, env={"RUNTIME_DIRECTORY": self.run_dir})
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                self.assertIn("(pid %d)" % a.proc.pid, r.stdout)
                self.assertIn("group: test-group", r.stdout)
                self.assertNotIn("last known", r.stdout)
                self.assertNotIn("note:", r.stdout)
        # A config naming another group than the agent joined: said so.
        other = write_config(RUNNABLE.format(level="INFO").replace("test-group", "other-group"))
        r = self.status("--config", other)
        os.unlink(other)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("names group 'other-group' but the agent joined 'test-group'", r.stdout)
        self.assertEqual(a.stop()[0], 0)

    def test_no_status_file_says_so_and_names_the_file_option(self):
        r = self.status("--config", os.path.join(FIXTURES, "python-agent-dunebugger.conf"))
        self.assertEqual(r.returncode, 3)
        self.assertIn("not running: no status file at %s" % self.status_path, r.stdout)
        self.assertIn("dunebugger-remote status --file PATH", r.stdout)
        self.assertIn("run-demo", r.stdout)
        r = run(["status"])  # no RUNTIME_DIRECTORY: systemd's directory
        self.assertIn("/run/dunebugger-remote/status.json", r.stdout)

    def assert_every_field_last_known(self, text):
        fields = [l for l in text.splitlines()
                  if re.match(r"  (state|hub|internet|NATS|last error|counters):", l)]
        self.assertGreaterEqual(len(fields), 5, text)
        for line in fields:
            self.assertIn("last known: ", line)

    def test_status_of_an_agent_gone_marks_every_field_last_known(self):
        a = self.start_agent()
        pid = a.proc.pid
        a.signal(signal.SIGKILL)  # no goodbye: the file stays as it was
        a.proc.wait(5)
        r = self.status()
        self.assertEqual(r.returncode, 3, r.stdout)
        self.assertTrue(r.stdout.startswith("dunebugger-remote is not running (pid %d is gone)" % pid), r.stdout)
        self.assert_every_field_last_known(r.stdout)
        self.assertNotRegex(r.stdout, r"NATS:\s+(not )?connected")  # only as last known

    def test_status_file_older_than_its_refresh_period_is_stale_even_with_a_live_pid(self):
        # Written by "us" (a live pid) 10 min ago, rewritten every 10 s: the
        # writer has stopped, and the pid is someone else's.
        old = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 600))
        with open(self.status_path, "w") as f:
            f.write('{"version": "0.0.0", "pid": %d, "updated_at": "%s", "since": "%s", "refresh_secs": 10, '
                    '"state": "Connected", "hub": "h.example", "group": "crib", "nats_connected": true, '
                    '"internet": {"online": true}, "last_error": "closed 1006", '
                    '"counters": {"reconnects": 2}}' % (os.getpid(), old, old))
        r = self.status("--file", self.status_path)
        self.assertEqual(r.returncode, 3, r.stdout)
        self.assertIn("not rewritten for 10 min", r.stdout)
        self.assert_every_field_last_known(r.stdout)
        self.assertIn("NATS:      last known: connected", r.stdout)
        self.assertIn("last error: last known: closed 1006", r.stdout)


if __name__ == "__main__":
    test_main.run("agent")
