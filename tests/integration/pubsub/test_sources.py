"""pubsub::Client with each client-URL source against the local hub: a fixed
`url` (from the hub's POST /token), a `connectionString` (tokens signed by
the agent, verified by the hub: signature, aud, exp, roles limited to the
group), Auth0 (a fake Auth0 over HTTPS with a test CA: the password grant,
/userinfo's wss_url, and its failures), and wss:// with TLS."""
import base64
import json
import os
import time

import harness
from harness import (DEVICE, GROUP, AckError, FakeAuth0, PubsubTestCase, TestCA, WpsClient, config_text,
                     connection_string)

GROUP_ROLES = ["webpubsub.joinLeaveGroup." + GROUP, "webpubsub.sendToGroup." + GROUP]


def jwt_part(token, index):
    part = token.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


class Sources(PubsubTestCase):
    def round_trip(self, hub, d, tag):
        d.send({"from_device": tag})
        logged = hub.control.wait_for_messages(GROUP, 1, timeout=10,
                                               predicate=lambda m: m["data"] == {"from_device": tag})
        self.assertEqual(len(logged), 1)
        self.assertEqual(logged[0]["outcome"], "delivered")
        hub.control.send_to_group(GROUP, {"to_device": tag})
        d.wait_for(lambda e: e["event"] == "message" and e["data"] == {"to_device": tag}, 10)

    def new_connection(self, hub, d):
        """Makes the hub forget the session, so the driver opens a new connection."""
        cid = d.counters()["connectionId"]
        mark = d.mark()
        hub.control.expire_sessions(cid)
        connected = d.wait_event("connected", 15, start=mark, is_new=True)
        d.wait_event("joined", 10, start=mark)
        self.assertNotEqual(connected["connectionId"], cid)
        return connected

    # ---------------------------------------------------------------- url

    def test_url_from_the_hub_token_endpoint(self):
        hub = self.hub()
        issued = hub.control.token(DEVICE, roles=GROUP_ROLES)
        self.extra_secrets.append(issued["token"])
        d = self.driver(config_text({"url": issued["url"]}))
        d.wait_event("connected", 15)
        d.wait_event("joined", 10)
        self.round_trip(hub, d, "url")
        self.assertTrue(d.wait_log_lines("client URLs from the configured url (127.0.0.1:%d)" % hub.port))
        # A new connection uses the same URL again.
        self.new_connection(hub, d)
        self.round_trip(hub, d, "url-again")
        recovery_tokens = set(hub.reconnection_tokens.values())
        self.assertEqual({t for t in hub.access_tokens if t not in recovery_tokens}, {issued["token"]})

    # --------------------------------------------------- connection string

    def test_connection_string_tokens_are_verified_and_limited_to_the_group(self):
        hub = self.hub()
        d, cid = self.start_connected(hub)
        self.round_trip(hub, d, "cs")
        token = [t for t in hub.access_tokens if t.count(".") == 2][0]
        header, claims = jwt_part(token, 0), jwt_part(token, 1)
        self.assertEqual(header, {"alg": "HS256", "typ": "JWT"})
        self.assertEqual(claims["aud"], "http://127.0.0.1:%d/client/hubs/dunebugger" % hub.port)
        self.assertEqual(claims["sub"], DEVICE)
        self.assertEqual(claims["exp"] - claims["iat"], 3600)
        self.assertLess(abs(claims["iat"] - time.time()), 60)
        self.assertEqual(sorted(claims["role"]), sorted(GROUP_ROLES))
        session = [s for s in hub.control.state()["sessions"] if s["connectionId"] == cid][0]
        self.assertEqual(sorted(session["roles"]), sorted(GROUP_ROLES))
        # The same token in another client: its own group only.
        url = "ws://127.0.0.1:%d/client/hubs/dunebugger?access_token=%s" % (hub.port, token)

        async def probe():
            c = WpsClient(url)
            await c.start()
            outcomes = {}
            for what, call in (("join other", c.join_group("other-group")),
                               ("send other", c.send_to_group("other-group", {"x": 1})),
                               ("join own", c.join_group(GROUP))):
                try:
                    await call
                    outcomes[what] = "ok"
                except AckError as e:
                    outcomes[what] = e.name
            await c.stop()
            return outcomes
        self.assertEqual(hub.run(probe()), {"join other": "Forbidden", "send other": "Forbidden", "join own": "ok"})
        # Every new connection signs a fresh token, still accepted.
        self.new_connection(hub, d)
        self.round_trip(hub, d, "cs-again")

    def test_connection_string_with_a_wrong_key_is_refused_as_credentials(self):
        hub = self.hub()
        wrong = "not-the-hubs-key-" + os.urandom(4).hex()
        self.extra_secrets.append(wrong)
        d = self.driver(config_text({"connectionString": connection_string(hub, key=wrong),
                                     "reconnectMaxDelaySecs": "1"}))
        found = d.wait_log_lines("credentials refused (HTTP 401)", timeout=10)
        line = found[0] if found else None
        self.assertIsNotNone(line, "an ERROR says the credentials are refused")
        self.assertIn(" error ", line)
        self.assertGreaterEqual(hub.counters().get("rejected_401", 0), 2)
        self.assertEqual(d.of("connected"), [])

    # -------------------------------------------------------------- Auth0

    def auth0_driver(self, hub, ca, fake, **keys):
        ws = {"caFile": ca.cert_path, "reconnectMaxDelaySecs": "1"}
        ws.update(keys)
        return self.driver(config_text(ws, auth={"authURL": "127.0.0.1:%d" % fake.port}), env=fake.env())

    def auth0(self, hub):
        ca = TestCA(os.path.join(self.tmp.name, "ca"))
        fake = self.track(FakeAuth0(ca, lambda: hub.control.token(DEVICE, roles=GROUP_ROLES)["url"]))
        return ca, fake

    def test_auth0_sign_in_gives_the_hub_url(self):
        hub = self.hub()
        ca, fake = self.auth0(hub)
        d = self.auth0_driver(hub, ca, fake)
        d.wait_event("connected", 15)
        d.wait_event("joined", 10)
        self.round_trip(hub, d, "auth0")
        self.assertEqual(fake.problems(), [])
        self.assertEqual([r[1] for r in fake.requests], ["/oauth/token", "/userinfo"])
        self.assertTrue(d.wait_log_lines("client URLs from Auth0 at 127.0.0.1:%d" % fake.port))
        # A new connection signs in again and uses the fresh wss_url.
        self.new_connection(hub, d)
        self.round_trip(hub, d, "auth0-again")
        self.assertEqual([r[1] for r in fake.requests], ["/oauth/token", "/userinfo"] * 2)
        self.assertEqual(fake.problems(), [])

    def assert_sign_in_refusals_follow_the_backoff(self, mode, status):
        """Auth0 refuses the first two sign-ins: each next one waits for the
        backoff (1 s, then 2 s, +-30 %), none goes out at once, and one ERROR
        says Auth0 refused and where its credentials are."""
        hub = self.hub()
        ca, fake = self.auth0(hub)
        fake.mode, fake.fail_count = mode, 2
        d = self.auth0_driver(hub, ca, fake, reconnectInitialDelaySecs="1", reconnectMaxDelaySecs="4")
        d.wait_event("connected", 15)
        d.wait_event("joined", 10)
        times = [t for t, path, _ in fake.token_requests()]
        g = harness.gaps(times)
        print("\n  Auth0 sign-in gaps after HTTP %d: %s s" % (status, ["%.3f" % x for x in g]))
        self.assertEqual(len(times), 3)
        for gap, nominal in zip(g, (1.0, 2.0)):
            self.assertGreaterEqual(gap, nominal * 0.7 - 0.02, "the next sign-in waits for the backoff")
            self.assertLessEqual(gap, nominal * 1.3 + 0.3)
        refused = d.wait_log_lines("sign-in refused by Auth0 (HTTP %d)" % status)
        self.assertEqual(len(refused), 1, d.stderr_lines)
        self.assertIn(" error ", refused[0])
        self.assertIn("check the Auth0 credentials in remote.env", refused[0])
        self.assertEqual(d.log_lines("retrying at once"), [])
        self.assertEqual(d.log_lines("credentials refused"), [])
        backing_off = [e for e in d.of("state") if e["to"] == "BackingOff"]
        self.assertEqual(len(backing_off), 2)
        self.assertEqual(d.of("check_internet"), [], "an HTTP answer proves the internet")
        self.assertEqual(fake.problems(), [])

    def test_auth0_403_wrong_password_waits_for_the_backoff(self):
        self.assert_sign_in_refusals_follow_the_backoff("token_403", 403)

    def test_auth0_401_waits_for_the_backoff(self):
        self.assert_sign_in_refusals_follow_the_backoff("token_401", 401)

    def assert_classified_failure(self, hub, mode, expected_text):
        ca, fake = self.auth0(hub)
        fake.mode, fake.fail_count = mode, 1
        d = self.auth0_driver(hub, ca, fake)
        d.wait_event("connected", 15)
        backing_off = [e for e in d.of("state") if e["to"] == "BackingOff"]
        self.assertEqual(len(backing_off), 1, "one failure, then the backoff")
        self.assertIn(expected_text, backing_off[0]["reason"])
        warnings = [line for line in d.wait_log_lines(expected_text) if " warning " in line]
        self.assertEqual(len(warnings), 1, d.stderr_lines)
        self.assertEqual(fake.problems(), [])
        return backing_off[0]["reason"]

    def test_auth0_500_is_a_transient_failure(self):
        reason = self.assert_classified_failure(self.hub(), "token_500", "HTTP 500")
        self.assertIn("Auth0 sign-in", reason)

    def test_auth0_answer_without_access_token(self):
        reason = self.assert_classified_failure(self.hub(), "no_access_token", "the answer has no access_token")
        self.assertIn("protocol", reason)

    def test_auth0_userinfo_without_wss_url(self):
        reason = self.assert_classified_failure(self.hub(), "no_wss_url", "the answer has no wss_url claim")
        self.assertIn("protocol", reason)

    # ---------------------------------------------------------------- TLS

    def test_wss_with_tls_verified_against_ca_file(self):
        ca = TestCA(os.path.join(self.tmp.name, "ca"))
        cert, key = ca.issue("hub", dns=["localhost"], ips=["127.0.0.1"])
        hub = self.hub(tls_cert=cert, tls_key=key)
        cs = connection_string(hub, scheme="https")
        d = self.driver(config_text({"connectionString": cs, "caFile": ca.cert_path}))
        d.wait_event("connected", 15)
        d.wait_event("joined", 10)
        self.round_trip(hub, d, "tls")
        self.assertTrue(d.wait_log_lines("websocket open to wss://127.0.0.1:%d" % hub.port))
        # Without the CA the hub's certificate is not trusted: a TLS failure.
        other = self.driver(config_text({"connectionString": cs}))
        state = other.wait_state("BackingOff", 15)
        self.assertIn("TLS", state["reason"])
        self.assertTrue(other.of("check_internet"), "a failure without an HTTP answer asks for a check")


if __name__ == "__main__":
    harness.main()
