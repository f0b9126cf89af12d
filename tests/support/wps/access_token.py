"""HS256 client access tokens as Azure Web PubSub issues and checks them.

webpubsub-protocol.md §2: "HMAC key: the UTF-8 bytes of the AccessKey string
exactly as written in the connection string. It is not base64-decoded."
The audience is the http(s) endpoint plus ``client/hubs/<hub>``.

Also a CLI that prints a client URL:
    /usr/bin/python3 tests/support/wps/access_token.py --access-key K \
        --endpoint http://127.0.0.1:8080 --hub dunebugger --user dev1 \
        --role webpubsub.sendToGroup --role webpubsub.joinLeaveGroup
"""
import base64
import hashlib
import hmac
import json
import time
import urllib.parse

DEFAULT_LIFETIME_MINUTES = 60
# "The emulator allows 5 minutes of clock skew." (webpubsub-protocol.md §2)
DEFAULT_SKEW_SECONDS = 300


class TokenError(Exception):
    """The token is not acceptable; str(e) says why (never contains the token)."""


def _b64url_encode(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64url_decode(text):
    if not isinstance(text, str) or any(c in text for c in "=+/ \t\r\n"):
        raise TokenError("token segment is not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raise TokenError("token segment is not base64url") from None


def sign_token(access_key, audience, user_id=None, roles=None, groups=None, lifetime_minutes=DEFAULT_LIFETIME_MINUTES,
               now=None, extra_claims=None):
    """A compact HS256 JWT like @azure/web-pubsub getClientAccessToken makes.

    Claims left as None are omitted, as the SDKs do."""
    now = int(time.time() if now is None else now)
    claims = {"aud": audience, "iat": now, "exp": now + int(lifetime_minutes * 60)}
    if user_id is not None:
        claims["sub"] = user_id
    if roles is not None:
        claims["role"] = list(roles)
    if groups is not None:
        claims["webpubsub.group"] = list(groups)
    if extra_claims:
        claims.update(extra_claims)
    return sign_claims(access_key, claims)


def sign_claims(access_key, claims, header=None):
    """Any claims (and header) signed with HS256; tests use it for odd tokens."""
    header = header or {"alg": "HS256", "typ": "JWT"}
    signing_input = (_b64url_encode(json.dumps(header, separators=(",", ":")).encode()) + "." +
                     _b64url_encode(json.dumps(claims, separators=(",", ":")).encode()))
    mac = hmac.new(access_key.encode("utf-8"), signing_input.encode("ascii"), hashlib.sha256).digest()
    return signing_input + "." + _b64url_encode(mac)


def verify_token(token, access_key, accepted_audiences, now=None, skew_seconds=DEFAULT_SKEW_SECONDS):
    """Checks signature, alg, aud (case-insensitive), exp (required) and nbf.

    Returns the claims dict; raises TokenError with a reason."""
    if not isinstance(token, str) or token.count(".") != 2:
        raise TokenError("token is not a compact JWS")
    header_b64, payload_b64, signature_b64 = token.split(".")
    try:
        header = json.loads(_b64url_decode(header_b64))
        claims = json.loads(_b64url_decode(payload_b64))
    except (ValueError, UnicodeDecodeError):
        raise TokenError("token header or payload is not JSON") from None
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        raise TokenError("token alg is not HS256")
    expected = hmac.new(access_key.encode("utf-8"), (header_b64 + "." + payload_b64).encode("ascii"),
                        hashlib.sha256).digest()
    if not hmac.compare_digest(expected, _b64url_decode(signature_b64)):
        raise TokenError("token signature does not match the access key")
    if not isinstance(claims, dict):
        raise TokenError("token payload is not an object")
    now = time.time() if now is None else now
    exp = claims.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, (int, float)):
        raise TokenError("token has no numeric exp")
    if now > exp + skew_seconds:
        raise TokenError("token expired")
    nbf = claims.get("nbf")
    if nbf is not None:
        if isinstance(nbf, bool) or not isinstance(nbf, (int, float)):
            raise TokenError("token nbf is not numeric")
        if now < nbf - skew_seconds:
            raise TokenError("token not valid yet (nbf)")
    aud = claims.get("aud")
    auds = aud if isinstance(aud, list) else [aud]
    accepted = {a.lower().rstrip("/") for a in accepted_audiences}
    if not any(isinstance(a, str) and a.lower().rstrip("/") in accepted for a in auds):
        raise TokenError("token audience does not match this hub endpoint")
    return claims


def audience_for(endpoint, hub):
    """``endpoint`` is http(s)://host[:port]; returns endpoint/client/hubs/<hub>."""
    return endpoint.rstrip("/") + "/client/hubs/" + hub


def client_access_url(access_key, endpoint, hub, user_id=None, roles=None, groups=None,
                      lifetime_minutes=DEFAULT_LIFETIME_MINUTES, now=None):
    """Returns {"token", "baseUrl", "url"} like getClientAccessToken (§2 step 5).

    ``endpoint`` may be http(s) or ws(s); the audience uses http(s), the URL ws(s)."""
    parsed = urllib.parse.urlsplit(endpoint)
    scheme = {"ws": "http", "wss": "https"}.get(parsed.scheme, parsed.scheme)
    http_endpoint = urllib.parse.urlunsplit((scheme, parsed.netloc, "", "", ""))
    token = sign_token(access_key, audience_for(http_endpoint, hub), user_id, roles, groups, lifetime_minutes, now)
    base_url = "ws" + audience_for(http_endpoint, hub)[len("http"):]
    return {"token": token, "baseUrl": base_url, "url": base_url + "?access_token=" + token}


def main(argv=None):
    import argparse
    p = argparse.ArgumentParser(description="Print a Web PubSub client access URL signed with an access key.")
    p.add_argument("--access-key", required=True)
    p.add_argument("--endpoint", required=True, help="http(s)://host:port of the hub server")
    p.add_argument("--hub", default="dunebugger")
    p.add_argument("--user")
    p.add_argument("--role", action="append", help="repeatable")
    p.add_argument("--group", action="append", help="repeatable; joined at connect")
    p.add_argument("--minutes", type=float, default=DEFAULT_LIFETIME_MINUTES)
    p.add_argument("--json", action="store_true", help="print {token, baseUrl, url} as JSON")
    a = p.parse_args(argv)
    result = client_access_url(a.access_key, a.endpoint, a.hub, a.user, a.role, a.group, a.minutes)
    print(json.dumps(result) if a.json else result["url"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
