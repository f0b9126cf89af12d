"""Simulated DuneBugger core and scheduler on NATS, for the demo and tests.

They speak like the real ones (dunebugger-protocol.md §2): connect as
`core` / `scheduler`, listen on <root>.core.* / <root>.scheduler.*, answer
the agent's "are you there?" probes with a heartbeat, answer the front end's
requests, and push state changes to <root>.remote.<subject> as
{"body", "subject", "source"}.

    /usr/bin/python3 tests/support/sim/dunebugger_sim.py --nats nats://127.0.0.1:4222 [--root dunebugger]
        [--only core|scheduler] [--quiet]
"""
import argparse
import datetime
import json
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from nats_peer import NatsPeer  # noqa: E402

GPIO_LABELS = {4: "Stable lights", 17: "Star", 18: "Fountain", 22: "Village", 23: "Angel", 24: "Sky", 27: "Dawn"}

SEQUENCE = [
    {"time": 0, "command": "switch", "action": "on", "parameter": "Dawn"},
    {"time": 10, "command": "switch", "action": "on", "parameter": "Star"},
    {"time": 30, "command": "switch", "action": "off", "parameter": "Dawn"},
    {"time": 60, "command": "switch", "action": "off", "parameter": "Star"},
]

SCHEDULE = "# day       time  action\nmon-sun    17:00 start\nmon-sun    23:00 stop\n"


class Component:
    """One simulated component: its NATS link and the request handlers."""

    def __init__(self, name, nats_url, root, log):
        host_port = nats_url.split("://", 1)[-1]
        port = int(host_port.rsplit(":", 1)[1])
        self.name = name
        self.root = root
        self.log = log
        self.peer = NatsPeer(port, name=name)
        self.peer.sub("%s.%s.*" % (root, name))

    def send(self, subject, body):
        self.peer.pub("%s.remote.%s" % (self.root, subject), {"body": body, "subject": subject, "source": self.name})

    def handle(self, name, message):
        if name == "heartbeat":
            # The agent's liveness probe: {"body":"are you there?", "subject":"heartbeat", "source":"controller"}
            self.send("heartbeat", "alive")
            return
        self.log("%s <- %s %s" % (self.name, name, str(message.get("body"))[:60]))
        self.request(name, message.get("body"))


class Core(Component):
    def __init__(self, nats_url, root, log):
        super().__init__("core", nats_url, root, log)
        self.pins = {pin: "HIGH" for pin in range(28)}  # ON when LOW
        self.cycle_running = False
        self.playing_time = 0
        self.random_actions = False

    def gpio_state(self):
        return [{"pin": p, "label": GPIO_LABELS.get(p, "_not_found_"),
                 "mode": "OUTPUT" if p in GPIO_LABELS else "INPUT", "state": self.pins[p],
                 "switch": "ON" if self.pins[p] == "LOW" else "OFF"} for p in range(28)]

    def sequence_state(self):
        return {"random_actions": self.random_actions, "cycle_running": self.cycle_running,
                "start_button_enabled": True, "sequences_validated": True}

    def request(self, name, body):
        if name == "refresh_gpios":
            self.send("gpio_state", self.gpio_state())
            self.send("sequence_state", self.sequence_state())
        elif name == "refresh_sequence":
            self.send("sequence", {"sequence": SEQUENCE})
            self.send("sequence_state", self.sequence_state())
            self.send("playing_time", self.playing_time)
        elif name == "get_sequence":
            self.send("sequence", {"sequence": SEQUENCE})
        elif name == "dunebugger_set":
            self.command(str(body))
        else:
            self.send("log", {"success": False, "message": "unknown request %s" % name, "level": "error"})

    def command(self, text):
        words = text.split()
        if text == "c":
            self.cycle_running, self.playing_time = True, 0
            self.send("sequence_state", self.sequence_state())
        elif text == "cs":
            self.cycle_running, self.playing_time = False, 0
            self.send("sequence_state", self.sequence_state())
            self.send("playing_time", 0)
        elif text in ("er", "dr"):
            self.random_actions = text == "er"
            self.send("sequence_state", self.sequence_state())
        elif len(words) == 3 and words[0] == "sw" and words[1].isdigit() and words[2] in ("on", "off") \
                and int(words[1]) < 28:
            self.pins[int(words[1])] = "LOW" if words[2] == "on" else "HIGH"
            self.send("gpio_state", self.gpio_state())
        else:
            # The core answers `log` only on error (dunebugger-protocol.md §1.2).
            self.send("log", {"success": False, "message": "unknown command: %s" % text, "level": "error"})

    def tick(self):
        """Called every 10 s: playing_time advances while a cycle runs."""
        if self.cycle_running:
            self.playing_time += 10
            self.send("playing_time", self.playing_time)


class Scheduler(Component):
    def __init__(self, nats_url, root, log):
        super().__init__("scheduler", nats_url, root, log)
        self.schedule = SCHEDULE

    def next_actions(self):
        now = datetime.datetime.now().replace(second=0, microsecond=0)
        out = []
        for hours, action in ((1, "start"), (7, "stop"), (25, "start")):
            at = now + datetime.timedelta(hours=hours)
            out.append({"date": at.strftime("%d-%m-%Y"), "time": at.strftime("%H:%M"), "datetime": at.isoformat(),
                        "action": action, "commands": ["c"] if action == "start" else ["cs"],
                        "description": "%s the show" % action})
        return out

    def last_executed(self):
        return {"executed": False, "message": "No action executed yet"}

    def request(self, name, body):
        if name == "refresh":
            self.send("current_schedule", self.schedule)
            self.send("next_actions", self.next_actions())
            self.send("last_executed_action", self.last_executed())
        elif name == "get_schedule":
            self.send("current_schedule", self.schedule)
        elif name == "get_next_actions":
            self.send("next_actions", self.next_actions())
        elif name == "get_last_executed_action":
            self.send("last_executed_action", self.last_executed())
        elif name == "update_schedule":
            if not isinstance(body, str) or not body.strip():
                self.send("log", {"success": False, "message": "empty schedule", "level": "error"})
                return
            self.schedule = body
            self.send("current_schedule", self.schedule)
            self.send("next_actions", self.next_actions())
        else:
            self.send("log", {"success": False, "message": "unknown request %s" % name, "level": "error"})


def connect(cls, nats_url, root, log, timeout):
    """Retries like the real components (every 10 s there; faster here)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return cls(nats_url, root, log)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nats", default="nats://127.0.0.1:4222")
    parser.add_argument("--root", default="dunebugger")
    parser.add_argument("--only", choices=["core", "scheduler"])
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--connect-timeout", type=float, default=30)
    a = parser.parse_args(argv)

    def log(text):
        if not a.quiet:
            print("[sim] " + text, flush=True)

    components = []
    if a.only in (None, "core"):
        components.append(connect(Core, a.nats, a.root, log, a.connect_timeout))
    if a.only in (None, "scheduler"):
        components.append(connect(Scheduler, a.nats, a.root, log, a.connect_timeout))
    log("running: " + ", ".join(c.name for c in components))

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    next_tick = time.monotonic() + 10
    while not stop.is_set():
        for c in components:
            for _, subject, payload in c.peer.drain():
                name = subject.rsplit(".", 1)[-1]
                try:
                    message = json.loads(payload)
                except ValueError:
                    log("%s: not JSON on %s, ignoring" % (c.name, subject))
                    continue
                c.handle(name, message)
            if c.peer.closed:
                log("%s: NATS connection lost; exiting" % c.name)
                return 1
        if time.monotonic() >= next_tick:
            next_tick += 10
            for c in components:
                if isinstance(c, Core):
                    c.tick()
        stop.wait(0.05)
    for c in components:
        c.peer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
