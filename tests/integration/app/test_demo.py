"""The README's "run it" command: scripts/run-demo exactly as a new user runs
it (without apt and the build: --no-install --agent <binary>).

Two ways in: with its output to a pipe for a fixed --duration (the first
screen, the status report at the end); and in a terminal (a pseudo-terminal
that is the session's controlling terminal, as in a login), where a person
types at the console's prompt: help, a malformed line (answered there, not
sent), a GPIO switch (the whole gpio_state, the changed pin pointed out),
`:heartbeats on`, then Ctrl-C. Either way, when it returns no process it
started is left.

    /usr/bin/python3 tests/integration/app/test_demo.py --agent build/src/dunebugger-remote
"""
import fcntl
import json
import os
import pty
import re
import shutil
import signal
import socket
import struct
import subprocess
import termios
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
import e2e  # noqa: E402
from e2e import ACCESS_KEY, TOP, main  # noqa: E402
from wps.control_client import ControlClient  # noqa: E402

RUN_DEMO = os.path.join(TOP, "scripts", "run-demo")
JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}")
# What the screen shows of the console's output: text, CR, LF, and the
# control sequences its line editor writes (erase to the end of the line,
# cursor right or left); any other sequence is dropped.
TERMINAL_TOKEN_RE = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z])|\r|\n|[^\x1b\r\n]+")
STAMP_RE = re.compile(r"^\d\d:\d\d:\d\d ")
HEARTBEAT_LINE_RE = re.compile(r"^\d\d:\d\d:\d\d (<- heartbeat|-> controller\.heartbeat) ", re.M)
PROMPT = "demo-crib> "
TERMINAL_ROWS, TERMINAL_COLUMNS = 50, 160
GREETING_SECONDS = 50  # the console waits up to 35 s for the components, then asks for the rest


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
    """scripts/run-demo as a process in a session of its own (like a login),
    its output collected as it arrives. terminal=False: stdin /dev/null,
    output to a pipe. terminal=True: a pseudo-terminal of TERMINAL_ROWS x
    TERMINAL_COLUMNS is its controlling terminal, stdin and output, so
    typing goes through the terminal (Ctrl-C included)."""

    def __init__(self, agent, duration=None, terminal=False):
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "ASAN_OPTIONS", "UBSAN_OPTIONS",
                                                             "LSAN_OPTIONS", "LANG")}
        args = [RUN_DEMO, "--no-install", "--agent", agent] + (["--duration", str(duration)] if duration else [])
        self.started = time.monotonic()
        self.chunks = []  # (seconds since start, text)
        self.master = None
        if terminal:
            env["TERM"] = "xterm"
            self.master, slave = pty.openpty()
            fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", TERMINAL_ROWS, TERMINAL_COLUMNS, 0, 0))

            def login_session():  # what a login does: a new session whose terminal this is
                os.setsid()
                fcntl.ioctl(0, termios.TIOCSCTTY, 0)
            self.proc = subprocess.Popen(args, cwd=TOP, stdin=slave, stdout=slave, stderr=slave, env=env,
                                         preexec_fn=login_session)
            os.close(slave)  # the master reads EIO once the demo's last process has closed it
            self.reader = threading.Thread(target=self._read_terminal, daemon=True)
        else:
            self.proc = subprocess.Popen(args, cwd=TOP, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=subprocess.STDOUT, env=env, start_new_session=True)
            self.reader = threading.Thread(target=self._read_pipe, daemon=True)
        self.reader.start()

    def _read_pipe(self):
        for data in iter(lambda: self.proc.stdout.read1(65536), b""):
            self.chunks.append((time.monotonic() - self.started, data.decode(errors="replace")))

    def _read_terminal(self):
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:  # EIO: no process holds the terminal any more
                return
            if not data:
                return
            self.chunks.append((time.monotonic() - self.started, data.decode(errors="replace")))

    def text(self):
        """What the screen showed, line after line."""
        return screen_text("".join(chunk for _, chunk in list(self.chunks)))

    def lines(self):
        return self.text().split("\n")

    def wait_text(self, pattern, timeout, after=0):
        """The first match of `pattern` in the text from offset `after`, or None."""
        deadline = time.monotonic() + timeout
        while True:
            m = re.compile(pattern, re.M).search(self.text(), after)
            if m or time.monotonic() >= deadline or self.proc.poll() is not None and not self.reader.is_alive():
                return m
            time.sleep(0.05)

    def type(self, line):
        """Type a line and Enter, as on a keyboard."""
        os.write(self.master, line.encode() + b"\r")

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

    def close(self):
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        if self.master is not None:
            os.close(self.master)
            self.master = None


def screen_text(raw):
    """The lines a terminal shows for `raw` output, scrolled-off ones
    included: CR moves to the line's start, text overwrites, ESC [ K
    erases to the end of the line, ESC [ n C / D move the cursor."""
    lines, line, column = [], [], 0
    for m in TERMINAL_TOKEN_RE.finditer(raw):
        token = m.group(0)
        if token == "\n":
            lines.append("".join(line).rstrip())
            line, column = [], 0
        elif token == "\r":
            column = 0
        elif m.group(2) is not None:
            count = int(m.group(1)) if m.group(1).isdigit() else 1
            if m.group(2) == "K":
                del line[column:]
            elif m.group(2) == "C":
                column += count
            elif m.group(2) == "D":
                column = max(0, column - count)
        else:
            line.extend(" " * (column - len(line)))
            line[column:column + len(token)] = token
            column += len(token)
    return "\n".join(lines + ["".join(line)])


def shown_block(text, head_pattern):
    """The lines a message shows below its head line (matching
    `head_pattern`): up to the next timestamped line or prompt."""
    lines = text.split("\n")
    for n, line in enumerate(lines):
        if re.search(head_pattern, line):
            block = []
            for body_line in lines[n + 1:]:
                if STAMP_RE.match(body_line) or body_line.startswith(PROMPT) or not body_line.startswith(" "):
                    break
                block.append(body_line)
            return line, block
    return None, []


def gpio_rows(block):
    """The pin objects a shown gpio_state lists, and the marked (changed) ones."""
    rows, marked = [], []
    for line in block:
        m = re.match(r"^\s*(>> )?(\{\"pin\": .*\}),?(   <- .*)?$", line)
        if m:
            rows.append(json.loads(m.group(2)))
            if m.group(1):
                marked.append((rows[-1], m.group(3)))
    return rows, marked


class DemoTest(unittest.TestCase):
    def run_demo(self, duration=None, terminal=False):
        demo = Demo(e2e.AGENT, duration, terminal)
        self.addCleanup(self._cleanup, demo)
        return demo

    def _cleanup(self, demo):
        if demo.proc.poll() is None:
            demo.kill_all()
        demo.close()
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

    def check_first_screen(self, text):
        """system_info shown whole once the components run (never a
        "not_responding" greeting), then the GPIO and schedule refreshes."""
        self.assertIn("device ONLINE", text)
        self.assertNotIn('"state": "not_responding"', text)
        head, block = shown_block(text, r"^\d\d:\d\d:\d\d <- system_info$")
        self.assertIsNotNone(head, text)
        info = json.loads("\n".join(block))["system_info"]  # whole: it parses, to the last key
        self.assertEqual(info["device_id"], "demo-crib")
        self.assertIn("timestamp", info)
        self.assertEqual({c["name"]: c["state"] for c in info["dunebugger_components"]},
                         {"dunebugger": "running", "scheduler": "running", "dunebugger-remote": "running"}, text)
        self.assertRegex(text, r"all components running after \d+ s")
        self.assertRegex(text, r"-> core\.refresh_gpios null")
        head, block = shown_block(text, r"<- gpio_state \(28 pins\)$")
        rows, marked = gpio_rows(block)
        self.assertEqual([row["pin"] for row in rows], list(range(28)), text)
        self.assertEqual(marked, [])
        self.assertRegex(text, r"<- current_schedule\n    # day       time  action\n    mon-sun    17:00 start")
        # No heartbeat on the screen until asked for.
        self.assertIsNone(HEARTBEAT_LINE_RE.search(text), text)

    def test_demo_shows_the_conversation_and_stops_everything(self):
        duration = 25
        demo = self.run_demo(duration)
        code = demo.wait(duration + 60)
        text = demo.text()
        print(text)
        self.assertEqual(code, 0, text)
        self.check_first_screen(text)
        # The transcript keeps what the screen hides: the heartbeats. The demo
        # config sets heartBeatEverySecs = 20: the answer to "I am here" at
        # once, then the loop 20 s later (within the 25 s).
        with open(os.path.join(self.work_dir(demo), "console.log")) as f:
            transcript = f.read()
        alive = [time.strptime(t, "%H:%M:%S") for t in
                 re.findall(r"^(\d\d:\d\d:\d\d) <- heartbeat \"I am alive\"$", transcript, re.M)]
        self.assertGreaterEqual(len(alive), 2, transcript)
        seconds = [t.tm_hour * 3600 + t.tm_min * 60 + t.tm_sec for t in alive]
        self.assertIn(seconds[1] - seconds[0], (19, 20, 21), transcript)
        # The status report at the end, while the agent still runs.
        self.assertRegex(text, r"dunebugger-remote \d+\.\d+\.\d+ \(pid \d+\)")
        self.assertRegex(text, r"NATS: +connected")
        self.assertRegex(text, r"group: demo-crib")
        self.check_clean_stop(demo)

    def test_a_user_at_the_prompt_then_ctrl_c(self):
        demo = self.run_demo(terminal=True)
        self.assertIsNotNone(demo.wait_text(r"type help for the requests you can send.*\n" + PROMPT, GREETING_SECONDS),
                             demo.text())
        self.check_first_screen(demo.text())
        m = re.search(r"agent log (/tmp/dunebugger-demo\.\w+)/agent\.log", demo.text())
        with open(os.path.join(m.group(1), "hub.out")) as f:
            control = ControlClient("http://127.0.0.1:%d" % json.loads(f.readline())["controlPort"])

        def typed(line, expect, timeout=10):
            start = len(demo.text())
            demo.type(line)
            found = demo.wait_text(expect, timeout, after=start)
            self.assertIsNotNone(found, "after typing %r, no %r in:\n%s" % (line, expect, demo.text()[start:]))
            return demo.text()[start:]

        # help lists the requests (with bodies) and the console's commands.
        shown = typed("help", r":quit .*\n")
        for request in ("controller.heartbeat", "controller.system_info", "controller.ntp_status",
                        "core.dunebugger_set", "core.refresh_sequence", "core.refresh_gpios", "core.get_sequence",
                        "scheduler.refresh", "scheduler.get_schedule", "scheduler.get_next_actions",
                        "scheduler.get_last_executed_action", "scheduler.update_schedule"):
            self.assertRegex(shown, r"\n  %s +\S" % re.escape(request))
        self.assertRegex(shown, r"\n  sw <pin> on\|off +switch a GPIO")
        self.assertRegex(shown, r"\n  :heartbeats on\|off +show or hide heartbeats")
        # Malformed lines are answered here, with a hint, and not sent.
        shown = typed("core.dunebugger_set sw 17", r"not sent: .*'sw' needs a pin 0-27 and on or off")
        shown = typed("refresh_gpios", r"not sent: 'refresh_gpios' is not a request; did you mean "
                                       r"core\.refresh_gpios\?")
        # A switch: the core pushes the whole gpio_state; pin 17 is pointed out.
        start = len(demo.text())
        typed("core.dunebugger_set sw 17 on", r"changed since the last gpio_state: pin 17 \(Star\): "
                                              r"switch OFF -> ON, state HIGH -> LOW\n")
        head, block = shown_block(demo.text()[start:], r"<- gpio_state \(28 pins\)$")
        rows, marked = gpio_rows(block)
        self.assertEqual(len(rows), 28, demo.text()[start:])
        self.assertEqual(marked, [({"pin": 17, "label": "Star", "mode": "OUTPUT", "state": "LOW", "switch": "ON"},
                                   "   <- switch OFF -> ON, state HIGH -> LOW")])
        # Heartbeats flow all along (the device is online) but show only when asked.
        self.assertIsNone(HEARTBEAT_LINE_RE.search(demo.text()), demo.text())
        typed(":heartbeats on", r"heartbeats shown")
        typed("controller.heartbeat", r"-> controller\.heartbeat I am here\n.*<- heartbeat I am alive\n")
        # What reached the hub from the console: only the well-formed requests.
        sent = [(m["data"]["subject"], m["data"]["body"]) for m in control.messages("demo-crib")["messages"]
                if m["userId"] == "frontend" and m["data"]["subject"] != "controller.system_info"]
        self.assertEqual([s for s in sent if s[0] != "controller.heartbeat"],
                         [("core.refresh_gpios", "null"), ("scheduler.refresh", "null"),
                          ("core.dunebugger_set", "sw 17 on")])
        # Ctrl-C, through the terminal: everything stops, the terminal is as it was.
        sent_at = time.monotonic()
        os.write(demo.master, b"\x03")
        code = demo.wait(20)
        took = time.monotonic() - sent_at
        text = demo.text()
        print(text)
        print("run-demo returned %.2f s after Ctrl-C" % took)
        self.assertLess(took, 10, text)
        self.assertEqual(code, 130, text)
        self.check_clean_stop(demo)
        # It ends there: no report from an agent it has just stopped.
        self.assertRegex(text.rstrip("\n").split("\n")[-1], r"^run-demo: stopped; logs in ", text)
        self.assertNotIn("stale status", text)
        local_modes = termios.tcgetattr(demo.master)[3]
        self.assertEqual(local_modes & (termios.ECHO | termios.ICANON), termios.ECHO | termios.ICANON,
                         "the console left the terminal without echo or line editing")


if __name__ == "__main__":
    main()
