"""A blocking client for the hub's control API (stdlib only), for tests that
run the hub as a process. Every call has a timeout."""
import json
import time
import urllib.error
import urllib.parse
import urllib.request


class ControlError(Exception):
    def __init__(self, status, body):
        super().__init__("control API answered %s: %s" % (status, body))
        self.status = status
        self.body = body


class ControlClient:
    def __init__(self, base_url, timeout=10.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def call(self, method, path, body=None, timeout=None, **query):
        url = self.base_url + path
        query = {k: v for k, v in query.items() if v is not None}
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"} if data else {})
        try:
            with urllib.request.urlopen(req, timeout=timeout or self.timeout) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as e:
            raise ControlError(e.code, e.read().decode(errors="replace")) from None

    def get(self, path, **query):
        return self.call("GET", path, **query)

    def post(self, path, body=None, timeout=None):
        return self.call("POST", path, body or {}, timeout=timeout)

    # Conveniences; see docs/test-server.md for every field.
    def state(self):
        return self.get("/state")

    def token(self, user_id=None, roles=("webpubsub.sendToGroup", "webpubsub.joinLeaveGroup"), groups=None,
              minutes=60):
        return self.post("/token", {"userId": user_id, "roles": list(roles) if roles is not None else None,
                                    "groups": groups, "minutes": minutes})

    def send_to_group(self, group, data, from_user_id=None, data_type="json"):
        return self.post("/send", {"group": group, "data": data, "fromUserId": from_user_id, "dataType": data_type})

    def send_to_connection(self, connection_id, data, data_type="json"):
        return self.post("/send", {"connectionId": connection_id, "data": data, "dataType": data_type})

    def messages(self, group=None, since=0, connection_id=None, wait=None):
        return self.get("/messages", group=group, since=since, connectionId=connection_id, wait=wait)

    def wait_for_messages(self, group, count, timeout, predicate=None, since=0):
        """Polls (long-poll 1 s) until ``count`` logged messages match; returns them."""
        deadline = time.monotonic() + timeout
        found = []
        while True:
            batch = self.messages(group, since, wait=1)
            since = batch["last"]
            found += [m for m in batch["messages"] if predicate is None or predicate(m)]
            if len(found) >= count or time.monotonic() >= deadline:
                return found

    def drop(self, connection_id=None, all=False, user_id=None):
        return self.post("/fault/drop", {"connectionId": connection_id, "all": all, "userId": user_id})

    def silence(self, connection_id=None, all=False, user_id=None):
        return self.post("/fault/silence", {"connectionId": connection_id, "all": all, "userId": user_id})

    def refuse(self, status, retry_after=None, count=None, for_seconds=None, only="all", body=None):
        return self.post("/fault/refuse", {"status": status, "retry_after": retry_after, "count": count,
                                           "for_seconds": for_seconds, "only": only, "body": body})

    def clock_offset(self, seconds):
        """The hub's clock becomes the real time + seconds (token checks, Date headers)."""
        return self.post("/clock", {"offset": seconds})

    def malformed(self, kind, connection_id=None, all=False):
        return self.post("/fault/malformed", {"kind": kind, "connectionId": connection_id, "all": all})

    def expire_sessions(self, connection_id=None):
        return self.post("/fault/expire_sessions", {"connectionId": connection_id})

    def lose_acks(self, count=1, connection_id=None):
        return self.post("/fault/lose_acks", {"count": count, "connectionId": connection_id})

    def delay_acks(self, seconds, count=1, connection_id=None):
        return self.post("/fault/delay_acks", {"seconds": seconds, "count": count, "connectionId": connection_id})

    def clear_faults(self):
        return self.post("/fault/clear")

    def restart(self, delay=0.0, wait=True):
        return self.post("/restart", {"delay": delay, "wait": wait}, timeout=self.timeout + delay)

    def close(self, connection_id, code=1000, reason="Closed by the server."):
        return self.post("/close", {"connectionId": connection_id, "code": code, "reason": reason})
