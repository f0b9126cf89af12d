"""The whole agent end to end: front end -> Web PubSub hub -> REAL agent ->
nats-server -> core/scheduler peers, and back (dunebugger-protocol.md §1-§2).

Each test starts its own hub process, nats-server and agent (harness:
tests/support/e2e.py). After each one the agent must exit 0 within 2 s of
SIGTERM and its stderr must hold no secret.

    /usr/bin/python3 tests/integration/app/test_end_to_end.py --agent build/src/dunebugger-remote
"""
import asyncio
import datetime
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from e2e import DEVICE_ID, GROUP, LOCATION, E2ETestCase, envelope, free_port, main  # noqa: E402

import json_raw  # noqa: E402
from ntp_peer import Chrony  # noqa: E402

I_AM_ALIVE = "I am alive"
IS_ANYONE_THERE = "Is anyone there?"
PROBE = {"body": "are you there?", "subject": "heartbeat", "source": "controller"}

GPIO_STATE = [{"pin": p, "label": {17: "Star", 27: "Dawn"}.get(p, "_not_found_"),
               "mode": "OUTPUT" if p in (17, 27) else "INPUT", "state": "LOW" if p == 17 else "HIGH",
               "switch": "ON" if p == 17 else "OFF"} for p in range(28)]

# §1.3: every subject NATS pushes, with a body shaped like the real one.
PUSHED = [
    ("core", "gpio_state", GPIO_STATE),
    ("core", "sequence_state", {"random_actions": False, "cycle_running": True, "start_button_enabled": True,
                                "sequences_validated": True}),
    ("core", "sequence", {"sequence": [{"time": 0, "command": "switch", "action": "on", "parameter": "Dawn"},
                                       {"time": 10, "command": "switch", "action": "off", "parameter": "Dawn"}]}),
    ("core", "playing_time", 30),
    ("core", "log", {"success": False, "message": "comando sconosciuto: «zz» ✨", "level": "error"}),
    ("scheduler", "current_schedule", "# day  time  action\nmon-sun 17:00 start\n\tmon-sun 23:00 stop\n"),
    ("scheduler", "next_actions", [{"date": "01-12-2025", "time": "17:00", "datetime": "2025-12-01T17:00:00",
                                    "action": "start", "commands": ["c"], "description": "evening show"},
                                   {"date": "01-12-2025", "time": "23:00", "datetime": "2025-12-01T23:00:00",
                                    "action": "stop", "commands": ["cs", "dr"], "description": "night"}]),
    ("scheduler", "last_executed_action", {"executed": True, "date": "30-11-2025", "time": "23:00",
                                           "datetime": "2025-11-30T23:00:00", "action": "stop",
                                           "commands": ["cs"], "description": "night"}),
]

SCHEDULE_TEXT = "# day       time  action\nmon-fri    17:00 start\nsat-sun    10:00 start\nmon-sun    23:00 stop\n"
SEQUENCE_FILE = "0 switch on Dawn\n10 switch on Star\n30 switch off Dawn\n60 switch off Star\n"

# §1.2: every subject the front end sends that the agent forwards to NATS.
REQUESTS = ([("core.dunebugger_set", body) for body in
             ["c", "cs", "esb", "dsb", "er", "dr", "so", "sb", "sw 17 on", "sw 17 off",
              "us main.seq " + SEQUENCE_FILE]]
            + [("core.refresh_sequence", "null"), ("core.refresh_gpios", "null"), ("core.get_sequence", "main"),
               ("scheduler.refresh", "null"), ("scheduler.get_schedule", "null"),
               ("scheduler.get_next_actions", "null"), ("scheduler.get_last_executed_action", "null"),
               ("scheduler.update_schedule", SCHEDULE_TEXT)])


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class ConversationTest(E2ETestCase):
    def setUp(self):
        super().setUp()
        self.start_hub()
        self.start_nats()

    def test_device_comes_online_and_reports_system_info(self):
        self.start_agent()
        fe = self.frontend()
        # §1.4: the front end's "I am here" is answered at once; it sets the device online.
        self.aio.run(fe.wait_online(True, 5), 10)
        self.assertEqual(self.wait_received(fe, "heartbeat"), envelope("heartbeat", I_AM_ALIVE))
        self.assertEqual(self.aio.call(lambda: list(fe.dropped)), [], "payloads the front end could not accept")

        # The push after the agent's join came before this front end existed.
        pushed_on_join = len(self.received(fe, "system_info"))
        info = self.system_info(fe)
        reply = self.received(fe, "system_info")[-1]
        self.assertEqual({k: v for k, v in reply.items() if k != "body"},
                         {"subject": "system_info", "source": "controller", "destination": "broadcast"})
        self.assertEqual(list(reply["body"]), ["system_info"])
        self.assertEqual(info["device_id"], DEVICE_ID)
        self.assertRegex(info["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")
        stamp = datetime.datetime.strptime(info["timestamp"], "%Y-%m-%dT%H:%M:%S")
        self.assertLess(abs((utc_now() - stamp).total_seconds()), 60, "timestamp is UTC and current")
        components = info["dunebugger_components"]
        self.assertEqual([c["name"] for c in components], ["dunebugger", "scheduler", "dunebugger-remote"])
        for c in components[:2]:
            self.assertIn(c["state"], ("running", "not_responding"))
        self.assertEqual(components[2]["state"], "running")
        self.assertRegex(components[2]["version"], r"^\d+\.\d+\.\d+")

        hw = info["hardware"]
        self.assertTrue({"model", "revision", "cpu", "memory", "storage"} <= set(hw), hw)
        self.assertTrue({"model", "cores", "architecture", "current_temp_c", "load"} <= set(hw["cpu"]))
        self.assertEqual(len(hw["cpu"]["load"]), 3)
        self.assertIsInstance(hw["memory"]["total_mb"], int)
        self.assertIsInstance(hw["memory"]["used_mb"], int)
        self.assertTrue({"root_device", "total_gb", "used_gb"} <= set(hw["storage"]))
        os_info = info["os"]
        self.assertTrue({"name", "version", "kernel", "boot_time_utc"} <= set(os_info))
        self.assertRegex(os_info["boot_time_utc"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        net = info["network"]
        self.assertTrue({"hostname", "interfaces", "connectivity"} <= set(net))
        for iface in net["interfaces"]:
            self.assertNotEqual(iface["name"], "lo")
            self.assertIn(iface["type"], ("wifi", "ethernet", "usb", "ppp", "other"))
            self.assertIn(iface["state"], ("up", "down", "unknown"))
            self.assertTrue({"mac", "ip_v4", "ip_v6"} <= set(iface))
        self.assertTrue({"default_route", "dns_servers", "internet_reachable", "latency_ms_to_gateway"}
                        <= set(net["connectivity"]))
        self.assertIsInstance(net["connectivity"]["dns_servers"], list)
        self.assertEqual(info["location"], {"description": LOCATION})

        # "null" is the other body the front end sends: answered the same way.
        again = self.system_info(fe, body="null")
        self.assertEqual(again["device_id"], DEVICE_ID)
        self.assertEqual(len(self.received(fe, "system_info")), 2 + pushed_on_join)

    def test_every_front_end_request_reaches_nats_once_and_intact(self):
        # No probes on the bus during this test: every NATS message is a forwarded request.
        self.start_agent(componentHeartbeatSecs=3600)
        peer = self.peer("core-and-scheduler", subscribe=[">"])
        fe = self.frontend()
        self.aio.run(fe.wait_online(True, 5), 10)
        for subject, body in REQUESTS:
            with self.subTest(subject=subject, body=body[:20]):
                self.request(fe, subject, body)
                recipient, name = subject.split(".", 1)
                _, nats_subject, payload = peer.next(timeout=5)
                self.assertEqual(nats_subject, "dunebugger.%s.%s" % (recipient, name))
                self.assertEqual(payload, {"subject": name, "body": body, "connectionId": fe.connection_id})
        # The controller's own subjects stay off the bus; then a marker: if any
        # request above had been published twice, its copy would come first.
        self.request(fe, "controller.heartbeat", "I am here")
        self.request(fe, "controller.system_info", "null")
        self.request(fe, "core.get_sequence", "marker")
        _, nats_subject, payload = peer.next(timeout=5)
        self.assertEqual((nats_subject, payload["body"]), ("dunebugger.core.get_sequence", "marker"))
        peer.flush()
        time.sleep(0.3)
        self.assertEqual(peer.drain(), [])
        self.assertEqual(self.log_count("group -> bus"), len(REQUESTS) + 1)

    def test_every_pushed_subject_reaches_the_front_end_once_and_intact(self):
        self.start_agent()
        core = self.peer("core")
        scheduler = self.peer("scheduler")
        fe = self.frontend()
        self.aio.run(fe.wait_online(True, 5), 10)
        _, since = self.hub.agent_messages()
        for source, subject, body in PUSHED:
            with self.subTest(subject=subject):
                peer = core if source == "core" else scheduler
                peer.pub("dunebugger.remote." + subject, {"body": body, "subject": subject, "source": source})
                self.assertEqual(self.wait_received(fe, subject), envelope(subject, body))
        # A marker last: everything before it has arrived; nothing came twice.
        core.pub("dunebugger.remote.playing_time", {"body": 40, "subject": "playing_time", "source": "core"})
        self.wait_received(fe, "playing_time", predicate=lambda d: d["body"] == 40)
        got = [d for d in self.received(fe) if d["subject"] != "heartbeat"]
        self.assertEqual(got, [envelope(s, b) for _, s, b in PUSHED] + [envelope("playing_time", 40)])
        # The hub saw each exactly once too (no resend that the client de-duplicated).
        sent, _ = self.hub.agent_messages(since)
        sent = [m for m in sent if m["data"]["subject"] != "heartbeat"]
        self.assertEqual([m["data"]["subject"] for m in sent], [s for _, s, _ in PUSHED] + ["playing_time"])
        self.assertTrue(all(m["outcome"] == "delivered" and m["dataType"] == "json" and m["noEcho"] for m in sent),
                        sent)

    def test_unknown_loop_guarded_and_malformed_messages_are_not_relayed(self):
        # A long heartbeat period: every "I am alive" here answers a request.
        self.start_agent(componentHeartbeatSecs=3600, heartBeatEverySecs=30)
        peer = self.peer("core", subscribe=[">"])
        fe = self.frontend()
        self.aio.run(fe.wait_online(True, 5), 10)
        # NATS -> group: a subject not in the §2 list is dropped with a warning.
        peer.pub("dunebugger.remote.schedule_command", {"body": "c", "subject": "schedule_command",
                                                        "source": "scheduler"})
        peer.pub("dunebugger.remote.states_list", {"body": [], "subject": "states_list", "source": "scheduler"})
        self.wait_log("NATS message on dunebugger.remote.schedule_command dropped: unknown subject", 5)
        self.wait_log("NATS message on dunebugger.remote.states_list dropped: unknown subject", 5)
        peer.flush()  # our own two messages come back (we listen on ">") before the PONG
        self.assertEqual([s for _, s, _ in peer.drain()],
                         ["dunebugger.remote.schedule_command", "dunebugger.remote.states_list"])

        # group -> NATS: the loop guard, no dot, unknown recipient, a two-token name.
        heartbeats_before = len(self.received(fe, "heartbeat"))
        ignored = [
            {"subject": "core.refresh_gpios", "body": "null", "connectionId": fe.connection_id,
             "source": "controller"},
            dict(envelope("heartbeat", "I am here"), subject="controller.heartbeat"),
            {"subject": "refresh_gpios", "body": "null", "connectionId": fe.connection_id},
            {"subject": "terminal.refresh", "body": "null", "connectionId": fe.connection_id},
            {"subject": "core.get.sequence", "body": "null", "connectionId": fe.connection_id},
        ]
        for data in ignored:
            self.aio.run(fe.client.send_to_group(GROUP, data, no_echo=True))
        self.request(fe, "core.refresh_gpios", "marker")
        _, nats_subject, payload = peer.next(timeout=5)
        self.assertEqual((nats_subject, payload["body"]), ("dunebugger.core.refresh_gpios", "marker"))
        self.assertEqual(self.log_count("group message ignored: source is controller"), 2)
        self.assertEqual(self.log_count("group message ignored: subject has no recipient prefix"), 1)
        self.assertEqual(self.log_count("group message ignored: unknown recipient"), 1)
        self.assertEqual(self.log_count("group message ignored: name is not a single NATS subject token"), 1)

        # Nothing of that reached the front end (the guarded heartbeat got no
        # answer), and the agent is healthy: it still relays both ways and
        # answers a real heartbeat.
        time.sleep(0.3)
        self.assertEqual([d["subject"] for d in self.received(fe) if d["subject"] != "heartbeat"], [])
        self.assertEqual(len(self.received(fe, "heartbeat")), heartbeats_before)
        self.assert_agent_alive()
        peer.pub("dunebugger.remote.log", {"body": {"success": True, "message": "ok", "level": "info"},
                                           "subject": "log", "source": "core"})
        self.assertEqual(self.wait_received(fe, "log")["body"]["message"], "ok")
        self.request(fe, "controller.heartbeat", "I am here")
        self.aio.run(self._wait_count(fe, "heartbeat", heartbeats_before + 1), 10)

    async def _wait_count(self, fe, subject, count, timeout=5):
        deadline = time.monotonic() + timeout
        while sum(1 for d in fe.received if d.get("subject") == subject) < count:
            self.assertLess(time.monotonic(), deadline, "fewer than %d %s" % (count, subject))
            await asyncio.sleep(0.02)

    def test_broadcast_disabled_sends_nothing_but_requests_still_reach_nats(self):
        self.start_agent(broadcastInitialState="False", componentHeartbeatSecs=3600)
        peer = self.peer("core", subscribe=["dunebugger.core.*"])
        received = []
        client = self.raw_client(on_message=lambda c, m: received.append(m))
        ask = {"subject": "controller.heartbeat", "body": "I am here", "connectionId": client.connection_id}
        self.aio.run(client.send_to_group(GROUP, ask, no_echo=True))
        ask = {"subject": "controller.system_info", "body": "null", "connectionId": client.connection_id}
        self.aio.run(client.send_to_group(GROUP, ask, no_echo=True))
        peer.pub("dunebugger.remote.gpio_state", {"body": GPIO_STATE, "subject": "gpio_state", "source": "core"})
        req = {"subject": "core.refresh_gpios", "body": "null", "connectionId": client.connection_id}
        self.aio.run(client.send_to_group(GROUP, req, no_echo=True))
        _, subject, payload = peer.next(timeout=5)
        self.assertEqual((subject, payload), ("dunebugger.core.refresh_gpios", req | {"subject": "refresh_gpios"}))
        # Two heartbeat periods (2 s each) without a single message from the agent.
        time.sleep(4.5)
        self.assertEqual(received, [])
        sent, _ = self.hub.agent_messages()
        self.assertEqual(sent, [], "the agent sent to the group")
        log = self.hub.control.messages(GROUP)["messages"]
        self.assertEqual([m for m in log if m["userId"] == DEVICE_ID], [])
        # It did join the group (that is how the request reached NATS).
        self.assertIn(self.hub.agent_session()["connectionId"], self.hub.control.state()["groups"][GROUP])


class HeartbeatLoopTest(E2ETestCase):
    def test_loop_timing_then_silence_and_a_question_after_every_join(self):
        self.start_hub()
        self.start_nats()
        # heartBeatEverySecs 2, heartBeatLoopDurationSecs 7: alive at 0, 2, 4, 6 s, the question at 7 s.
        self.start_agent(heartBeatEverySecs=2, heartBeatLoopDurationSecs=7, componentHeartbeatSecs=3600)
        first_join = self.hub.wait_agent_messages(2, 5)
        # §1.4: after the join the agent asks once, then pushes system_info.
        self.assertEqual([m["data"]["subject"] for m in first_join][:2], ["heartbeat", "system_info"])
        self.assertEqual(first_join[0]["data"], envelope("heartbeat", IS_ANYONE_THERE))
        arrivals = []
        client = self.raw_client(on_message=lambda c, m: arrivals.append((time.monotonic(), m["data"])))
        ask = {"subject": "controller.heartbeat", "body": "I am here", "connectionId": client.connection_id}
        t0 = time.monotonic()
        self.aio.run(client.send_to_group(GROUP, ask, no_echo=True))
        time.sleep(7 + 2 * 2 + 0.5)  # the loop, then two more intervals of silence
        seen = [(round(t - t0, 2), d) for t, d in arrivals]
        for _, data in seen:
            self.assertEqual(data["subject"], "heartbeat", seen)
        bodies = [d["body"] for _, d in seen]
        self.assertEqual(bodies, [I_AM_ALIVE] * 4 + [IS_ANYONE_THERE], seen)
        times = [t for t, _ in seen]
        print("heartbeat loop arrivals (s after the request): %s" % times)
        self.assertLess(times[0], 0.5, "the first 'I am alive' comes at once")
        for got, expected in zip(times[1:], [2.0, 4.0, 6.0, 7.0]):
            self.assertAlmostEqual(got, expected, delta=0.5)

        # A new connection (the hub restarts and forgets every session): the
        # agent asks again once it has joined, then pushes system_info.
        _, since = self.hub.agent_messages()
        old = self.hub.agent_session()["connectionId"]
        self.hub.control.restart(delay=0.5)
        after = self.hub.wait_agent_messages(2, 15, since)
        self.assertGreaterEqual(len(after), 2, "nothing from the agent after the hub restarted; agent log:\n"
                                + "\n".join(self.agent.output()[-30:]))
        self.assertEqual(after[0]["data"], envelope("heartbeat", IS_ANYONE_THERE))
        self.assertEqual(after[1]["data"]["subject"], "system_info")
        self.assertNotEqual(after[0]["connectionId"], old)
        time.sleep(1.0)
        after, _ = self.hub.agent_messages(since)
        self.assertEqual(len(after), 2, [m["data"]["subject"] for m in after])


class ComponentLivenessTest(E2ETestCase):
    def test_running_while_answering_not_responding_after_the_ttl(self):
        self.start_hub()
        self.start_nats()
        ttl = 3.0
        self.start_agent(componentHeartbeatSecs=1, componentTtlSecs=int(ttl))
        core = self.peer("core", subscribe=["dunebugger.core.*"])
        scheduler = self.peer("scheduler", subscribe=["dunebugger.scheduler.*"])
        fe = self.frontend()
        # Nobody has answered a probe yet: both start as not_responding.
        states = {c["name"]: c["state"] for c in self.system_info(fe)["dunebugger_components"]}
        self.assertEqual(states, {"dunebugger": "not_responding", "scheduler": "not_responding",
                                  "dunebugger-remote": "running"})
        # The probes (§2), on both subjects; the scheduler never answers.
        _, _, probe = scheduler.next(timeout=5, subject="dunebugger.scheduler.heartbeat")
        self.assertEqual(probe, PROBE)

        answering = threading.Event()
        answering.set()
        stop = threading.Event()
        last_alive = [None]

        def answer():
            while not stop.is_set():
                try:
                    _, _, payload = core.next(timeout=0.2, subject="dunebugger.core.heartbeat")
                except Exception:
                    continue
                if payload != PROBE:
                    last_alive[0] = "bad probe %r" % payload
                    return
                if answering.is_set():
                    core.pub("dunebugger.remote.heartbeat", {"body": "alive", "subject": "heartbeat",
                                                             "source": "core"})
                    last_alive[0] = time.monotonic()
        thread = threading.Thread(target=answer, daemon=True)
        thread.start()
        self.addCleanup(thread.join, 2)
        self.addCleanup(stop.set)

        deadline = time.monotonic() + 5
        while True:
            states = {c["name"]: c["state"] for c in self.system_info(fe)["dunebugger_components"]}
            if states["dunebugger"] == "running":
                break
            self.assertLess(time.monotonic(), deadline, "the core never showed running")
            time.sleep(0.2)
        self.assertEqual(states["scheduler"], "not_responding")
        # Still running across several probe periods (each answer renews it).
        time.sleep(2 * ttl)
        states = {c["name"]: c["state"] for c in self.system_info(fe)["dunebugger_components"]}
        self.assertEqual(states["dunebugger"], "running")

        answering.clear()
        time.sleep(0.3)  # an answer in flight lands
        last = last_alive[0]
        self.assertIsInstance(last, float, last)
        while True:
            states = {c["name"]: c["state"] for c in self.system_info(fe)["dunebugger_components"]}
            if states["dunebugger"] == "not_responding":
                shown = time.monotonic() - last
                break
            self.assertLess(time.monotonic() - last, ttl + 3, "still running long after the TTL")
            time.sleep(0.1)
        print("core shown not_responding %.2f s after its last heartbeat (componentTtlSecs %g)" % (shown, ttl))
        self.assertGreater(shown, ttl - 0.3)
        self.assertLess(shown, ttl + 1.5)


class NatsLifecycleTest(E2ETestCase):
    def test_nats_down_at_start_then_arriving(self):
        self.start_hub()
        port = free_port()
        self.start_agent(nats_port=port, componentHeartbeatSecs=3600)
        fe = self.frontend()
        # The cloud side works without NATS.
        self.aio.run(fe.wait_online(True, 5), 10)
        self.wait_log("NATS: no server reachable yet", 5)
        self.request(fe, "core.refresh_gpios", "null")
        self.wait_log("NATS is not connected: front-end request for dunebugger.core.refresh_gpios dropped", 5)

        started = time.monotonic()
        self.start_nats(port)
        self.wait_log("NATS connected as 'remote'", 10)
        print("NATS link up %.2f s after nats-server started" % (time.monotonic() - started))
        peer = self.peer("core", subscribe=["dunebugger.core.*"])
        self.request(fe, "core.refresh_gpios", "null")
        _, subject, payload = peer.next(timeout=5)
        self.assertEqual((subject, payload), ("dunebugger.core.refresh_gpios",
                                              {"subject": "refresh_gpios", "body": "null",
                                               "connectionId": fe.connection_id}))
        peer.pub("dunebugger.remote.gpio_state", {"body": GPIO_STATE, "subject": "gpio_state", "source": "core"})
        self.assertEqual(self.wait_received(fe, "gpio_state"), envelope("gpio_state", GPIO_STATE))
        self.assertEqual(self.log_count("dunebugger-remote started"), 1, "the agent was not restarted")

    def test_sigterm_just_after_nats_went_away_still_exits_within_2_s(self):
        # NATS I/O runs on the loop: closing a connection that libnats is
        # reconnecting (or has not yet seen die) must not block it. The exit
        # within 2 s is checked as the test ends (stop_agent_and_check).
        self.start_hub()
        self.start_nats()
        self.start_agent()
        self.wait_log("NATS connected as 'remote'", 10)
        self.nats.stop()
        self.wait_log("NATS connection lost; reconnecting", 10)
        time.sleep(2.5)  # past the first reconnect attempt (reconnect wait 2 s)

    def test_sigterm_at_once_after_nats_went_away_still_exits_within_2_s(self):
        self.start_hub()
        self.start_nats()
        self.start_agent()
        self.wait_log("NATS connected as 'remote'", 10)
        self.nats.stop()  # SIGTERM follows at once, before or as the loss is seen


class CloudOutageTest(E2ETestCase):
    def test_nats_messages_wait_in_the_outbox_while_the_hub_refuses(self):
        self.start_hub()
        self.start_nats()
        self.start_agent(componentHeartbeatSecs=3600, heartBeatEverySecs=30)
        core = self.peer("core")
        fe = self.frontend()
        self.aio.run(fe.wait_online(True, 5), 10)
        agent_conn = self.hub.agent_session()["connectionId"]
        outage = 4.0
        # The hub refuses every upgrade (new and recovery) for a while, then
        # the agent's transport is dropped. The front end stays connected.
        self.hub.control.refuse(503, for_seconds=outage, only="all")
        refused_until = time.time() + outage
        self.hub.control.drop(connection_id=agent_conn)
        self.wait_log("Web PubSub connection lost", 5)
        bodies = [{"success": True, "message": "step %d" % i, "level": "info"} for i in range(6)]
        for body in bodies:
            core.pub("dunebugger.remote.log", {"body": body, "subject": "log", "source": "core"})
        core.pub("dunebugger.remote.playing_time", {"body": 20, "subject": "playing_time", "source": "core"})
        core.flush()
        t_published = time.monotonic()
        self.wait_received(fe, "playing_time", timeout=outage + 15)
        print("messages delivered %.2f s after publishing, during a %.0f s refusal"
              % (time.monotonic() - t_published, outage))
        got = [d for d in self.received(fe) if d["subject"] in ("log", "playing_time")]
        self.assertEqual(got, [envelope("log", b) for b in bodies] + [envelope("playing_time", 20)])
        # They reached the hub only after it accepted the agent again.
        sent, _ = self.hub.agent_messages()
        relayed = [m for m in sent if m["data"]["subject"] in ("log", "playing_time")]
        self.assertEqual(len(relayed), len(bodies) + 1)
        self.assertGreaterEqual(min(m["time"] for m in relayed), refused_until - 0.2)
        self.assertTrue(all(m["outcome"] == "delivered" for m in relayed))
        self.assertFalse(fe.stopped.is_set())
        # The 4 s outage is inside the 30 s recovery window: the same session
        # carried them (a recovery, not a new connection).
        self.assertEqual({m["connectionId"] for m in relayed}, {agent_conn})

    def test_a_flood_over_the_outbox_bound_keeps_the_newest_and_logs_one_line(self):
        self.start_hub()
        self.start_nats()
        self.start_agent(componentHeartbeatSecs=3600, heartBeatEverySecs=30, outboxMaxMessages=5)
        core = self.peer("core")
        fe = self.frontend()
        self.aio.run(fe.wait_online(True, 5), 10)
        self.hub.control.refuse(503, for_seconds=3.0, only="all")
        self.hub.control.drop(connection_id=self.hub.agent_session()["connectionId"])
        self.wait_log("Web PubSub connection lost", 5)
        total = 300
        for i in range(total):
            core.pub("dunebugger.remote.playing_time", {"body": i, "subject": "playing_time", "source": "core"})
        core.flush()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            got = [d["body"] for d in self.received(fe) if d["subject"] == "playing_time"]
            if got and got[-1] == total - 1:
                break
            time.sleep(0.1)
        # The outbox kept its bound's worth of the newest, in order.
        self.assertEqual(got, list(range(total - 5, total)))
        # 295 drops, one line: the rest are summed up a minute later.
        self.assertEqual(self.log_count("a message for the group was dropped: outbox full"), 1)
        self.assertEqual(self.log_count("more message(s) for the group dropped"), 0)

    def test_nats_messages_wait_in_the_outbox_while_the_hub_restarts(self):
        self.start_hub()
        self.start_nats()
        self.start_agent(componentHeartbeatSecs=3600, heartBeatEverySecs=30)
        core = self.peer("core")
        old = self.hub.agent_session()["connectionId"]
        _, since = self.hub.agent_messages()
        # Every session is lost: the agent needs a new connection (recovery gets 1008).
        self.hub.control.restart(delay=3.0, wait=False)
        back_at = time.time() + 3.0
        self.wait_log("Web PubSub connection lost", 5)
        for i in range(5):
            core.pub("dunebugger.remote.playing_time", {"body": 10 * i, "subject": "playing_time", "source": "core"})
        core.flush()
        sent = self.hub.wait_agent_messages(5, 20, since, lambda m: m["data"]["subject"] == "playing_time")
        relayed = [m for m in sent if m["data"]["subject"] == "playing_time"]
        self.assertEqual([m["data"] for m in relayed], [envelope("playing_time", 10 * i) for i in range(5)],
                         "\n".join(self.agent.output()[-20:]))
        self.assertTrue(all(m["time"] >= back_at - 0.2 and m["connectionId"] != old for m in relayed))
        # The new join is announced on the same connection (after what was
        # already waiting in the outbox).
        new = relayed[0]["connectionId"]
        question = envelope("heartbeat", IS_ANYONE_THERE)
        sent = self.hub.wait_agent_messages(1, 5, since, lambda m: m["data"] == question and m["connectionId"] == new)
        self.assertIn(question, [m["data"] for m in sent if m["connectionId"] == new])



# Bodies as Python's json.dumps writes them (", ", ": "), keys NOT sorted,
# numbers spelled as they came (1.50, 1e3, -0.0), an escaped and a raw
# non-ASCII character, an escaped quote: nlohmann would sort the keys and
# respell the numbers; a relay must pass them on byte for byte.
RAW_BODIES = {
    "scheduler_status": ('{"schedule_loaded": true, "weekdays_configured": 5, "special_dates_configured": 0, '
                         '"commands_available": 12, "states_available": 3, "next_action": "accensione \\u00e8 \u00e8", '
                         '"next_action_time": "17:00"}'),
    "modes_list": ('{"modes": [{"name": "notte", "desc": "luci \\"soffuse\\" \u2728", '
                   '"commands": {"z": "dr", "a": "c"}}]}'),
    "analytics_metrics": '{"zeta": 1.50, "alpha": 1e3, "mid": -0.0, "list": [3, 1, 2], "none": null}',
    "gpio_state": ('[{"pin": 17, "label": "Stella \u00e8", "mode": "OUTPUT", "state": "LOW", "switch": "ON", '
                   '"volts": 3.30}]'),
}


class RelayBytesTest(E2ETestCase):
    """dunebugger-protocol.md §6: scheduler_status, modes_list and
    analytics_metrics reach the front end, and every body passes between NATS
    and the group unchanged (issue: relay bodies byte for byte)."""

    def setUp(self):
        super().setUp()
        self.start_hub()
        self.start_nats()

    def raw_received(self, fe, subject, timeout=5):
        """The exact text of the data of the front end's frame carrying `subject`."""
        self.wait_received(fe, subject, timeout)
        frames = self.aio.call(lambda: list(fe.client.frames))
        for frame in frames:
            try:
                data = json_raw.member(frame, "data")
            except (ValueError, KeyError):
                continue
            if json_raw.member(data, "subject") == '"%s"' % subject:
                return data
        self.fail("no raw frame with subject %s" % subject)

    def test_nats_to_front_end_keeps_every_byte_of_the_body(self):
        self.start_agent(componentHeartbeatSecs=3600)
        scheduler = self.peer("scheduler")
        fe = self.frontend()
        self.aio.run(fe.wait_online(True, 5), 10)
        for subject, body in RAW_BODIES.items():
            with self.subTest(subject=subject):
                payload = '{"body": %s, "subject": "%s", "source": "scheduler"}' % (body, subject)
                scheduler.pub("dunebugger.remote." + subject, payload.encode())
                data = self.raw_received(fe, subject)
                self.assertEqual(json_raw.member(data, "body"), body)
                # The envelope around it is the agent's own, in upstream's key order.
                self.assertEqual(list(json_raw.members(data)), ["body", "subject", "source", "destination"])
                self.assertEqual(json.loads(data)["destination"], "broadcast")

    def test_front_end_to_nats_keeps_every_byte_but_the_subject(self):
        self.start_agent(componentHeartbeatSecs=3600)
        core = self.peer("core", subscribe=["dunebugger.core.>"])
        fe = self.frontend()
        self.aio.run(fe.wait_online(True, 5), 10)
        for body in RAW_BODIES.values():
            with self.subTest(body=body[:30]):
                sent = '{"subject": "core.dunebugger_set", "body": %s, "connectionId": "%s", "extra": [1.50]}' % (
                    body, fe.connection_id)
                self.aio.run(fe.client.send_to_group(GROUP, None, no_echo=True, data_text=sent))
                _, nats_subject, payload = core.next(timeout=5, subject="dunebugger.core.dunebugger_set", raw=True)
                self.assertEqual(payload.decode(), sent.replace('"core.dunebugger_set"', '"dunebugger_set"', 1))

    def test_a_heartbeat_counts_for_the_source_it_names_whatever_connection_carries_it(self):
        self.start_agent(componentHeartbeatSecs=3600)
        fe = self.frontend()
        self.aio.run(fe.wait_online(True, 5), 10)
        # On the NATS connection named "core", the scheduler's answer (§6).
        carrier = self.peer("core")
        carrier.pub("dunebugger.remote.heartbeat", b'{"body": "alive", "subject": "heartbeat", "source": "scheduler"}')
        carrier.flush()
        states = {c["name"]: c["state"] for c in self.system_info(fe)["dunebugger_components"]}
        self.assertEqual(states, {"dunebugger": "not_responding", "scheduler": "running",
                                  "dunebugger-remote": "running"})
        # And the other way round: the core's heartbeat on a connection named "scheduler".
        self.peer("scheduler").pub("dunebugger.remote.heartbeat",
                                   b'{"body": "alive", "subject": "heartbeat", "source": "core"}')
        time.sleep(0.2)
        states = {c["name"]: c["state"] for c in self.system_info(fe)["dunebugger_components"]}
        self.assertEqual(states["dunebugger"], "running")



NTP_SUBJECT = "dunebugger.scheduler.ntp_status"


def scheduler_ntp_payload(available):
    """What upstream develop's scheduler expects (dunebugger-protocol.md §6), as the agent writes it."""
    return ('{"body":{"ntp_available":%s},"subject":"ntp_status","source":"remote"}'
            % ("true" if available else "false")).encode()


class NtpTest(E2ETestCase):
    """Issue 14 item 1 end to end: a real NTP server (chronyd on loopback),
    the real agent, nats-server, the hub and a front end."""

    def setUp(self):
        super().setUp()
        self.start_hub()
        self.start_nats()
        self.chrony = Chrony()
        self.addCleanup(self.chrony.close)

    def ntp_status(self, fe, timeout=5):
        """Asks controller.ntp_status and returns the NEW reply."""
        before = len(self.received(fe, "ntp_status"))
        self.request(fe, "controller.ntp_status", "null")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            replies = self.received(fe, "ntp_status")
            if len(replies) > before:
                return replies[before]
            time.sleep(0.02)
        self.fail("no ntp_status reply within %s s" % timeout)

    def test_ntp_state_reaches_the_front_end_and_the_scheduler_and_follows_the_server(self):
        scheduler = self.peer("scheduler", subscribe=[NTP_SUBJECT])
        self.start_agent(ntpServers=self.chrony.entry(), ntpCheckIntervalSecs=1, ntpTimeout=1)
        # At start the first verdict is pushed to the scheduler unasked.
        _, _, payload = scheduler.next(timeout=10, subject=NTP_SUBJECT, raw=True)
        self.assertEqual(payload, scheduler_ntp_payload(True))
        fe = self.frontend()
        self.aio.run(fe.wait_online(True, 5), 10)
        self.assertEqual(self.ntp_status(fe), envelope("ntp_status", {"ntp_available": True}))
        self.assertIs(self.system_info(fe)["ntp_available"], True)

        # The scheduler asks at its start (§6); the agent answers on its subject.
        scheduler.pub("dunebugger.remote.get_ntp_status",
                      b'{"body": "get_ntp_status", "subject": "get_ntp_status", "source": "scheduler"}')
        _, _, payload = scheduler.next(timeout=5, subject=NTP_SUBJECT, raw=True)
        self.assertEqual(payload, scheduler_ntp_payload(True))

        # The server stops: within the interval + timeout (+ margin) the change
        # is pushed to the scheduler and broadcast to the front end.
        stopped_at = time.monotonic()
        self.chrony.stop()
        _, _, payload = scheduler.next(timeout=10, subject=NTP_SUBJECT, raw=True)
        self.assertEqual(payload, scheduler_ntp_payload(False))
        pushed = self.wait_received(fe, "ntp_status", timeout=10, predicate=lambda d: d["body"]["ntp_available"] is False)
        self.assertEqual(pushed, envelope("ntp_status", {"ntp_available": False}))
        print("NTP lost: told the scheduler and the front end %.2f s after the server stopped"
              % (time.monotonic() - stopped_at))
        self.assertEqual(self.ntp_status(fe)["body"], {"ntp_available": False})
        self.assertIs(self.system_info(fe)["ntp_available"], False)

        # Back: pushed again.
        self.chrony.start()
        _, _, payload = scheduler.next(timeout=10, subject=NTP_SUBJECT, raw=True)
        self.assertEqual(payload, scheduler_ntp_payload(True))
        self.wait_received(fe, "ntp_status", timeout=10, predicate=lambda d: d["body"]["ntp_available"] is True)

    def test_a_request_from_another_source_is_not_answered(self):
        scheduler = self.peer("scheduler", subscribe=[NTP_SUBJECT])
        self.start_agent(ntpServers=self.chrony.entry(), ntpCheckIntervalSecs=1, ntpTimeout=1)
        scheduler.next(timeout=10, subject=NTP_SUBJECT)  # the start-up push
        self.peer("core").pub("dunebugger.remote.get_ntp_status",
                              b'{"body": "get_ntp_status", "subject": "get_ntp_status", "source": "core"}')
        self.wait_log("NATS message on dunebugger.remote.get_ntp_status dropped: unknown subject", 5)
        with self.assertRaises(TimeoutError):
            scheduler.next(timeout=1.5, subject=NTP_SUBJECT)


if __name__ == "__main__":
    main()
