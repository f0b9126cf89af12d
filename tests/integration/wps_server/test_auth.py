"""The hub's checks before the upgrade: JWT, paths, hub name, subprotocols, connected."""
import asyncio
import json
import logging
import time
import unittest

from hubtest import ALL_ROLES, HubTestCase, bounded

import ws_compat
from wps import access_token
from wps.client import JSON_PROTOCOL, RELIABLE_PROTOCOL


class AccessTokens(HubTestCase):
    def base(self, host=None):
        return "ws://%s/client/hubs/dunebugger" % (host or "127.0.0.1:%d" % self.hub.port)

    def aud(self, scheme="http", host=None):
        return "%s://%s/client/hubs/dunebugger" % (scheme, host or "127.0.0.1:%d" % self.hub.port)

    def token(self, aud=None, key=None, **claims):
        now = int(time.time())
        body = {"aud": aud or self.aud(), "iat": now, "exp": now + 3600, "sub": "dev1", "role": ALL_ROLES}
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        return access_token.sign_claims(key or self.hub.options.access_key, body)

    async def assert_status(self, url, status, **kwargs):
        with self.assertRaises(ws_compat.InvalidStatus) as cm:
            await self.raw_connect(url, **kwargs)
        self.assertEqual(ws_compat.status_of(cm.exception), status)
        return cm.exception

    async def first_frame(self, ws):
        return json.loads(await asyncio.wait_for(ws.recv(), 2))

    @bounded(10)
    async def test_valid_token_connects_and_connected_comes_first(self):
        ws = await self.raw_connect(self.base() + "?access_token=" + self.token())
        self.assertEqual(ws.subprotocol, RELIABLE_PROTOCOL)
        first = await self.first_frame(ws)
        self.assertEqual(first["type"], "system")
        self.assertEqual(first["event"], "connected")
        self.assertEqual(first["userId"], "dev1")
        self.assertTrue(first["connectionId"])
        self.assertTrue(first["reconnectionToken"])
        self.assertIn(first["connectionId"], self.hub.state()["connections"])

    @bounded(10)
    async def test_bad_tokens_get_401_before_the_upgrade(self):
        now = int(time.time())
        cases = {
            "bad signature": self.token(key="another-key"),
            "wrong audience port": self.token(aud=self.aud(host="127.0.0.1:1")),
            "wrong audience hub": self.token(aud="http://127.0.0.1:%d/client/hubs/other" % self.hub.port),
            "expired past the skew": self.token(exp=now - 400),
            "no exp": self.token(exp=None),
            "nbf in the future": self.token(nbf=now + 900),
            "not a jwt": "abc.def",
            "alg none": access_token.sign_claims("k", {"aud": self.aud(), "exp": now + 60},
                                                 header={"alg": "none"}).rsplit(".", 1)[0] + ".",
            "role not strings": self.token(role=[1, 2]),
        }
        with self.assertLogs("wps", logging.INFO) as logs:
            for name, token in cases.items():
                with self.subTest(name):
                    e = await self.assert_status(self.base() + "?access_token=" + token, 401)
            e = await self.assert_status(self.base(), 401)
        self.assertEqual(self.hub.counters["rejected_401"], len(cases) + 1)
        self.assertEqual(self.hub.state()["sessions"], [])
        for token in cases.values():
            self.assertFalse(any(token in line for line in logs.output if len(token) > 10))
        del e

    @bounded(10)
    async def test_audience_forms_and_skew_accepted(self):
        now = int(time.time())
        host = "127.0.0.1:%d" % self.hub.port
        for name, token in {
            "https audience": self.token(aud=self.aud("https")),
            "upper-case audience": self.token(aud=self.aud().upper().replace("HTTP://", "http://")),
            "audience list": self.token(aud=["http://elsewhere/client/hubs/dunebugger", self.aud()]),
            "expired within the 5 min skew": self.token(exp=now - 120),
            "nbf within the skew": self.token(nbf=now + 120),
        }.items():
            with self.subTest(name):
                ws = await self.raw_connect(self.base(host) + "?access_token=" + token)
                self.assertEqual((await self.first_frame(ws))["event"], "connected")

    @bounded(10)
    async def test_other_url_forms(self):
        port = self.hub.port
        token = self.token()
        ws = await self.raw_connect("ws://127.0.0.1:%d/client/?hub=dunebugger&access_token=%s" % (port, token))
        self.assertEqual((await self.first_frame(ws))["event"], "connected")
        ws = await self.raw_connect(self.base(), additional_headers={"Authorization": "Bearer " + token})
        self.assertEqual((await self.first_frame(ws))["event"], "connected")
        # Hub names are case-insensitive.
        ws = await self.raw_connect("ws://127.0.0.1:%d/client/hubs/DuneBugger?access_token=%s" % (port, token))
        self.assertEqual((await self.first_frame(ws))["userId"], "dev1")
        await self.assert_status("ws://127.0.0.1:%d/client/hubs/otherhub?access_token=%s" % (port, token), 404)
        await self.assert_status("ws://127.0.0.1:%d/elsewhere?access_token=%s" % (port, token), 404)
        await self.assert_status("ws://127.0.0.1:%d/client/hubs/1bad?access_token=%s" % (port, token), 400)

    @bounded(10)
    async def test_user_id_is_optional(self):
        ws = await self.raw_connect(self.base() + "?access_token=" + self.token(sub=None))
        first = await self.first_frame(ws)
        self.assertIsNone(first["userId"])
        self.assertIn("userId", first)

    @bounded(10)
    async def test_group_claim_auto_joins_and_invalid_group_is_400(self):
        c = await self.client("dev1", groups=["device-1", "device-2"])
        self.assertEqual(self.session_state(c.connection_id)["groups"], ["device-1", "device-2"])
        self.hub.send({"hello": 1}, group="device-2")  # delivered without any joinGroup
        msg = await c.next_message(2)
        self.assertEqual((msg["group"], msg["data"]), ("device-2", {"hello": 1}))
        await self.assert_status(self.base() + "?access_token=" + self.token(**{"webpubsub.group": ["  "]}), 400)


class Subprotocols(HubTestCase):
    async def connect(self, offer):
        return await self.raw_connect(self.url("dev1"), subprotocols=offer)

    @bounded(10)
    async def test_each_protocol_is_echoed_and_token_only_on_reliable(self):
        ws = await self.connect([RELIABLE_PROTOCOL])
        self.assertEqual(ws.subprotocol, RELIABLE_PROTOCOL)
        self.assertIn("reconnectionToken", json.loads(await ws.recv()))
        ws = await self.connect([JSON_PROTOCOL])
        self.assertEqual(ws.subprotocol, JSON_PROTOCOL)
        self.assertNotIn("reconnectionToken", json.loads(await ws.recv()))

    @bounded(10)
    async def test_first_known_offered_wins(self):
        ws = await self.connect(["custom.v1", JSON_PROTOCOL, RELIABLE_PROTOCOL])
        self.assertEqual(ws.subprotocol, JSON_PROTOCOL)
        ws = await self.connect([RELIABLE_PROTOCOL, JSON_PROTOCOL])
        self.assertEqual(ws.subprotocol, RELIABLE_PROTOCOL)

    @bounded(10)
    async def test_unknown_only_or_none_is_rejected(self):
        for offer in (["mqtt", "custom.v1"], []):
            with self.subTest(offer=offer):
                with self.assertRaises(ws_compat.InvalidStatus) as cm:
                    await self.connect(offer)
                self.assertEqual(ws_compat.status_of(cm.exception), 400)


class HealthPath(HubTestCase):
    @bounded(10)
    async def test_health_answers_200_without_upgrade(self):
        reader, writer = await asyncio.open_connection("127.0.0.1", self.hub.port)
        writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        status = await asyncio.wait_for(reader.readline(), 2)
        writer.close()
        self.assertEqual(status.split()[1], b"200")


if __name__ == "__main__":
    unittest.main()
