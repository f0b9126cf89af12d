"""Each package, installed where it is meant to run.

For every .deb that scripts/package made (one per suite and architecture),
in a fresh minbase chroot of its suite (scripts/chroot; for arm64 and armhf
an amd64 chroot with that architecture added, so apt resolves the package's
dependencies from the suite's arm64/armhf index and installs those
libraries; the package's programs then run under qemu-user):
  - `apt-get install ./the.deb` resolves every dependency from that suite's
    archive and nothing else (the chroot has only its suite's sources);
  - the installed binary runs: --version, --check-config on the shipped
    config and on the Python agent's;
  - the files: remote.env 0600, the unit where the suite's systemd expects
    it (trixie: /usr/lib/systemd/system), the man page;
  - with systemd installed (as on a board): the unit is enabled on install;
    an upgrade from the previous version keeps edited conffiles; remove
    keeps them, purge removes them and the enablement.
The "previous version" is this same package with its version set back to
debian/changelog's previous entry (0.1.0), rebuilt with dpkg-deb: the
upgrade path dpkg takes (conffile handling, the maintainer scripts' upgrade
branches) is the real one; the old contents are not.

    /usr/bin/python3 tests/packages/test_packages.py --debs DIR [--only SUITE:ARCH]...

Run as root. Network: the suite's archive (deb.debian.org)."""
import argparse
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CHROOT = os.path.join(TOP, "scripts", "chroot")
PYTHON_AGENT_CONF = os.path.join(TOP, "tests", "fixtures", "python-agent-dunebugger.conf")
SUITE_OF_SUFFIX = {"deb12": "bookworm", "deb13": "trixie"}
QEMU = {"arm64": "qemu-aarch64-static", "armhf": "qemu-arm-static"}
UNIT = "dunebugger-remote.service"
# What remote.env adds on a configured device: a group and a way to a URL.
SERVICE_ENV = "WS_GROUP_NAME=crib WEBPUBSUB_CONNECTION_STRING='Endpoint=https://h.example;AccessKey=K;Version=1.0'"
APT = "DEBIAN_FRONTEND=noninteractive apt-get -q -y -o Acquire::Retries=5 -o APT::Install-Recommends=false"

DEBS = []  # (suite, arch, path), from --debs


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def find_debs(directory, only):
    found = []
    for path in sorted(glob.glob(os.path.join(directory, "dunebugger-remote_*.deb"))):
        m = re.match(r"dunebugger-remote_(.+)~(deb1[23])u\d+_(amd64|arm64|armhf)\.deb$", os.path.basename(path))
        if not m:
            continue
        suite, arch = SUITE_OF_SUFFIX[m.group(2)], m.group(3)
        if only and "%s:%s" % (suite, arch) not in only:
            continue
        found.append((suite, arch, path))
    return found


class Chroot:
    """A fresh minbase chroot of `suite` (with `arch` as a foreign
    architecture when it is not amd64), removed by close()."""

    def __init__(self, suite, arch):
        self.suite, self.arch = suite, arch
        r = run([CHROOT, "unpack", "--suite", suite, "--kind", "minbase", "--arch", arch])
        if r.returncode != 0:
            raise RuntimeError("scripts/chroot unpack failed: " + r.stderr)
        self.root = r.stdout.strip().splitlines()[-1]
        if arch in QEMU:
            # Programs of the package's architecture run under qemu-user;
            # the static build needs nothing from the chroot.
            shutil.copy2(os.path.join("/usr/bin", QEMU[arch]), os.path.join(self.root, "usr/bin"))
            # Multiarch: apt then reads the suite's index of that architecture.
            self.sh("dpkg --add-architecture " + arch)

    def path(self, rel):
        return os.path.join(self.root, rel.lstrip("/"))

    def put(self, src, dest):
        os.makedirs(os.path.dirname(self.path(dest)), exist_ok=True)
        shutil.copy2(src, self.path(dest))

    def sh(self, script, check=True):
        r = run([CHROOT, "exec", self.root, "--", "/bin/sh", "-ec", script])
        if check and r.returncode != 0:
            raise AssertionError("in the %s %s chroot, exit %d:\n%s\n--- stdout:\n%s\n--- stderr:\n%s"
                                 % (self.suite, self.arch, r.returncode, script, r.stdout[-3000:], r.stderr[-3000:]))
        return r

    def agent(self, *args, env=""):
        """The installed binary, under qemu-user when it is another architecture's;
        `env`: shell assignments for its environment."""
        prefix = QEMU[self.arch] + " " if self.arch in QEMU else ""
        return self.sh(env + " " + prefix + "/usr/bin/dunebugger-remote " + " ".join(args), check=False)

    def close(self):
        run([CHROOT, "remove", self.root])


def previous_version(deb, directory):
    """The same package with debian/changelog's previous version (see the
    module docstring)."""
    # -S with --all prints the newest entry's field only: ask for the
    # second entry itself.
    old = run(["dpkg-parsechangelog", "-l", os.path.join(TOP, "debian", "changelog"), "--offset", "1",
               "--count", "1", "-S", "Version"]).stdout.strip()
    assert old, "debian/changelog has no previous entry"
    tree = os.path.join(directory, "tree")
    subprocess.run(["dpkg-deb", "-R", deb, tree], check=True)
    control = os.path.join(tree, "DEBIAN", "control")
    with open(control) as f:
        text = f.read()
    with open(control, "w") as f:
        f.write(re.sub(r"(?m)^Version: .*$", "Version: " + old, text))
    out = os.path.join(directory, "dunebugger-remote_%s.deb" % old)
    subprocess.run(["dpkg-deb", "--root-owner-group", "-b", tree, out], check=True, capture_output=True)
    return out, old


class PackageChecks:
    """Mixed into one TestCase per (suite, arch); see make_case()."""
    suite = arch = deb = None

    def setUp(self):
        self.chroot = Chroot(self.suite, self.arch)
        self.addCleanup(self.chroot.close)
        self.chroot.put(self.deb, "/pkgs/new.deb")
        self.version = run(["dpkg-deb", "-f", self.deb, "Version"]).stdout.strip()

    def test_installs_from_its_suite_archive_and_runs(self):
        c = self.chroot
        # Only the suite's own sources (and the foreign architecture) are there.
        sources = c.sh("cat /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null || true").stdout
        self.assertTrue(all((" %s" % self.suite) in l for l in sources.splitlines() if l.startswith("deb")), sources)
        r = c.sh("%s update >/dev/null && %s install /pkgs/new.deb" % (APT, APT), check=False)
        self.assertEqual(r.returncode, 0, "apt-get install ./the.deb failed:\n" + r.stdout[-3000:] + r.stderr[-3000:])
        status = c.sh("dpkg-query -W -f='${Status} ${Version} ${Architecture}' dunebugger-remote").stdout
        self.assertEqual(status, "install ok installed %s %s" % (self.version, self.arch))
        # Every library dependency is installed for the package's architecture.
        depends = run(["dpkg-deb", "-f", self.deb, "Depends"]).stdout.strip()
        print("%s %s Depends: %s" % (self.suite, self.arch, depends))
        # A dependency may be virtual (libspdlog1.10-fmt9 is provided by
        # libspdlog1.10): count what each installed package of the
        # architecture provides as well as its name. A tool that is
        # Multi-Arch: foreign (procps) serves every architecture from the
        # chroot's own.
        listing = c.sh("dpkg-query -W -f='${db:Status-Abbrev}|${Package}|${Architecture}|${Multi-Arch}|${Provides}\\n'").stdout
        present = set()
        for line in listing.splitlines():
            status, package, arch, multi_arch, provides = (line.split("|") + [""] * 4)[:5]
            if status.strip() == "ii" and (arch in (self.arch, "all") or multi_arch == "foreign"):
                present.add(package)
                present.update(p.split()[0] for p in provides.split(",") if p.strip())
        for dep in [d.split()[0] for d in depends.split(", ")]:
            self.assertIn(dep, present, "dependency %s not installed for %s" % (dep, self.arch))

        r = c.agent("--version")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        upstream = self.version.split("-")[0]
        self.assertIn(upstream, r.stdout)
        print("%s %s --version: %s" % (self.suite, self.arch, r.stdout.strip()))
        # As installed, the group and the credentials are still to be set
        # (remote.env): --check-config refuses it as start-up would.
        r = c.agent("--check-config", "--config", "/etc/dunebugger/dunebugger.conf")
        self.assertEqual(r.returncode, 2, "the shipped config alone: " + r.stdout + r.stderr)
        self.assertIn("WS_GROUP_NAME", r.stderr)
        r = c.agent("--check-config", "--config", "/etc/dunebugger/dunebugger.conf", env=SERVICE_ENV)
        self.assertEqual(r.returncode, 0, "the shipped config: " + r.stdout + r.stderr)
        c.put(PYTHON_AGENT_CONF, "/tmp/python-agent.conf")
        r = c.agent("--check-config", "--config", "/tmp/python-agent.conf", env=SERVICE_ENV)
        self.assertEqual(r.returncode, 0, "the Python agent's config: " + r.stdout + r.stderr)
        r = c.agent("--check-config", "--config", "/nonexistent.conf")
        self.assertEqual(r.returncode, 2, "a missing config must be an error")

        st = os.stat(c.path("/etc/dunebugger/remote.env"))
        self.assertEqual((st.st_mode & 0o777, st.st_uid), (0o600, 0))
        files = c.sh("dpkg -L dunebugger-remote").stdout.split()
        units = [f for f in files if f.endswith("/" + UNIT)]
        self.assertEqual(len(units), 1, files)
        if self.suite == "trixie":
            # trixie's lintian: aliased-location for /lib/systemd/system.
            self.assertEqual(units[0], "/usr/lib/systemd/system/" + UNIT)
        # The unit installed is the project's (debian/ links to it).
        with open(os.path.join(TOP, "systemd", UNIT)) as f, open(c.path(units[0])) as g:
            self.assertEqual(g.read(), f.read(), "the installed unit is not systemd/" + UNIT)
        self.assertIn("/usr/share/man/man1/dunebugger-remote.1.gz", files)

    def test_upgrade_keeps_edited_conffiles_and_purge_removes_them(self):
        c = self.chroot
        work = tempfile.mkdtemp(prefix="dbr-prev-")
        self.addCleanup(shutil.rmtree, work, True)
        old_deb, old_version = previous_version(self.deb, work)
        c.put(old_deb, "/pkgs/old.deb")
        # A board has systemd: then the maintainer scripts enable the unit.
        c.sh("%s update >/dev/null && %s install systemd >/dev/null" % (APT, APT))
        c.sh("%s install /pkgs/old.deb >/dev/null" % APT)
        self.assertEqual(c.sh("dpkg-query -W -f='${Version}' dunebugger-remote").stdout, old_version)
        self.assertEqual(c.sh("systemctl is-enabled %s" % UNIT, check=False).stdout.strip(), "enabled")

        c.sh("echo '; edited on the board' >> /etc/dunebugger/dunebugger.conf;"
             " echo 'DEVICE_ID=crib-7' >> /etc/dunebugger/remote.env")
        r = c.sh("%s install /pkgs/new.deb" % APT)
        self.assertEqual(c.sh("dpkg-query -W -f='${Version}' dunebugger-remote").stdout, self.version)
        with open(c.path("/etc/dunebugger/dunebugger.conf")) as f:
            self.assertIn("; edited on the board", f.read())
        with open(c.path("/etc/dunebugger/remote.env")) as f:
            self.assertIn("DEVICE_ID=crib-7", f.read())
        self.assertEqual(os.stat(c.path("/etc/dunebugger/remote.env")).st_mode & 0o777, 0o600)
        leftovers = glob.glob(c.path("/etc/dunebugger/*.dpkg-*"))
        self.assertEqual(leftovers, [], "dpkg left other versions of the conffiles beside them")
        self.assertEqual(c.sh("systemctl is-enabled %s" % UNIT, check=False).stdout.strip(), "enabled")
        r = c.sh("systemd-analyze verify %s 2>&1 || true" % UNIT)
        ours = [l for l in r.stdout.splitlines() if "dunebugger-remote" in l]
        self.assertEqual(ours, [], "the suite's systemd-analyze complains about the unit")

        c.sh("%s remove dunebugger-remote >/dev/null" % APT)
        self.assertFalse(os.path.exists(c.path("/usr/bin/dunebugger-remote")))
        self.assertTrue(os.path.exists(c.path("/etc/dunebugger/dunebugger.conf")), "remove must keep conffiles")
        c.sh("%s purge dunebugger-remote >/dev/null" % APT)
        self.assertFalse(os.path.exists(c.path("/etc/dunebugger/dunebugger.conf")))
        self.assertFalse(os.path.exists(c.path("/etc/dunebugger/remote.env")))
        wants = glob.glob(c.path("/etc/systemd/system/*.wants/" + UNIT))
        self.assertEqual(wants, [], "purge must remove the enablement")
        status = c.sh("dpkg-query -W -f='${Status}' dunebugger-remote 2>&1 || true").stdout
        self.assertNotIn("config-files", status, "purge must leave no trace in dpkg's database")
        self.assertNotIn("install ok installed", status)


def make_case(suite, arch, deb):
    name = "Package_%s_%s" % (suite, arch)
    return type(name, (PackageChecks, unittest.TestCase), {"suite": suite, "arch": arch, "deb": deb})


def main():
    # Stopped by SIGTERM (scripts/test stops the background matrix that
    # way): exit through Python so the cleanups delete the chroots.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser()
    parser.add_argument("--debs", required=True, help="the folder scripts/package wrote to")
    parser.add_argument("--only", action="append", default=[], help="SUITE:ARCH (repeatable)")
    args, rest = parser.parse_known_args()
    debs = find_debs(os.path.abspath(args.debs), args.only)
    if not debs:
        sys.exit("no dunebugger-remote .deb in %s%s" % (args.debs, " for " + ", ".join(args.only) if args.only else ""))
    module = sys.modules[__name__]
    for suite, arch, deb in debs:
        case = make_case(suite, arch, deb)
        setattr(module, case.__name__, case)
    unittest.main(module=module, argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
