"""A local Azure Web PubSub-compatible hub for tests and demos.

Modules:
    access_token  HS256 client access tokens: sign, verify, build client URLs (also a CLI)
    protocol      the JSON / reliable JSON subprotocol: names, validation, frame builders
    session       one connectionId session: roles, groups, ackId dedup, sequence ids, replay buffer
    server        WpsServer (asyncio + websockets 10 or 15, through ws_compat) and its CLI
    control       the HTTP/JSON control API served next to the hub
    control_client  a blocking helper to call the control API from tests
    client        a small asyncio Web PubSub client (reliable JSON, recovery)
    frontend      a DuneBugger web front end simulator (also a console CLI)

Import with ``tests/support`` on ``sys.path``: ``from wps.server import WpsServer``.
"""
