"""Soak benchmark: the REAL agent binary through 10 000 connect/drop cycles
against the local Web PubSub hub; prints the time per cycle and the slopes
of resident memory, open fds and threads (tests/support/agent_soak.py says
what a cycle is and what is sampled).

    /usr/bin/python3 bench/soak/soak.py --agent B/dunebugger-remote --cycles 10000

Run with Debian's /usr/bin/python3."""
import argparse
import json
import os
import signal
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "support"))

from agent_soak import print_result, run_soak  # noqa: E402


def main():
    # SIGTERM ends the run through the cleanups: no agent or hub is left behind.
    signal.signal(signal.SIGTERM, lambda signo, frame: sys.exit(128 + signo))
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--agent", required=True, help="the dunebugger-remote binary")
    p.add_argument("--cycles", type=int, default=10000)
    p.add_argument("--sample-every", type=int, default=50)
    p.add_argument("--restart-every", type=int, default=250, help="every Nth cycle is a hub restart (0: none)")
    p.add_argument("--samples-csv", help="write the samples here")
    p.add_argument("--json", action="store_true", help="print the result as JSON as well")
    a = p.parse_args()
    r = run_soak(a.agent, a.cycles, sample_every=a.sample_every, restart_every=a.restart_every,
                 progress=lambda text: print(text, flush=True))
    print_result(r, a.samples_csv)
    if a.json:
        print(json.dumps({k: v for k, v in r.items() if k != "sample_table"}))
    return 0 if r["exit_code"] == 0 and not r["sanitizer_lines"] and not r["anomalies"] else 1


if __name__ == "__main__":
    sys.exit(main())
