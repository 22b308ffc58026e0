"""make install into a private DESTDIR: the tree, the modes, the units.

Runs the real `make install` (mk/install.mk) of the repository with the
build directory under test, into a temporary DESTDIR under tests/tmp,
and checks every file it wrote; then lints the manual pages and has
systemd-analyze verify the units. Nothing is written outside DESTDIR.
"""

import os
import re
import shutil
import stat
import subprocess
import tempfile
import unittest

import harness

# Every file `make install` writes with PREFIX=/usr/local, and its mode.
DOC = "usr/local/share/doc/wc2sf/"
UNITS = "usr/local/lib/systemd/system/"
EXPECTED = {
    "usr/local/bin/wc2sf": 0o755,
    "usr/local/sbin/wc2sf.fcgi": 0o755,
    "etc/wc2sf/wc2sf.conf": 0o600,
    UNITS + "wc2sf.socket": 0o644,
    UNITS + "wc2sf.service": 0o644,
    UNITS + "wc2sf-replay.service": 0o644,
    UNITS + "wc2sf-replay.timer": 0o644,
    "usr/local/share/man/man1/wc2sf.1": 0o644,
    "usr/local/share/man/man5/wc2sf.conf.5": 0o644,
    "usr/local/share/man/man8/wc2sf.fcgi.8": 0o644,
    DOC + "README.md": 0o644,
    DOC + "wc2sf.conf.sample": 0o644,
    DOC + "apache-conf/README.md": 0o644,
    DOC + "apache-conf/wc2sf-fcgid.conf": 0o644,
    DOC + "apache-conf/wc2sf-proxy-fcgi.conf": 0o644,
    DOC + "apache-conf/shared-hosting/cgi.htaccess": 0o644,
    DOC + "apache-conf/shared-hosting/fcgid.htaccess": 0o644,
    DOC + "apache-conf/shared-hosting/hook-fcgid.sh": 0o755,
    DOC + "nginx-conf/README.md": 0o644,
    DOC + "nginx-conf/wc2sf.conf": 0o644,
}
for _page in sorted(os.listdir(os.path.join(harness.REPO, "docs"))):
    if _page.endswith(".md"):
        EXPECTED[DOC + "docs/" + _page] = 0o644
# salesforce/, the metadata `wc2sf check` asks people to deploy, whole.
SF = "usr/local/share/wc2sf/salesforce/"
_sf_root = os.path.join(harness.REPO, "salesforce")
for _root, _, _files in os.walk(_sf_root):
    for _name in _files:
        if not _name.startswith("."):
            _rel = os.path.relpath(os.path.join(_root, _name), _sf_root)
            EXPECTED[SF + _rel] = 0o644
SF_FILES = [p for p in EXPECTED if p.startswith(SF)]
MAN_PAGES = [p for p in EXPECTED if "/man/man" in p]


def make_env():
    """The environment for a make of our own: none of the outer make's."""
    return {k: v for k, v in os.environ.items()
            if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEFILES")}


class Install(unittest.TestCase):

    def setUp(self):
        os.makedirs(harness.TMP_ROOT, exist_ok=True)
        self.destdir = tempfile.mkdtemp(prefix="install-",
                                        dir=harness.TMP_ROOT)
        self.addCleanup(shutil.rmtree, self.destdir, ignore_errors=True)

    def make(self, target, **variables):
        """
        make TARGET with the build under test, taken as it is (-o): a
        sanitizer build must not be relinked with the default flags.
        """
        build = harness.build_dir()
        argv = ["make", "-s", "-C", harness.REPO, target,
                "-o", os.path.join(build, "wc2sf"),
                "-o", os.path.join(build, "wc2sf.fcgi"),
                "BUILD=" + build, "DESTDIR=" + self.destdir]
        argv += [f"{k}={v}" for k, v in variables.items()]
        proc = subprocess.run(argv, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True,
                              env=make_env(), timeout=300)
        self.assertEqual(proc.returncode, 0, proc.stdout)
        return proc.stdout

    def dest(self, path):
        return os.path.join(self.destdir, path)

    def tree(self):
        """{relative path: mode} of every file under DESTDIR."""
        found = {}
        for root, _, files in os.walk(self.destdir):
            for name in files:
                full = os.path.join(root, name)
                rel = os.path.relpath(full, self.destdir)
                found[rel] = stat.S_IMODE(os.lstat(full).st_mode)
        return found

    def read(self, path):
        with open(self.dest(path)) as f:
            return f.read()

    def test_tree_and_modes(self):
        self.make("install")
        tree = self.tree()
        self.assertEqual(tree, EXPECTED, {
            "missing": sorted(set(EXPECTED) - set(tree)),
            "unexpected": sorted(set(tree) - set(EXPECTED)),
            "modes": {p: oct(m) for p, m in tree.items()
                      if p in EXPECTED and EXPECTED[p] != m}})
        with open(os.path.join(harness.REPO, "wc2sf.conf.sample")) as f:
            sample = f.read()
        self.assertEqual(self.read("etc/wc2sf/wc2sf.conf"), sample)
        self.assertEqual(self.read(DOC + "wc2sf.conf.sample"), sample)
        for name in ("usr/local/bin/wc2sf", "usr/local/sbin/wc2sf.fcgi"):
            with self.subTest(binary=name):
                proc = subprocess.run([self.dest(name), "--help"],
                                      stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True,
                                      timeout=30)
                self.assertEqual(proc.returncode, 0, proc.stdout)
                self.assertIn("usage: " + os.path.basename(name),
                              proc.stdout)

    def test_salesforce_metadata_is_the_source(self):
        self.make("install")
        # the permission set and a field, byte for byte, and the files
        # sf needs to find the project.
        for rel in ("sfdx-project.json", "README.md",
                    "force-app/main/default/permissionsets/"
                    "wc2sf_integration.permissionset-meta.xml",
                    "force-app/main/default/objects/Order/fields/"
                    "WC_Order_Id__c.field-meta.xml"):
            with self.subTest(file=rel):
                with open(os.path.join(_sf_root, rel)) as f:
                    self.assertEqual(self.read(SF + rel), f.read())
        self.assertGreater(len(SF_FILES), 10)

    def test_both_binaries_report_one_version(self):
        self.make("install")
        # make lean's builds (mk/lean.mk) name the Debian versions in them
        lean = os.path.exists(os.path.join(harness.build_dir(),
                                           "lean_built.h"))
        versions = {}
        for name in ("usr/local/bin/wc2sf", "usr/local/sbin/wc2sf.fcgi"):
            proc = subprocess.run([self.dest(name), "--version"],
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True,
                                  timeout=30)
            self.assertEqual((proc.returncode, proc.stderr), (0, ""), name)
            prog = os.path.basename(name)
            m = re.fullmatch(re.escape(prog) + r" (\d+\.\d+\.\d+)\n"
                             r"libcurl/\S+ OpenSSL/\S+ .*"
                             r"SQLite/\d+\.\d+\.\d+ json-c/\S+\n"
                             # a lean build's Debian versions
                             r"(static \(make lean\): curl \S+ \(source\), "
                             r"libssl-dev \S+, .*\n)?",
                             proc.stdout)
            self.assertIsNotNone(m, proc.stdout)
            self.assertEqual(m.group(2) is not None, lean, proc.stdout)
            versions[prog] = m.group(1)
        self.assertEqual(versions["wc2sf"], versions["wc2sf.fcgi"])

    def test_command_help_and_usage_mistakes(self):
        self.make("install")
        wc2sf = self.dest("usr/local/bin/wc2sf")
        text = subprocess.run([wc2sf, "--help"], stdout=subprocess.PIPE,
                              text=True, timeout=30).stdout
        self.assertRegex(text, r"Every command \(status, events, show, "
                         r"replay, prune, check\) takes\n--json")
        self.assertIn("--version", text)
        # a usage mistake names the word at fault, even inside "-xc".
        for argv, named in ((["-xc", "f", "status"], "unknown option -x"),
                            (["--bogus", "status"], "unexpected --bogus"),
                            (["--version=2"], "unexpected --version=2"),
                            (["--config"], "--config needs a value"),
                            (["help", "status", "extra"],
                             "unexpected extra")):
            with self.subTest(argv=argv):
                proc = subprocess.run([wc2sf] + argv,
                                      stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True,
                                      timeout=30)
                self.assertEqual((proc.returncode, proc.stdout), (2, ""))
                self.assertIn(named, proc.stderr.splitlines()[0])

    def test_units(self):
        self.make("install")
        service = self.read(UNITS + "wc2sf.service")
        for line in ("User=wc2sf", "Group=wc2sf", "StateDirectory=wc2sf",
                     "ProtectSystem=strict", "NoNewPrivileges=yes",
                     "PrivateTmp=yes", "ProtectHome=yes",
                     "StandardInput=socket",
                     "Environment=WC2SF_CONFIG=/etc/wc2sf/wc2sf.conf",
                     "ExecStart=/usr/local/sbin/wc2sf.fcgi"):
            self.assertIn("\n" + line + "\n", service)
        socket_unit = self.read(UNITS + "wc2sf.socket")
        self.assertIn("\nListenStream=/run/wc2sf/wc2sf.sock\n", socket_unit)
        replay = self.read(UNITS + "wc2sf-replay.service")
        self.assertIn("\nExecStart=/usr/local/bin/wc2sf replay --due "
                      "--seconds 240\n", replay)
        self.assertIn("\nType=oneshot\n", replay)
        self.assertIn("\nUser=wc2sf\n", replay)
        self.assertIn("\nOnUnitInactiveSec=5min\n",
                      self.read(UNITS + "wc2sf-replay.timer"))

        analyze = shutil.which("systemd-analyze")
        if analyze is None:
            self.skipTest("systemd-analyze is not installed")
        # systemd-analyze checks that ExecStart= exists: point the units
        # at the installed binaries for the check.
        check = os.path.join(self.destdir, "verify")
        os.makedirs(check)
        for name in os.listdir(self.dest(UNITS)):
            text = self.read(UNITS + name).replace(
                "/usr/local/", self.dest("usr/local/"))
            with open(os.path.join(check, name), "w") as f:
                f.write(text)
        proc = subprocess.run(
            [analyze, "verify", "--man=no"]
            + sorted(os.path.join(check, n) for n in os.listdir(check)),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            timeout=60)
        self.assertEqual((proc.returncode, proc.stdout.strip()), (0, ""))

    def test_prefix_and_sysconfdir_reach_the_units(self):
        self.make("install", PREFIX="/usr", SYSCONFDIR="/etc/shop")
        tree = self.tree()
        self.assertEqual(tree["usr/sbin/wc2sf.fcgi"], 0o755)
        self.assertEqual(tree["etc/shop/wc2sf/wc2sf.conf"], 0o600)
        service = self.read("usr/lib/systemd/system/wc2sf.service")
        self.assertIn("\nExecStart=/usr/sbin/wc2sf.fcgi\n", service)
        self.assertIn("\nEnvironment=WC2SF_CONFIG=/etc/shop/wc2sf/"
                      "wc2sf.conf\n", service)
        self.assertNotIn("/usr/local/", service)
        fcgid = self.read("usr/share/doc/wc2sf/apache-conf/"
                          "wc2sf-fcgid.conf")
        self.assertIn("\nScriptAlias /wc2sf/hook /usr/sbin/wc2sf.fcgi\n",
                      fcgid)
        self.assertIn("\nFcgidInitialEnv WC2SF_CONFIG /etc/shop/wc2sf/"
                      "wc2sf.conf\n", fcgid)
        self.assertFalse(any(p.startswith("usr/local") for p in tree))

    def test_existing_config_is_kept(self):
        conf = self.dest("etc/wc2sf/wc2sf.conf")
        os.makedirs(os.path.dirname(conf))
        with open(conf, "w") as f:
            f.write("[woocommerce]\nsecret = mine\n")
        os.chmod(conf, 0o640)
        out = self.make("install")
        self.assertIn("kept", out)
        self.assertEqual(self.read("etc/wc2sf/wc2sf.conf"),
                         "[woocommerce]\nsecret = mine\n")
        self.assertEqual(stat.S_IMODE(os.stat(conf).st_mode), 0o640)

        # uninstall takes everything else away again.
        self.make("uninstall")
        self.assertEqual(self.tree(), {"etc/wc2sf/wc2sf.conf": 0o640})
        self.assertFalse(os.path.exists(self.dest("usr/local/share/wc2sf")))

    def test_man_pages(self):
        self.make("install")
        mandoc = shutil.which("mandoc")
        man = shutil.which("man")
        if mandoc is None and man is None:
            self.skipTest("neither mandoc nor man is installed")
        for page in MAN_PAGES:
            with self.subTest(page=page):
                path = self.dest(page)
                name = os.path.basename(page).rsplit(".", 1)[0]
                if mandoc:
                    proc = subprocess.run(
                        [mandoc, "-Tlint", "-W", "warning", path],
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                        text=True, timeout=60)
                    self.assertEqual((proc.returncode, proc.stdout), (0, ""))
                if man:
                    proc = subprocess.run(
                        [man, "--warnings", "-l", path],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                        text=True, timeout=60,
                        env=dict(make_env(), MANWIDTH="80", MANPAGER="cat",
                                 PAGER="cat"))
                    self.assertEqual(proc.returncode, 0, proc.stderr)
                    self.assertEqual(proc.stderr, "")
                    self.assertIn(name, proc.stdout)
                    self.assertRegex(proc.stdout, r"(?m)^NAME$")


if __name__ == "__main__":
    unittest.main()
