"""The monitor's NTP check against real peers on loopback: chronyd as the
NTP server (its own config and port, -x: it never touches this machine's
clock), an SNTP responder for the replies a real server does not send on
demand (someone else's origin timestamp, kiss-o'-death, LI 3, silence),
dnsmasq for a server given by name, and an HTTP server that hangs. The
C++ driver runs a real Monitor posting into a real event loop."""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
import test_main  # noqa: E402
from http_peer import PROBE_HOST, ProbeServer  # noqa: E402
from monitor_driver import MonitorDriver as Driver  # noqa: E402
from netlab import Dnsmasq  # noqa: E402
from ntp_peer import Chrony, SntpResponder, kernel_clock_synchronized  # noqa: E402

DRIVER = None


def loopback_name_in_hosts_file():
    """A name /etc/hosts maps to 127.0.0.1, other than localhost; None without one."""
    with open("/etc/hosts") as f:
        for line in f:
            fields = line.split("#")[0].split()
            if fields and fields[0] == "127.0.0.1":
                for name in fields[1:]:
                    if name.lower() != "localhost" and "." not in name.rstrip("."):
                        return name
    return None


class Ntp(unittest.TestCase):
    def setUp(self):
        self.dns = Dnsmasq()
        self.addCleanup(self.dns.close)
        # The internet probe is not what these tests look at: a closed port.
        self.probe_url = "http://127.0.0.1:9/"

    def chrony(self):
        c = Chrony()
        self.addCleanup(c.close)
        return c

    def responder(self, mode, **kw):
        r = SntpResponder(mode, **kw)
        self.addCleanup(r.close)
        return r

    def driver(self, servers, interval=1, timeout=1, url=None, probe_timeout=1):
        d = Driver(DRIVER, url or self.probe_url, dns=["127.0.0.1:%d" % self.dns.port], timeout=probe_timeout,
                   interval=60, netlink=False, ntp=servers, ntp_interval=interval, ntp_timeout=timeout)
        self.addCleanup(d.close)
        return d

    def finish(self, d):
        return d.finish(self)


class Available(Ntp):
    def test_chrony_answers_available_with_offset_and_delay(self):
        c = self.chrony()
        d = self.driver([c.entry()])
        r = d.next_ntp(10)
        self.assertTrue(r["available"], r)
        self.assertTrue(r["changed"])
        self.assertEqual(r["server"], c.entry())
        # chronyd serves this machine's own clock: the offset is near zero.
        self.assertIsInstance(r["offset_ms"], int)
        self.assertLess(abs(r["offset_ms"]), 50, r)
        self.assertGreaterEqual(r["delay_ms"], 0)
        self.assertLess(r["delay_ms"], 100, r)
        self.assertEqual(r["detail"], "stratum 10 at 127.0.0.1")
        self.assertEqual(r["clock_synchronized"], kernel_clock_synchronized())
        print("\nchronyd on loopback: offset %d ms, delay %d ms; clock synchronized: %s"
              % (r["offset_ms"], r["delay_ms"], r["clock_synchronized"]), file=sys.stderr)
        # Every interval another check; only a change of `available` is a change.
        r2 = d.next_ntp(5)
        self.assertTrue(r2["available"])
        self.assertFalse(r2["changed"])
        self.assertGreaterEqual(r2["received"] - r["received"], 0.9)
        self.assertIn("NTP check: available via %s" % c.entry(), d.log())
        self.finish(d)

    def test_the_offset_is_the_servers_clock_minus_ours(self):
        ahead = self.responder("good", offset=2.5)
        d = self.driver([ahead.entry()])
        r = d.next_ntp(10, available=True)
        self.assertGreater(r["offset_ms"], 2450, r)
        self.assertLess(r["offset_ms"], 2550, r)
        self.finish(d)

    def test_unavailable_after_the_server_stops_then_back(self):
        c = self.chrony()
        d = self.driver([c.entry()], interval=2, timeout=1)
        d.next_ntp(10, available=True)
        stopped_at = time.monotonic()
        c.stop()
        r = d.next_ntp(2 + 1 + 2, available=False)
        took = r["received"] - stopped_at
        print("\nchronyd stopped -> NTP unavailable at the loop: %.2f s (interval 2 s, timeout 1 s)" % took,
              file=sys.stderr)
        self.assertLess(took, 2 + 1 + 0.5)
        self.assertTrue(r["changed"])
        self.assertIsNone(r["offset_ms"])
        self.assertEqual(r["server"], "")
        # A closed UDP port answers with ICMP port unreachable: no need to wait.
        self.assertEqual(r["detail"], "%s: 127.0.0.1 refused the request (port unreachable)" % c.entry())
        self.assertIn("WARNING", d.log().upper())
        c.start()
        r = d.next_ntp(5, available=True)
        self.assertTrue(r["changed"])
        self.finish(d)

    def test_a_silent_server_is_unavailable_after_the_timeout(self):
        silent = self.responder("silent")
        d = self.driver([silent.entry()], timeout=1)
        r = d.next_ntp(5)
        self.assertFalse(r["available"])
        self.assertEqual(r["detail"], "%s: no reply within 1 s" % silent.entry())
        self.assertGreaterEqual(r["since_start"], 0.9)
        self.assertLess(r["since_start"], 1.5)
        self.assertEqual(silent.requests, 1)
        self.finish(d)


class Rejected(Ntp):
    def test_a_wrong_origin_timestamp_is_not_accepted(self):
        forger = self.responder("wrong-origin")
        d = self.driver([forger.entry()], timeout=1)
        r = d.next_ntp(5)
        self.assertFalse(r["available"], r)
        self.assertTrue(r["detail"].startswith("%s: no reply within 1 s (1 replies ignored, the last: origin timestamp "
                                               % forger.entry()), r["detail"])
        self.assertIn("is not our transmit timestamp", r["detail"])
        self.finish(d)

    def test_a_stray_reply_does_not_end_the_wait_for_the_real_one(self):
        r = self.responder("stray-then-good")
        d = self.driver([r.entry()], timeout=3)
        report = d.next_ntp(5)
        self.assertTrue(report["available"], report)
        self.assertLess(report["since_start"], 1.0)
        self.finish(d)

    def test_kiss_of_death_is_not_accepted_and_its_code_is_reported(self):
        kisser = self.responder("kiss", kiss=b"DENY")
        d = self.driver([kisser.entry()], timeout=3)
        r = d.next_ntp(5)
        self.assertFalse(r["available"])
        self.assertEqual(r["detail"], "%s: kiss-o'-death DENY" % kisser.entry())
        # The server's own answer ends its turn: no waiting for the timeout.
        self.assertLess(r["since_start"], 1.0)
        self.finish(d)

    def test_an_unsynchronized_server_is_not_accepted(self):
        unsynced = self.responder("unsync")
        d = self.driver([unsynced.entry()], timeout=3)
        r = d.next_ntp(5)
        self.assertFalse(r["available"])
        self.assertEqual(r["detail"], "%s: server clock not synchronized (leap indicator 3)" % unsynced.entry())
        self.finish(d)


class Servers(Ntp):
    def test_the_first_server_that_answers_validly_wins(self):
        silent = self.responder("silent")
        kisser = self.responder("kiss")
        c = self.chrony()
        later = self.responder("good")
        d = self.driver([silent.entry(), kisser.entry(), c.entry(), later.entry()], interval=5, timeout=1)
        r = d.next_ntp(5)
        self.assertTrue(r["available"], r)
        self.assertEqual(r["server"], c.entry())
        self.assertGreaterEqual(r["since_start"], 0.9)  # the silent one had its whole turn
        self.assertEqual((silent.requests, kisser.requests, later.requests), (1, 1, 0))
        self.finish(d)

    def test_host_port_entries_by_name_through_dns_the_hosts_file_and_localhost(self):
        c = self.chrony()
        by_dns = "%s:%d" % (PROBE_HOST, c.port)  # dnsmasq answers it with 127.0.0.1
        entries = [by_dns, "localhost:%d" % c.port, "LocalHost:%d" % c.port]  # RFC 6761: loopback
        name = loopback_name_in_hosts_file()
        if name:
            entries.append("%s:%d" % (name, c.port))
        else:
            print("\nno name but localhost maps to 127.0.0.1 in /etc/hosts: hosts-file lookup not tested",
                  file=sys.stderr)
        for entry in entries:
            before = self.dns.queries()
            d = self.driver([entry])
            r = d.next_ntp(5)
            self.assertTrue(r["available"], r)
            self.assertEqual(r["server"], entry)
            self.assertEqual(r["detail"], "stratum 10 at 127.0.0.1")
            self.finish(d)
            if entry == by_dns:
                self.assertGreater(self.dns.queries() - before, 0)

    def test_a_name_that_does_not_resolve_is_a_reason_and_the_next_server_is_tried(self):
        c = self.chrony()
        d = self.driver(["nowhere.test", c.entry()])
        r = d.next_ntp(5)
        self.assertTrue(r["available"], r)
        self.assertEqual(r["server"], c.entry())
        self.finish(d)
        d = self.driver(["nowhere.test:1123"])
        r = d.next_ntp(5)
        self.assertFalse(r["available"])
        self.assertTrue(r["detail"].startswith("nowhere.test:1123: dns: nowhere.test: "), r["detail"])
        self.finish(d)


class Lookups(Ntp):
    """A server name's answer is kept for its TTL instead of being asked for
    at every check (the data budget)."""

    NAME = "ntp-by-name.test"

    def named_server(self, ttl):
        dns = Dnsmasq(extra_hosts=[self.NAME], ttl=ttl)
        self.addCleanup(dns.close)
        c = self.chrony()
        return dns, c, "%s:%d" % (self.NAME, c.port)

    def run_checks(self, dns, entry, checks, interval=1):
        d = Driver(DRIVER, self.probe_url, dns=["127.0.0.1:%d" % dns.port], timeout=1, interval=60, netlink=False,
                   ntp=[entry], ntp_interval=interval, ntp_timeout=1)
        self.addCleanup(d.close)
        reports = [d.next_ntp(5) for _ in range(checks)]
        return d, reports

    def test_the_answer_is_kept_for_its_ttl(self):
        dns, c, entry = self.named_server(ttl=3)
        d, reports = self.run_checks(dns, entry, 7)  # about 6 s: checks at 0, 1, ..., 6 s
        self.assertTrue(all(r["available"] for r in reports), reports)
        self.finish(d)
        asked = dns.queries("A", self.NAME)
        print("\nNTP server by name, TTL 3 s, 7 checks 1 s apart: %d lookups" % asked, file=sys.stderr)
        self.assertGreaterEqual(asked, 2, "looked up again once the TTL ran out")
        self.assertLessEqual(asked, 3)

    def test_a_ttl_of_0_is_asked_every_check(self):
        dns, c, entry = self.named_server(ttl=0)
        d, reports = self.run_checks(dns, entry, 4)
        self.assertTrue(all(r["available"] for r in reports), reports)
        self.finish(d)
        self.assertEqual(dns.queries("A", self.NAME), 4)

    def test_a_server_that_fails_is_looked_up_again_at_the_next_check(self):
        dns, c, entry = self.named_server(ttl=3600)
        d, reports = self.run_checks(dns, entry, 3)
        self.assertEqual(dns.queries("A", self.NAME), 1)
        c.stop()
        r = d.next_ntp(5, available=False)
        self.assertEqual(dns.queries("A", self.NAME), 1, "the failed turn used the kept answer")
        r = d.next_ntp(5, available=False)
        self.assertEqual(dns.queries("A", self.NAME), 2, "and the next one asked again")
        self.finish(d)


class Bounds(Ntp):
    def test_the_whole_check_ends_at_its_bound(self):
        silent = [self.responder("silent") for _ in range(4)]
        # Bound: max(interval, timeout) = 3 s; each turn 2 s, so the second is cut.
        d = self.driver([s.entry() for s in silent], interval=3, timeout=2)
        r = d.next_ntp(6)
        self.assertFalse(r["available"])
        self.assertGreaterEqual(r["since_start"], 2.9)
        self.assertLess(r["since_start"], 3.5)
        self.assertEqual(r["detail"], "%s: no reply within 2 s; %s: no valid reply before the check's bound (3 s); "
                                      "not tried within the check's bound (3 s): %s, %s"
                         % tuple(s.entry() for s in silent))
        self.assertEqual([s.requests for s in silent], [1, 1, 0, 0])
        self.finish(d)

    def test_ntp_checks_go_on_while_an_http_probe_hangs(self):
        c = self.chrony()
        server = ProbeServer()
        self.addCleanup(server.close)
        server.set_mode("hang")
        d = self.driver([c.entry()], interval=1, url=server.url(), probe_timeout=5)
        first = d.next_ntp(5, available=True)
        second = d.next_ntp(5)
        third = d.next_ntp(5)
        # All three inside the first probe's 5 s: the probe held up none of them.
        report = d.next_report(10)
        self.assertEqual(report["failure"], "timeout")
        self.assertLess(third["received"], report["received"])
        self.assertLess(third["received"] - first["received"], 2 * 1 + 1.0)
        self.assertTrue(second["available"] and third["available"])
        self.finish(d)

    def test_stop_mid_check_is_immediate_and_posts_nothing(self):
        silent = self.responder("silent")
        d = self.driver([silent.entry()], timeout=5)
        time.sleep(0.5)  # the first check waits for its reply
        stopped = self.finish(d)
        self.assertLess(stopped["stop_ms"], 1000)
        self.assertEqual(stopped["ntp_reports"], 0)


if __name__ == "__main__":
    test_main.run("driver")
