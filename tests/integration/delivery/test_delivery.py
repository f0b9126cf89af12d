"""Device delivery: the systemd unit and scripts/deploy.

The unit's checks run on this machine's build of the agent (the release
tree in the test command; the sanitizer tree skips them: see scripts/test).
The packages themselves are checked by tests/packages/, scripts/migrate-docker
by test_migrate_docker.py."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

from stand_in_deb import build_deb

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
import test_main  # noqa: E402

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
UNIT = os.path.join(TOP, "systemd", "dunebugger-remote.service")
AGENT = None
BUILD_DIR = None


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def write_exec(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o755)


# Stand-in for ssh and scp: records argv; ssh runs deploy's question to the
# board (the last argument, when it reads /etc/os-release) against a scratch
# os-release, with stand-in dpkg and uname first on its PATH.
FAKE_SSH = """#!/usr/bin/python3
import json, os, subprocess, sys
with open(os.environ["DBR_FAKE_LOG"], "a") as log:
    log.write(json.dumps([os.path.basename(sys.argv[0])] + sys.argv[1:]) + "\\n")
if os.path.basename(sys.argv[0]) == "ssh" and "/etc/os-release" in sys.argv[-1]:
    command = sys.argv[-1].replace("/etc/os-release", "%(os_release)s")
    env = dict(os.environ, PATH="%(board)s:" + os.environ["PATH"])
    sys.exit(subprocess.run(["sh", "-c", command], env=env).returncode)
"""


class SystemdUnit(unittest.TestCase):
    def unit_text(self):
        with open(UNIT) as f:
            return f.read()

    def test_directives_the_service_needs(self):
        text = self.unit_text()
        for line in ["Type=notify", "Restart=on-failure", "EnvironmentFile=-/etc/dunebugger/remote.env",
                     "DynamicUser=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
                     "NoNewPrivileges=yes", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK",
                     "SystemCallFilter=@system-service", "RuntimeDirectory=dunebugger-remote",
                     # The bounds docs/performance.md measures the agent under.
                     "MemoryMax=64M", "TasksMax=32", "Environment=GNUTLS_NO_IMPLICIT_INIT=1"]:
            self.assertRegex(text, r"(?m)^" + re.escape(line) + r"$")
        self.assertRegex(text, r"(?m)^CapabilityBoundingSet=$")
        self.assertRegex(text, r"(?m)^WatchdogSec=\d+")
        self.assertRegex(text, r"(?m)^MemoryMax=\d+[KMG]$")
        self.assertRegex(text, r"(?m)^StartLimitIntervalSec=\d+")
        self.assertRegex(text, r"(?m)^StartLimitBurst=\d+")

    def test_systemd_analyze_verify_passes(self):
        # verify needs ExecStart to exist: point it at this build's binary.
        d = tempfile.mkdtemp(prefix="dbr-unit-")
        try:
            unit = os.path.join(d, "dunebugger-remote.service")
            with open(unit, "w") as f:
                f.write(self.unit_text().replace("/usr/bin/dunebugger-remote", AGENT))
            r = run(["systemd-analyze", "verify", unit])
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            ours = [l for l in (r.stdout + r.stderr).splitlines() if "dunebugger-remote" in l]
            self.assertEqual(ours, [], "verify complained about the unit")
        finally:
            shutil.rmtree(d)

    def test_security_exposure_at_most_2(self):
        r = run(["systemd-analyze", "security", "--offline=true", "--no-pager", UNIT])
        self.assertEqual(r.returncode, 0, r.stderr)
        m = re.search(r"Overall exposure level for dunebugger-remote\.service: (\d+\.\d+)", r.stdout)
        self.assertIsNotNone(m, r.stdout[-2000:])
        exposure = float(m.group(1))
        print("systemd-analyze security exposure: %.1f" % exposure)
        self.assertLessEqual(exposure, 2.0)


class Deploy(unittest.TestCase):
    """scripts/deploy against stand-ins for ssh and scp that record their calls. The
    stand-in ssh runs deploy's question to the board (its os-release and dpkg
    architecture) with a scratch os-release, dpkg and uname; anything else it only
    records."""

    @classmethod
    def setUpClass(cls):
        cls.debs = tempfile.mkdtemp(prefix="dbr-debs-")
        with open(os.path.join(TOP, "debian", "changelog")) as f:
            cls.version = re.match(r"\S+ \(([^)]+)\)", f.readline()).group(1)
        cls.deb = {}
        for suite, suffix in (("bookworm", "~deb12u1"), ("trixie", "~deb13u1")):
            for arch in ("arm64", "armhf"):
                cls.deb[suite, arch] = build_deb(cls.debs, cls.version + suffix, arch)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.debs)

    def setUp(self):
        self.fake = tempfile.mkdtemp(prefix="dbr-fakebin-")
        self.log = os.path.join(self.fake, "calls.jsonl")
        board = os.path.join(self.fake, "board")
        os.makedirs(board)
        self.os_release = os.path.join(self.fake, "os-release")
        self.board("trixie", "arm64", "aarch64")
        for tool in ("ssh", "scp"):
            write_exec(os.path.join(self.fake, tool), FAKE_SSH % {"board": board, "os_release": self.os_release})
        write_exec(os.path.join(board, "dpkg"), '#!/bin/sh\n[ "$1" = --print-architecture ] && echo "$DBR_BOARD_ARCH"\n')
        write_exec(os.path.join(board, "uname"), '#!/bin/sh\necho "$DBR_BOARD_MACHINE"\n')

    def tearDown(self):
        shutil.rmtree(self.fake)

    def board(self, codename, arch, machine):
        number = {"bookworm": "12", "trixie": "13", "bullseye": "11"}[codename]
        with open(self.os_release, "w") as f:
            f.write('PRETTY_NAME="Debian GNU/Linux %s (%s)"\nNAME="Debian GNU/Linux"\nVERSION_ID="%s"\n'
                    'VERSION="%s (%s)"\nVERSION_CODENAME=%s\nID=debian\n' % (number, codename, number, number,
                                                                            codename, codename))
        self.board_arch, self.board_machine = arch, machine

    def deploy(self, *args):
        env = dict(os.environ, PATH=self.fake + ":" + os.environ["PATH"], DBR_FAKE_LOG=self.log,
                   DBR_BOARD_ARCH=self.board_arch, DBR_BOARD_MACHINE=self.board_machine)
        return run([os.path.join(TOP, "scripts", "deploy")] + list(args), env=env)

    def calls(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [json.loads(line) for line in f]

    @staticmethod
    def steps(r):
        return [l for l in r.stdout.splitlines() if l.startswith("deploy: ")]

    def test_dry_run_prints_the_steps_and_runs_nothing(self):
        deb = "/tmp/dunebugger-remote_%s~deb12u1_arm64.deb" % self.version
        r = self.deploy("--dry-run", "--suite", "bookworm", "--arch", "arm64", "--deb", deb, "--user", "pi",
                        "crib.local")
        self.assertEqual(r.returncode, 0, r.stderr)
        steps = self.steps(r)
        self.assertEqual(len(steps), 3, r.stdout)
        self.assertIn("scp", steps[0])
        self.assertIn("%s pi@crib.local:%s" % (deb, deb), steps[0])
        self.assertIn("ssh", steps[1])
        self.assertIn("sudo apt-get install -y --reinstall", steps[1])
        self.assertTrue(steps[1].endswith(" " + deb), steps[1])
        self.assertIn("systemctl status", steps[2])
        self.assertEqual(self.calls(), [], "the dry run ran ssh or scp")

    def test_dry_run_without_deb_plans_the_matching_package(self):
        r = self.deploy("--dry-run", "--suite", "trixie", "--arch", "armhf", "board")
        self.assertEqual(r.returncode, 0, r.stderr)
        steps = self.steps(r)
        self.assertIn("scripts/package --suite trixie --arch armhf", steps[0])
        self.assertIn("build/packages/dunebugger-remote_%s~deb13u1_armhf.deb board:/tmp/" % self.version, steps[1])
        r = self.deploy("--dry-run", "--suite", "bookworm", "--arch", "arm64", "board")
        self.assertIn("build/packages/dunebugger-remote_%s~deb12u1_arm64.deb" % self.version, self.steps(r)[1])
        self.assertEqual(self.calls(), [])

    def test_dry_run_does_not_ask_the_board(self):
        r = self.deploy("--dry-run", "board")
        self.assertEqual(r.returncode, 0, r.stderr)
        steps = self.steps(r)
        # The question it would ask, and the plan with what it would learn left open.
        self.assertIn("/etc/os-release", steps[0])
        self.assertIn("dpkg --print-architecture", steps[0])
        self.assertIn("--suite SUITE --arch ARCH", r.stdout)
        # A package's name says what it is for.
        r = self.deploy("--dry-run", "--deb", "/tmp/dunebugger-remote_%s~deb12u1_armhf.deb" % self.version, "board")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("planning for suite bookworm, architecture armhf", r.stdout)
        self.assertEqual(self.calls(), [], "the dry run ran ssh or scp")

    def test_asks_the_board_and_installs_the_matching_package(self):
        deb = self.deb["trixie", "arm64"]
        r = self.deploy("--deb", deb, "--user", "pi", "crib.local")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("crib.local runs trixie on arm64", r.stdout)
        calls = self.calls()
        self.assertEqual([c[0] for c in calls], ["ssh", "scp", "ssh", "ssh"], calls)
        self.assertIn("/etc/os-release", calls[0][-1])
        remote = "/tmp/" + os.path.basename(deb)
        self.assertEqual(calls[1][-2:], [deb, "pi@crib.local:" + remote])
        self.assertEqual(calls[2][-1], remote)
        self.assertIn("apt-get", calls[2])
        self.assertIn("status", calls[3])

    def test_refuses_a_package_that_does_not_match_the_board(self):
        r = self.deploy("--deb", self.deb["bookworm", "arm64"], "crib.local")
        self.assertEqual(r.returncode, 1)
        self.assertIn("is for bookworm but crib.local runs trixie", r.stderr)
        self.assertIn("scripts/package --suite trixie --arch arm64", r.stderr)
        r = self.deploy("--deb", self.deb["trixie", "armhf"], "crib.local")
        self.assertEqual(r.returncode, 1)
        self.assertIn("is for armhf but crib.local is arm64", r.stderr)
        self.board("bookworm", "armhf", "armv7l")
        self.assertEqual(self.deploy("--deb", self.deb["bookworm", "armhf"], "crib.local").returncode, 0)
        self.assertEqual([c[0] for c in self.calls() if c[0] == "scp"], ["scp"], "copied a wrong package")

    def test_refuses_a_board_it_has_no_package_for(self):
        self.board("bullseye", "arm64", "aarch64")
        r = self.deploy("--deb", self.deb["trixie", "arm64"], "old-board")
        self.assertEqual(r.returncode, 1)
        self.assertIn("runs Debian 'bullseye'", r.stderr)
        self.assertIn("bookworm and trixie", r.stderr)
        self.board("bookworm", "armhf", "armv6l")
        r = self.deploy("--deb", self.deb["bookworm", "armhf"], "zero")
        self.assertEqual(r.returncode, 1)
        self.assertIn("ARMv6", r.stderr)
        self.assertEqual([c[0] for c in self.calls()], ["ssh", "ssh"], "went past the question")

    def test_migrate_docker_dry_run(self):
        deb = "/tmp/dunebugger-remote_%s~deb13u1_arm64.deb" % self.version
        r = self.deploy("--dry-run", "--migrate-docker", "--suite", "trixie", "--arch", "arm64", "--deb", deb,
                        "--user", "pi", "--compose", "/home/pi/docker-compose.yaml", "crib.local")
        self.assertEqual(r.returncode, 0, r.stderr)
        steps = self.steps(r)
        self.assertEqual(len(steps), 3, r.stdout)
        self.assertIn("scripts/migrate-docker pi@crib.local:/tmp/dunebugger-migrate-docker", steps[0])
        self.assertIn("%s pi@crib.local:%s" % (deb, deb), steps[1])
        self.assertIn("pi@crib.local sudo bash /tmp/dunebugger-migrate-docker --deb %s "
                      "--compose /home/pi/docker-compose.yaml" % deb, steps[2])
        self.assertEqual(self.calls(), [], "the dry run ran ssh or scp")

    def test_migrate_docker_runs_the_script_on_the_board(self):
        deb = self.deb["trixie", "arm64"]
        r = self.deploy("--migrate-docker", "--deb", deb, "crib.local")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        calls = self.calls()
        self.assertEqual([c[0] for c in calls], ["ssh", "scp", "scp", "ssh"], calls)
        self.assertEqual(calls[1][-2:], [os.path.join(TOP, "scripts", "migrate-docker"),
                                         "crib.local:/tmp/dunebugger-migrate-docker"])
        self.assertEqual(calls[3][-1], "sudo bash /tmp/dunebugger-migrate-docker --deb /tmp/" + os.path.basename(deb))

    def test_bad_arguments_exit_2(self):
        deploy = os.path.join(TOP, "scripts", "deploy")
        self.assertEqual(run([deploy]).returncode, 2)
        self.assertEqual(run([deploy, "--arch", "mips", "h"]).returncode, 2)
        self.assertEqual(run([deploy, "--suite", "sid", "h"]).returncode, 2)
        self.assertEqual(run([deploy, "--compose", "/x.yaml", "h"]).returncode, 2)
        self.assertEqual(run([deploy, "--suite"]).returncode, 2)


if __name__ == "__main__":
    test_main.run("agent", "build-dir")
