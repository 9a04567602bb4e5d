"""The Debian package (issue 21): `make deb` builds it with debhelper and
lintian finds no error; it holds the binaries, man pages, rules, holidays,
units, sysusers and tmpfiles files and the conffile, and depends on run-time
packages only; installed into a scratch root it runs.

The package is built once (make deb rebuilds it only when a file it is
made from changed) and every test reuses it.

Installing: `dpkg --root=ROOT` with --force-script-chrootless. dpkg --root
normally runs the maintainer scripts chrooted into ROOT, which holds no
shell, no systemd-sysusers and no libraries; chrootless, dpkg runs them from
the host with DPKG_ROOT=ROOT, and debhelper's snippets pass it on
(systemd-sysusers --root, systemd-tmpfiles --root, deb-systemd-helper), so
the careclock user, /var/lib/careclock and the units' enablement are made
inside ROOT. systemctl and deb-systemd-invoke are replaced by no-ops on
PATH so that nothing reaches this machine's systemd. --force-depends:
the libraries are the host's, not installed in ROOT.

Running: in a private mount and network namespace (unshare -m -n), the
host's libraries and time zones are bound read-only into ROOT and the
programs run chrooted there, so they read ROOT's /etc/careclock, units,
passwd and /var/lib/careclock as on a server, and the listen check binds
ROOT's own loopback. Needs root; skipped otherwise."""
import os
import shutil
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
with open(os.path.join(ROOT, "VERSION")) as f:
    VERSION = f.read().strip()

CHROOT = r"""
set -e
R=$1; shift
mount --make-rprivate /
for d in usr/lib/x86_64-linux-gnu usr/lib64 usr/share/zoneinfo lib/x86_64-linux-gnu; do
    mkdir -p "$R/$d"
    src=/$d; [ -d "$src" ] || src=/usr/$d
    mount --bind -o ro "$src" "$R/$d"
done
[ -e "$R/lib64" ] || ln -s usr/lib64 "$R/lib64"
ip link set lo up
exec chroot "$R" "$@"
"""


def have(*tools):
    return all(shutil.which(t) for t in tools)


class Package(unittest.TestCase):
    deb = None
    build_error = None

    @classmethod
    def setUpClass(cls):
        # The package is built without sanitizers: make SANITIZE=1 test would
        # check the same .deb again (CI runs both).
        if os.path.basename(os.environ.get("CARECLOCK_REAL_BUILD", "").rstrip("/")) == "sanitize":
            raise unittest.SkipTest("the package is checked by the plain build's make test")
        if not have("dpkg-buildpackage", "dh", "scdoc"):
            raise unittest.SkipTest("debhelper, dpkg-dev or scdoc is missing (make deps installs them)")
        env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
        p = subprocess.run(["make", "-s", "deb"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
        if p.returncode != 0:
            cls.build_error = p.stdout + p.stderr
            return
        arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True).stdout.strip()
        cls.deb = os.path.join(ROOT, "build", "deb", "careclock_%s_%s.deb" % (VERSION, arch))

    def setUp(self):
        self.assertIsNone(self.build_error, self.build_error)
        self.assertTrue(os.path.exists(self.deb), self.deb)

    def field(self, name):
        return subprocess.run(["dpkg-deb", "-f", self.deb, name], capture_output=True, text=True,
                              check=True).stdout.strip()

    def test_lintian_finds_no_error(self):
        if not have("lintian"):
            self.skipTest("lintian is missing")
        with open(os.path.join(ROOT, "build", "deb", "lintian.txt")) as f:
            report = f.read()
        self.assertEqual([l for l in report.splitlines() if l.startswith("E:")], [], report)

    def test_contents(self):
        listing = subprocess.run(["dpkg-deb", "-c", self.deb], capture_output=True, text=True, check=True).stdout
        paths = {line.split()[5].lstrip(".") for line in listing.splitlines()}
        for path in ("/usr/bin/careclock", "/usr/sbin/careclockd", "/usr/share/man/man1/careclock.1.gz",
                     "/usr/share/man/man8/careclockd.8.gz", "/usr/share/man/man5/careclock.conf.5.gz",
                     "/usr/share/man/man5/careclock-rules.5.gz", "/usr/share/careclock/rules/england.rules",
                     "/usr/share/careclock/holidays/england-and-wales.ics",
                     "/lib/systemd/system/careclockd.service", "/lib/systemd/system/careclock-backup.timer",
                     "/lib/systemd/system/careclock-backup.service", "/lib/systemd/system/careclock-prune.timer",
                     "/lib/systemd/system/careclock-prune.service", "/usr/lib/sysusers.d/careclock.conf",
                     "/usr/lib/tmpfiles.d/careclock.conf", "/etc/careclock/careclock.conf",
                     "/usr/share/bash-completion/completions/careclock"):
            self.assertIn(path, paths)
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(["dpkg-deb", "-e", self.deb, tmp], check=True)
            with open(os.path.join(tmp, "conffiles")) as f:
                self.assertEqual(f.read().split(), ["/etc/careclock/careclock.conf"])
            with open(os.path.join(tmp, "postinst")) as f:
                postinst = f.read()
            # the user before the directories it owns
            self.assertLess(postinst.index("systemd-sysusers"), postinst.index("systemd-tmpfiles"))

    def test_version_and_run_time_dependencies_only(self):
        self.assertEqual(self.field("Version"), VERSION)
        depends = [d.strip() for d in self.field("Depends").split(",")]
        names = [d.split()[0] for d in depends]
        self.assertFalse([n for n in names if n.endswith("-dev")], depends)
        runtime = subprocess.run([os.path.join(ROOT, "tools", "deps.sh"), "--runtime"], capture_output=True,
                                 text=True, check=True).stdout.split()
        # every library and tool the package needs is on the server list, and the reverse
        self.assertEqual(sorted(set(names) - {"libc6"}), sorted(runtime))

    @unittest.skipUnless(os.geteuid() == 0, "installing into a scratch root and chroot need root")
    def test_installs_into_a_scratch_root_and_runs(self):
        if not have("unshare", "chroot", "ip", "systemd-sysusers", "systemd-tmpfiles"):
            self.skipTest("unshare, chroot, ip or systemd's sysusers and tmpfiles are missing")
        tmp = tempfile.mkdtemp(prefix="careclock-root-")
        try:
            root = os.path.join(tmp, "root")
            stub = os.path.join(tmp, "stub")
            for d in ("var/lib/dpkg/info", "var/lib/dpkg/updates"):
                os.makedirs(os.path.join(root, d))
            for name in ("status", "available"):
                open(os.path.join(root, "var/lib/dpkg", name), "w").close()
            os.mkdir(stub)
            for tool in ("systemctl", "deb-systemd-invoke"):
                with open(os.path.join(stub, tool), "w") as f:
                    f.write("#!/bin/sh\nexit 0\n")
                os.chmod(os.path.join(stub, tool), 0o755)
            env = dict(os.environ, PATH=stub + ":" + os.environ["PATH"])
            p = subprocess.run(["dpkg", "--root=" + root, "--force-script-chrootless", "--force-depends",
                                "--log=/dev/null", "-i", self.deb], env=env, capture_output=True, text=True,
                               timeout=120)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            # the maintainer scripts ran inside the root
            with open(os.path.join(root, "etc/passwd")) as f:
                self.assertRegex(f.read(), r"(?m)^careclock:x:\d+:\d+:")
            state = os.stat(os.path.join(root, "var/lib/careclock"))
            self.assertEqual(state.st_mode & 0o777, 0o750)
            for wanted in ("multi-user.target.wants/careclockd.service", "timers.target.wants/careclock-backup.timer",
                           "timers.target.wants/careclock-prune.timer"):
                self.assertTrue(os.path.islink(os.path.join(root, "etc/systemd/system", wanted)), wanted)
            script = os.path.join(tmp, "chroot.sh")
            with open(script, "w") as f:
                f.write(CHROOT)

            # as on a server: no $CARECLOCK_CONFIG or $CARECLOCK_DB (tests/run.sh sets the first)
            server_env = {k: v for k, v in os.environ.items() if k not in ("CARECLOCK_CONFIG", "CARECLOCK_DB")}

            def inside(*args):
                return subprocess.run(["unshare", "-m", "-n", "sh", script, root] + list(args), env=server_env,
                                      capture_output=True, text=True, timeout=60)

            p = inside("/usr/bin/careclock", "--version")
            self.assertEqual((p.returncode, p.stdout), (0, "careclock %s\n" % VERSION), p.stderr)
            p = inside("/usr/sbin/careclockd", "--version")
            self.assertEqual((p.returncode, p.stdout), (0, "careclockd %s\n" % VERSION), p.stderr)
            # The check reads the conffile, the unit's User=, ROOT's careclock
            # user and the state directory tmpfiles made for it.
            p = inside("/usr/sbin/careclockd", "--check-config")
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertIn("checking /etc/careclock/careclock.conf (the default path)", p.stdout)
            self.assertIn("checking as the service user careclock (User= in /lib/systemd/system/careclockd.service)",
                          p.stdout)
            rules = inside("/usr/bin/careclock", "rules", "list").stdout.count("\n")
            self.assertGreater(rules, 10)
            self.assertIn("/etc/careclock/careclock.conf is valid: %d rules" % rules, p.stdout)
            # The packaged man page is the one Documentation= names.
            p = inside("/usr/bin/careclock", "config", "show", "--changed")
            self.assertIn("delivery_retention_days = 365", p.stdout)
            with open(os.path.join(root, "lib/systemd/system/careclockd.service")) as f:
                unit = f.read()
            self.assertIn("Documentation=man:careclockd(8)", unit)
            self.assertIn("ExecStart=/usr/sbin/careclockd --config /etc/careclock/careclock.conf", unit)
        finally:
            subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    unittest.main()
