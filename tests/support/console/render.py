"""How the demo console shows a message: whole, to fit the terminal.

A JSON body is pretty-printed, each object or list on one line when it
fits the width and spread over lines when it does not; a text body keeps
its own lines and is wrapped. gpio_state is shown one pin a line, and the
pins that changed since the previous gpio_state are pointed out.
"""
import json
import textwrap

BODY_INDENT = "    "
CHANGED_MARK = ">> "


def compact(value):
    return json.dumps(value, ensure_ascii=False)


def pretty(value, width, indent="", lead=""):
    """JSON lines of `value`, indented, no line (where it can help) wider
    than `width`; `lead` (an object's key) starts the first line."""
    one_line = indent + lead + compact(value)
    if len(one_line) <= width or not isinstance(value, (dict, list)) or not value:
        return [one_line]
    inner = indent + "  "
    if isinstance(value, dict):
        items = [(compact(k) + ": ", v) for k, v in value.items()]
        opener, closer = "{", "}"
    else:
        items = [("", v) for v in value]
        opener, closer = "[", "]"
    lines = [indent + lead + opener]
    for n, (key, item) in enumerate(items):
        item_lines = pretty(item, width, inner, key)
        if n < len(items) - 1:
            item_lines[-1] += ","
        lines.extend(item_lines)
    lines.append(indent + closer)
    return lines


def text_lines(text, width, indent=BODY_INDENT):
    """A text body: its own lines, each wrapped to the width."""
    out = []
    for line in text.split("\n"):
        out.extend(textwrap.wrap(line, max(20, width - len(indent)), replace_whitespace=False,
                                 drop_whitespace=False, break_on_hyphens=False) or [""])
    while len(out) > 1 and out[-1] == "":
        out.pop()  # a file's final newline
    return [indent + line for line in out]


def message_lines(head, body, width):
    """`head` (e.g. "12:00:00 <- sequence_state") and the body after it on
    one line when it fits, else below it, indented."""
    if isinstance(body, str):
        if "\n" not in body and len(head) + 1 + len(body) <= width:
            return [head + " " + body]
        return [head] + text_lines(body, width)
    one_line = compact(body)
    if len(head) + 1 + len(one_line) <= width:
        return [head + " " + one_line]
    return [head] + pretty(body, width, BODY_INDENT)


def pin_changes(previous, current):
    """{pin: "switch OFF -> ON, state HIGH -> LOW"} for the pins whose
    fields differ between two gpio_state bodies (lists of pin objects)."""
    before = {row.get("pin"): row for row in previous if isinstance(row, dict)}
    changes = {}
    for row in current:
        if not isinstance(row, dict) or row.get("pin") not in before:
            continue
        old = before[row["pin"]]
        # switch first: it is what the front end shows (ON when the pin is LOW).
        fields = sorted(set(row) | set(old), key=lambda f: (f != "switch", f))
        diffs = ["%s %s -> %s" % (f, old.get(f), row.get(f)) for f in fields if old.get(f) != row.get(f)]
        if diffs:
            changes[row["pin"]] = ", ".join(diffs)
    return changes


def _pin_name(row):
    label = row.get("label")
    return "pin %s" % row.get("pin") + (" (%s)" % label if label and label != "_not_found_" else "")


def gpio_lines(head, body, previous, width):
    """gpio_state one pin a line, pin first; with a previous gpio_state, the
    changed pins are marked where they stand and named again at the end,
    next to the prompt (the top of a long reply may have scrolled away)."""
    if not isinstance(body, list) or not all(isinstance(row, dict) for row in body):
        return message_lines(head, body, width)
    changes = pin_changes(previous, body) if previous is not None else {}
    row_indent = BODY_INDENT + "  "
    changed_indent = " " * (len(row_indent) - len(CHANGED_MARK)) + CHANGED_MARK
    lines = ["%s (%d pins)" % (head, len(body)), BODY_INDENT + "["]
    for n, row in enumerate(body):
        pin_first = dict(sorted(row.items(), key=lambda item: item[0] != "pin"))  # stable: the rest keep order
        text = compact(pin_first) + ("," if n < len(body) - 1 else "")
        if row.get("pin") in changes:
            lines.append(changed_indent + text + "   <- " + changes[row["pin"]])
        else:
            lines.append(row_indent + text)
    lines.append(BODY_INDENT + "]")
    if previous is None:
        lines.append(BODY_INDENT + "(the next gpio_state points out the pins that changed)")
    elif changes:
        by_pin = {row.get("pin"): row for row in body}
        lines += textwrap.wrap("changed since the last gpio_state: " +
                               "; ".join("%s: %s" % (_pin_name(by_pin[p]), what) for p, what in changes.items()),
                               width, initial_indent=BODY_INDENT, subsequent_indent=BODY_INDENT + "  ")
    else:
        lines.append(BODY_INDENT + "no pin changed since the last gpio_state")
    return lines
