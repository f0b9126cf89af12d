"""The README's "run it" command: scripts/run-demo exactly as a new user runs
it (without apt and the build: --no-install --agent <binary>).

Checks that its console shows the device online, a heartbeat loop, a
system_info reply, a GPIO round trip and the status report, and that when it
returns (end of --duration, or Ctrl-C) no process it started is left.

    /usr/bin/python3 tests/integration/app/test_demo.py --agent build/src/dunebugger-remote
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
import e2e  # noqa: E402
from e2e import ACCESS_KEY, TOP, main  # noqa: E402

RUN_DEMO = os.path.join(TOP, "scripts", "run-demo")
JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}")


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def processes_left(session_id, work):
    """Live processes in the demo's session, or naming or holding its folder."""
    left = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                stat = f.read()
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue  # gone meanwhile
        fields = stat[stat.rindex(")") + 2:].split()
        state, session = fields[0], int(fields[3])
        if state == "Z":
            continue  # a zombie holds nothing; its parent (not the demo's) reaps it
        holds = False
        try:
            for fd in os.listdir("/proc/%s/fd" % pid):
                try:
                    if os.readlink("/proc/%s/fd/%s" % (pid, fd)).startswith(work):
                        holds = True
                        break
                except OSError:
                    pass
        except OSError:
            pass  # not ours to look into
        if session == session_id or work in cmdline or holds:
            left.append((int(pid), cmdline))
    return left


class Demo:
    """scripts/run-demo as a process in a session of its own (like a login
    terminal), its output collected line by line with arrival times."""

    def __init__(self, agent, duration):
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "ASAN_OPTIONS", "UBSAN_OPTIONS",
                                                             "LSAN_OPTIONS", "LANG")}
        self.started = time.monotonic()
        self.proc = subprocess.Popen([RUN_DEMO, "--no-install", "--agent", agent, "--duration", str(duration)],
                                     cwd=TOP, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, errors="replace", env=env,
                                     start_new_session=True)
        self.lines = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append((time.monotonic() - self.started, line.rstrip("\n")))

    def text(self):
        return "\n".join(line for _, line in self.lines)

    def wait_line(self, pattern, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for _, line in list(self.lines):
                if re.search(pattern, line):
                    return line
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        return None

    def wait(self, timeout):
        try:
            code = self.proc.wait(timeout)
        finally:
            self.reader.join(5)
        return code

    def kill_all(self):
        """Last resort for a failed test: the demo's process group."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.reader.join(5)
        self.proc.stdout.close()


class DemoTest(unittest.TestCase):
    def run_demo(self, duration):
        demo = Demo(e2e.AGENT, duration)
        self.addCleanup(self._cleanup, demo)
        return demo

    def _cleanup(self, demo):
        if demo.proc.poll() is None:
            demo.kill_all()
        else:
            demo.proc.stdout.close()
        work = self.work_dir(demo, required=False)
        # Whatever a failed demo left behind in its session goes too (the test already failed).
        for pid, _ in processes_left(demo.proc.pid, work or "/nonexistent/"):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if work and work.startswith("/tmp/dunebugger-demo."):
            shutil.rmtree(work, ignore_errors=True)

    def work_dir(self, demo, required=True):
        m = re.search(r"run-demo: stopped; logs in (\S+)", demo.text())
        if required:
            self.assertIsNotNone(m, "run-demo did not say it stopped:\n" + demo.text())
        return m.group(1) if m else None

    def check_clean_stop(self, demo):
        """Nothing the demo started is left: not in its session, not naming
        or holding its folder, not listening on the ports it printed."""
        text = demo.text()
        work = self.work_dir(demo)
        m = re.search(r"run-demo: hub ws://127.0.0.1:(\d+), NATS 127.0.0.1:(\d+), agent pid (\d+)", text)
        self.assertIsNotNone(m, text)
        hub_port, nats_port, agent_pid = int(m.group(1)), int(m.group(2)), int(m.group(3))
        with open(os.path.join(work, "hub.out")) as f:
            control_port = json.loads(f.readline())["controlPort"]
        # The script waited for what it killed; allow a moment for the kernel to tidy up.
        deadline = time.monotonic() + 3
        while True:
            left = processes_left(demo.proc.pid, work)
            ports = [p for p in (hub_port, control_port, nats_port) if port_open(p)]
            if not left and not ports:
                break
            self.assertLess(time.monotonic(), deadline, "left behind: processes %r, ports %r" % (left, ports))
            time.sleep(0.1)
        self.assertFalse(os.path.exists("/proc/%d" % agent_pid), "the agent is still there")
        # The agent exited cleanly and said so; its log holds no secret.
        with open(os.path.join(work, "agent.log")) as f:
            agent_log = f.read()
        self.assertRegex(agent_log, r"shutting down \(SIG(TERM|INT)\)")
        self.assertNotIn("Sanitizer", agent_log)
        self.assertNotIn("runtime error", agent_log)
        self.assertNotIn(ACCESS_KEY, agent_log)
        self.assertIsNone(JWT_RE.search(agent_log))
        self.assertNotIn("Traceback", text)

    def test_demo_shows_the_conversation_and_stops_everything(self):
        duration = 25
        demo = self.run_demo(duration)
        code = demo.wait(duration + 60)
        text = demo.text()
        print(text)
        self.assertEqual(code, 0, text)
        self.assertIn("device ONLINE", text)
        alive = [t for t, line in demo.lines if re.search(r"<- heartbeat I am alive$", line)]
        # The demo config sets heartBeatEverySecs = 20: the answer to "I am
        # here" at once, then the loop 20 s later (within the 25 s).
        self.assertGreaterEqual(len(alive), 2, text)
        print("'I am alive' seen at %s s after start" % [round(t, 1) for t in alive])
        self.assertAlmostEqual(alive[1] - alive[0], 20.0, delta=1.5)
        self.assertRegex(text, r"-> controller\.system_info")
        self.assertRegex(text, r'<- system_info \{"system_info": \{"device_id": "demo-crib"')
        # The GPIO round trip: the request out, the simulated core's 28 pins back.
        self.assertRegex(text, r"-> core\.refresh_gpios")
        self.assertRegex(text, r'<- gpio_state \[\{[^}]*"pin": 0, ')
        self.assertRegex(text, r"<- current_schedule ")
        # The status report at the end, while the agent still runs.
        self.assertRegex(text, r"dunebugger-remote \d+\.\d+\.\d+ \(pid \d+\)")
        self.assertRegex(text, r"NATS: +connected")
        self.assertRegex(text, r"group: demo-crib")
        self.check_clean_stop(demo)

    def test_ctrl_c_stops_everything(self):
        demo = self.run_demo(120)
        self.assertIsNotNone(demo.wait_line(r"<- gpio_state ", 30), demo.text())
        time.sleep(1)
        # Ctrl-C: the terminal sends SIGINT to the foreground process group.
        sent = time.monotonic()
        os.killpg(demo.proc.pid, signal.SIGINT)
        code = demo.wait(20)
        took = time.monotonic() - sent
        text = demo.text()
        print(text)
        print("run-demo returned %.2f s after Ctrl-C" % took)
        self.assertLess(took, 10, text)
        self.assertEqual(code, 130, text)
        self.check_clean_stop(demo)
        # It ends there: no report from an agent it has just stopped.
        self.assertRegex(demo.lines[-1][1], r"^run-demo: stopped; logs in ", text)
        self.assertNotIn("stale status", text)


if __name__ == "__main__":
    main()
