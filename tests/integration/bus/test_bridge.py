"""The NATS bridge and the app router against a real nats-server.

A C++ driver (bridge_driver.cpp) runs the real NatsBridge + AppService on a
real event loop; its Web PubSub side is JSON lines on stdin/stdout. This
test plays the front end (stdin), reads what the agent sends to the group
(stdout), and plays core/scheduler on NATS with a raw-protocol client.
Every row of dunebugger-protocol.md §1.2 and §2 is checked both ways."""
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "support"))
import test_main  # noqa: E402
from agent_process import clean_env  # noqa: E402
from nats_peer import NatsPeer, NatsServer  # noqa: E402
from netlab import free_port  # noqa: E402

DRIVER = None


class Driver:
    def __init__(self, server_url, **options):
        args = [DRIVER, "--servers", server_url]
        for k, v in options.items():
            args += ["--" + k.replace("_", "-"), str(v)]
        self.started = time.monotonic()
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=clean_env())
        self.events = queue.Queue()
        self.stderr = []
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()
        self.wait_event(lambda e: e["event"] == "ready", 10)

    def _read_stdout(self):
        for line in self.proc.stdout:
            self.events.put((time.monotonic(), json.loads(line)))

    def _read_stderr(self):
        for line in self.proc.stderr:
            self.stderr.append(line.decode(errors="replace"))

    def send(self, op):
        self.proc.stdin.write((json.dumps(op) + "\n").encode())
        self.proc.stdin.flush()

    def group(self, data):
        self.send({"op": "group", "data": data})

    def wait_event(self, predicate, timeout=5):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no matching driver event; stderr tail:\n" + "".join(self.stderr[-20:]))
            try:
                t, e = self.events.get(timeout=left)
            except queue.Empty:
                continue
            if predicate(e):
                return t, e

    def wait_link(self, state, timeout=10):
        return self.wait_event(lambda e: e["event"] == "link" and e["state"] == state, timeout)

    def to_group(self, timeout=5, subject=None):
        _, e = self.wait_event(lambda e: e["event"] == "to_group" and
                               (subject is None or e["data"].get("subject") == subject), timeout)
        return e["data"]

    def no_group_message(self, wait=0.5):
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                _, e = self.events.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return True
            if e["event"] == "to_group":
                raise AssertionError("unexpected group message: %r" % e)
        return True

    def stop(self, timeout=10):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("driver did not exit after stdin closed")
        time.sleep(0.1)  # let the readers finish
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode

    def log_has(self, text):
        return any(text in line for line in self.stderr)


def envelope(subject, body):
    return {"body": body, "subject": subject, "source": "controller", "destination": "broadcast"}


def front_end(subject, body, connection_id="conn-7"):
    return {"subject": subject, "body": body, "connectionId": connection_id}


class BridgeTest(unittest.TestCase):
    def setUp(self):
        self.server = NatsServer.start_on_free_port()
        self.driver = None
        self.peer = None

    def tearDown(self):
        rc = self.driver.stop() if self.driver else 0
        if self.peer:
            self.peer.close()
        self.server.stop()
        self.assertEqual(rc, 0, "driver exit code; stderr tail:\n" + "".join(self.driver.stderr[-30:]))

    def start(self, **options):
        self.driver = Driver(self.server.url, **options)
        self.driver.wait_link("connected")
        self.peer = NatsPeer(self.server.port)

    def test_front_end_requests_reach_nats_exactly(self):
        self.start()
        self.peer.sub("dunebugger.core.*")
        self.peer.sub("dunebugger.scheduler.*")
        schedule = "on monday at 08:00 do c\non friday at 20:00 do dr\n"
        rows = [("core.dunebugger_set", body) for body in
                ["c", "cs", "esb", "dsb", "er", "dr", "so", "sb", "sw 17 on", "sw 17 off",
                 "us main.seq 0 gpio 5 on\n10 gpio 5 off\n"]]
        rows += [("core.refresh_sequence", "null"), ("core.refresh_gpios", "null"), ("core.get_sequence", "main"),
                 ("scheduler.refresh", "null"), ("scheduler.get_schedule", "null"),
                 ("scheduler.get_next_actions", "null"), ("scheduler.get_last_executed_action", "null"),
                 ("scheduler.update_schedule", schedule)]
        for subject, body in rows:
            with self.subTest(subject=subject, body=body):
                self.driver.group(front_end(subject, body))
                recipient, name = subject.split(".", 1)
                _, nats_subject, payload = self.peer.next()
                self.assertEqual(nats_subject, "dunebugger.%s.%s" % (recipient, name))
                self.assertEqual(payload, {"subject": name, "body": body, "connectionId": "conn-7"})

        # Loop guard, no dot, unknown recipient, two-token name: nothing on NATS.
        for data in [dict(front_end("core.refresh_gpios", "null"), source="controller"),
                     front_end("refresh_gpios", "null"), front_end("terminal.refresh", "null"),
                     front_end("core.get.sequence", "null")]:
            self.driver.group(data)
        self.driver.group(front_end("core.refresh_gpios", "marker"))
        _, nats_subject, payload = self.peer.next()
        self.assertEqual((nats_subject, payload["body"]), ("dunebugger.core.refresh_gpios", "marker"))

    def test_controller_subjects_are_answered_on_the_group(self):
        self.start()
        self.driver.send({"op": "joined"})
        self.assertEqual(self.driver.to_group(), envelope("heartbeat", "Is anyone there?"))
        info = self.driver.to_group()
        self.assertEqual(info["subject"], "system_info")
        self.driver.group(front_end("controller.heartbeat", "I am here"))
        self.assertEqual(self.driver.to_group(), envelope("heartbeat", "I am alive"))
        self.driver.group(front_end("controller.system_info", "refresh"))
        info = self.driver.to_group(subject="system_info")["body"]["system_info"]
        self.assertEqual(info["device_id"], "test-device")
        self.assertEqual(info["location"], {"description": "test bench"})
        for key in ("timestamp", "dunebugger_components", "hardware", "os", "network"):
            self.assertIn(key, info)
        self.assertEqual(info["dunebugger_components"][2]["name"], "dunebugger-remote")
        self.assertEqual(info["dunebugger_components"][2]["state"], "running")
        self.assertTrue(info["dunebugger_components"][2]["version"])

    def test_nats_state_is_broadcast_exactly(self):
        self.start()
        gpio = [{"pin": p, "label": "_not_found_", "mode": "INPUT", "state": "LOW", "switch": "ON"} for p in range(28)]
        rows = {
            "gpio_state": gpio,
            "sequence_state": {"random_actions": False, "cycle_running": False, "start_button_enabled": True,
                               "sequences_validated": True},
            "sequence": {"sequence": [{"time": 0, "command": "gpio", "action": "on", "parameter": "5"}]},
            "playing_time": 30,
            "log": {"success": False, "message": "unknown command", "level": "error"},
            "current_schedule": "on monday at 08:00 do c\n",
            "next_actions": [{"date": "01-12-2025", "time": "08:00", "datetime": "2025-12-01T08:00:00",
                              "action": "on", "commands": ["c"], "description": "morning"}],
            "last_executed_action": {"executed": False, "message": "none yet"},
        }
        for x, body in rows.items():
            with self.subTest(subject=x):
                source = "scheduler" if x in ("current_schedule", "next_actions", "last_executed_action") else "core"
                self.peer.pub("dunebugger.remote." + x, {"body": body, "subject": x, "source": source})
                self.assertEqual(self.driver.to_group(), envelope(x, body))
        # Not listed: logged as a warning and dropped.
        self.peer.pub("dunebugger.remote.schedule_command", {"body": "c", "subject": "x", "source": "scheduler"})
        self.peer.pub("dunebugger.remote.log", b"not json")
        self.peer.flush()
        self.driver.no_group_message(0.5)
        self.assertTrue(self.driver.log_has("schedule_command dropped: unknown subject"))
        self.assertTrue(self.driver.log_has("payload is not JSON"))

    def flood_during_a_stall(self, total):
        """The loop stalls while core floods NATS, so the messages wait in the
        socket and the bridge reads them faster than it hands them on. Returns
        the bodies handed on (until the newest)."""
        self.driver.send({"op": "stall", "ms": 1500})
        time.sleep(0.2)
        for i in range(total):
            self.peer.pub("dunebugger.remote.playing_time", {"body": i, "subject": "playing_time", "source": "core"})
        self.peer.flush()
        got = []
        while not got or got[-1] != total - 1:
            got.append(self.driver.to_group(timeout=20, subject="playing_time")["body"])
        return got

    def inbox_full_lines(self):
        return [(int(m.group(1)), bool(m.group(2))) for line in self.driver.stderr
                for m in [re.search(r"NATS inbox full: (\d+) (more )?message\(s\) dropped", line)] if m]

    def test_inbox_bound_drops_the_oldest_under_a_flood(self):
        # Far more than the inbox's 1024 messages wait: the bridge drops the
        # oldest, says how many (the burst's first line at once, then one
        # summary a period), and what it hands on stays in order and ends
        # with the newest.
        self.start(drop_summary_secs=1)
        total = 6000
        got = self.flood_during_a_stall(total)
        self.assertEqual(got, sorted(set(got)))
        time.sleep(2.5)  # the summary of the burst's rest, then the burst's end
        lines = self.inbox_full_lines()
        dropped = sum(n for n, _ in lines)
        self.assertGreater(dropped, 0)
        self.assertEqual(len(got) + dropped, total)
        # One line at once, the rest summed up: not a line per batch read.
        self.assertFalse(lines[0][1], "the burst's first line is not a summary")
        self.assertLessEqual(len(lines), 3, "one line per burst and one a period: %s" % lines)
        # Once a batch is handed on the inbox refills with newer messages,
        # so more than its bound gets through, but never all.
        self.assertGreaterEqual(len(got), 1024)

    def test_inbox_byte_bound_drops_before_the_count_bound(self):
        # 1000 messages stay under the count bound (1024); 4000 bytes of
        # payload (about 70 of them) do not: the byte bound drops the oldest.
        self.start(drop_summary_secs=1, inbox_bytes=4000)
        total = 1000
        got = self.flood_during_a_stall(total)
        self.assertEqual(got, sorted(set(got)))
        time.sleep(2.5)
        dropped = sum(n for n, _ in self.inbox_full_lines())
        self.assertGreater(dropped, 0, "the byte bound dropped nothing")
        self.assertEqual(len(got) + dropped, total)

    def test_probes_and_component_liveness(self):
        self.start(probe_secs=1, ttl_secs=2)
        self.peer.sub("dunebugger.core.heartbeat")
        self.peer.sub("dunebugger.scheduler.heartbeat")
        probe = {"body": "are you there?", "subject": "heartbeat", "source": "controller"}
        times = {"dunebugger.core.heartbeat": [], "dunebugger.scheduler.heartbeat": []}
        answering_core = True
        deadline = time.monotonic() + 3.6
        while time.monotonic() < deadline:
            try:
                t, subject, payload = self.peer.next(timeout=deadline - time.monotonic())
            except TimeoutError:
                break
            self.assertEqual(payload, probe)
            times[subject].append(t)
            if subject == "dunebugger.core.heartbeat" and answering_core:
                self.peer.pub("dunebugger.remote.heartbeat", {"body": "alive", "subject": "heartbeat", "source": "core"})
        for subject, ts in times.items():
            # The first probe 1 s after start (generous real-time bound), then every 1 s.
            self.assertGreaterEqual(len(ts), 3, subject)
            self.assertGreater(ts[0] - self.driver.started, 0.8, subject)
            self.assertLess(ts[0] - self.driver.started, 2.5, subject)
            for a, b in zip(ts, ts[1:]):
                self.assertAlmostEqual(b - a, 1.0, delta=0.4)
            # No drift: the k-th probe stays on the 1 s grid.
            self.assertAlmostEqual(ts[-1] - ts[0], len(ts) - 1.0, delta=0.2)
        self.driver.group(front_end("controller.system_info", "null"))
        components = self.driver.to_group(subject="system_info")["body"]["system_info"]["dunebugger_components"]
        self.assertEqual(components[0], {"name": "dunebugger", "state": "running"})
        self.assertEqual(components[1], {"name": "scheduler", "state": "not_responding"})
        # The core goes silent: after the TTL it shows not_responding.
        time.sleep(2.5)
        self.driver.group(front_end("controller.system_info", "null"))
        components = self.driver.to_group(subject="system_info")["body"]["system_info"]["dunebugger_components"]
        self.assertEqual(components[0], {"name": "dunebugger", "state": "not_responding"})

    def test_heartbeat_loop_on_the_real_loop(self):
        # heartBeatEverySecs = 1, heartBeatLoopDurationSecs = 3: alive at 0, 1, 2 s, the question at 3 s.
        self.start(heartbeat_every=1, heartbeat_duration=3)
        self.driver.group(front_end("controller.heartbeat", "I am here"))
        t0, e = self.driver.wait_event(lambda e: e["event"] == "to_group")
        self.assertEqual(e["data"], envelope("heartbeat", "I am alive"))
        seen = []
        for _ in range(3):
            t, e = self.driver.wait_event(lambda e: e["event"] == "to_group", timeout=3)
            seen.append((round(t - t0, 1), e["data"]["body"]))
        self.assertEqual([body for _, body in seen], ["I am alive", "I am alive", "Is anyone there?"])
        for (at, _), expected in zip(seen, [1.0, 2.0, 3.0]):
            self.assertAlmostEqual(at, expected, delta=0.3)
        self.driver.no_group_message(1.5)  # then quiet

    def test_broadcast_disabled_sends_nothing_to_the_group(self):
        self.start(broadcast="false")
        self.peer.sub("dunebugger.core.*")
        self.driver.send({"op": "joined"})
        self.driver.group(front_end("controller.heartbeat", "I am here"))
        self.peer.pub("dunebugger.remote.log", {"body": {"message": "m"}, "subject": "log", "source": "core"})
        self.peer.flush()
        self.driver.no_group_message(0.7)
        # The bus direction still works.
        self.driver.group(front_end("core.refresh_gpios", "null"))
        _, subject, _ = self.peer.next()
        self.assertEqual(subject, "dunebugger.core.refresh_gpios")


class NatsLifecycleTest(unittest.TestCase):
    @staticmethod
    def end(driver, server, peer):
        """Ends what a test started; returns the driver's exit code."""
        if peer:
            peer.close()
        rc = driver.stop()
        server.stop()
        return rc

    def test_nats_absent_at_start_then_started(self):
        port = free_port()
        server = NatsServer(port)
        driver = Driver(server.url)
        peer = None
        try:
            # The cloud side keeps working without NATS.
            driver.group(front_end("controller.heartbeat", "I am here"))
            self.assertEqual(driver.to_group(), envelope("heartbeat", "I am alive"))
            driver.group(front_end("core.refresh_gpios", "null"))
            time.sleep(3.0)
            self.assertIsNone(driver.proc.poll())
            self.assertTrue(driver.log_has("front-end request for dunebugger.core.refresh_gpios dropped"))
            self.assertTrue(driver.log_has("NATS: no server reachable yet"))
            driver.send({"op": "publish", "subject": "dunebugger.core.x", "payload": "{}"})
            driver.wait_event(lambda e: e["event"] == "publish" and e["result"] == "not_connected")

            started = time.monotonic()
            server.start()
            driver.wait_link("connected", timeout=8)
            # libnats retries every 2 s.
            self.assertLess(time.monotonic() - started, 4.0)
            peer = NatsPeer(port)
            peer.sub("dunebugger.core.*")
            driver.group(front_end("core.refresh_gpios", "null"))
            _, subject, payload = peer.next()
            self.assertEqual((subject, payload["subject"]), ("dunebugger.core.refresh_gpios", "refresh_gpios"))
            peer.pub("dunebugger.remote.playing_time", {"body": 10, "subject": "playing_time", "source": "core"})
            self.assertEqual(driver.to_group(), envelope("playing_time", 10))
        finally:
            rc = self.end(driver, server, peer)
        self.assertEqual(rc, 0, "".join(driver.stderr[-30:]))

    def test_nats_restart_reconnects(self):
        server = NatsServer.start_on_free_port()
        port = server.port
        driver = Driver(server.url)
        peer = None
        try:
            driver.wait_link("connected")
            server.stop()
            driver.wait_link("reconnecting", timeout=10)
            driver.send({"op": "publish", "subject": "dunebugger.core.x", "payload": "{}"})
            driver.wait_event(lambda e: e["event"] == "publish" and e["result"] == "not_connected")
            server.start()
            driver.wait_link("connected", timeout=10)
            peer = NatsPeer(port)
            peer.sub("dunebugger.scheduler.*")
            driver.group(front_end("scheduler.refresh", "null"))
            _, subject, _ = peer.next()
            self.assertEqual(subject, "dunebugger.scheduler.refresh")
            # The subscription was restored on the new server too.
            peer.pub("dunebugger.remote.next_actions", {"body": [], "subject": "next_actions", "source": "scheduler"})
            self.assertEqual(driver.to_group(), envelope("next_actions", []))
        finally:
            rc = self.end(driver, server, peer)
        self.assertEqual(rc, 0, "".join(driver.stderr[-30:]))

    def test_sigterm_is_a_graceful_shutdown(self):
        # libnats runs threads of its own; SIGTERM must still reach the loop
        # (signals blocked before those threads exist), not kill the process.
        server = NatsServer.start_on_free_port()
        driver = Driver(server.url)
        try:
            driver.wait_link("connected")
            time.sleep(0.3)
            for _ in range(5):
                driver.proc.send_signal(signal.SIGTERM)
                try:
                    driver.proc.wait(0.5)
                    break
                except subprocess.TimeoutExpired:
                    pass
            rc = driver.stop()
        finally:
            server.stop()
        self.assertEqual(rc, 0, "".join(driver.stderr[-30:]))
        self.assertTrue(driver.log_has("shutting down (SIGTERM)"))
        self.assertTrue(driver.log_has("NATS connection closed"))

    def test_shutdown_drains_published_messages(self):
        server = NatsServer.start_on_free_port()
        driver = Driver(server.url)
        peer = NatsPeer(server.port)
        try:
            driver.wait_link("connected")
            peer.sub("dunebugger.core.*")
            for i in range(50):
                driver.group(front_end("core.dunebugger_set", "sw %d on" % (i % 28)))
            started = time.monotonic()
            rc = driver.stop()
            self.assertLess(time.monotonic() - started, 5.0)
            self.assertEqual(rc, 0, "".join(driver.stderr[-30:]))
            got = [peer.next()[2]["body"] for _ in range(50)]
            self.assertEqual(got, ["sw %d on" % (i % 28) for i in range(50)])
        finally:
            peer.close()
            server.stop()


if __name__ == "__main__":
    test_main.run("driver")
