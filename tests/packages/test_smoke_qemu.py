"""End-to-end smoke of a package of another architecture, under qemu-user.

The .deb (e.g. trixie arm64) is installed with apt in a fresh minbase
chroot of its suite, with its architecture added (the libraries are that
suite's arm64 packages, as on a board). Its binary then runs under
qemu-user in that chroot, against the project's Web PubSub hub and a real
nats-server on this machine's loopback (the chroot shares the network):
it must connect, join its group, and relay one message each way
(front end -> NATS, NATS -> front end), then exit 0 on SIGTERM with no
secret in its output (the harness's checks, tests/support/e2e.py).

    /usr/bin/python3 tests/packages/test_smoke_qemu.py --deb PATH.deb

Run as root. Network: the suite's archive (deb.debian.org)."""
import argparse
import os
import signal
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(TOP, "tests", "support"))

from e2e import E2ETestCase, envelope  # noqa: E402
from test_packages import APT, QEMU, Chroot, find_debs  # noqa: E402

DEB = None  # (suite, arch, path), from --deb

# Mounts for the agent's process only (its own mount namespace): the chroot
# as "/", /proc and /sys for its system facts, the machine's /tmp where the
# harness writes the config and the runtime directory. `exec` keeps the pid:
# the harness signals the agent itself.
ENTER = ('r="$1"; shift; mount --bind "$r" "$r"; mount -t proc proc "$r/proc"; '
         'mount --rbind /sys "$r/sys"; mount --bind /tmp "$r/tmp"; exec chroot "$r" "$@"')


class SmokeUnderQemu(E2ETestCase):
    @classmethod
    def setUpClass(cls):
        suite, arch, deb = DEB
        cls.chroot = Chroot(suite, arch)
        try:
            cls.chroot.put(deb, "/pkgs/new.deb")
            cls.chroot.sh("%s update >/dev/null && %s install /pkgs/new.deb >/dev/null" % (APT, APT))
        except Exception:
            cls.chroot.close()
            raise
        cls.agent_prefix = ("unshare", "--mount", "--propagation", "private", "sh", "-c", ENTER, "dbr-smoke",
                            cls.chroot.root, QEMU[arch])
        cls.agent_binary = "/usr/bin/dunebugger-remote"

    @classmethod
    def tearDownClass(cls):
        cls.chroot.close()

    def test_connects_joins_and_relays_one_message_each_way(self):
        suite, arch, _ = DEB
        self.start_hub()
        self.start_nats()
        # The package's binary, emulated: what runs is qemu, with the arm64
        # binary as its program.
        self.start_agent(componentHeartbeatSecs=3600)
        exe = os.readlink("/proc/%d/exe" % self.agent.proc.pid)
        self.assertEqual(os.path.basename(exe), QEMU[arch])
        with open("/proc/%d/cmdline" % self.agent.proc.pid, "rb") as f:
            self.assertIn(b"/usr/bin/dunebugger-remote", f.read())
        self.assertIsNotNone(self.agent.wait_for_line("joined group", 1))

        core = self.peer("core", subscribe=["dunebugger.core.>"])
        fe = self.frontend()
        self.aio.run(fe.wait_online(True, 10), 15)
        # Front end -> group -> agent -> NATS.
        self.request(fe, "core.dunebugger_set", "sw 17 on")
        _, subject, payload = core.next(timeout=10)
        self.assertEqual(subject, "dunebugger.core.dunebugger_set")
        self.assertEqual(payload, {"subject": "dunebugger_set", "body": "sw 17 on", "connectionId": fe.connection_id})
        # NATS -> agent -> group -> front end.
        body = [{"pin": 17, "label": "Star", "mode": "OUTPUT", "state": "HIGH", "switch": "ON"}]
        core.pub("dunebugger.remote.gpio_state", {"body": body, "subject": "gpio_state", "source": "core"})
        self.assertEqual(self.wait_received(fe, "gpio_state", timeout=10), envelope("gpio_state", body))
        print("%s %s under %s: joined and relayed both ways" % (suite, arch, QEMU[arch]))


def main():
    global DEB
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so tearDownClass deletes the chroot
    parser = argparse.ArgumentParser()
    parser.add_argument("--deb", required=True)
    args, rest = parser.parse_known_args()
    debs = find_debs(os.path.dirname(os.path.abspath(args.deb)), [])
    matching = [d for d in debs if d[2] == os.path.abspath(args.deb)]
    if not matching or matching[0][1] not in QEMU:
        sys.exit("--deb must be a dunebugger-remote package of arm64 or armhf made by scripts/package: %s" % args.deb)
    DEB = matching[0]
    unittest.main(module="__main__", argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
