"""pubsub::Client when the device's wall clock and the service's disagree,
against the local hub with its clock set ahead of the real time
(ServerOptions.clock_offset_seconds: its token check and the Date header of
every upgrade response use it). The driver's clock is the real one, so a hub
3 h ahead stands for a device 3 h behind: a Raspberry Pi after a power cut,
before NTP. Checked: the refusal names the clock and passes on the hub's own
reason; tokens are then signed with the hub's time (the next attempt is
accepted) and that is said once; once the clocks agree again it is said once
more and tokens carry our time again."""
import json
import time

import harness
from harness import PubsubTestCase, config_text, connection_string
from test_sources import jwt_part

THREE_HOURS = 3 * 3600


def issued_at(token):
    return jwt_part(token, 1)["iat"]


class Clock(PubsubTestCase):
    def signed_tokens(self, hub):
        recovery = set(hub.reconnection_tokens.values())
        return [t for t in hub.access_tokens if t.count(".") == 2 and t not in recovery]

    def wait_log(self, d, fragment, timeout=10):
        found = d.wait_log_lines(fragment, timeout=timeout)
        if not found:
            self.fail("no log line with %r within %s s; log tail: %s" % (fragment, timeout, d.stderr_lines[-8:]))
        return found

    def test_a_clock_3h_behind_is_named_and_the_next_token_is_signed_with_the_hubs_time(self):
        hub = self.hub(clock_offset_seconds=THREE_HOURS)
        d = self.driver(config_text({"connectionString": connection_string(hub), "reconnectMaxDelaySecs": "2"}))
        connected = d.wait_event("connected", 15)
        d.wait_event("joined", 10)
        # One refusal: the token signed with our clock looked 2 h expired to the hub.
        self.assertEqual(hub.counters().get("rejected_401"), 1)
        self.assertTrue(hub.log_lines("upgrade refused with 401: Unauthorized: token expired"))
        refused = self.wait_log(d, "connecting failed: HTTP 401")
        self.assertEqual(len(refused), 1)
        for words in ('the service says "Unauthorized: token expired"', "3 h 00 min behind the service's clock",
                      "its Date header: ", "retrying at once with fresh credentials"):
            self.assertIn(words, refused[0])
        signing = d.wait_log_lines("signing access tokens with the service's time")
        self.assertEqual(len(signing), 1)
        self.assertIn(" warning ", signing[0])
        # The accepted token's iat is the hub's time, not ours.
        tokens = self.signed_tokens(hub)
        self.assertEqual(len(tokens), 2)
        self.assertLess(abs(issued_at(tokens[0]) - time.time()), 60)
        self.assertLess(abs(issued_at(tokens[1]) - (time.time() + THREE_HOURS)), 60)
        # The session keeps working, and a new connection needs no refusal.
        mark = d.mark()
        hub.control.expire_sessions(connected["connectionId"])
        d.wait_event("joined", 15, start=mark)
        self.assertEqual(hub.counters().get("rejected_401"), 1)
        self.assertEqual(len(d.log_lines("signing access tokens with the service's time")), 1)

        # NTP steps the clock: here the hub's clock comes back to ours. The
        # next upgrade response's Date agrees: said once, and the token after
        # that carries our own time again.
        hub.control.clock_offset(0)
        for _ in range(2):
            cid = d.counters()["connectionId"]
            mark = d.mark()
            hub.control.expire_sessions(cid)
            d.wait_event("joined", 15, start=mark)
        agrees = d.wait_log_lines("the system clock agrees with the Web PubSub service's again")
        self.assertEqual(len(agrees), 1)
        self.assertIn(" info ", agrees[0])
        self.assertLess(abs(issued_at(self.signed_tokens(hub)[-1]) - time.time()), 60)
        self.assertEqual(hub.counters().get("rejected_401"), 1)

    def test_refusals_while_the_clock_is_off_say_so_and_the_first_retry_after_is_accepted(self):
        # The hub refuses every new connection for a while (its reason: the
        # token expired), with its clock 3 h ahead: each refusal's Date keeps
        # the correction, the ERROR names the clock, and the first retry after
        # the refusals end is accepted.
        hub = self.hub(clock_offset_seconds=THREE_HOURS)
        hub.control.refuse(401, only="new", body="Unauthorized: token expired")
        d = self.driver(config_text({"connectionString": connection_string(hub), "reconnectMaxDelaySecs": "1"}))
        error = self.wait_log(d, "credentials refused (HTTP 401)")
        self.assertEqual(len(error), 1)
        self.assertIn(" error ", error[0])
        self.assertIn('the service says "Unauthorized: token expired": the system time is ', error[0])
        self.assertIn("3 h 00 min behind the service's clock", error[0])
        self.assertIn("set the clock (NTP; see timedatectl status). Retrying every 1.0 s", error[0])
        refusals_before = hub.counters().get("refused_by_fault", 0)
        cleared = time.monotonic()
        hub.control.clear_faults()
        d.wait_event("joined", 10)
        self.assertLessEqual(time.monotonic() - cleared, 2.5, "back within one retry (1 s) of the refusals ending")
        self.assertLessEqual(hub.counters().get("refused_by_fault", 0) - refusals_before, 1)
        self.assertEqual(hub.counters().get("rejected_401", 0), 0, "no token signed with the wrong clock was sent")
        self.assertEqual(len(d.log_lines("signing access tokens with the service's time")), 1)


if __name__ == "__main__":
    harness.main()
