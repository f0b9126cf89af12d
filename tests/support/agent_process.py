"""Start the real dunebugger-remote binary for a test and watch it.

Used by the integration tests (run with Debian's /usr/bin/python3)."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

SANITIZER_OPTIONS = ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS")


def clean_env(extra=None):
    """The environment for a process under test: PATH and the sanitizers'
    options from ours (no proxy variables, no credentials), then `extra`."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    for key in SANITIZER_OPTIONS:
        if key in os.environ:
            env[key] = os.environ[key]
    env.update(extra or {})
    return env


class NotifySocket:
    """A real sd_notify receiver: a datagram socket the agent writes to."""

    def __init__(self, directory):
        self.path = os.path.join(directory, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.1)
        self.messages = []
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            self.messages.append((time.monotonic(), data.decode(errors="replace")))

    def wait_for(self, text, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for _, m in list(self.messages):
                if text in m.split("\n"):
                    return True
            time.sleep(0.02)
        return False

    def close(self):
        self._stop = True
        self._thread.join()
        self.sock.close()


class AgentProcess:
    """Runs the agent with a config file; collects stderr lines as they come.
    `prefix` goes before the binary, e.g. ["ip", "netns", "exec", NS] (it
    execs the agent, so proc.pid stays the agent's pid)."""

    def __init__(self, binary, config_text, env=None, args=None, notify=False, stderr_file=False, prefix=()):
        self.dir = tempfile.mkdtemp(prefix="dbr-agent-")
        self.config_path = os.path.join(self.dir, "dunebugger.conf")
        with open(self.config_path, "w") as f:
            f.write(config_text)
        self.env = clean_env(env)
        self.notify = NotifySocket(self.dir) if notify else None
        if self.notify:
            self.env["NOTIFY_SOCKET"] = self.notify.path
        self.lines = []
        cmd = list(prefix) + [binary, "--config", self.config_path] + (args or [])
        if stderr_file:
            # A regular file as stderr, so JOURNAL_STREAM can name it.
            self.stderr_path = os.path.join(self.dir, "stderr.log")
            self._stderr = open(self.stderr_path, "w+")
            st = os.fstat(self._stderr.fileno())
            if stderr_file == "journal":
                self.env["JOURNAL_STREAM"] = "%d:%d" % (st.st_dev, st.st_ino)
            self.proc = subprocess.Popen(cmd, env=self.env, stdout=subprocess.DEVNULL, stderr=self._stderr)
            self._reader = None
        else:
            self.stderr_path = None
            self.proc = subprocess.Popen(cmd, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                         text=True, errors="replace")
            self._reader = threading.Thread(target=self._read, daemon=True)
            self._reader.start()

    def _read(self):
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def output(self):
        if self.stderr_path:
            with open(self.stderr_path) as f:
                return f.read().splitlines()
        return list(self.lines)

    def wait_for_line(self, fragment, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.output():
                if fragment in line:
                    return line
            if self.proc.poll() is not None and self._reader is None:
                break
            time.sleep(0.02)
        return None

    def signal(self, signo):
        self.proc.send_signal(signo)

    def stop(self, timeout=5):
        """SIGTERM; returns (exit code, seconds it took)."""
        start = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
            raise AssertionError("agent did not exit within %s s of SIGTERM" % timeout)
        finally:
            if self._reader:
                self._reader.join(timeout=2)
        return code, time.monotonic() - start

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self._reader:
            self._reader.join(timeout=2)
        if self.proc.stderr:
            self.proc.stderr.close()
        if self.stderr_path:
            self._stderr.close()
        if self.notify:
            self.notify.close()
        # The directory holds the config, with the access key.
        shutil.rmtree(self.dir, ignore_errors=True)
