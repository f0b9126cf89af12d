"""The hub's HTTP/JSON control API, on the hub's own asyncio loop.

One request per TCP connection (the response says Connection: close). Each
request must arrive within REQUEST_TIMEOUT_SECONDS and stay under the size
bounds below, or it gets 408/413. Routes are listed in docs/test-server.md.
"""
import asyncio
import json
import logging
import urllib.parse

log = logging.getLogger("wps.control")

REQUEST_TIMEOUT_SECONDS = 10.0
MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 1024 * 1024
# GET /messages?wait=S long-polls at most this long.
MAX_WAIT_SECONDS = 30.0

_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
            408: "Request Timeout", 413: "Payload Too Large", 500: "Internal Server Error"}


class _HttpError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def _selector(body):
    return {"connection_id": body.get("connectionId"), "user_id": body.get("userId"),
            "all_": bool(body.get("all", False))}


class ControlServer:
    def __init__(self, wps, host, port):
        self.wps = wps
        self.host = host
        self.port = port
        self._server = None
        self._routes = {
            ("GET", "/state"): lambda q, b: self.wps.state(),
            ("GET", "/health"): lambda q, b: {"ok": True, "listening": self.wps.listening},
            ("GET", "/messages"): self._messages,
            ("GET", "/events"): lambda q, b: self.wps.events(int(q.get("since", 0))),
            ("POST", "/token"): lambda q, b: self.wps.issue_token(
                b.get("userId"), b.get("roles"), b.get("groups"), float(b.get("minutes", 60)), b.get("host")),
            ("POST", "/send"): lambda q, b: self.wps.send(
                b["data"], b.get("dataType", "json"), b.get("group"), b.get("connectionId"), b.get("userId"),
                bool(b.get("all", False)), b.get("fromUserId")),
            ("POST", "/close"): lambda q, b: self.wps.close_connection(
                b["connectionId"], int(b.get("code", 1000)), b.get("reason", "Closed by the server.")),
            ("POST", "/restart"): lambda q, b: self.wps.restart(float(b.get("delay", 0)), bool(b.get("wait", True))),
            ("POST", "/fault/drop"): lambda q, b: self.wps.drop(**_selector(b)),
            ("POST", "/fault/silence"): lambda q, b: self.wps.silence(**_selector(b)),
            ("POST", "/fault/refuse"): lambda q, b: self.wps.refuse(
                b["status"], b.get("retry_after"), b.get("count"), b.get("for_seconds"), b.get("only", "all"),
                b.get("body")),
            ("POST", "/fault/malformed"): lambda q, b: self.wps.malformed(b.get("kind", "json"), **_selector(b)),
            ("POST", "/fault/expire_sessions"): lambda q, b: self.wps.expire_sessions(b.get("connectionId")),
            ("POST", "/fault/lose_acks"): lambda q, b: self.wps.lose_acks(b.get("count", 1), b.get("connectionId")),
            ("POST", "/fault/delay_acks"): lambda q, b: self.wps.delay_acks(
                b["seconds"], b.get("count", 1), b.get("connectionId")),
            ("POST", "/fault/duplicate"): lambda q, b: self.wps.duplicate(b["connectionId"], b.get("count", 1)),
            ("POST", "/fault/clear"): lambda q, b: self.wps.clear_faults(),
            ("POST", "/clock"): lambda q, b: self.wps.set_clock_offset(b["offset"]),
        }

    async def start(self):
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("control API on http://%s:%d", self.host, self.port)

    async def stop(self):
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _messages(self, q, b):
        wait = min(float(q.get("wait", 0)), MAX_WAIT_SECONDS)
        return await self.wps.wait_messages(q.get("group"), int(q.get("since", 0)), q.get("connectionId"), wait)

    async def _serve(self, reader, writer):
        status, result = 500, {"error": "internal error"}
        try:
            method, target, body = await asyncio.wait_for(self._read_request(reader), REQUEST_TIMEOUT_SECONDS)
            url = urllib.parse.urlsplit(target)
            query = {k: v[0] for k, v in urllib.parse.parse_qs(url.query).items()}
            route = self._routes.get((method, url.path))
            if route is None:
                known_path = any(p == url.path for _, p in self._routes)
                raise _HttpError(405 if known_path else 404, "no route %s %s" % (method, url.path))
            result = route(query, body)
            if asyncio.iscoroutine(result):
                result = await result
            status = 200
        except asyncio.TimeoutError:
            status, result = 408, {"error": "request not received in time"}
        except _HttpError as e:
            status, result = e.status, {"error": str(e)}
        except (KeyError, ValueError, TypeError) as e:
            status, result = 400, {"error": "%s: %s" % (type(e).__name__, e)}
        except Exception as e:  # keep serving; the hub must not die on a control bug
            log.exception("control request failed")
            result = {"error": repr(e)}
        try:
            payload = json.dumps(result).encode()
            writer.write(("HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                          "Connection: close\r\n\r\n" % (status, _REASONS.get(status, "Error"), len(payload))).encode()
                         + payload)
            await asyncio.wait_for(writer.drain(), REQUEST_TIMEOUT_SECONDS)
        except (ConnectionError, asyncio.TimeoutError):
            pass
        finally:
            writer.close()

    async def _read_request(self, reader):
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError:
            raise _HttpError(413, "headers too large") from None
        except asyncio.IncompleteReadError:
            raise _HttpError(400, "incomplete request") from None
        if len(head) > MAX_HEADER_BYTES:
            raise _HttpError(413, "headers too large")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3:
            raise _HttpError(400, "bad request line")
        method, target = parts[0].upper(), parts[1]
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                try:
                    length = int(value.strip())
                except ValueError:
                    raise _HttpError(400, "bad Content-Length") from None
        if length < 0 or length > MAX_BODY_BYTES:
            raise _HttpError(413, "body too large")
        body = {}
        if length:
            raw = await reader.readexactly(length)
            try:
                body = json.loads(raw)
            except ValueError:
                raise _HttpError(400, "body is not JSON") from None
            if not isinstance(body, dict):
                raise _HttpError(400, "body must be a JSON object")
        return method, target, body
