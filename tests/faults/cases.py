"""The fault cases. Each one: steady traffic both ways, inject the fault,
measure the time to detect, hold the fault, clear it, measure the time to
recover, then check that every numbered message arrived exactly once and
that the agent never restarted. The definitions of "detect" and "recover"
are per case (DETECT/RECOVER below) and are printed with the table."""
import glob
import os
import time

from harness import AGENT_TIMINGS, DEVICE_ID, GROUP, Lab, wall

STEADY_S = 3.0        # traffic before the fault
AFTER_S = 2.0         # traffic after recovery, before the senders stop
SETTLE_TIMEOUT_S = 30.0

KEEPALIVE_S = float(AGENT_TIMINGS["keepAliveIntervalSecs"]) + float(AGENT_TIMINGS["keepAliveTimeoutSecs"])
SETTLE_S = float(AGENT_TIMINGS["networkSettleSecs"])
MAX_DELAY_S = float(AGENT_TIMINGS["reconnectMaxDelaySecs"])
PROBE_TIMEOUT_S = float(AGENT_TIMINGS["connectionTimeoutSecs"])

LEFT_CONNECTED = "state leaves Connected"
MONITOR_OFFLINE = "monitor reports offline"
BACK = "Connected, and a message sent after the clear has arrived each way"


class Failed(Exception):
    pass


class Case:
    name = ""
    fault = ""
    hold_s = 10.0
    overrides = {}
    detect_def = LEFT_CONNECTED
    recover_def = BACK
    must_detect = True
    ends_session = False   # the fault ends the Web PubSub session (a new connection follows)

    def __init__(self):
        self.notes = []
        self.failures = []

    def expect(self, condition, text):
        if not condition:
            self.failures.append(text)

    # Every hook gets the lab; times are wall-clock seconds.
    def inject(self, lab):
        raise NotImplementedError

    def clear(self, lab):
        raise NotImplementedError

    def detect(self, lab, t0):
        c = lab.status.wait(lambda c: c[1] != "Connected", self.hold_s, after=t0)
        return c[0] if c else None

    def recover(self, lab, t1, timeout=40):
        if lab.status.state_at(t1) == "Connected":
            connected_at = t1
        else:
            c = lab.status.wait(lambda c: c[1] == "Connected", timeout, after=t1)
            connected_at = c[0] if c else None
        flowing = lab.traffic.flowing_since(t1, timeout)
        if connected_at is None or flowing is None:
            return None
        return max(connected_at - t1, flowing)

    def during_hold(self, lab, t0):
        pass

    def check(self, lab, t0, t_detect, t1, t_recover):
        pass

    # The Lab's extra options (Lab(**lab_options())) and a hook before it starts.
    def lab_options(self):
        return {}

    def before_start(self, lab):
        pass


def left_connected_between(lab, t0, t1):
    return [c for c in lab.status.changes if t0 <= c[0] <= t1 and c[1] != "Connected"]


def max_latency(lab, t0, t1):
    """The longest send->arrival time of messages sent in [t0, t1], each way."""
    tr = lab.traffic
    d2g = [tr.delivered_d2g(n)[0][0] - s for n, s in list(tr.d2g_sent.items())
           if t0 <= s <= t1 and tr.delivered_d2g(n)]
    g2d = [tr.g2d_arrivals[n][0] - s for n, (s, r) in list(tr.g2d_sent.items())
           if t0 <= s <= t1 and tr.g2d_arrivals.get(n)]
    return (max(d2g) if d2g else None, max(g2d) if g2d else None, len(d2g), len(g2d))


def away_counts(lab, t0):
    """Messages sent after t0 while the agent's state (status.json, read
    every 20 ms) was not Connected, each way; group->device: only those the
    hub took for the device's session."""
    tr = lab.traffic
    d2g = sum(1 for s in list(tr.d2g_sent.values()) if s >= t0 and lab.status.state_at(s) != "Connected")
    g2d = sum(1 for s, r in list(tr.g2d_sent.values()) if r and s >= t0 and lab.status.state_at(s) != "Connected")
    return d2g, g2d


class LinkDown(Case):
    name = "link_down"
    fault = "link down (carrier lost) 30 s, then up"
    hold_s = 30.0
    detect_def = MONITOR_OFFLINE + " (netlink change, then the probe fails)"
    recover_def = BACK

    def inject(self, lab):
        t0 = wall()
        lab.link(False)
        return t0

    def detect(self, lab, t0):
        hit = lab.wait_log(t0, "internet monitor: offline", 10)
        if hit:
            self.syns_at_offline = lab.hub_syns()
        return hit[0] if hit else None

    def during_hold(self, lab, t0):
        dead = lab.status.wait(lambda c: c[1] != "Connected", KEEPALIVE_S + 3, after=t0)
        if dead:
            self.notes.append("connection declared dead %.1f s after the link went down" % (dead[0] - t0))
        self.expect(dead is not None and dead[0] - t0 <= KEEPALIVE_S + 1.5,
                    "the dead connection was not noticed within keepalive interval + timeout + 1.5 s")

    def clear(self, lab):
        self.syns_before_up = lab.hub_syns()
        t1 = wall()
        lab.link(True)
        return t1

    def check(self, lab, t0, t_detect, t1, t_recover):
        self.expect(t_detect is not None and t_detect - t0 <= 0.3 + PROBE_TIMEOUT_S + 1.0,
                    "offline not reported within the 0.3 s debounce + probe timeout + 1 s")
        if hasattr(self, "syns_at_offline"):
            attempts = self.syns_before_up - self.syns_at_offline
            self.notes.append("connection attempts (SYNs to the hub) while offline: %d" % attempts)
            self.expect(attempts == 0, "%d connection attempts were made while the monitor said offline" % attempts)
        online = lab.log_first(t1, "internet monitor: online")
        self.expect(online is not None and online[0] - t1 <= 3.0, "online not reported within 3 s of the link up")
        if online:
            self.notes.append("online %.2f s after the link came up" % (online[0] - t1))
            back = lab.status.first(online[0], lambda c: c[1] == "Connected")
            if back:
                self.notes.append("Connected %.2f s after online (networkSettleSecs %.0f)" % (back[0] - online[0],
                                                                                           SETTLE_S))
                self.expect(SETTLE_S - 0.05 <= back[0] - online[0] <= SETTLE_S + 3.0,
                            "reconnect not within networkSettleSecs .. + 3 s of online")


class LossDelay(Case):
    name = "loss_delay"
    fault = "20 % loss and 300 ms delay, each direction, 60 s"
    hold_s = 60.0
    detect_def = "first of: state leaves Connected, monitor reports offline ('-': neither happened)"
    recover_def = BACK
    must_detect = False

    def inject(self, lab):
        t0 = wall()
        lab.loss_and_delay(True)
        return t0

    def detect(self, lab, t0):
        return None   # measured after the hold: the fault may never be noticed

    def during_hold(self, lab, t0):
        time.sleep(max(0.0, t0 + self.hold_s - wall() - 0.5))
        self.loss = lab.loss_counters()

    def clear(self, lab):
        t1 = wall()
        lab.loss_and_delay(False)
        stats = getattr(lab, "delayer_stats", {})
        self.notes.append("delayer: %s packets held 300 ms, at most %s waiting, latest verdict %.0f ms late; "
                          "nftables dropped %s packets (in, out)"
                          % (stats.get("packets"), stats.get("max_waiting"), stats.get("late_ms_max", 0),
                             "/".join(str(x) for x in getattr(self, "loss", []))))
        return t1

    def recover(self, lab, t1, timeout=75):
        return super().recover(lab, t1, timeout)

    def check(self, lab, t0, t_detect, t1, t_recover):
        left = left_connected_between(lab, t0, t1)
        offline = lab.log_first(t0, "internet monitor: offline")
        firsts = [t for t in ([left[0][0]] if left else []) + ([offline[0]] if offline and offline[0] <= t1 else [])]
        self.detected_at = min(firsts) if firsts else None
        self.notes.append("state changes during the fault: %s" % (" -> ".join(c[1] for c in left) or "none"))
        d2g, g2d, nd, ng = max_latency(lab, t0, t1)
        self.notes.append("latency of messages sent during the fault: max %s s device->group, %s s group->device"
                          % ("%.2f" % d2g if d2g is not None else "-", "%.2f" % g2d if g2d is not None else "-"))


class Blackhole(Case):
    name = "blackhole"
    fault = "every packet to and from the hub dropped (nftables), 15 s"
    hold_s = 15.0
    detect_def = LEFT_CONNECTED + " (keepalive timeout)"

    def inject(self, lab):
        with lab.traffic.send_lock:
            t0 = wall()
            lab.blackhole(True)
        return t0

    def during_hold(self, lab, t0):
        self.syns_at_start = lab.hub_syns()

    def clear(self, lab):
        self.notes.append("SYNs to the hub while it was blackholed (attempts and their retransmissions): %d"
                          % (lab.hub_syns() - self.syns_at_start))
        t1 = wall()
        lab.blackhole(False)
        return t1

    def check(self, lab, t0, t_detect, t1, t_recover):
        self.expect(t_detect is not None and t_detect - t0 <= KEEPALIVE_S + 1.5,
                    "not detected within keepAliveIntervalSecs + keepAliveTimeoutSecs + 1.5 s")


class DnsGone(Case):
    """While the hub connection answers, its keepalive is the monitor's
    evidence and no probe runs (the data budget, docs/monitor.md), so a DNS
    server or a probe server that breaks under an answering connection is
    not seen at once: the probe sees it when it next runs, at a link change,
    when the connection goes down or quiet, or on a request. The case checks
    the first part for one interval and more, then gives the device a new
    address (as DHCP or a new network would), and measures detection from
    that link change."""
    name = "dns_gone"
    fault = "DNS server gone (dnsmasq stopped), 15 s after a new address"
    hold_s = 15.0
    overrides = {"connectionIntervalSecs": "5"}
    detect_def = (MONITOR_OFFLINE + " (reason dns) after a link change (a new address); before it, while the "
                  "connection answers, no probe and no offline verdict")
    recover_def = "monitor reports online; the connection stays up throughout"
    probe_word = "dns"

    def break_it(self, lab):
        lab.dns.stop()

    def inject(self, lab):
        t_fault = wall()
        requests = lab.probe.requests
        self.break_it(lab)
        interval = float(self.overrides["connectionIntervalSecs"])
        time.sleep(interval + 1.5)
        answered = [e for e in lab.log_events() if e[0] >= t_fault and "keepalive answered" in e[2]]
        self.expect(answered, "no interval check took the connection's keepalive answer while it answered")
        self.expect(lab.log_first(t_fault, "internet monitor: offline") is None,
                    "offline reported while the connection answered (a probe ran)")
        self.expect(lab.probe.requests == requests, "the probe server was asked while the connection answered")
        self.notes.append("while the connection answered (%.1f s): %d interval check(s) took the keepalive's "
                          "answer, no probe" % (wall() - t_fault, len(answered)))
        t0 = wall()
        lab.ns.exec("ip", "addr", "add", "10.216.0.9/32", "dev", lab.ns.inner)
        return t0

    def detect(self, lab, t0):
        hit = lab.wait_log(t0, "internet monitor: offline", self.hold_s)
        if hit:
            self.notes.append("monitor: " + hit[2].split("internet monitor: ", 1)[1])
            self.expect(self.probe_word in hit[2], "the offline reason does not name %s" % self.probe_word)
        return hit[0] if hit else None

    def clear(self, lab):
        t1 = wall()
        lab.dns.start()
        lab._track(lab.dns.proc)
        return t1

    def recover(self, lab, t1, timeout=15):
        hit = lab.wait_log(t1, "internet monitor: online", timeout)
        return hit[0] - t1 if hit else None

    def check(self, lab, t0, t_detect, t1, t_recover):
        interval = float(self.overrides["connectionIntervalSecs"])
        self.expect(t_detect is not None and t_detect - t0 <= 0.3 + 2 * PROBE_TIMEOUT_S + 1,
                    "offline not reported within the 0.3 s debounce + 2 probe timeouts + 1 s of the link change")
        self.expect(t_recover is not None and t_recover <= interval + 2 * PROBE_TIMEOUT_S + 1,
                    "online not reported within connectionIntervalSecs + 2 probe timeouts + 1 s")
        left = left_connected_between(lab, t0, wall())
        self.expect(not left, "the connection was dropped: %s" % [c[1] for c in left])
        d2g, g2d, nd, ng = max_latency(lab, t0, t1)
        self.notes.append("connection kept; %d + %d messages sent during the fault, max latency %s / %s s"
                          % (nd, ng, "%.3f" % d2g if d2g is not None else "-", "%.3f" % g2d if g2d is not None else "-"))
        self.expect(nd > 0 and ng > 0 and d2g < 1.0 and g2d < 1.0,
                    "messages did not keep flowing (within 1 s) during the fault")


class CaptivePortal(DnsGone):
    name = "captive_portal"
    fault = "probe server answers 302 (captive portal), 15 s after a new address"
    detect_def = (MONITOR_OFFLINE + " (http 302) after a link change (a new address); before it, while the "
                  "connection answers, no probe and no offline verdict")
    probe_word = "302"

    def break_it(self, lab):
        lab.probe.set_mode("302")

    def detect(self, lab, t0):
        hit = super().detect(lab, t0)
        self.expect("secret-portal-token" not in "\n".join(lab.agent.output()),
                    "the portal's query (a token) reached the log")
        return hit

    def clear(self, lab):
        t1 = wall()
        lab.probe.set_mode("200")
        return t1


class HubRestart(Case):
    name = "hub_restart"
    fault = "hub restarted: every transport and session lost, down 5 s"
    hold_s = 5.0
    recover_def = "a new connection joined, and a message sent after the hub is back has arrived each way"
    ends_session = True

    def inject(self, lab):
        self.old_session = lab.agent_session()["connectionId"]
        with lab.traffic.send_lock:
            t0 = wall()
            lab.hub.control.restart(delay=self.hold_s, wait=False)
        return t0

    def during_hold(self, lab, t0):
        deadline = time.monotonic() + self.hold_s + 10
        while time.monotonic() < deadline and not lab.hub.control.state()["listening"]:
            time.sleep(0.02)
        self.back_at = wall()

    def clear(self, lab):
        return self.back_at

    def check(self, lab, t0, t_detect, t1, t_recover):
        session = lab.agent_session()
        self.expect(session is not None and session["connectionId"] != self.old_session,
                    "no new connection after the restart")
        joined = lab.log_first(t1, "joined group")
        self.expect(joined is not None, "the group was not joined again")


class HubFault(Case):
    """A fault the hub injects through its control API; clearing it ends it."""

    def clear(self, lab):
        t1 = wall()
        lab.hub.control.clear_faults()
        return t1


class Hub503(HubFault):
    name = "hub_503"
    fault = "abrupt drop, then every upgrade answered 503 + Retry-After: 4, 10 s"
    hold_s = 10.0
    retry_after = 4

    def inject(self, lab):
        with lab.traffic.send_lock:
            lab.hub.control.refuse(503, retry_after=self.retry_after, only="all")
            t0 = wall()
            lab.hub.control.drop(user_id=DEVICE_ID)
        return t0

    def check(self, lab, t0, t_detect, t1, t_recover):
        hub = lab.hub_log()
        refusals = [t for t, text in hub if t >= t0 - 0.5 and "refused by fault hook with 503" in text]
        after = [t for t, text in hub if t >= t1 and ("recovered " in text or text.startswith("connected "))]
        attempts = refusals + after[:1]
        gaps = [b - a for a, b in zip(attempts, attempts[1:])]
        self.notes.append("attempts refused: %d; gaps between attempts (the last one accepted): %s s"
                          % (len(refusals), ", ".join("%.2f" % g for g in gaps)))
        self.expect(len(refusals) >= 2, "fewer than 2 refused attempts")
        self.expect(all(g >= self.retry_after - 0.05 for g in gaps),
                    "an attempt came sooner than Retry-After %d s" % self.retry_after)
        self.expect(after, "no accepted attempt after the clear")


class Auth401(HubFault):
    name = "auth_401"
    fault = "session closed (1008), then every new connection answered 401, 15 s"
    hold_s = 15.0
    ends_session = True

    def inject(self, lab):
        session = lab.agent_session()["connectionId"]
        with lab.traffic.send_lock:
            lab.hub.control.refuse(401, only="new")
            t0 = wall()
            lab.hub.control.close(session, code=1008, reason="fault suite: credentials revoked")
        return t0

    def check(self, lab, t0, t_detect, t1, t_recover):
        hub = lab.hub_log()
        refusals = [t for t, text in hub if t >= t0 - 0.5 and "refused by fault hook with 401" in text]
        after = [t for t, text in hub if t >= t1 and text.startswith("connected ")]
        gaps = [b - a for a, b in zip(refusals, refusals[1:])]
        self.notes.append("attempts refused: %d; gaps: %s s; accepted %.2f s after the last refusal"
                          % (len(refusals), ", ".join("%.2f" % g for g in gaps),
                             after[0] - refusals[-1] if after and refusals else float("nan")))
        self.expect(len(refusals) >= 3, "fewer than 3 refused attempts")
        if gaps:
            self.expect(gaps[0] <= 0.5, "the first 401 was not retried at once (%.2f s)" % gaps[0])
            self.expect(all(MAX_DELAY_S - 0.05 <= g <= MAX_DELAY_S + 1.0 for g in gaps[1:]),
                        "later 401s not spaced by reconnectMaxDelaySecs (%.0f s)" % MAX_DELAY_S)
        if after and refusals:
            self.expect(MAX_DELAY_S - 0.05 <= after[0] - refusals[-1] <= MAX_DELAY_S + 1.0,
                        "the attempt after the clear did not keep the reconnectMaxDelaySecs spacing")
        errors = [e for e in lab.log_events() if e[0] >= t0 and e[1] == "error" and "credentials refused (HTTP 401)"
                  in e[2]]
        self.notes.append("ERROR lines: %d" % len(errors))
        self.expect(len(errors) == 1, "expected exactly one ERROR 'credentials refused (HTTP 401)', got %d"
                    % len(errors))


# libfaketime (Debian's libfaketime): the agent's wall clock is the real one
# plus the offset in a file it re-reads on every call (FAKETIME_NO_CACHE);
# CLOCK_MONOTONIC stays the kernel's (FAKETIME_DONT_FAKE_MONOTONIC). Writing
# the file steps the agent's wall clock as NTP would. Its log stamps then
# carry the fake time, so these cases time nothing by them: status.json, the
# hub's message log and the NATS peer are stamped with the real clock.
# Debian's libfaketime, in the multiarch folder of this machine.
FAKETIME_LIBS = sorted(glob.glob("/usr/lib/*/faketime/libfaketimeMT.so.1"))
TIMERFD_PASSTHROUGH = None   # set by run_faults.py: tests/faults/timerfd_passthrough.c, built
CADENCE_S = 2.0   # heartBeatEverySecs and componentHeartbeatSecs in the clock cases


def gaps_across(times, t_step):
    """The gaps between consecutive times, and the one that spans t_step."""
    times = sorted(times)
    gaps = [b - a for a, b in zip(times, times[1:])]
    spanning = [b - a for a, b in zip(times, times[1:]) if a <= t_step < b]
    return gaps, (spanning[0] if spanning else None)


class ClockStep(Case):
    """The agent's wall clock is stepped while it is connected, with
    traffic both ways: nothing may notice but the token signing."""
    hold_s = 12.0
    step_after_s = 6.0
    start_offset = "+0"
    step_to = "+0"
    detect_def = "- (the connection must not notice the step)"
    recover_def = "Connected, and a message sent after the step has arrived each way"
    must_detect = False
    ends_session = True   # check() makes the hub end the session to see the next token
    overrides = {"heartBeatEverySecs": "2", "MessageQueue.componentHeartbeatSecs": "2"}

    def lab_options(self):
        self.rc = None
        env = {"LD_PRELOAD": "%s:%s" % (TIMERFD_PASSTHROUGH, FAKETIME_LIBS[0] if FAKETIME_LIBS else "-"),
               "FAKETIME_NO_CACHE": "1",
               "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
        if "ASAN_OPTIONS" in os.environ:
            # ASan wants to be first in the library list; libfaketime is
            # preloaded before it on purpose.
            env["ASAN_OPTIONS"] = os.environ["ASAN_OPTIONS"] + ":verify_asan_link_order=0"
        # Real certificates were issued long before: a clock hours behind
        # still finds them valid (the probe server's, made by the test, too).
        return {"agent_env": env, "ca_backdate_days": 2}

    def before_start(self, lab):
        if not TIMERFD_PASSTHROUGH or not os.path.exists(TIMERFD_PASSTHROUGH):
            raise Failed("the timerfd pass-through (tests/faults/timerfd_passthrough.c) is not built: %s"
                         % TIMERFD_PASSTHROUGH)
        if not FAKETIME_LIBS:
            raise Failed("libfaketime is not installed (scripts/install-deps installs faketime and libfaketime)")
        self.rc = os.path.join(lab.dir, "faketime.rc")
        lab.agent_env["FAKETIME_TIMESTAMP_FILE"] = self.rc
        self.set_offset(self.start_offset)

    def set_offset(self, offset):
        tmp = self.rc + ".tmp"
        with open(tmp, "w") as f:
            f.write(offset + "\n")
        os.rename(tmp, self.rc)   # the agent reads it on every call: never half-written

    def inject(self, lab):
        # Starts the "I am alive" loop (every heartBeatEverySecs for 300 s),
        # a cadence to watch across the step besides the NATS probes.
        lab.hub.control.send_to_group(GROUP, {"subject": "controller.heartbeat", "body": "I am here"},
                                      from_user_id="frontend")
        return wall()

    def during_hold(self, lab, t0):
        time.sleep(max(0.0, t0 + self.step_after_s - wall()))
        self.t_step = wall()
        self.set_offset(self.step_to)

    def clear(self, lab):
        return self.t_step

    def check(self, lab, t0, t_detect, t1, t_recover):
        left = left_connected_between(lab, t0, wall())
        self.notes.append("state changes across the step: %s" % (" -> ".join(c[1] for c in left) or "none"))
        self.expect(not left, "the step disturbed the connection: %s" % [c[1] for c in left])
        # Timers across the step: the NATS probes (seen by the peer) and the
        # heartbeats (seen by the hub), every CADENCE_S on the monotonic clock.
        beats = [m["time"] for m in lab.hub.control.messages(GROUP)["messages"]
                 if m.get("source") == "client" and isinstance(m.get("data"), dict)
                 and m["data"].get("subject") == "heartbeat" and m["time"] >= t0]
        for name, times in (("NATS probes", [t for t in lab.probe_arrivals if t >= t0 - 5]), ("heartbeats", beats)):
            gaps, spanning = gaps_across(times, self.t_step)
            self.notes.append("%s: %d, gaps %.2f-%.2f s, across the step %s s" % (
                name, len(times), min(gaps) if gaps else float("nan"), max(gaps) if gaps else float("nan"),
                "%.2f" % spanning if spanning is not None else "-"))
            self.expect(len(gaps) >= 3 and spanning is not None, "too few %s to see their cadence" % name)
            self.expect(all(CADENCE_S - 0.5 <= g <= CADENCE_S + 0.5 for g in gaps),
                        "%s lost their %.0f s cadence (a burst or a pause): %s"
                        % (name, CADENCE_S, ["%.2f" % g for g in gaps]))
        # A new connection after the step: the next token, signed as the
        # clocks now stand, must be accepted.
        session = lab.agent_session()
        rejected_before = lab.hub.control.state()["counters"].get("rejected_401", 0)
        t_close = wall()
        lab.hub.control.close(session["connectionId"], code=1008, reason="fault suite: a new session after the step")
        joined = lab.hub_joined_new(session["connectionId"], 15)
        self.expect(joined is not None, "no new connection joined after the session was closed")
        if joined is not None:
            self.notes.append("after the step the hub closed the session: a new one joined %.2f s later" % (
                joined - t_close))
        rejected = lab.hub.control.state()["counters"].get("rejected_401", 0) - rejected_before
        self.notes.append("tokens refused after the step: %d" % rejected)
        self.expect(rejected == 0, "a token signed after the step was refused")


class ClockBehind(ClockStep):
    name = "clock_behind"
    fault = "agent started with its wall clock 3 h behind (libfaketime), stepped right while connected"
    start_offset = "-10800"
    step_to = "+0"

    def check(self, lab, t0, t_detect, t1, t_recover):
        # Before the step: one refusal (the first token, signed 3 h behind,
        # looked expired), then tokens signed with the hub's time.
        refused = lab.hub_log_lines("upgrade refused with 401")
        self.notes.append("refusals while 3 h behind: %d (%s)" % (
            len(refused), refused[0][1] if refused else "-"))
        self.expect(len(refused) == 1, "expected one refusal before the offset was learnt, got %d" % len(refused))
        lines = lab.agent.output()
        signing = [l for l in lines if "signing access tokens with the service's time" in l]
        self.expect(len(signing) == 1, "the offset signing was not logged once (%d)" % len(signing))
        refusal = [l for l in lines if "connecting failed: HTTP 401" in l]
        self.expect(refusal and "3 h 00 min behind the service's clock" in refusal[0]
                    and 'the service says "Unauthorized: token expired"' in refusal[0],
                    "the refusal does not name the clock and the hub's reason")
        super().check(lab, t0, t_detect, t1, t_recover)
        agrees = [l for l in lab.agent.output() if "the system clock agrees with the Web PubSub service's" in l]
        self.expect(len(agrees) == 1, "the end of the offset signing was not logged once (%d)" % len(agrees))


class ClockJump(ClockStep):
    name = "clock_jump"
    fault = "agent's wall clock jumps 1 day forward while connected (libfaketime)"
    start_offset = "+0"
    step_to = "+86400"


CASES = [LinkDown, LossDelay, Blackhole, DnsGone, CaptivePortal, HubRestart, Hub503, Auth401, ClockBehind, ClockJump]


def run_case(agent_binary, case):
    """Runs one case end to end; returns its result dict (never raises)."""
    result = {"case": case.name, "fault": case.fault, "held": case.hold_s, "detect": None, "recover": None,
              "detect_def": case.detect_def, "recover_def": case.recover_def}
    lab = Lab(agent_binary, **case.lab_options(), **case.overrides)
    started = time.monotonic()
    try:
        case.before_start(lab)
        lab.start()
        t_start = wall()
        time.sleep(STEADY_S)
        if lab.traffic.flowing_since(t_start, 5) is None:
            raise Failed("no steady traffic both ways before the fault; tail:\n" + lab.tail())
        session_before = lab.agent_session()["connectionId"]
        t0 = case.inject(lab)
        t_detect = case.detect(lab, t0)
        case.during_hold(lab, t0)
        time.sleep(max(0.0, t0 + case.hold_s - wall()))
        t1 = case.clear(lab)
        result["held"] = t1 - t0
        recover = case.recover(lab, t1)
        time.sleep(AFTER_S)
        lab.traffic.stop()
        lab.traffic.settle(SETTLE_TIMEOUT_S)
        case.check(lab, t0, t_detect, t1, recover)
        if getattr(case, "detected_at", None) is not None:
            t_detect = case.detected_at
        result["detect"] = t_detect - t0 if t_detect is not None else None
        result["recover"] = recover
        if case.must_detect:
            case.expect(t_detect is not None, "the fault was not detected")
        case.expect(recover is not None, "did not recover")
        # What the outage costs in the log at the default level (INFO): every
        # line from the fault to the end of the traffic, listed in the notes.
        outage_lines = lab.log_lines_at_info(t0 - 0.5)  # the log stamps are whole ms
        result["log_lines"] = len(outage_lines)
        case.notes.append("log lines at INFO and above from the fault on: %d" % len(outage_lines))
        case.notes += ["  | %s %s" % (lvl.upper(), text[:160]) for _, lvl, text in outage_lines]
        v = lab.traffic.counts()
        result.update(v)
        session_after = (lab.agent_session() or {}).get("connectionId")
        case.notes.append("session after the fault: %s" % (
            "the same connectionId" if session_after == session_before else "a new connection"))
        held_d2g, held_g2d = away_counts(lab, t0)
        if held_d2g or held_g2d:
            case.notes.append("sent while the agent was not Connected, all delivered later: %d device->group "
                              "(outbox), %d group->device (kept by the hub for the session)" % (held_d2g, held_g2d))
        for way in ("d2g", "g2d"):
            case.expect(not v[way + "_lost"], "%s lost: %s" % (way, v[way + "_lost"][:20]))
            case.expect(not v[way + "_dup"], "%s duplicated: %s" % (way, v[way + "_dup"][:20]))
            case.expect(v[way + "_disorder"] == 0, "%s out of order: %d" % (way, v[way + "_disorder"]))
        across = v["d2g_dup_across_sessions"]
        if across:
            case.notes.append("device->group sent again on the new session after the old one ended with its ack "
                              "unsent: %s" % across)
        case.expect(case.ends_session or not across, "d2g duplicated across sessions without a session loss: %s"
                    % across)
        case.expect(not v["g2d_unexpected"], "group->device messages arrived that the hub had no member for")
        case.expect(lab.agent.proc.poll() is None, "the agent exited")
        case.expect(lab.status.pids == {lab.agent_pid}, "status.json pids %s, agent pid %d"
                    % (sorted(lab.status.pids), lab.agent_pid))
        result["final_state"] = lab.status.state()
    except Failed as e:
        case.failures.append(str(e))
    except Exception as e:  # a broken step is a failed case, reported with the rest
        import traceback
        case.failures.append("%s: %s\n%s" % (type(e).__name__, e, traceback.format_exc()))
    finally:
        errors = lab.close()
        for e in errors:
            case.failures.append("cleanup: " + e)
        code = getattr(lab, "agent_exit", (None, None))[0]
        if lab.agent is not None:
            case.expect(code == 0, "the agent's exit code after SIGTERM was %s" % code)
    result["notes"] = case.notes
    result["failures"] = case.failures
    result["verdict"] = "PASS" if not case.failures else "FAIL"
    result["wall"] = time.monotonic() - started
    if case.failures and lab.saved_logs.get("agent"):
        result["agent_tail"] = lab.saved_logs["agent"].splitlines()[-60:]
    return result
