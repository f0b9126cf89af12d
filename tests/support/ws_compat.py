"""One websockets API for the test peers, on the python3-websockets of both
suites: 10.4 on bookworm (only the "legacy" asyncio implementation) and 15
on trixie (the new asyncio implementation, where the legacy one is
deprecated). Each version runs its own non-deprecated implementation; the
peers call only what is below for the parts where the two differ.

Server:
    server = await serve(handler, host, port, process_request=..., select_subprotocol=..., **options)
        handler(ws); process_request(ws, path, headers) -> None to go on, or
        (status, [(name, value)...], body_text) to answer the upgrade with;
        select_subprotocol(ws, offered) -> the chosen name or None.
        options: those both versions take the same way (subprotocols,
        compression, max_size, max_queue, ping_interval, ping_timeout,
        close_timeout, ssl, server_header, logger).
    request_path(ws)

Client:
    ws = await connect(url, additional_headers=..., **options)   # or: async with connect(...)
    except InvalidStatus as e: status_of(e), headers_of(e)

Either side: is_open(ws), is_closed(ws), close_frames(ws) (.close_rcvd,
.close_sent, .close_rcvd_then_sent), keepalive_task(ws). ws.send, recv,
close, ping, wait_closed, close_code, close_reason, subprotocol,
remote_address and transport are the same in both.
"""
import http
import inspect

from websockets.exceptions import ConnectionClosed, InvalidHandshake  # noqa: F401 (re-exported)

try:  # websockets >= 13
    from websockets.asyncio.client import connect as _connect
    from websockets.asyncio.server import serve as _serve
    from websockets.exceptions import InvalidStatus
    NEW_ASYNCIO = True
except ImportError:  # websockets 10 (bookworm)
    from websockets.legacy.client import connect as _connect
    from websockets.legacy.server import WebSocketServerProtocol as _LegacyServerProtocol
    from websockets.legacy.server import serve as _serve
    from websockets.exceptions import InvalidStatusCode as InvalidStatus
    NEW_ASYNCIO = False

# websockets 15 reads the proxy environment variables; the peers are on loopback.
_CONNECT_TAKES_PROXY = "proxy" in inspect.signature(_connect).parameters


async def serve(handler, host, port, *, process_request=None, select_subprotocol=None, response_headers=None,
                **options):
    """``response_headers()``: (name, value) pairs set on every 101 (replacing
    websockets' own, such as Date); a refusal from process_request sets its own."""
    if NEW_ASYNCIO:
        if process_request is not None:
            options["process_request"] = _new_process_request(process_request)
        if select_subprotocol is not None:
            options["select_subprotocol"] = select_subprotocol
        if response_headers is not None:
            def process_response(ws, request, response):
                _set_headers(response.headers, response_headers())
                return None
            options["process_response"] = process_response
        return await _serve(handler, host, port, **options)
    if response_headers is not None:
        options["extra_headers"] = lambda path, headers: response_headers()
    return await _serve(handler, host, port, create_protocol=_legacy_protocol(process_request, select_subprotocol),
                        **options)


def _set_headers(target, pairs):
    """Sets each header, replacing any value websockets put there (Date)."""
    for name, value in pairs:
        if name in target:
            del target[name]
        target[name] = value


def _new_process_request(process_request):
    def hook(ws, request):
        answer = process_request(ws, request.path, request.headers)
        if answer is None:
            return None
        status, headers, body = answer
        response = ws.respond(status, body)
        _set_headers(response.headers, headers)
        return response
    return hook


def _legacy_protocol(process_request, select_subprotocol):
    class ServerProtocol(_LegacyServerProtocol):
        async def process_request(self, path, headers):
            answer = process_request(self, path, headers) if process_request is not None else None
            if answer is None:
                return None
            status, headers, body = answer
            return http.HTTPStatus(status), list(headers), body.encode()

        def select_subprotocol(self, client_subprotocols, server_subprotocols):
            if select_subprotocol is None:
                return super().select_subprotocol(client_subprotocols, server_subprotocols)
            return select_subprotocol(self, list(client_subprotocols))
    return ServerProtocol


def request_path(ws):
    """The upgrade request's path with its query."""
    return ws.request.path if NEW_ASYNCIO else ws.path


def connect(url, *, additional_headers=None, **options):
    """websockets' connect(): await it, or use it with ``async with``."""
    if NEW_ASYNCIO:
        if _CONNECT_TAKES_PROXY:
            options.setdefault("proxy", None)
        return _connect(url, additional_headers=additional_headers, **options)
    return _connect(url, extra_headers=additional_headers, **options)


def status_of(refusal):
    """The HTTP status of an InvalidStatus (the server refused the upgrade)."""
    return refusal.response.status_code if NEW_ASYNCIO else refusal.status_code


def headers_of(refusal):
    return refusal.response.headers if NEW_ASYNCIO else refusal.headers


def is_open(ws):
    return ws.state.name == "OPEN"


def is_closed(ws):
    return ws.state.name == "CLOSED"


def close_frames(ws):
    """What holds close_rcvd, close_sent and close_rcvd_then_sent."""
    return ws.protocol if NEW_ASYNCIO else ws


def keepalive_task(ws):
    """The task sending keepalive pings, or None."""
    return getattr(ws, "keepalive_task" if NEW_ASYNCIO else "keepalive_ping_task", None)
