"""Internet monitor figures (not pass/fail), with real peers:
  1. link up -> `online` received by the loop, in a network namespace, with
     connectionIntervalSecs = 60 (min/median/max over several repetitions);
  2. CPU time per probe (process rusage over N probes), reused connection
     and new connection;
  3. bytes on the wire per probe (root-side veth counters, DNS included):
     the first probe (full TLS handshake), repeated probes on the kept-alive
     connection, repeated probes on a new connection with TLS resumption;
     and the bytes per idle day at the default 60 s interval.
Needs root (ip netns). Run: build/bench/monitor/bench_monitor [--reps N]"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "support"))
from http_peer import PROBE_HOST, ProbeServer  # noqa: E402
from monitor_driver import MonitorDriver as Driver  # noqa: E402
from netlab import Dnsmasq, NetNs  # noqa: E402
from test_ca import TestCA  # noqa: E402

DAY_PROBES = 24 * 3600 // 60


def settle(ns, quiet=0.3):
    """Waits until the veth counters stop moving (IPv6 DAD, router solicitations)."""
    last = ns.outer_bytes()
    while True:
        time.sleep(quiet)
        now = ns.outer_bytes()
        if now == last:
            return now
        last = now


def wire(before, after):
    return (after[0] - before[0]) + (after[1] - before[1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--driver", required=True)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--probes", type=int, default=20)
    args = parser.parse_args()

    try:
        ns = NetNs()
    except OSError as e:
        print("bench_monitor: cannot create a network namespace (%s); nothing measured" % e)
        return 0
    ca_dir = tempfile.mkdtemp(prefix="dbr-bench-ca-")
    peers = []
    try:
        ca = TestCA(ca_dir)
        dns = Dnsmasq(listen=ns.outer_ip, address=ns.outer_ip)
        peers.append(dns)
        server = ProbeServer(host=ns.outer_ip,
                             ssl_context=ca.server_context("bench", dns=[PROBE_HOST], ips=[ns.outer_ip]))
        peers.append(server)
        dns_arg = ["%s:%d" % (ns.outer_ip, dns.port)]
        print("internet monitor benchmark (probe %s, DNS via dnsmasq, TLS cert: P-256 leaf from a test CA)"
              % server.url())

        # 1. Link-up latency with a 60 s interval.
        d = Driver(args.driver, server.url(), dns=dns_arg, timeout=2, interval=60, ca_file=ca.cert_path,
                   prefix=ns.prefix(), tick_ms=1000)
        d.next_report(10, online=True)
        latencies = []
        for _ in range(args.reps):
            ns.set_inner("down")
            d.next_report(5, online=False)
            time.sleep(0.5)
            up_at = time.monotonic()
            ns.set_inner("up")
            r = d.next_report(5, online=True)
            latencies.append((r["received"] - up_at) * 1000)
            time.sleep(2)  # let IPv6 DAD and its check pass
            d.drain()
        d.stop()
        d.close()
        print("link up -> online at the loop (interval 60 s, %d reps): min %.0f ms, median %.0f ms, max %.0f ms"
              % (len(latencies), min(latencies), statistics.median(latencies), max(latencies)))

        # 2 + 3a. First probe and repeated probes on the kept-alive connection.
        settle(ns)
        server_before = server.connections
        before = settle(ns)
        d = Driver(args.driver, server.url(), dns=dns_arg, timeout=2, interval=1, ca_file=ca.cert_path,
                   prefix=ns.prefix(), tick_ms=1000, netlink=False)
        d.next_report(10, online=True)
        time.sleep(0.3)
        after_first = ns.outer_bytes()
        reports = [d.next_report(5, trigger="interval") for _ in range(args.probes)]
        time.sleep(0.3)
        after_repeat = ns.outer_bytes()
        d.stop()
        d.close()
        first_bytes = wire(before, after_first)
        reused_bytes = wire(after_first, after_repeat) / len(reports)
        reused_connections = server.connections - server_before
        cpu_reused = (reports[-1]["cpu_ms"] - reports[0]["cpu_ms"]) / (len(reports) - 1)

        # 3b. Repeated probes on a new connection each time (requests force
        # one), with TLS session resumption.
        resumed_before = server.resumed
        d = Driver(args.driver, server.url(), dns=dns_arg, timeout=2, interval=60, ca_file=ca.cert_path,
                   prefix=ns.prefix(), tick_ms=1000, netlink=False)
        d.next_report(10, online=True)
        time.sleep(0.3)
        before = ns.outer_bytes()
        fresh = []
        for _ in range(args.probes):
            d.request()
            fresh.append(d.next_report(5, trigger="request"))
        time.sleep(0.3)
        after = ns.outer_bytes()
        d.stop()
        d.close()
        fresh_bytes = wire(before, after) / len(fresh)
        cpu_fresh = (fresh[-1]["cpu_ms"] - fresh[0]["cpu_ms"]) / (len(fresh) - 1)
        resumed = server.resumed - resumed_before

        print("CPU per probe (process user+sys): %.2f ms on the kept-alive connection, %.2f ms on a new "
              "connection with TLS resumption" % (cpu_reused, cpu_fresh))
        print("bytes on the wire, first probe (DNS + TCP + full TLS handshake + HEAD): %d" % first_bytes)
        print("bytes on the wire, repeated probe on the kept-alive connection (DNS + HEAD): %.0f "
              "(%d probes, %d TLS connection(s))" % (reused_bytes, len(reports), reused_connections))
        print("bytes on the wire, repeated probe on a new connection (DNS + TCP + resumed TLS + HEAD): %.0f "
              "(%d of %d sessions resumed)" % (fresh_bytes, resumed, len(fresh) + 1))
        print("bytes per idle day at the 60 s default (%d probes): %.0f KiB if the server keeps the connection "
              "alive for 60 s, %.0f KiB if it closes idle connections sooner"
              % (DAY_PROBES, DAY_PROBES * reused_bytes / 1024, DAY_PROBES * fresh_bytes / 1024))
        print("for comparison, a full handshake every probe: %.0f KiB per day"
              % (DAY_PROBES * first_bytes / 1024))
        return 0
    finally:
        for p in peers:
            p.close()
        ns.close()
        shutil.rmtree(ca_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
