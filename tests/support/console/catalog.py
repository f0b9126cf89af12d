"""What the demo console may send: the front end's requests
(dunebugger-protocol.md §1.2, plus controller.ntp_status from §6), each with
its body, what follows it, and a check of a typed body. A typed line that
fails a check is answered here and never sent: the real front end only ever
sends these, so anything else would show the agent something no user can.
"""
import collections
import difflib
import textwrap

# §1.2: "Requests that take no argument carry the literal string body "null"".
NULL = "null"
PINS = range(28)  # §1.3 gpio_state: pins 0-27

Request = collections.namedtuple("Request", "subject body_hint default_body what check")


def _no_argument(body):
    return None if body == NULL else "takes no body (it sends \"null\")"


def _one_of(*allowed):
    def check(body):
        if body in allowed:
            return None
        return "takes %s, not '%s'" % (" or ".join("'%s'" % a for a in allowed), body)
    return check


def _schedule_text(body):
    return None if body.strip() else "needs the whole schedule text"


# core.dunebugger_set: the core's command verbs the front end sends (§1.2).
CORE_COMMANDS = [
    ("c", "start the cycle (the show)"),
    ("cs", "stop the cycle"),
    ("esb", "enable the start button"),
    ("dsb", "disable the start button"),
    ("er", "enable random actions"),
    ("dr", "disable random actions"),
    ("so", "set off mode"),
    ("sb", "set standby mode"),
    ("sw <pin> on|off", "switch a GPIO (pin 0-27): on drives it LOW"),
    ("us main.seq <text>", "upload the main sequence file (type \\n for a new line)"),
]


def _core_command(body):
    words = body.split()
    if not words:
        return "needs a command: " + ", ".join(c for c, _ in CORE_COMMANDS)
    verb = words[0]
    if verb == "sw":
        if len(words) != 3 or not words[1].isdigit() or int(words[1]) not in PINS or words[2] not in ("on", "off"):
            return "'sw' needs a pin 0-27 and on or off, e.g. 'sw 17 on'"
        return None
    if verb == "us":
        if len(words) < 3 or words[1] != "main.seq":
            return "'us' needs 'main.seq' and the file text, e.g. 'us main.seq 0 switch on Dawn'"
        return None
    if verb in {c for c, _ in CORE_COMMANDS} and len(words) == 1:
        return None
    return "unknown command '%s'; the commands are %s" % (body, ", ".join(c for c, _ in CORE_COMMANDS))


REQUESTS = [
    Request("controller.heartbeat", '"I am here"', "I am here",
            'the agent answers heartbeat "I am alive" and keeps up its heartbeat loop', _one_of("I am here")),
    Request("controller.system_info", 'none ("null") or refresh', NULL,
            "the agent answers system_info: device, components, hardware, OS, network", _one_of(NULL, "refresh")),
    Request("controller.ntp_status", 'none ("null")', NULL,
            'the agent answers ntp_status {"ntp_available": true|false} (§6; an agent before it ignores the '
            'request)', _no_argument),
    Request("core.dunebugger_set", "<command> (below)", None,
            "the core acts; it answers log only on error, and the change arrives on its own (e.g. gpio_state)",
            _core_command),
    Request("core.refresh_sequence", 'none ("null")', NULL,
            "the core answers sequence, sequence_state, playing_time", _no_argument),
    Request("core.refresh_gpios", 'none ("null")', NULL, "the core answers gpio_state, sequence_state",
            _no_argument),
    Request("core.get_sequence", 'main', "main", "the core answers sequence (always the main one)",
            _one_of("main")),
    Request("scheduler.refresh", 'none ("null")', NULL,
            "the scheduler answers current_schedule, next_actions, last_executed_action", _no_argument),
    Request("scheduler.get_schedule", 'none ("null")', NULL, "the scheduler answers current_schedule",
            _no_argument),
    Request("scheduler.get_next_actions", 'none ("null")', NULL, "the scheduler answers next_actions",
            _no_argument),
    Request("scheduler.get_last_executed_action", 'none ("null")', NULL,
            "the scheduler answers last_executed_action", _no_argument),
    Request("scheduler.update_schedule", "<schedule text>", None,
            "the scheduler answers log only on error, then pushes current_schedule and next_actions (type \\n "
            "for a new line)",
            _schedule_text),
]
BY_SUBJECT = {r.subject: r for r in REQUESTS}

# The console's own commands: never sent.
LOCAL_COMMANDS = [
    ("help", "this list (also '?')"),
    (":heartbeats on|off", "show or hide heartbeats both ways (hidden at start; the device ONLINE/OFFLINE "
                           "line always shows)"),
    (":send <subject> [body]", "send a line as typed, unchecked (to see what the agent does with it)"),
    (":quit", "leave the console (like Ctrl-D); Ctrl-C stops the whole demo"),
]


def parse(line):
    """A typed request line -> (subject, body, None) to send, or
    (None, None, message) explaining what is wrong, with a hint."""
    subject, _, rest = line.strip().partition(" ")
    rest = rest.strip()
    request = BY_SUBJECT.get(subject)
    if request is None:
        return None, None, _unknown(subject)
    if not rest:
        if request.default_body is None:
            return None, None, "not sent: %s needs a body: %s. Type help for examples." % (subject, request.body_hint)
        rest = request.default_body
    if request.subject in ("scheduler.update_schedule", "core.dunebugger_set"):
        # A schedule or sequence file is several lines; a typed line is one.
        rest = rest.replace("\\n", "\n")
    problem = request.check(rest)
    if problem:
        return None, None, "not sent: %s %s. Type help for the requests and their bodies." % (subject, problem)
    return subject, rest, None


def _unknown(subject):
    if "." not in subject:
        # A name without its recipient: `refresh_gpios` for `core.refresh_gpios`.
        named = [r.subject for r in REQUESTS if r.subject.split(".", 1)[1] == subject]
        hint = ("did you mean %s?" % " or ".join(named)) if named else \
            "a request is <recipient>.<name> [body], recipient controller, core or scheduler."
        return "not sent: '%s' is not a request; %s Type help for the list." % (subject, hint)
    close = difflib.get_close_matches(subject, BY_SUBJECT, n=2, cutoff=0.6)
    hint = ("did you mean %s?" % " or ".join(close)) if close else \
        "the front end sends only the requests in help (':send' sends anything, unchecked)."
    return "not sent: '%s' is not a front-end request; %s Type help for the list." % (subject, hint)


def help_lines(width):
    """The help screen: each request with its body and what follows it."""
    subject_width = max(len(r.subject) for r in REQUESTS)
    body_width = max(len(r.body_hint) for r in REQUESTS)
    lines = ["Requests: '<subject> [body]'; without a body the one shown first is sent (dunebugger-protocol.md "
             "§1.2, §6):"]
    lines += _rows([(r.subject, r.body_hint, r.what) for r in REQUESTS], (subject_width, body_width), width)
    lines.append("Core commands, the body of core.dunebugger_set (the demo's simulated core knows c, cs, er, dr "
                 "and sw; the others get a log error):")
    lines += _rows([(c, w) for c, w in CORE_COMMANDS], (subject_width,), width)
    lines.append("Console commands (not sent):")
    lines += _rows(LOCAL_COMMANDS, (subject_width,), width)
    lines.append("Example: core.dunebugger_set sw 17 on   (the core then pushes gpio_state, with pin 17 pointed "
                 "out)")
    return lines


def _rows(rows, column_widths, width):
    """Rows of columns; the last column wrapped to the width, under itself
    when there is room, else on lines of its own."""
    out = []
    for row in rows:
        head = "  " + "  ".join(cell.ljust(w) for cell, w in zip(row, column_widths)) + "  "
        if width - len(head) >= 40:
            out += textwrap.wrap(row[-1], width, initial_indent=head, subsequent_indent=" " * len(head))
        else:
            out.append(head.rstrip())
            out += textwrap.wrap(row[-1], width, initial_indent="      ", subsequent_indent="      ")
    return out
