"""Device delivery: the systemd unit, the Debian package, deploy --dry-run.

Checks run on this machine's build of the agent (the release tree in the
test command; the sanitizer tree skips them: see scripts/test)."""
import argparse
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
UNIT = os.path.join(TOP, "systemd", "dunebugger-remote.service")
AGENT = None
BUILD_DIR = None


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


class SystemdUnit(unittest.TestCase):
    def unit_text(self):
        with open(UNIT) as f:
            return f.read()

    def test_directives_the_service_needs(self):
        text = self.unit_text()
        for line in ["Type=notify", "Restart=on-failure", "EnvironmentFile=-/etc/dunebugger/remote.env",
                     "DynamicUser=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
                     "NoNewPrivileges=yes", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK",
                     "SystemCallFilter=@system-service", "RuntimeDirectory=dunebugger-remote"]:
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


class Package(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.out = tempfile.mkdtemp(prefix="dbr-pkg-")
        r = run([os.path.join(TOP, "scripts", "package"), BUILD_DIR, run(["dpkg", "--print-architecture"]).stdout.strip(),
                 cls.out])
        if r.returncode != 0:
            raise AssertionError("scripts/package failed: " + r.stderr)
        cls.deb = r.stdout.strip().splitlines()[-1]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.out)

    def field(self, name):
        return run(["dpkg-deb", "-f", self.deb, name]).stdout.strip()

    def test_control_fields_and_depends(self):
        self.assertEqual(self.field("Package"), "dunebugger-remote")
        depends = self.field("Depends")
        # From the libraries the binary links (dpkg-shlibdeps), not a hand list.
        for lib in ["libc6", "libcurl4", "libc-ares2", "libnats3.4", "libssl3", "libsystemd0", "libinih1"]:
            self.assertIn(lib, depends)

    def test_contents_modes_and_conffiles(self):
        listing = run(["dpkg-deb", "-c", self.deb]).stdout
        entries = {}
        for line in listing.splitlines():
            parts = line.split()
            entries[parts[5].lstrip(".")] = parts[0]
        self.assertEqual(entries.get("/usr/bin/dunebugger-remote"), "-rwxr-xr-x")
        self.assertEqual(entries.get("/etc/dunebugger/dunebugger.conf"), "-rw-r--r--")
        self.assertEqual(entries.get("/etc/dunebugger/remote.env"), "-rw-------")
        self.assertEqual(entries.get("/lib/systemd/system/dunebugger-remote.service"), "-rw-r--r--")
        d = tempfile.mkdtemp()
        try:
            subprocess.run(["dpkg-deb", "-e", self.deb, d], check=True)
            with open(os.path.join(d, "conffiles")) as f:
                self.assertEqual(f.read().split(), ["/etc/dunebugger/dunebugger.conf", "/etc/dunebugger/remote.env"])
        finally:
            shutil.rmtree(d)
        file_out = run(["sh", "-c", "dpkg-deb --fsys-tarfile %s | tar -xO ./usr/bin/dunebugger-remote | file -" % self.deb])
        self.assertIn("stripped", file_out.stdout)
        self.assertNotIn("not stripped", file_out.stdout)

    def test_lintian_reports_no_errors(self):
        r = run(["lintian", "--no-cfg", self.deb])
        errors = [l for l in r.stdout.splitlines() if l.startswith("E:")]
        print(r.stdout.strip() or "lintian: no tags")
        self.assertEqual(errors, [])

    def dpkg(self, root, *args):
        env = dict(os.environ)
        # --force-script-chrootless runs the maintainer scripts here with
        # DPKG_ROOT set; --force-depends: the scratch root has no libraries.
        return run(["dpkg", "--root=" + root, "--force-script-chrootless", "--force-depends", "--log=/dev/null",
                    *args], env=env)

    def test_installs_into_a_scratch_root_keeps_conffiles_and_purges(self):
        root = tempfile.mkdtemp(prefix="dbr-root-")
        try:
            for d in ("var/lib/dpkg/info", "var/lib/dpkg/updates"):
                os.makedirs(os.path.join(root, d))
            for f in ("var/lib/dpkg/status", "var/lib/dpkg/available"):
                open(os.path.join(root, f), "w").close()
            r = self.dpkg(root, "-i", self.deb)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            p = lambda rel: os.path.join(root, rel.lstrip("/"))  # noqa: E731
            self.assertTrue(os.access(p("/usr/bin/dunebugger-remote"), os.X_OK))
            self.assertTrue(os.path.isfile(p("/lib/systemd/system/dunebugger-remote.service")))
            self.assertEqual(stat.S_IMODE(os.stat(p("/etc/dunebugger/remote.env")).st_mode), 0o600)
            # postinst enabled the unit (in the scratch root only).
            wants = p("/etc/systemd/system/multi-user.target.wants/dunebugger-remote.service")
            self.assertEqual(os.readlink(wants), "/lib/systemd/system/dunebugger-remote.service")
            # The shipped config passes the installed binary's own check.
            r = run([p("/usr/bin/dunebugger-remote"), "--check-config", "--config", p("/etc/dunebugger/dunebugger.conf")])
            self.assertEqual(r.returncode, 0, r.stderr)
            # An edited conffile survives a reinstall (upgrade).
            with open(p("/etc/dunebugger/dunebugger.conf"), "a") as f:
                f.write("; edited on the board\n")
            r = self.dpkg(root, "--force-confold", "-i", self.deb)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            with open(p("/etc/dunebugger/dunebugger.conf")) as f:
                self.assertIn("; edited on the board", f.read())
            # Removal keeps the conffiles; purge removes them and the enablement.
            self.assertEqual(self.dpkg(root, "-r", "dunebugger-remote").returncode, 0)
            self.assertFalse(os.path.exists(p("/usr/bin/dunebugger-remote")))
            self.assertTrue(os.path.exists(p("/etc/dunebugger/dunebugger.conf")))
            self.assertEqual(self.dpkg(root, "-P", "dunebugger-remote").returncode, 0)
            self.assertFalse(os.path.exists(p("/etc/dunebugger/dunebugger.conf")))
            self.assertFalse(os.path.lexists(wants))
        finally:
            shutil.rmtree(root)


class Deploy(unittest.TestCase):
    def test_dry_run_prints_the_steps_and_runs_nothing(self):
        fake_bin = tempfile.mkdtemp(prefix="dbr-fakebin-")
        marker = os.path.join(fake_bin, "ran")
        try:
            for tool in ("ssh", "scp"):
                path = os.path.join(fake_bin, tool)
                with open(path, "w") as f:
                    f.write("#!/bin/sh\ntouch %s\nexit 1\n" % marker)
                os.chmod(path, 0o755)
            env = dict(os.environ, PATH=fake_bin + ":" + os.environ["PATH"])
            r = run([os.path.join(TOP, "scripts", "deploy"), "--dry-run", "--deb", "/tmp/x_arm64.deb", "--user", "pi",
                     "crib.local"], env=env)
            self.assertEqual(r.returncode, 0, r.stderr)
            steps = [l for l in r.stdout.splitlines() if l.startswith("deploy: ")]
            self.assertEqual(len(steps), 4, r.stdout)
            self.assertIn("scp", steps[0])
            self.assertIn("/tmp/x_arm64.deb pi@crib.local:/tmp/x_arm64.deb", steps[0])
            self.assertIn("sudo apt-get install -y --reinstall /tmp/x_arm64.deb", steps[1])
            self.assertIn("sudo systemctl restart dunebugger-remote.service", steps[2])
            self.assertIn("systemctl status", steps[3])
            self.assertFalse(os.path.exists(marker), "dry run executed ssh or scp")
            # Without --deb it plans the cross build first.
            r = run([os.path.join(TOP, "scripts", "deploy"), "--dry-run", "--arch", "armhf", "board"], env=env)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("scripts/cross-build armhf", r.stdout.splitlines()[0])
            self.assertFalse(os.path.exists(marker))
        finally:
            shutil.rmtree(fake_bin)

    def test_bad_arguments_exit_2(self):
        self.assertEqual(run([os.path.join(TOP, "scripts", "deploy")]).returncode, 2)
        self.assertEqual(run([os.path.join(TOP, "scripts", "deploy"), "--arch", "mips", "h"]).returncode, 2)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--agent", required=True)
    parser.add_argument("--build-dir", required=True)
    args, rest = parser.parse_known_args()
    AGENT = os.path.abspath(args.agent)
    BUILD_DIR = os.path.abspath(args.build_dir)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
