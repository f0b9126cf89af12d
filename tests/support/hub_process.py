"""The local Web PubSub hub as a separate process, for tests that run the
real agent: start on free ports, read the listening line, drive it through
its control API (wps.control_client.ControlClient), stop it."""
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wps.control_client import ControlClient  # noqa: E402

SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wps", "server.py")
ACCESS_KEY = "wps-local-test-access-key"  # the hub's development key, not a secret


class HubProcess:
    """`server.py --port 0 --control-port 0 [args]`; its log goes to
    `directory`/hub.log (a temp file when no directory is given)."""

    def __init__(self, *args, directory=None, timeout=10.0):
        self._own_log = directory is None
        self.log_path = (tempfile.mkstemp(prefix="dbr-hub-", suffix=".log")[1] if directory is None
                         else os.path.join(directory, "hub.log"))
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(["/usr/bin/python3", SERVER, "--port", "0", "--control-port", "0",
                                      "--access-key", ACCESS_KEY, *args],
                                     stdout=subprocess.PIPE, stderr=self._log, text=True)
        lines = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in self.proc.stdout], daemon=True).start()
        try:
            info = json.loads(lines.get(timeout=timeout))
        except queue.Empty:
            self.stop()
            raise RuntimeError("the hub did not start within %s s: %s" % (timeout, self.log_text()[-1000:]))
        if info.get("event") != "listening":
            self.stop()
            raise RuntimeError("unexpected first hub line: %r" % info)
        self.port = info["port"]
        self.control_port = info["controlPort"]
        host = info.get("host") or "127.0.0.1"
        self.endpoint = "http://%s:%d" % ("127.0.0.1" if host in ("0.0.0.0", "::") else host, self.port)
        self.control = ControlClient("http://127.0.0.1:%d" % self.control_port)

    def connection_string(self):
        return "Endpoint=%s;AccessKey=%s;Version=1.0" % (self.endpoint, ACCESS_KEY)

    def log_text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self._log.close()
        if self._own_log and os.path.exists(self.log_path):
            os.unlink(self.log_path)
