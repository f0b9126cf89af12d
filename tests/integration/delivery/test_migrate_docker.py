"""scripts/migrate-docker on a scratch board: upstream's Docker install to this package.

Each test copies fixtures/board/ into a scratch root: the layout
dunebugger-install leaves (its docker-compose.yml, byte for byte, as the
~/docker-compose.yaml its stage 3 writes; the ~/.env stage 3 writes, with
fake secrets; the Python agent's config in /opt/dunebugger-remote/config;
/etc/os-release of trixie) and runs migrate-docker --root on it.

Docker cannot run on the test machine, so `docker` is a stand-in
(fixtures/standins/docker) that records every call and keeps the names of
the board's containers in a file; apt-get and systemctl are stand-ins that
record their calls as well (nothing is installed or started here). The real
dpkg-deb reads a real, empty package built by the test. What is checked is
what migrate-docker writes and which commands it would run on a board."""
import glob
import json
import os
import shutil
import stat
import subprocess
import tempfile
import unittest

from stand_in_deb import build_deb

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
MIGRATE = os.path.join(TOP, "scripts", "migrate-docker")
BOARD = os.path.join(HERE, "fixtures", "board")
STANDINS = os.path.join(HERE, "fixtures", "standins")
ENV_GENERATOR = "/usr/lib/systemd/user-environment-generators/30-systemd-environment-d-generator"

# What the fixture .env means (Docker Compose's reading of it).
SECRETS = {
    "AUTH0_CLIENT_ID": "fake-client-id-7Hq2Lm9Xv",
    "AUTH0_CLIENT_SECRET": "fake-client-secret-Rt4Yp1Nm6Bc8Zq",
    "AUTH0_USERNAME": "fake-device-crib@example.invalid",
    "AUTH0_PASSWORD": 'fake pass #7 "quoted" back\\slash `tick',
    "WS_GROUP_NAME": "fake-group-crib-42",
    "DEVICE_ID": "fake-crib-device-1",
    "LOCATION_DESCRIPTION": "Fake church hall, left of the altar",
}
CONTAINERS = ["dunebugger-remote", "dunebugger-scheduler", "nats-server"]
# docker subcommands that change something.
MUTATING = {"stop", "rm", "up", "down", "start", "restart", "kill", "create", "run", "pause", "update", "pull"}


def native_arch():
    return subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True).stdout.strip()


def parse_env_file(text):
    """systemd's EnvironmentFile= reading (env-file.c) of the lines migrate-docker
    writes and of plain NAME=value lines; comments and blank lines skipped."""
    values = {}
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        name, _, raw = stripped.partition("=")
        raw = raw.strip()
        if raw.startswith('"'):
            out, i = [], 1
            while raw[i] != '"':
                if raw[i] == "\\":
                    i += 1
                    out.append(raw[i] if raw[i] in '"\\`$' else "\\" + raw[i])
                else:
                    out.append(raw[i])
                i += 1
            values[name.strip()] = "".join(out)
        else:
            values[name.strip()] = raw
    return values


def snapshot(root):
    """Every path under root with its mode, owner, size, mtime and content."""
    seen = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            content = None
            if stat.S_ISREG(st.st_mode):
                with open(path, "rb") as f:
                    content = f.read()
            seen[os.path.relpath(path, root)] = (st.st_mode, st.st_uid, st.st_mtime_ns, content)
    return seen


class MigrateDocker(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.debs = tempfile.mkdtemp(prefix="dbr-debs-")
        cls.arch = native_arch()
        cls.deb = build_deb(cls.debs, "0.2.0-1~deb13u1", cls.arch)
        cls.bookworm_deb = build_deb(cls.debs, "0.2.0-1~deb12u1", cls.arch)
        cls.other_arch = "arm64" if cls.arch != "arm64" else "armhf"
        cls.foreign_deb = build_deb(cls.debs, "0.2.0-1~deb13u1", cls.other_arch)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.debs)

    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="dbr-migrate-")
        self.root = os.path.join(self.work, "root")
        shutil.copytree(BOARD, self.root, symlinks=True)
        self.log = os.path.join(self.work, "calls.jsonl")
        self.state = os.path.join(self.work, "containers")
        with open(self.state, "w") as f:
            f.write("\n".join(CONTAINERS) + "\n")

    def tearDown(self):
        shutil.rmtree(self.work)

    def path(self, board_path):
        return os.path.join(self.root, board_path.lstrip("/"))

    def migrate(self, *args, sudo_user="pi", deb=True, extra_env=None):
        env = dict(os.environ, PATH=STANDINS + ":" + os.environ["PATH"], DBR_STANDIN_LOG=self.log,
                   DBR_DOCKER_STATE=self.state)
        env.pop("SUDO_USER", None)
        if sudo_user:
            env["SUDO_USER"] = sudo_user
        env.update(extra_env or {})
        cmd = [MIGRATE, "--root", self.root] + (["--deb", self.deb] if deb else []) + list(args)
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
        self.assert_no_secret(r.stdout + r.stderr, "output")
        return r

    def calls(self, tool=None):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            every = [json.loads(line) for line in f]
        return [c for c in every if tool is None or c[0] == tool]

    def assert_no_secret(self, text, where):
        for name, value in SECRETS.items():
            for part in [value] + [w for w in value.split() if len(w) > 6]:
                self.assertNotIn(part, text, "the value of %s shows in the %s" % (name, where))

    def containers(self):
        with open(self.state) as f:
            return f.read().split()

    def remote_env(self):
        with open(self.path("/etc/dunebugger/remote.env")) as f:
            return f.read()

    def assert_docker_touches_only_the_agent(self):
        for call in self.calls("docker"):
            for other in ("nats-server", "dunebugger-scheduler"):
                self.assertFalse(any(other in a for a in call), "docker call names %s: %s" % (other, call))
            if call[1:2] == ["compose"]:
                rest = call[2:]
                while rest[:1] == ["-f"]:
                    rest = rest[2:]
                verb, operands = rest[0], [a for a in rest[1:] if not a.startswith("-")]
            else:
                verb, operands = call[1], []
            if verb in MUTATING:
                # Never a whole project (no service named) and never another one.
                self.assertEqual(operands, ["dunebugger-remote"], call)
                self.assertIn(verb, ("stop", "rm"), call)

    # -- the migration -----------------------------------------------------------------

    def test_migrates_the_docker_install(self):
        r = self.migrate()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # remote.env: 0600 root:root, the seven variables, read back by systemd's rules.
        st = os.stat(self.path("/etc/dunebugger/remote.env"))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        if os.getuid() == 0:
            self.assertEqual((st.st_uid, st.st_gid), (0, 0))
        self.assertEqual(parse_env_file(self.remote_env()), SECRETS)
        # The config, as the Python agent had it.
        with open(self.path("/opt/dunebugger-remote/config/dunebugger.conf"), "rb") as a, \
                open(self.path("/etc/dunebugger/dunebugger.conf"), "rb") as b:
            self.assertEqual(a.read(), b.read())
        self.assertEqual(stat.S_IMODE(os.stat(self.path("/etc/dunebugger/dunebugger.conf")).st_mode), 0o644)
        self.assertEqual(glob.glob(self.path("/etc/dunebugger/*.pre-migrate-*")), [])
        # Upstream's own files are left as they were.
        for board_path in ("/home/pi/docker-compose.yaml", "/home/pi/.env",
                           "/opt/dunebugger-remote/config/dunebugger.conf",
                           "/opt/dunebugger-scheduler/config/dunebugger.conf"):
            with open(self.path(board_path), "rb") as a, open(os.path.join(BOARD, board_path.lstrip("/")), "rb") as b:
                self.assertEqual(a.read(), b.read(), board_path)
        # Only the agent's container went; NATS and the scheduler are untouched.
        self.assertEqual(self.containers(), ["dunebugger-scheduler", "nats-server"])
        self.assert_docker_touches_only_the_agent()
        compose = self.path("/home/pi/docker-compose.yaml")
        self.assertIn(["docker", "compose", "-f", compose, "stop", "dunebugger-remote"], self.calls())
        self.assertIn(["docker", "compose", "-f", compose, "rm", "-f", "dunebugger-remote"], self.calls())
        # The override that keeps it from coming back (and keeps the scheduler's up working).
        with open(self.path("/home/pi/docker-compose.override.yaml")) as f:
            override = f.read()
        self.assertIn("  dunebugger-remote:\n    profiles: [disabled]\n", override)
        self.assertIn("  dunebugger-scheduler:\n    depends_on:\n      dunebugger-remote:\n"
                      "        condition: service_started\n        required: false\n", override)
        self.assertNotIn("nats-server:", override)
        # The order: everything fetched before the container goes; installed after.
        order = [c for c in self.calls() if c[0] in ("apt-get", "systemctl") or "stop" in c]
        kinds = [("download" if "--download-only" in c else "stop" if "stop" in c else
                  "install" if c[0] == "apt-get" and "install" in c else " ".join(c[:2])) for c in order]
        self.assertEqual(kinds, ["apt-get update", "download", "stop", "install",
                                 "systemctl enable", "systemctl restart", "systemctl status"], order)
        install = [c for c in self.calls("apt-get") if "install" in c and "--download-only" not in c][0]
        self.assertEqual(install[-1], self.deb)
        self.assertIn("-y", install)
        self.assertIn("Dpkg::Options::=--force-confold", install)
        self.assertIn(["systemctl", "enable", "--now", "dunebugger-remote.service"], self.calls())
        # Every step is announced, secrets by name only, and nothing leaks into a command line.
        self.assertGreaterEqual(len([l for l in r.stdout.splitlines() if l.startswith("migrate-docker: step ")]), 10)
        self.assertIn("AUTH0_PASSWORD", r.stdout)
        with open(self.log) as f:
            self.assert_no_secret(f.read(), "recorded command lines")

    def test_remote_env_reads_back_the_same_through_systemd(self):
        if not os.access(ENV_GENERATOR, os.X_OK):
            self.skipTest("no systemd environment.d generator here")
        self.assertEqual(self.migrate().returncode, 0)
        # environment.d files use the same parser as EnvironmentFile= (no value here has a '$',
        # which only environment.d would expand).
        conf = tempfile.mkdtemp(prefix="dbr-envd-")
        try:
            os.makedirs(os.path.join(conf, "environment.d"))
            shutil.copy(self.path("/etc/dunebugger/remote.env"), os.path.join(conf, "environment.d", "50-remote.conf"))
            out = subprocess.run([ENV_GENERATOR], capture_output=True, text=True, check=True,
                                 env={"XDG_CONFIG_HOME": conf, "PATH": "/usr/bin:/bin"}).stdout
        finally:
            shutil.rmtree(conf)
        # The generator prints NAME=value in shell quoting: let a shell read it back.
        ours = "\n".join(l for l in out.splitlines() if l.partition("=")[0] in SECRETS)
        read = subprocess.run(["bash", "-c", 'eval "$1"; for n in %s; do printf "%%s=%%s\\0" "$n" "${!n}"; done'
                               % " ".join(SECRETS), "bash", ours], capture_output=True, text=True, check=True).stdout
        got = dict(item.split("=", 1) for item in read.split("\0") if item)
        self.assertEqual(got, SECRETS)

    def test_dry_run_changes_nothing_and_prints_every_step(self):
        before = snapshot(self.root)
        r = self.migrate("--dry-run")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(snapshot(self.root), before, "the dry run changed the scratch board")
        self.assertEqual(self.containers(), CONTAINERS)
        # Only read-only questions.
        for call in self.calls("docker"):
            self.assertTrue(call[1:3] == ["compose", "version"] or call[1] == "ps" or "config" in call, call)
        for call in self.calls("apt-get"):
            self.assertIn("--simulate", call)
        self.assertEqual(self.calls("systemctl"), [])
        compose = self.path("/home/pi/docker-compose.yaml")
        for planned in ("would run: docker compose -f %s stop dunebugger-remote" % compose,
                        "would run: docker compose -f %s rm -f dunebugger-remote" % compose,
                        "would write /home/pi/docker-compose.override.yaml",
                        "would set AUTH0_CLIENT_ID",
                        "/etc/dunebugger/dunebugger.conf",
                        "apt-get install -y",
                        "would run: systemctl enable --now dunebugger-remote.service",
                        "would run: systemctl status"):
            self.assertIn(planned, r.stdout)
        steps = [l for l in r.stdout.splitlines() if l.startswith("migrate-docker: step ")]
        real = self.migrate()
        self.assertEqual(real.returncode, 0, real.stderr)
        self.assertEqual(steps, [l for l in real.stdout.splitlines() if l.startswith("migrate-docker: step ")])

    def test_a_second_run_changes_nothing(self):
        self.assertEqual(self.migrate().returncode, 0)
        before = snapshot(self.root)
        first_calls = len(self.calls())
        r = self.migrate()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(snapshot(self.root), before, "the second run changed files")
        self.assertIn("unchanged", r.stdout)
        self.assertIn("removed already", r.stdout)
        again = self.calls()[first_calls:]
        self.assertFalse([c for c in again if c[0] == "docker" and ("stop" in c or "rm" in c)], again)
        self.assertNotIn(["systemctl", "restart", "dunebugger-remote.service"], again)
        self.assertEqual(self.containers(), ["dunebugger-scheduler", "nats-server"])

    def test_keeps_what_was_there(self):
        # A board with the package already: its default config and an edited remote.env.
        os.makedirs(self.path("/etc/dunebugger"))
        shutil.copy(os.path.join(TOP, "config", "dunebugger.conf"), self.path("/etc/dunebugger/dunebugger.conf"))
        with open(os.path.join(TOP, "config", "remote.env")) as f:
            template = f.read()
        with open(self.path("/etc/dunebugger/remote.env"), "w") as f:
            f.write(template + "AUTH0_PASSWORD=old-value\nEXTRA_SETTING=kept\nAUTH0_PASSWORD=older\n")
        os.chmod(self.path("/etc/dunebugger/remote.env"), 0o600)
        r = self.migrate()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        conf_backup = glob.glob(self.path("/etc/dunebugger/dunebugger.conf.pre-migrate-*"))
        env_backup = glob.glob(self.path("/etc/dunebugger/remote.env.pre-migrate-*"))
        self.assertEqual(len(conf_backup), 1)
        self.assertEqual(len(env_backup), 1)
        with open(conf_backup[0]) as f, open(os.path.join(TOP, "config", "dunebugger.conf")) as g:
            self.assertEqual(f.read(), g.read())
        self.assertEqual(stat.S_IMODE(os.stat(env_backup[0]).st_mode), 0o600)
        text = self.remote_env()
        self.assertTrue(text.startswith(template), "the comments and order of remote.env were not kept")
        values = parse_env_file(text)
        self.assertEqual(values.pop("EXTRA_SETTING"), "kept")
        self.assertEqual(values, SECRETS)
        self.assertEqual(text.count("AUTH0_PASSWORD="), 2)  # the template's comment and one assignment

    def test_finds_the_install_without_sudo_user(self):
        r = self.migrate(sudo_user=None)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("compose file: /home/pi/docker-compose.yaml", r.stdout)

    def test_takes_the_files_it_is_given(self):
        os.makedirs(self.path("/srv/db"))
        for name in ("docker-compose.yaml", ".env"):
            shutil.move(self.path("/home/pi/" + name), self.path("/srv/db/" + name))
        shutil.move(self.path("/opt/dunebugger-remote/config/dunebugger.conf"), self.path("/srv/db/agent.conf"))
        self.assertNotEqual(self.migrate().returncode, 0)
        r = self.migrate("--compose", "/srv/db/docker-compose.yaml", "--env", "/srv/db/.env",
                         "--config", "/srv/db/agent.conf")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(parse_env_file(self.remote_env()), SECRETS)
        self.assertTrue(os.path.exists(self.path("/srv/db/docker-compose.override.yaml")))

    def test_reads_other_shapes_of_the_compose_file(self):
        # Stage 3's own template (version key, older image names), long-syntax
        # volume and depends_on, another env_file name and file name.
        os.remove(self.path("/home/pi/docker-compose.yaml"))
        shutil.move(self.path("/home/pi/.env"), self.path("/home/pi/secrets.env"))
        os.makedirs(self.path("/srv/remote-config"))
        shutil.move(self.path("/opt/dunebugger-remote/config/dunebugger.conf"),
                    self.path("/srv/remote-config/dunebugger.conf"))
        with open(self.path("/home/pi/compose.yml"), "w") as f:
            f.write("version: '3.8'\n"
                    "services:\n"
                    "  nats-server:\n"
                    "    image: nats:latest\n"
                    "    network_mode: host  # host networking\n"
                    "  \"dunebugger-remote\":\n"
                    "    image: ilciclaio/dunebugger-remote:latest\n"
                    "    env_file: [ secrets.env ]\n"
                    "    volumes:\n"
                    "      - type: bind\n"
                    "        source: /srv/remote-config\n"
                    "        target: /app/app/config\n"
                    "      - /proc:/host/proc:ro\n"
                    "    depends_on:\n"
                    "      - nats-server\n"
                    "  dunebugger-scheduler:\n"
                    "    image: ilciclaio/dunebugger-scheduler:latest\n"
                    "    depends_on:\n"
                    "      dunebugger-remote:\n"
                    "        condition: service_started\n")
        r = self.migrate()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(".env: /home/pi/secrets.env", r.stdout)
        self.assertIn("config: /srv/remote-config/dunebugger.conf", r.stdout)
        self.assertEqual(parse_env_file(self.remote_env()), SECRETS)
        with open(self.path("/home/pi/compose.override.yml")) as f:
            override = f.read()
        self.assertIn("  dunebugger-scheduler:\n    depends_on:\n      dunebugger-remote:\n", override)
        self.assert_docker_touches_only_the_agent()

    # -- what it refuses, before it changes anything ----------------------------------------

    def assert_nothing_changed(self, before):
        self.assertEqual(snapshot(self.root), before)
        self.assertEqual(self.containers(), CONTAINERS)
        self.assert_docker_touches_only_the_agent()
        self.assertFalse([c for c in self.calls("docker") if "stop" in c or "rm" in c])
        self.assertFalse([c for c in self.calls("apt-get") if "install" in c and "--download-only" not in c
                          and "--simulate" not in c])
        self.assertEqual(self.calls("systemctl"), [])

    def test_missing_env_is_a_clear_error(self):
        os.remove(self.path("/home/pi/.env"))
        before = snapshot(self.root)
        r = self.migrate()
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("/home/pi/.env not found", r.stderr)
        self.assertIn("--env", r.stderr)
        self.assert_nothing_changed(before)

    def test_missing_compose_file_is_a_clear_error(self):
        os.remove(self.path("/home/pi/docker-compose.yaml"))
        before = snapshot(self.root)
        r = self.migrate()
        self.assertEqual(r.returncode, 1)
        self.assertIn("no compose file with a dunebugger-remote service", r.stderr)
        self.assertIn("--compose", r.stderr)
        self.assert_nothing_changed(before)
        r = self.migrate("--compose", "/home/pi/nothing.yaml")
        self.assertEqual(r.returncode, 1)
        self.assertIn("/home/pi/nothing.yaml not found", r.stderr)

    def test_refuses_a_package_for_another_suite_or_architecture(self):
        before = snapshot(self.root)
        r = self.migrate("--deb", self.bookworm_deb)
        self.assertEqual(r.returncode, 1)
        self.assertIn("is for bookworm; this board runs trixie", r.stderr)
        r = self.migrate("--deb", self.foreign_deb)
        self.assertEqual(r.returncode, 1)
        self.assertIn("is for %s; this board is %s" % (self.other_arch, self.arch), r.stderr)
        self.assert_nothing_changed(before)

    def test_a_package_apt_cannot_install_changes_nothing(self):
        before = snapshot(self.root)
        r = self.migrate(extra_env={"DBR_APT_FAIL": "1"})
        self.assertEqual(r.returncode, 1)
        self.assertIn("nothing was changed", r.stderr)
        self.assert_nothing_changed(before)

    def test_a_compose_without_required_false_changes_nothing(self):
        before = snapshot(self.root)
        r = self.migrate(extra_env={"DBR_DOCKER_OLD_COMPOSE": "1"})
        self.assertEqual(r.returncode, 1)
        self.assertIn("Compose 2.20", r.stderr)
        self.assert_nothing_changed(before)

    def test_an_override_file_of_the_user_is_not_overwritten(self):
        with open(self.path("/home/pi/docker-compose.override.yml"), "w") as f:
            f.write("services:\n  nats-server:\n    command: [\"-m\", \"8222\"]\n")
        before = snapshot(self.root)
        r = self.migrate()
        self.assertEqual(r.returncode, 1)
        self.assertIn("--no-override", r.stderr)
        self.assertIn("profiles: [disabled]", r.stderr)  # what to merge into it
        self.assert_nothing_changed(before)
        r = self.migrate("--no-override")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.containers(), ["dunebugger-scheduler", "nats-server"])
        self.assertFalse(os.path.exists(self.path("/home/pi/docker-compose.override.yaml")))

    def test_bad_arguments_exit_2(self):
        self.assertEqual(self.migrate("--bogus").returncode, 2)
        self.assertEqual(self.migrate("--compose", deb=False).returncode, 2)

    # -- the .env, read as Docker Compose reads it ----------------------------------------

    def test_env_quoting_and_what_is_left_out(self):
        with open(self.path("/home/pi/.env"), "w") as f:
            f.write("# comment line\n\n"
                    "export DEVICE_ID=bare-id\n"
                    "LOCATION_DESCRIPTION=Hall with spaces   # trailing comment\n"
                    "WS_GROUP_NAME='single $NOT_EXPANDED \"x\" \\n'\n"
                    "AUTH0_CLIENT_ID=\"crlf-id\"\r\n"
                    "AUTH0_CLIENT_SECRET=\"a#b\"  # c\n"
                    "AUTH0_USERNAME=\n"
                    "AUTH0_PASSWORD=\"\"\n"
                    "TZ=Europe/Rome\n"
                    "WEBPUBSUB_CONNECTION_STRING=Endpoint=https://x.invalid;AccessKey=fakeKey0==;Version=1.0;\n")
        r = self.migrate()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(parse_env_file(self.remote_env()), {
            "DEVICE_ID": "bare-id",
            "LOCATION_DESCRIPTION": "Hall with spaces",
            "WS_GROUP_NAME": 'single $NOT_EXPANDED "x" \\n',
            "AUTH0_CLIENT_ID": "crlf-id",
            "AUTH0_CLIENT_SECRET": "a#b",
            "WEBPUBSUB_CONNECTION_STRING": "Endpoint=https://x.invalid;AccessKey=fakeKey0==;Version=1.0;",
        })
        self.assertIn("empty, left out: AUTH0_USERNAME AUTH0_PASSWORD", r.stdout)
        self.assertIn("not read by the agent, left out: TZ", r.stdout)
        self.assertNotIn("Europe/Rome", r.stdout + r.stderr)
        self.assertNotIn("fakeKey0", r.stdout + r.stderr)

    def test_a_line_it_cannot_read_is_named_by_number_only(self):
        with open(self.path("/home/pi/.env"), "a") as f:
            f.write('AUTH0_PASSWORD="unterminated-secret-value\n')
        before = snapshot(self.root)
        r = self.migrate()
        self.assertEqual(r.returncode, 1)
        self.assertIn("line 8 (AUTH0_PASSWORD): no closing quote", r.stderr)
        self.assertNotIn("unterminated-secret-value", r.stdout + r.stderr)
        self.assert_nothing_changed(before)


if __name__ == "__main__":
    unittest.main(verbosity=2)
