"""The Web PubSub JSON subprotocols: names, request validation, frame builders.

No I/O here. References are to /work/shared/docs/webpubsub-protocol.md."""
import base64
import binascii
import json
import re

import json_raw

JSON_PROTOCOL = "json.webpubsub.azure.v1"
RELIABLE_PROTOCOL = "json.reliable.webpubsub.azure.v1"
SUBPROTOCOLS = (JSON_PROTOCOL, RELIABLE_PROTOCOL)

# Close codes the emulator uses (§4 "Other close codes").
CLOSE_NORMAL = 1000
CLOSE_UNSUPPORTED_DATA = 1003
CLOSE_INVALID_PAYLOAD = 1007
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009

REASON_NOT_RECOVERED = "The connection could not be recovered."
REASON_BUFFER_FULL = "The reliable message buffer is full."
REASON_OUTBOUND_FULL = "The outbound message queue is full."
REASON_BAD_MESSAGE = "The message is not a valid JSON protocol message."
REASON_BINARY = "Binary frames are not supported by the JSON protocols."

UINT64_MAX = 2 ** 64 - 1
MAX_GROUP_NAME_CHARS = 1024
HUB_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_`,.\[\]]{0,127}$")
EVENT_NAME = re.compile(r"^[a-z][a-z0-9_.-]{0,127}$", re.IGNORECASE)
DATA_TYPES = ("json", "text", "binary", "protobuf")


class ProtocolViolation(Exception):
    """A client frame the JSON protocol rejects; the server closes with 1007."""


def valid_group_name(name):
    # "group: not empty or whitespace, at most 1024 characters." (§1)
    return isinstance(name, str) and name.strip() != "" and len(name) <= MAX_GROUP_NAME_CHARS


def _ack_id(msg):
    if "ackId" not in msg or msg["ackId"] is None:
        return None
    ack_id = msg["ackId"]
    if isinstance(ack_id, bool) or not isinstance(ack_id, int) or not 0 <= ack_id <= UINT64_MAX:
        raise ProtocolViolation("ackId must be a uint64")
    return ack_id


def _group(msg):
    group = msg.get("group")
    if not valid_group_name(group):
        raise ProtocolViolation("group name is missing or invalid")
    return group


def _data(msg):
    data_type = msg.get("dataType", "json")
    if data_type is None:
        data_type = "json"
    if data_type not in DATA_TYPES:
        raise ProtocolViolation("unknown dataType")
    if "data" not in msg:
        raise ProtocolViolation("data is missing")
    data = msg["data"]
    if data_type == "json":
        if data is None:  # "null is rejected [emu]"
            raise ProtocolViolation("json data must not be null")
    elif not isinstance(data, str):
        raise ProtocolViolation("%s data must be a string" % data_type)
    elif data_type in ("binary", "protobuf"):
        try:
            base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise ProtocolViolation("binary data must be base64") from None
    return data_type, data


def parse_client_message(text, reliable):
    """Validates one client text frame; returns a dict with normalised fields.

    Raises ProtocolViolation for malformed JSON, an unknown type or a bad field."""
    try:
        msg = json.loads(text)
    except (ValueError, RecursionError):
        raise ProtocolViolation("not JSON") from None
    if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
        raise ProtocolViolation("not an object with a string type")
    kind = msg["type"]
    if kind in ("joinGroup", "leaveGroup"):
        return {"type": kind, "group": _group(msg), "ackId": _ack_id(msg)}
    if kind == "sendToGroup":
        no_echo = msg.get("noEcho", False)
        if no_echo is None:
            no_echo = False
        if not isinstance(no_echo, bool):
            raise ProtocolViolation("noEcho must be a boolean")
        data_type, data = _data(msg)
        # The data's own text travels on, as the service passes it: a relay
        # through the hub keeps every byte (key order, numbers, escapes).
        return {"type": kind, "group": _group(msg), "ackId": _ack_id(msg), "noEcho": no_echo,
                "dataType": data_type, "data": data, "dataText": json_raw.members(text)["data"]}
    if kind == "event":
        event = msg.get("event")
        if not isinstance(event, str) or not EVENT_NAME.match(event):
            raise ProtocolViolation("event name is missing or invalid")
        data_type, data = _data(msg)
        return {"type": kind, "event": event, "ackId": _ack_id(msg), "dataType": data_type, "data": data}
    if kind == "sequenceAck":
        if not reliable:
            raise ProtocolViolation("sequenceAck is only valid on the reliable protocol")
        seq = msg.get("sequenceId")
        if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq <= UINT64_MAX:
            raise ProtocolViolation("sequenceId must be a uint64")
        return {"type": kind, "sequenceId": seq}
    if kind == "ping":
        return {"type": kind}
    raise ProtocolViolation("unknown message type")


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def connected_frame(connection_id, user_id, reconnection_token=None):
    msg = {"type": "system", "event": "connected", "userId": user_id, "connectionId": connection_id}
    if reconnection_token is not None:
        msg["reconnectionToken"] = reconnection_token
    return dumps(msg)


def disconnected_frame(reason):
    return dumps({"type": "system", "event": "disconnected", "message": reason})


def ack_frame(ack_id, error_name=None, error_message=None):
    if error_name is None:
        return dumps({"type": "ack", "ackId": ack_id, "success": True})
    return dumps({"type": "ack", "ackId": ack_id, "success": False,
                  "error": {"name": error_name, "message": error_message}})


def duplicate_message(ack_id):
    # The emulator's text for Duplicate (§3 "ack").
    return "Message with ack-id: %d has been processed" % ack_id


PONG_FRAME = dumps({"type": "pong"})


def group_message_body(group, from_user_id, data_type, data, data_text=None):
    """The unsequenced frame text; add_sequence_id() splices the id in per recipient.
    `data_text`, when given, is the data's JSON text as the sender wrote it, put in unchanged."""
    return json_raw.dumps({"type": "message", "from": "group", "group": group, "fromUserId": from_user_id,
                           "dataType": data_type, "data": json_raw.Raw(data_text) if data_text else data})


def server_message_body(data_type, data):
    return dumps({"type": "message", "from": "server", "dataType": data_type, "data": data})


def add_sequence_id(body, sequence_id):
    """body is a dumps() object text; appends the sequenceId member without re-encoding."""
    return body[:-1] + ',"sequenceId":%d}' % sequence_id
