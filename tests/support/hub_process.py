"""The local Web PubSub hub as a separate process, for tests that run the
real agent: start on free ports, read the listening line, drive it through
its control API (wps.control_client.ControlClient), stop it."""
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wps.control_client import ControlClient  # noqa: E402

SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wps", "server.py")
ACCESS_KEY = "wps-local-test-access-key"  # the hub's development key, not a secret


class HubProcess:
    def __init__(self, *args, timeout=10.0):
        self.log = tempfile.NamedTemporaryFile(prefix="dbr-hub-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(["/usr/bin/python3", SERVER, "--port", "0", "--control-port", "0", *args],
                                     stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self._read_line(timeout)
        info = json.loads(line)
        self.port = info["port"]
        self.control_port = info["controlPort"]
        self.control = ControlClient("http://127.0.0.1:%d" % self.control_port)

    def _read_line(self, timeout):
        deadline = time.monotonic() + timeout
        import select
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.1)
            if ready:
                line = self.proc.stdout.readline()
                if line:
                    return line
            if self.proc.poll() is not None:
                break
        self.stop()
        raise RuntimeError("the hub did not start: " + self.log_text()[-1000:])

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.port

    def connection_string(self):
        return "Endpoint=%s;AccessKey=%s;Version=1.0" % (self.endpoint, ACCESS_KEY)

    def log_text(self):
        with open(self.log.name, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.log.close()
        os.unlink(self.log.name)
