"""The demo's console front end: a DuneBugger web front end
(wps/frontend.py's FrontendSimulator) that a person drives from a terminal.

    /usr/bin/python3 tests/support/console/console.py --control http://127.0.0.1:8081 \\
        --group demo-crib [--request core.refresh_gpios]... [--wait-components 35] \\
        [--transcript FILE] [--duration S] [--interactive]

It shows the conversation as it happens, each reply whole (catalog.py says
what may be sent, render.py how a reply looks). Heartbeats are hidden until
`:heartbeats on`. Its first screen waits, up to --wait-components seconds,
until the agent has heard from the core and the scheduler (system_info
shows them "running"; before their first heartbeat on NATS they read
"not_responding"), then shows system_info and sends the --request items.
--transcript keeps every message, hidden or not, one line each.
"""
import argparse
import asyncio
import os
import sys
import textwrap
import time

if __package__ in (None, ""):  # run as a script: make "wps" and "console" importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from console import catalog, render  # noqa: E402
from console.terminal import Terminal  # noqa: E402
from wps.client import AckError, ConnectionLost  # noqa: E402
from wps.frontend import FrontendSimulator, add_connection_arguments, url_source  # noqa: E402

HEARTBEAT_SUBJECTS = ("heartbeat", "controller.heartbeat")
POLL_SECONDS = 2.0  # between the greeting's system_info requests
QUIET_SECONDS = 0.5  # the greeting's replies are in when none came for this long
QUIET_WAIT_SECONDS = 3.0
COMPONENT_ROLES = {"dunebugger": "dunebugger (the core)"}


def stamp():
    return time.strftime("%H:%M:%S")


class ConsoleView:
    """Told every event by the FrontendSimulator; shows it on the terminal
    (unless hidden) and writes it to the transcript (always)."""

    def __init__(self, terminal, transcript=None):
        self.terminal = terminal
        self.transcript = transcript
        self.show_heartbeats = False
        self.holding_system_info = False  # the greeting shows system_info itself
        self.last_gpio_state = None
        self.last_received = time.monotonic()

    def say(self, text):
        """A line from the console itself."""
        self._record("-- " + text)
        head = stamp() + " "
        self.terminal.show(textwrap.wrap(text, self.terminal.width(), initial_indent=head,
                                         subsequent_indent=" " * len(head), break_on_hyphens=False))

    def say_lines(self, lines):
        self.terminal.show(lines)

    def _record(self, line):
        if self.transcript is not None:
            self.transcript.write("%s %s\n" % (stamp(), line))
            self.transcript.flush()

    def hub_connected(self, connection_id):
        self.say("hub connected, connectionId %s" % connection_id)

    def hub_disconnected(self, reason):
        self.say("hub disconnected (%s)" % reason)

    def device_online(self, online):
        self.say("device %s" % ("ONLINE" if online else "OFFLINE: no heartbeat for 65 s"))

    def sent(self, payload):
        subject, body = payload["subject"], payload["body"]
        self._record("-> %s %s" % (subject, render.compact(body)))
        if self._hidden(subject):
            return
        self.terminal.show(render.message_lines("%s -> %s" % (stamp(), subject), body, self.terminal.width()))

    def not_sent(self, payload, error):
        self.say("!! %s not sent: %s" % (payload["subject"], error))

    def received(self, data):
        subject, body = data.get("subject"), data.get("body")
        self.last_received = time.monotonic()
        self._record("<- %s %s" % (subject, render.compact(body)))
        if self._hidden(subject):
            return
        self.show_received(subject, body)

    def show_received(self, subject, body):
        head, width = "%s <- %s" % (stamp(), subject), self.terminal.width()
        if subject == "gpio_state":
            lines = render.gpio_lines(head, body, self.last_gpio_state, width)
            if isinstance(body, list):
                self.last_gpio_state = body
        else:
            lines = render.message_lines(head, body, width)
        self.terminal.show(lines)

    def _hidden(self, subject):
        if subject in HEARTBEAT_SUBJECTS:
            return not self.show_heartbeats
        return self.holding_system_info and subject in ("system_info", "controller.system_info")


def components_not_running(system_info_body):
    """Names of the components system_info does not show "running"."""
    info = system_info_body.get("system_info") if isinstance(system_info_body, dict) else None
    components = info.get("dunebugger_components") if isinstance(info, dict) else None
    if not isinstance(components, list):
        return []  # e.g. "error_collecting_info": nothing to wait for
    return [c.get("name") for c in components if isinstance(c, dict) and c.get("state") != "running"]


async def fresh_reply(fe, request_subject, reply_subject, timeout):
    """Send a request and return the body of the first reply after it."""
    old = {id(d) for d in fe.received if d.get("subject") == reply_subject}
    await fe.request(request_subject, catalog.NULL)
    reply = await fe.wait_for(reply_subject, timeout, predicate=lambda d: id(d) not in old)
    return reply.get("body")


async def greet(fe, view, wait_components, requests, interactive):
    """The first screen: system_info once the core and the scheduler run
    (or the wait is over), then the --request items and their replies."""
    loop = asyncio.get_running_loop()
    await fe.wait_online(True, 30)
    deadline = loop.time() + wait_components
    view.holding_system_info = True
    try:
        body = await fresh_reply(fe, "controller.system_info", "system_info", 10)
        waiting = components_not_running(body)
        if waiting:
            names = " and ".join(COMPONENT_ROLES.get(name, name) for name in waiting)
            view.say("waiting up to %g s for the agent to hear from %s: until their first heartbeat on NATS, "
                     "system_info shows them not_responding" % (wait_components, names))
            started = loop.time()
            while waiting and loop.time() + POLL_SECONDS < deadline:
                await asyncio.sleep(POLL_SECONDS)
                body = await fresh_reply(fe, "controller.system_info", "system_info", 10)
                waiting = components_not_running(body)
            view.say("%s after %.0f s" % ("still not_responding (sim.log in the demo's folder may say why): " +
                                          ", ".join(waiting) if waiting else "all components running",
                                          loop.time() - started))
    finally:
        view.holding_system_info = False
    view.show_received("system_info", body)
    for item in requests:
        subject, _, request_body = item.partition("=")
        await fe.request(subject, request_body or catalog.NULL)
    if interactive:
        # The hint goes below the replies, next to the prompt.
        quiet_by = loop.time() + QUIET_WAIT_SECONDS
        await asyncio.sleep(QUIET_SECONDS)
        while loop.time() < quiet_by and time.monotonic() - view.last_received < QUIET_SECONDS:
            await asyncio.sleep(0.1)
        view.say("type help for the requests you can send; Ctrl-C stops the demo")


async def safe_greet(fe, view, wait_components, requests, interactive):
    try:
        await greet(fe, view, wait_components, requests, interactive)
    except asyncio.TimeoutError as e:
        view.say("the first screen is incomplete: %s (the agent's log says why)" % e)
    except (AckError, ConnectionLost):
        pass  # already shown as "not sent"


async def handle_line(fe, view, line):
    """One typed line: a console command, or a request checked before it is
    sent. Returns False to leave the console."""
    text = line.strip()
    if not text:
        return True
    if text in ("help", "?", ":help"):
        view.say_lines(catalog.help_lines(view.terminal.width()))
        return True
    if text.startswith(":"):
        return await console_command(fe, view, text)
    subject, body, problem = catalog.parse(text)
    if problem:
        view.say(problem)
        return True
    await send(fe, subject, body)
    return True


async def console_command(fe, view, text):
    command, _, rest = text.partition(" ")
    rest = rest.strip()
    if command == ":quit":
        return False
    if command == ":heartbeats" and rest in ("on", "off"):
        view.show_heartbeats = rest == "on"
        view.say("heartbeats %s" % ("shown" if view.show_heartbeats else "hidden"))
    elif command == ":send" and rest:
        subject, _, body = rest.partition(" ")
        await send(fe, subject, body or catalog.NULL)
    else:
        view.say("unknown console command '%s'; they are :heartbeats on|off, :send <subject> [body], :quit "
                 "(type help)" % text)
    return True


async def send(fe, subject, body):
    try:
        await fe.request(subject, body)
    except (AckError, ConnectionLost, asyncio.TimeoutError):
        pass  # the view has said it was not sent


async def run(a):
    terminal = Terminal("%s> " % a.group, a.interactive,
                        [r.subject for r in catalog.REQUESTS] + ["help", ":heartbeats", ":send", ":quit"])
    transcript = open(a.transcript, "a", encoding="utf-8") if a.transcript else None
    view = ConsoleView(terminal, transcript)
    fe = FrontendSimulator(url_source(a), a.group, a.heartbeat_timeout, view=view)
    loop = asyncio.get_running_loop()
    tasks = []
    try:
        await fe.start()
        terminal.start()
        tasks.append(loop.create_task(safe_greet(fe, view, a.wait_components, a.request, a.interactive)))
        stopper = loop.create_task(fe.stopped.wait())
        tasks.append(stopper)
        deadline = loop.time() + a.duration if a.duration else None
        while not fe.stopped.is_set():
            timeout = None if deadline is None else max(0.0, deadline - loop.time())
            getter = loop.create_task(terminal.lines.get())
            done, _ = await asyncio.wait({getter, stopper}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:
                getter.cancel()
                break  # the hub is gone for good, or the duration is over
            line = getter.result()
            if line is None:  # end of input (Ctrl-D)
                if deadline is None:
                    break
                continue
            keep_going = await handle_line(fe, view, line)
            terminal.line_done()
            if not keep_going:
                break
    finally:
        for task in tasks:
            task.cancel()
        await fe.stop()
        terminal.restore()
        if transcript is not None:
            transcript.close()
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(description="The demo's console front end: type requests, see replies whole.")
    add_connection_arguments(p)
    p.add_argument("--request", action="append", default=[], metavar="SUBJECT[=BODY]",
                   help="send after the first system_info (repeatable), e.g. core.refresh_gpios")
    p.add_argument("--wait-components", type=float, default=35, metavar="S",
                   help="wait up to S seconds for the components to run before showing system_info")
    p.add_argument("--transcript", metavar="FILE", help="append every message, hidden or not, to FILE")
    p.add_argument("--duration", type=float, help="exit after this many seconds")
    p.add_argument("--interactive", action="store_true", default=None,
                   help="read lines from stdin (default: when stdin is a terminal)")
    a = p.parse_args(argv)
    if a.interactive is None:
        a.interactive = sys.stdin.isatty()
    try:
        return asyncio.run(run(a))
    except KeyboardInterrupt:
        # Ctrl-C is how the demo stops; run() has closed the connection and
        # put the terminal back on its way out.
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
