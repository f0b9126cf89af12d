"""One connectionId session: permissions, groups, ackId dedup, sequencing, replay.

No I/O: the server attaches and detaches transports around it. A session
outlives its transport on the reliable protocol so a recovery can resume it.
"""
import collections
import re

from wps import protocol

# "The service keeps unacked messages for replay up to 1000 messages or
# 16 MB. Past that it closes the connection and the session cannot be
# recovered." (webpubsub-protocol.md §4)
DEFAULT_MAX_UNACKED_MESSAGES = 1000
DEFAULT_MAX_UNACKED_BYTES = 16 * 1024 * 1024
# Recently sequenced frames kept for the "duplicate" fault hook, acked or not.
RECENT_FRAMES_KEPT = 64


def _role_pattern(pattern):
    """Wildcards of webpubsub.*Groups.<pattern>: "* matches within one
    dot-separated segment, ** crosses segments, ? matches one character." (§2)"""
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^.]*")
            i += 1
        elif pattern[i] == "?":
            out.append(".")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("^" + "".join(out) + "$")


class Permissions:
    """Roles from the token: joinLeaveGroup / sendToGroup, per group or pattern."""

    def __init__(self, roles):
        self.roles = list(roles)
        self._any = set()
        self._exact = {"join": set(), "send": set()}
        self._patterns = {"join": [], "send": []}
        for role in self.roles:
            for action, single, plural in (("join", "webpubsub.joinLeaveGroup", "webpubsub.joinLeaveGroups."),
                                           ("send", "webpubsub.sendToGroup", "webpubsub.sendToGroups.")):
                if role == single:
                    self._any.add(action)
                elif role.startswith(single + "."):
                    self._exact[action].add(role[len(single) + 1:])
                elif role.startswith(plural):
                    self._patterns[action].append(_role_pattern(role[len(plural):]))

    def allows(self, action, group):
        """action is "join" (join and leave) or "send"."""
        return (action in self._any or group in self._exact[action]
                or any(p.match(group) for p in self._patterns[action]))


class BufferFull(Exception):
    """Unacked messages passed the bound; the session must end (close 1008)."""


class Session:
    def __init__(self, connection_id, user_id, roles, subprotocol, reconnection_token,
                 max_unacked_messages=DEFAULT_MAX_UNACKED_MESSAGES, max_unacked_bytes=DEFAULT_MAX_UNACKED_BYTES):
        self.connection_id = connection_id
        self.user_id = user_id
        self.permissions = Permissions(roles)
        self.subprotocol = subprotocol
        self.reliable = subprotocol == protocol.RELIABLE_PROTOCOL
        self.reconnection_token = reconnection_token if self.reliable else None
        self.groups = set()
        # "The emulator remembers an ackId only after it succeeds, so a failed
        # ackId can be reused. The dedup set survives recovery." (§3 ackId)
        # Bounded only by the client's own ackId space; a session that sends
        # millions of acked requests grows it, as the service would.
        self.succeeded_ack_ids = set()
        self.next_sequence_id = 1
        self.unacked = collections.deque()  # (sequence_id, text, size_bytes)
        self.unacked_bytes = 0
        self.max_unacked_messages = max_unacked_messages
        self.max_unacked_bytes = max_unacked_bytes
        self.recent = collections.deque(maxlen=RECENT_FRAMES_KEPT)
        self.ended = False
        # Owned by the server: the attached transport (None while waiting for
        # recovery) and the timer that ends the session if none comes back.
        self.conn = None
        self.expiry = None

    def is_duplicate(self, ack_id):
        return ack_id is not None and ack_id in self.succeeded_ack_ids

    def record_success(self, ack_id):
        if ack_id is not None:
            self.succeeded_ack_ids.add(ack_id)

    def sequence(self, body):
        """Returns the frame text to send for a data message body.

        Reliable: adds the next sequenceId ("Ids are non-zero, start at 1 and go
        up by 1 per data message within a connectionId session", §4) and keeps
        the frame until it is acked. Raises BufferFull past the bound."""
        if not self.reliable:
            return body
        text = protocol.add_sequence_id(body, self.next_sequence_id)
        size = len(text.encode("utf-8"))
        if (len(self.unacked) + 1 > self.max_unacked_messages
                or self.unacked_bytes + size > self.max_unacked_bytes):
            raise BufferFull()
        self.unacked.append((self.next_sequence_id, text, size))
        self.recent.append(text)
        self.unacked_bytes += size
        self.next_sequence_id += 1
        return text

    def ack_sequence(self, sequence_id):
        """"Acks are cumulative: acking x frees every buffered message with id ≤ x." Returns how many were freed."""
        freed = 0
        while self.unacked and self.unacked[0][0] <= sequence_id:
            _, _, size = self.unacked.popleft()
            self.unacked_bytes -= size
            freed += 1
        return freed

    def replay_frames(self):
        """Unacked frames in order, with their original sequence ids (for recovery)."""
        return [text for _, text, _ in self.unacked]
