"""JSON members as the exact text they have in a document, and JSON writing
that puts such text in unchanged: what a relay must keep byte for byte
(key order, number spelling, escapes) is checked and sent as text, not as
parsed Python values (json.dumps would respell 1.50 and 1e3, and escape or
not escape non-ASCII text as it pleases)."""
import json

_DECODER = json.JSONDecoder()
_WS = " \t\n\r"


class Raw(str):
    """JSON text to be written as it is by dumps()."""


def _skip(text, i):
    while i < len(text) and text[i] in _WS:
        i += 1
    return i


def members(text):
    """{key: raw value text} of the JSON object `text` (the last of a
    duplicated key wins, as json.loads does). ValueError if `text` is not one
    JSON object."""
    json.loads(text)  # strict validation first
    i = _skip(text, 0)
    if text[i] != "{":
        raise ValueError("not a JSON object")
    i = _skip(text, i + 1)
    out = {}
    while text[i] != "}":
        key, i = _DECODER.raw_decode(text, i)
        i = _skip(text, i)
        i = _skip(text, i + 1)  # the ':'
        _, end = _DECODER.raw_decode(text, i)
        out[key] = text[i:end]
        i = _skip(text, end)
        if text[i] == ",":
            i = _skip(text, i + 1)
    return out


def member(text, *path):
    """The raw text of a nested member: member(frame, "data", "body")."""
    for key in path:
        text = members(text)[key]
    return text


def has_raw(value):
    if isinstance(value, Raw):
        return True
    if isinstance(value, dict):
        return any(has_raw(v) for v in value.values())
    if isinstance(value, list):
        return any(has_raw(v) for v in value)
    return False


def dumps(value):
    """Compact JSON with Raw values written as they are."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + dumps(v) for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
