"""The console's terminal: a prompt with line editing, on the asyncio loop.

Messages arrive while the user types, so printing a message first erases
the prompt line, then draws the prompt again with what was typed so far.
For that to be exact, one thread owns the screen: the line editor here
reads keys on the loop (add_reader, the terminal in non-canonical mode with
echo off) instead of GNU readline on a thread of its own, which draws its
prompt when it likes and would race the loop's prints.

Keys: printable text (UTF-8), Backspace, Delete, Left/Right, Home/End
(also Ctrl-A/Ctrl-E), Up/Down through this session's lines, Ctrl-U and
Ctrl-W (erase to the start, erase a word), Tab (complete the first word),
Enter, Ctrl-D on an empty line (end of input). Ctrl-C stays a signal
(ISIG is kept), so it stops the demo as before. A line longer than the
terminal scrolls sideways.

Between Enter and line_done() the prompt is not shown, so a request's own
output comes before the next prompt. The terminal settings are saved at
start and put back at the end, whatever ends it.
"""
import asyncio
import os
import re
import shutil
import sys

ERASE_LINE = "\r\x1b[K"
# CSI (ESC [ params final) and SS3 (ESC O final) key sequences.
KEY_SEQUENCE = re.compile(rb"\x1b(\[[0-9;]*[A-Za-z~]|O[A-Za-z])")
ESCAPE_KEYS = {b"[D": "left", b"[C": "right", b"[A": "up", b"[B": "down", b"[H": "home", b"[F": "end",
               b"OH": "home", b"OF": "end", b"[1~": "home", b"[4~": "end", b"[7~": "home", b"[8~": "end",
               b"[3~": "delete", b"OD": "left", b"OC": "right", b"OA": "up", b"OB": "down"}
CONTROL_KEYS = {0x01: "home", 0x02: "left", 0x04: "eof", 0x05: "end", 0x06: "right", 0x08: "backspace",
                0x09: "tab", 0x0A: "enter", 0x0D: "enter", 0x0E: "down", 0x10: "up", 0x15: "kill",
                0x17: "kill_word", 0x7F: "backspace"}
HISTORY_LINES = 500  # the bound of Up/Down's list; the oldest goes first


class LineEditor:
    """The typed line and its cursor; keys in, nothing drawn (Terminal draws)."""

    def __init__(self, completions=()):
        self.text = ""
        self.cursor = 0
        self.history = []
        self._browsing = None  # index into history while Up/Down is used
        self._completions = sorted(completions)

    def insert(self, chars):
        self.text = self.text[:self.cursor] + chars + self.text[self.cursor:]
        self.cursor += len(chars)

    def key(self, name):
        """Apply an editing key; returns a list of completion candidates to
        show, or None."""
        t, c = self.text, self.cursor
        if name == "left":
            self.cursor = max(0, c - 1)
        elif name == "right":
            self.cursor = min(len(t), c + 1)
        elif name == "home":
            self.cursor = 0
        elif name == "end":
            self.cursor = len(t)
        elif name == "backspace" and c > 0:
            self.text, self.cursor = t[:c - 1] + t[c:], c - 1
        elif name == "delete":
            self.text = t[:c] + t[c + 1:]
        elif name == "kill":
            self.text, self.cursor = t[c:], 0
        elif name == "kill_word":
            start = len(t[:c].rstrip().rpartition(" ")[0] + " ") if " " in t[:c].rstrip() else 0
            self.text, self.cursor = t[:start] + t[c:], start
        elif name in ("up", "down"):
            self._browse(-1 if name == "up" else 1)
        elif name == "tab":
            return self._complete()
        return None

    def take(self):
        """The finished line (Enter): remembered for Up/Down, then cleared."""
        line = self.text
        if line.strip() and (not self.history or self.history[-1] != line):
            self.history = (self.history + [line])[-HISTORY_LINES:]
        self.text, self.cursor, self._browsing = "", 0, None
        return line

    def _browse(self, step):
        if not self.history:
            return
        index = len(self.history) if self._browsing is None else self._browsing
        index = min(max(0, index + step), len(self.history))
        self._browsing = index
        self.text = self.history[index] if index < len(self.history) else ""
        self.cursor = len(self.text)

    def _complete(self):
        word = self.text[:self.cursor]
        if " " in word:
            return None  # only the first word (a subject or a console command) completes
        matches = [c for c in self._completions if c.startswith(word)]
        if not matches:
            return None
        common = os.path.commonprefix(matches)
        ending = " " if len(matches) == 1 else ""
        self.text = common + ending + self.text[self.cursor:]
        self.cursor = len(common + ending)
        return matches if len(matches) > 1 and common == word else None


class Terminal:
    def __init__(self, prompt, interactive, completions=()):
        self.prompt = prompt
        self.interactive = interactive
        self.editing = sys.stdin.isatty() and sys.stdout.isatty()
        self.lines = asyncio.Queue()   # typed lines; None at the end of input
        self.editor = LineEditor(completions)
        self._prompting = False
        self._pending = b""            # bytes of a key sequence or character not complete yet
        self._saved_tty = None
        self._reading = False

    def width(self):
        return shutil.get_terminal_size((100, 24)).columns

    def start(self):
        if not self.interactive:
            return
        fd = sys.stdin.fileno()
        if self.editing:
            import termios
            self._saved_tty = termios.tcgetattr(fd)
            mode = termios.tcgetattr(fd)
            mode[3] &= ~(termios.ICANON | termios.ECHO | termios.IEXTEN)  # keys one by one, drawn here
            mode[6][termios.VMIN], mode[6][termios.VTIME] = 1, 0
            termios.tcsetattr(fd, termios.TCSADRAIN, mode)
        asyncio.get_running_loop().add_reader(fd, self._on_readable)
        self._reading = True
        self.line_done()

    def line_done(self):
        """The loop has handled a typed line: show the prompt again."""
        self._prompting = self.editing
        if self._prompting:
            self._write(self._prompt_line())

    def restore(self):
        if self._reading:
            asyncio.get_running_loop().remove_reader(sys.stdin.fileno())
            self._reading = False
        if self._saved_tty is not None:
            import termios
            if self._prompting:
                self._write(ERASE_LINE)
            termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, self._saved_tty)
            self._saved_tty = None

    def show(self, lines):
        """Print lines above the prompt, if one shows, and draw it again."""
        if not lines:
            return
        text = "\n".join(lines) + "\n"
        self._write(ERASE_LINE + text + self._prompt_line() if self._prompting else text)

    def _write(self, text):
        sys.stdout.write(text)
        sys.stdout.flush()

    def _prompt_line(self):
        """Erase the line, draw prompt and text, put the cursor in place;
        a line wider than the terminal shows a window around the cursor."""
        text, cursor = self.editor.text, self.editor.cursor
        room = self.width() - 1 - len(self.prompt)
        if len(text) <= room:
            shown, column = self.prompt + text, len(self.prompt) + cursor
        else:
            start = max(0, cursor - (room - 1))
            shown = self.prompt + "<" + text[start:start + room - 1]
            column = len(self.prompt) + 1 + cursor - start
        return ERASE_LINE + shown + "\r" + ("\x1b[%dC" % column if column else "")

    def _on_readable(self):
        try:
            data = os.read(sys.stdin.fileno(), 4096)
        except OSError:
            data = b""
        if not data:
            self._end_of_input()
            return
        if not self.editing:
            self._pending += data
            *complete, self._pending = self._pending.split(b"\n")
            for line in complete:
                self.lines.put_nowait(line.decode(errors="replace"))
            return
        self._pending += data
        self._pending = self._keys(self._pending)
        if self._prompting:
            self._write(self._prompt_line())

    def _end_of_input(self):
        asyncio.get_running_loop().remove_reader(sys.stdin.fileno())
        self._reading = False
        self.lines.put_nowait(None)

    def _keys(self, data):
        """Apply the keys in `data`; returns what is left of an incomplete one."""
        while data:
            first = data[0]
            if first == 0x1B:
                m = KEY_SEQUENCE.match(data)
                if m is None:
                    if len(data) < 8 and re.fullmatch(rb"\x1b(\[[0-9;]*|O)?", data):
                        return data  # the rest of the sequence is on its way
                    data = data[1:]  # a lone Escape
                    continue
                self._key(ESCAPE_KEYS.get(m.group(1)))
                data = data[m.end():]
            elif first < 0x20 or first == 0x7F:
                self._key(CONTROL_KEYS.get(first))
                data = data[1:]
            else:
                size = 1 if first < 0x80 else 2 if first < 0xE0 else 3 if first < 0xF0 else 4
                if len(data) < size:
                    return data
                self.editor.insert(data[:size].decode(errors="replace"))
                data = data[size:]
        return b""

    def _key(self, name):
        if name == "enter":
            # The line stays on the screen as entered, also when typed ahead
            # (no prompt showing: the previous line is still being handled).
            self.editor.cursor = len(self.editor.text)
            self._write((self._prompt_line() if self._prompting else self.prompt + self.editor.text) + "\n")
            self._prompting = False
            self.lines.put_nowait(self.editor.take())
        elif name == "eof" and not self.editor.text:
            self._prompting = False
            self._write("\n")
            self._end_of_input()
        elif name is not None:
            candidates = self.editor.key(name)
            if candidates:
                self.show(["  ".join(candidates)])
