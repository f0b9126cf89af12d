"""The network fault suite: the real agent in a network namespace, faults
injected between it and its hub, DNS and probe server; prints a table of
the time to detect, the time to recover and the message counts.

    /usr/bin/python3 tests/faults/run_faults.py --agent build/release/src/dunebugger-remote [--case NAME ...]

Needs root (namespaces, veth, nftables, iptables); without it, exit code 77
(skipped). Exit code 0 when every case passed, 1 otherwise. Cases: link_down, loss_delay, blackhole, dns_gone,
captive_portal, hub_restart, hub_503, auth_401, clock_behind, clock_jump (docs/reliability.md, "Fault suite"
and "Wall-clock steps"). --idle SECONDS counts an idle agent's log lines instead ("Quiet logs")."""
import argparse
import json
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cases  # noqa: E402
from cases import CASES, run_case  # noqa: E402
from harness import AGENT_TIMINGS, Lab, wall  # noqa: E402
import time  # noqa: E402

DELAY_NOTE = ("loss and delay: this kernel has no sch_netem (CONFIG_NET_SCH_NETEM is not set, no /lib/modules "
              "to load it from), so the loss is nftables 'numgen random mod 100 < 20 drop' on the namespace's "
              "veth, in and out, and the delay is every packet crossing that veth, in and out, queued with "
              "iptables NFQUEUE and released 300 ms later by tests/faults/nfqueue_delay.py")


def fmt_s(x):
    return "-" if x is None else "%.2f" % x


def table(results):
    head = ["case", "fault", "held s", "detect s", "recover s", "msgs dev->grp / grp->dev", "lost", "dup",
            "log lines", "verdict"]
    rows = []
    for r in results:
        msgs = "%s / %s" % (r.get("d2g_sent", "-"), r.get("g2d_addressed", "-"))
        if r.get("g2d_not_addressed"):
            msgs += " (+%d no member)" % len(r["g2d_not_addressed"])
        lost = len(r.get("d2g_lost", [])) + len(r.get("g2d_lost", [])) if "d2g_sent" in r else "-"
        dup = len(r.get("d2g_dup", [])) + len(r.get("g2d_dup", [])) if "d2g_sent" in r else "-"
        if r.get("d2g_dup_across_sessions"):
            dup = "%s (+%d across sessions)" % (dup, len(r["d2g_dup_across_sessions"]))
        rows.append([r["case"], r["fault"], "%.1f" % r["held"], fmt_s(r["detect"]), fmt_s(r["recover"]), msgs,
                     str(lost), str(dup), str(r.get("log_lines", "-")), r["verdict"]])
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    lines = ["| " + " | ".join(str(c).ljust(w) for c, w in zip(head, widths)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += ["| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths)) + " |" for row in rows]
    return "\n".join(lines)


def idle(agent, seconds, json_path):
    """Log lines of an idle, connected agent at INFO with the default timings
    (docs/reliability.md, "Quiet logs")."""
    lab = Lab(agent, traffic=False, suite_timings=False, log_level="INFO")
    try:
        lab.start()
        t_joined = wall()
        print("=== idle: joined; watching the log for %.0f s" % seconds, flush=True)
        time.sleep(seconds)
        lines = lab.log_lines_at_info(t_joined)
        states = [c[1] for c in lab.status.changes if c[0] >= t_joined]
    finally:
        errors = lab.close()
    for _, lvl, text in lines:
        print("    %s %s" % (lvl.upper(), text[:200]))
    per_day = len(lines) * 86400.0 / seconds
    print("idle %.0f s: %d lines at INFO and above (%.1f per day); state changes: %s; cleanup errors: %s"
          % (seconds, len(lines), per_day, states or "none", errors or "none"))
    if json_path:
        with open(json_path, "w") as f:
            json.dump({"seconds": seconds, "lines": [l[1:] for l in lines], "per_day": per_day}, f, indent=1)
    return 0 if not errors else 1


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--agent", required=True, help="the dunebugger-remote binary")
    p.add_argument("--case", action="append", choices=[c.name for c in CASES],
                   help="run only this case (repeatable); default: all, in order")
    p.add_argument("--json", help="also write the results to this file")
    p.add_argument("--timerfd-passthrough", metavar="SO",
                   help="the clock cases' shim (build/.../tests/faults/dbr_faults_timerfd_passthrough.so); "
                        "default: found next to the agent's build tree")
    p.add_argument("--idle", type=float, metavar="SECONDS",
                   help="instead of the cases: run the agent idle (connected, no traffic) this long and count "
                        "its log lines at INFO and above, scaled to a day")
    a = p.parse_args()
    if os.geteuid() != 0:
        print("SKIPPED: the fault suite needs root (network namespaces, nftables)", file=sys.stderr)
        return 77  # CTest's SKIP_RETURN_CODE
    # A SIGTERM (CTest, Ctrl-C) unwinds through every cleanup.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    agent = os.path.abspath(a.agent)
    cases.TIMERFD_PASSTHROUGH = a.timerfd_passthrough or os.path.join(
        os.path.dirname(os.path.dirname(agent)), "tests", "faults", "dbr_faults_timerfd_passthrough.so")
    if a.idle:
        return idle(agent, a.idle, a.json)
    chosen = [c for c in CASES if not a.case or c.name in a.case]
    results = []
    for cls in chosen:
        print("=== %s: %s" % (cls.name, cls.fault), flush=True)
        r = run_case(agent, cls())
        results.append(r)
        for note in r["notes"]:
            print("    " + note, flush=True)
        for f in r["failures"]:
            print("    FAIL: " + f, flush=True)
        if r["failures"] and r.get("agent_tail"):
            print("    agent log tail:\n      " + "\n      ".join(r["agent_tail"]), flush=True)
        print("    %s in %.1f s" % (r["verdict"], r["wall"]), flush=True)
    print()
    print(table(results))
    print()
    print("Definitions:")
    for r in results:
        print("  %-15s detect = %s; recover = %s" % (r["case"], r["detect_def"], r["recover_def"]))
    print("Agent timings: " + ", ".join("%s = %s" % kv for kv in AGENT_TIMINGS.items())
          + " (dns_gone and captive_portal: connectionIntervalSecs = 5)")
    print("Traffic: one numbered message each way every 100 ms; 'lost' and 'dup' count both directions;")
    print("  'no member': group messages the hub had no device session for (dropped by the service by design);")
    print("  'across sessions': sent again on a new session because the ack died with the old one (the service")
    print("  cannot de-duplicate across sessions); only allowed in cases that end the session.")
    if any(r["case"] == "loss_delay" for r in results):
        print(DELAY_NOTE)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0 if all(r["verdict"] == "PASS" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
