"""A private wc2sf installation for one test: fake Salesforce, wc2sf, nginx.

Harness builds everything under tests/tmp/<name>-<pid>/ and nothing
outside it (except, when the repository path is too long for a Unix
socket or, as root, not reachable by nginx's "nobody" workers, a short
run directory under the system temporary directory):

    ca/ (shared)    the test CA from tests/tls/mkca.sh, made once per run
    fake_sf.log     the fake Salesforce's output
    wc2sf.conf      wc2sf's configuration (mode 0600)
    wc2sf.db        its SQLite journal
    wc2sf.log       its log ([log] file)
    fcgi.stderr     the responder's standard error (cgi.stderr for CGI)
    wc2sf-site.conf nginx-conf/wc2sf.conf with this socket and body size
    nginx.conf      a minimal nginx that includes it
    nginx-*.log     nginx's error and access logs

Deliveries are sent with curl, byte for byte, with the captured headers.
Every process is started in its own process group and the whole group is
stopped in close(), which unittest cleanups and an atexit hook both call,
so a failing test leaves nothing running. All waits poll with a deadline.
"""

import atexit
import base64
import ctypes
import grp
import hashlib
import hmac
import json
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TESTS = os.path.join(REPO, "tests")
TMP_ROOT = os.path.join(TESTS, "tmp")
CA_DIR = os.path.join(TMP_ROOT, "ca")
MKCA = os.path.join(TESTS, "tls", "mkca.sh")
FAKE_SF = os.path.join(TESTS, "fake_sf", "fake_sf.py")
NGINX_SNIPPET = os.path.join(REPO, "nginx-conf", "wc2sf.conf")
SNIPPET_SOCKET = "/run/wc2sf/wc2sf.sock"
HOOK_PATH = "/wc2sf/hook"

SECRET = "test-secret-123"
SF_CLIENT_ID = "wc2sf-test-client"
SF_CLIENT_SECRET = "test-client-secret-9f8e7d"
SF_USERNAME = "integration@example.test"
SF_PASSWORD = "test-password-1a2b3cSECTOKEN"

# Headers curl writes itself; a replay leaves them to curl.
CURL_OWNS = ("host", "content-length", "connection")
# Headers curl adds on its own unless told otherwise; a replay removes
# the ones the capture did not have.
CURL_DEFAULTS = ("User-Agent", "Accept", "Content-Type")

START_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0
REQUEST_TIMEOUT = 60

_live = set()


class HarnessError(Exception):
    """Something the harness itself could not do (start, stop, send)."""


def repo_path(path):
    """path as given when absolute, else relative to the repository."""
    return path if os.path.isabs(path) else os.path.join(REPO, path)


def build_dir():
    return repo_path(os.environ.get("WC2SF_BUILD") or "build")


def shared_dir():
    return repo_path(os.environ.get("WC2SF_SHARED") or "../shared")


def fixture_dir():
    return os.path.join(shared_dir(), "fixtures", "woocommerce-10.0.2")


def sign(body, secret=SECRET):
    """WooCommerce's X-WC-Webhook-Signature of body (bytes)."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def wait_until(predicate, timeout, what):
    """Poll predicate until it returns something true, or fail."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise HarnessError(f"timed out after {timeout:g}s waiting "
                               f"for {what}")
        time.sleep(0.02)


def tail(path, lines=20):
    """The last lines of a text file, or a note that it is missing."""
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return f"({os.path.basename(path)}: none)"
    return "\n".join(text.splitlines()[-lines:])


def tool(name):
    """The path of a program, also where a user's PATH has no sbin."""
    found = shutil.which(name)
    for d in ("/usr/sbin", "/sbin", "/usr/local/sbin"):
        if found:
            break
        if os.access(os.path.join(d, name), os.X_OK):
            found = os.path.join(d, name)
    if not found:
        raise HarnessError(f"{name} is not installed (see scripts/deps.sh)")
    return found


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_log_line(line):
    """A wc2sf key=value log line as a dict (quoted values unquoted)."""
    fields = {}
    for m in re.finditer(r'([A-Za-z0-9_.-]+)=("(?:[^"\\]|\\.)*"|\S*)',
                         line):
        value = m.group(2)
        if value.startswith('"'):
            value = re.sub(r'\\(.)', r'\1', value[1:-1])
        fields[m.group(1)] = value
    return fields


class Fixture:
    """One captured delivery: NNN-topic.headers and NNN-topic.body."""

    def __init__(self, base):
        directory = fixture_dir()
        if not os.path.exists(os.path.join(directory, base + ".headers")):
            names = sorted(n[:-len(".headers")]
                           for n in os.listdir(directory)
                           if n.startswith(base + "-")
                           and n.endswith(".headers"))
            if len(names) != 1:
                raise HarnessError(f"no single fixture {base!r} in "
                                   f"{directory}")
            base = names[0]
        self.base = base
        self.body_path = os.path.join(directory, base + ".body")
        with open(os.path.join(directory, base + ".headers"), "rb") as f:
            raw = f.read()
        with open(self.body_path, "rb") as f:
            self.body = f.read()
        lines = raw.decode("latin-1").split("\r\n")
        self.method, self.target, _ = lines[0].split(" ", 2)
        self.headers = []
        for line in lines[1:]:
            if line == "":
                break
            name, value = line.split(":", 1)
            self.headers.append((name, value.strip(" \t")))

    def header(self, name):
        for n, v in self.headers:
            if n.lower() == name.lower():
                return v
        return None

    @property
    def topic(self):
        return self.header("X-WC-Webhook-Topic") or "(ping)"

    def json(self):
        return json.loads(self.body)


class Reply:
    """What came back: status, headers, body and the body as JSON."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    @property
    def result(self):
        if isinstance(self.json, dict):
            return self.json.get("result")
        return None

    def __repr__(self):
        text = self.body[:400].decode("utf-8", "replace")
        return f"<Reply {self.status} {text!r}>"


def _die_with_parent():
    """In a child: get SIGKILL if the test runner dies abruptly."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)		# PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Process:
    """A child in its own process group, output to a file."""

    def __init__(self, name, argv, log_path, env=None, cwd=None):
        self.name = name
        self.argv = argv
        self.log_path = log_path
        with open(log_path, "ab") as log:
            try:
                self.popen = subprocess.Popen(
                    argv, env=env, cwd=cwd or REPO,
                    stdin=subprocess.DEVNULL, stdout=log,
                    stderr=subprocess.STDOUT, start_new_session=True,
                    preexec_fn=_die_with_parent)
            except OSError as e:
                raise HarnessError(f"cannot start {name} ({argv[0]}): "
                                   f"{e}") from e

    @property
    def pid(self):
        return self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    def check_alive(self):
        if not self.alive():
            raise HarnessError(f"{self.name} exited with status "
                               f"{self.popen.returncode}:\n"
                               f"{tail(self.log_path)}")

    def stop(self):
        """SIGTERM to the group, then SIGKILL to whatever is left."""
        pgid = self.popen.pid
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(timeout=STOP_TIMEOUT)
                wait_until(lambda: not _group_exists(pgid), STOP_TIMEOUT,
                           f"{self.name}'s process group to exit")
                return
            except (subprocess.TimeoutExpired, HarnessError):
                continue
        self.popen.wait(timeout=STOP_TIMEOUT)


def _group_exists(pgid):
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _reachable_by_others(path):
    """True if every directory from / to path lets "other" search it."""
    path = os.path.abspath(path)
    while True:
        if not os.stat(path).st_mode & 0o001:
            return False
        parent = os.path.dirname(path)
        if parent == path:
            return True
        path = parent


_ca_ready = False


def _ensure_ca():
    """
    tests/tmp/ca/ from mkca.sh, made once per run: mkca.sh keeps the
    files that exist and is safe to run from several processes.
    """
    global _ca_ready
    if _ca_ready:
        return CA_DIR
    if not os.path.exists(MKCA):
        raise HarnessError(f"{MKCA} is missing")
    os.makedirs(TMP_ROOT, exist_ok=True)
    proc = subprocess.run(["sh", MKCA, CA_DIR], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=120)
    missing = [n for n in ("ca.pem", "server.pem", "server.key")
               if not os.path.exists(os.path.join(CA_DIR, n))]
    if proc.returncode != 0 or missing:
        raise HarnessError(f"mkca.sh failed ({proc.returncode}), missing "
                           f"{missing}:\n{proc.stdout.decode()[-2000:]}")
    _ca_ready = True
    return CA_DIR


def _nginx_modules_without():
    """Modules this nginx was built without (from nginx -V)."""
    try:
        proc = subprocess.run([tool("nginx"), "-V"],
                              stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=30)
    except OSError as e:
        raise HarnessError(f"nginx not found: {e}") from e
    return set(re.findall(r"--without-http_(\w+)_module",
                          proc.stdout.decode("utf-8", "replace")))


def _fastcgi_params_text():
    """The fastcgi_params file of the installed nginx."""
    for path in ("/etc/nginx/fastcgi_params",
                 "/usr/local/nginx/conf/fastcgi_params",
                 "/usr/local/etc/nginx/fastcgi_params"):
        if os.path.exists(path):
            with open(path) as f:
                return f.read()
    raise HarnessError("no fastcgi_params file found for nginx")


def _fcgi_probe(address):
    """
    Ask a FastCGI listener for FCGI_MPXS_CONNS (FCGI_GET_VALUES). libfcgi
    answers it while waiting for a request, so a reply means the
    responder is up and in its accept loop; it serves no request.
    """
    name = b"FCGI_MPXS_CONNS"
    content = bytes([len(name), 0]) + name
    # Padded to 8 bytes as the specification recommends; libfcgi also
    # needs the padding to see where the record ends without a read.
    padding = -len(content) % 8
    record = struct.pack("!BBHHBB", 1, 9, 0, len(content), padding, 0)
    record += content + bytes(padding)
    if isinstance(address, str):
        family = socket.AF_UNIX
    else:
        family = socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.settimeout(2.0)
            s.connect(address)
            s.sendall(record)
            head = _recv_exactly(s, 8)
            if len(head) < 8 or head[1] != 10:	# FCGI_GET_VALUES_RESULT
                return False
            length, padding = struct.unpack("!HB", head[4:7])
            # Read the whole record, so that closing is a clean FIN.
            rest = _recv_exactly(s, length + padding)
            return len(rest) == length + padding
    except OSError:
        return False


def _recv_exactly(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


class Harness:
    """
    One private environment. Options:
      fake       start the fake Salesforce (default True)
      nginx      start nginx in front of wc2sf (default True)
      fcgi       start wc2sf as a FastCGI server (default True)
      launcher   "spawn-fcgi" (default) or "listen" (wc2sf --listen)
      max_body   [woocommerce] max_body
      client_max_body_size   nginx's, substituted into the snippet
      config     {section: {key: value}} merged into the configuration;
                 a value of None removes the key
    """

    def __init__(self, name, fake=True, nginx=True, fcgi=True,
                 launcher="spawn-fcgi", max_body="1M",
                 client_max_body_size="1m", config=None):
        if launcher not in ("spawn-fcgi", "listen"):
            raise HarnessError(f"unknown launcher {launcher!r}")
        self.name = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[-60:]
        self.want_fake = fake
        self.want_nginx = nginx
        self.want_fcgi = fcgi or nginx
        self.launcher = launcher
        self.max_body = max_body
        self.client_max_body_size = client_max_body_size
        self.config_overrides = config or {}
        self.build = build_dir()
        self.fcgi_bin = os.path.join(self.build, "wc2sf.fcgi")
        self.dir = None
        self.run_dir = None
        self.fake = self.fcgi = self.nginx = None
        self.fake_url = None
        self.ca = None
        self.url = None
        self.socket_path = None
        self._ssl = None
        self._seq = 0
        self._closed = False

    # -- life cycle ------------------------------------------------------

    def start(self):
        """Build and start everything asked for; close() on failure."""
        _live.add(self)
        close_on_signals()
        try:
            self._make_dirs()
            if self.want_fake:
                self.ca = _ensure_ca()
                self._ssl = ssl.create_default_context(
                    cafile=os.path.join(self.ca, "ca.pem"))
                self._start_fake()
            self._write_config()
            if self.want_fcgi:
                self._start_fcgi()
            if self.want_nginx:
                self._start_nginx()
        except BaseException:
            self.close(keep=True)
            raise
        return self

    def close(self, keep=False):
        """Stop everything started, newest first; remove the files."""
        if self._closed:
            return
        self._closed = True
        _live.discard(self)
        for proc in (self.nginx, self.fcgi, self.fake):
            if proc is not None:
                proc.stop()
        if self.run_dir and self.run_dir != self.dir:
            shutil.rmtree(self.run_dir, ignore_errors=True)
        if self.dir and not keep and not os.environ.get("WC2SF_KEEP_TMP"):
            shutil.rmtree(self.dir, ignore_errors=True)
        elif self.dir:
            sys.stderr.write(f"harness: kept {self.dir}\n")

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        self.close(keep=exc_type is not None)

    def path(self, name):
        return os.path.join(self.dir, name)

    def _make_dirs(self):
        os.makedirs(TMP_ROOT, exist_ok=True)
        base = os.path.join(TMP_ROOT, f"{self.name}-{os.getpid()}")
        path, n = base, 1
        while os.path.exists(path):
            n += 1
            path = f"{base}.{n}"
        os.makedirs(path, mode=0o755)
        os.chmod(path, 0o755)
        self.dir = path
        self.run_dir = path
        as_root = os.geteuid() == 0
        sock = os.path.join(path, "wc2sf.sock")
        if len(sock.encode()) > 100 or (
                as_root and self.want_nginx
                and not _reachable_by_others(path)):
            self.run_dir = tempfile.mkdtemp(prefix="wc2sf-")
            os.chmod(self.run_dir, 0o755)
        self.socket_path = os.path.join(self.run_dir, "wc2sf.sock")

    def _start_fake(self):
        log = self.path("fake_sf.log")
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.fake = Process(
            "fake Salesforce",
            [sys.executable, FAKE_SF, "--port", "0",
             "--cert", os.path.join(self.ca, "server.pem"),
             "--key", os.path.join(self.ca, "server.key")], log, env=env)
        pattern = re.compile(rb"fake_sf ready on (https://127\.0\.0\.1:"
                             rb"(\d+))")

        def ready():
            self.fake.check_alive()
            with open(log, "rb") as f:
                m = pattern.search(f.read())
            return m and m.group(1).decode()

        self.fake_url = wait_until(ready, START_TIMEOUT,
                                   "the fake Salesforce")

    def _write_config(self):
        sections = {
            "woocommerce": {
                "secret": SECRET,
                "max_body": self.max_body,
            },
            "salesforce": {
                "auth": "password",
                "login_url": self.fake_url or "https://127.0.0.1:1",
                "client_id": SF_CLIENT_ID,
                "client_secret": SF_CLIENT_SECRET,
                "username": SF_USERNAME,
                "password": SF_PASSWORD,
                "api_version": "62.0",
                "ca_file": os.path.join(self.ca or CA_DIR, "ca.pem"),
                "timeout": "10",
            },
            "store": {"path": self.path("wc2sf.db")},
            "log": {"level": "info", "file": self.path("wc2sf.log")},
        }
        for section, keys in self.config_overrides.items():
            target = sections.setdefault(section, {})
            for key, value in keys.items():
                if value is None:
                    target.pop(key, None)
                else:
                    target[key] = str(value)
        text = ""
        for section, keys in sections.items():
            text += f"[{section}]\n"
            text += "".join(f"{k} = {v}\n" for k, v in keys.items())
            text += "\n"
        self.config_path = self.path("wc2sf.conf")
        fd = os.open(self.config_path,
                     os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(self.config_path, 0o600)

    def wc2sf_env(self):
        """The environment wc2sf runs with: no inherited CGI variables."""
        keep = ("PATH", "LANG", "LC_ALL", "TZ", "HOME",
                "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS")
        env = {k: os.environ[k] for k in keep if k in os.environ}
        env["WC2SF_CONFIG"] = self.config_path
        return env

    def _start_fcgi(self):
        if not os.access(self.fcgi_bin, os.X_OK):
            raise HarnessError(f"{self.fcgi_bin} is not built "
                               "(run make all)")
        if self.launcher == "spawn-fcgi":
            argv = [tool("spawn-fcgi"), "-n", "-s", self.socket_path,
                    "-M", "0666", "--", self.fcgi_bin]
        else:
            argv = [self.fcgi_bin, "--listen", "unix:" + self.socket_path]
        self.fcgi = Process("wc2sf.fcgi", argv, self.path("fcgi.stderr"),
                            env=self.wc2sf_env())

        def ready():
            self.fcgi.check_alive()
            return _fcgi_probe(self.socket_path)

        wait_until(ready, START_TIMEOUT, "wc2sf.fcgi to accept")
        if self.launcher == "listen":
            # wc2sf made the socket under its umask 077; nginx's workers
            # (another user when the tests run as root) must write it,
            # as nginx-conf/README.md tells administrators.
            os.chmod(self.socket_path, 0o666)

    def _nginx_conf(self, port):
        with open(NGINX_SNIPPET) as f:
            snippet = f.read()
        if SNIPPET_SOCKET not in snippet:
            raise HarnessError(f"{NGINX_SNIPPET} no longer names "
                               f"{SNIPPET_SOCKET}")
        snippet = snippet.replace(SNIPPET_SOCKET, self.socket_path)
        snippet, n = re.subn(r"(?m)^(\s*client_max_body_size\s+)\S+;",
                             r"\g<1>" + self.client_max_body_size + ";",
                             snippet)
        if n != 1:
            raise HarnessError(f"{NGINX_SNIPPET}: expected one "
                               "client_max_body_size line")
        with open(self.path("wc2sf-site.conf"), "w") as f:
            f.write(snippet)
        with open(self.path("fastcgi_params"), "w") as f:
            f.write(_fastcgi_params_text())

        temp = ""
        without = _nginx_modules_without()
        for module in ("client_body", "fastcgi", "proxy", "uwsgi", "scgi"):
            if module in without:
                continue
            d = os.path.join(self.run_dir, "nginx-" + module)
            temp += f"\t{module}_temp_path {d};\n"
        user = ""
        if os.geteuid() == 0:
            try:
                group = grp.getgrnam("nogroup").gr_name
            except KeyError:
                group = grp.getgrgid(pwd.getpwnam("nobody").pw_gid).gr_name
            user = f"user nobody {group};\n"
        return (
            "# Generated by tests/integration/harness.py\n"
            f"{user}"
            "worker_processes 1;\n"
            f"pid {self.path('nginx.pid')};\n"
            f"lock_file {self.path('nginx.lock')};\n"
            f"error_log {self.path('nginx-error.log')} info;\n"
            "events {\n\tworker_connections 64;\n}\n"
            "http {\n"
            f"\taccess_log {self.path('nginx-access.log')};\n"
            f"{temp}"
            "\tserver {\n"
            f"\t\tlisten 127.0.0.1:{port};\n"
            "\t\tserver_name localhost;\n"
            f"\t\tinclude {self.path('wc2sf-site.conf')};\n"
            "\t\tlocation / {\n\t\t\treturn 404;\n\t\t}\n"
            "\t}\n"
            "}\n")

    def _start_nginx(self):
        last = None
        for _ in range(3):
            port = free_port()
            conf = self.path("nginx.conf")
            with open(conf, "w") as f:
                f.write(self._nginx_conf(port))
            test = subprocess.run(
                [tool("nginx"), "-t", "-q",
                 "-e", self.path("nginx-error.log"),
                 "-p", self.dir + "/", "-c", conf],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                timeout=30)
            if test.returncode != 0:
                raise HarnessError("nginx -t refused the generated "
                                   f"configuration:\n{test.stdout.decode()}")
            self.nginx = Process(
                "nginx",
                [tool("nginx"), "-e", self.path("nginx-error.log"),
                 "-p", self.dir + "/", "-c", conf, "-g", "daemon off;"],
                self.path("nginx.stderr"))

            def ready():
                if not self.nginx.alive():
                    return "exited"
                try:
                    with socket.create_connection(("127.0.0.1", port),
                                                  timeout=1):
                        return "up"
                except OSError:
                    return None

            state = wait_until(ready, START_TIMEOUT, "nginx to listen")
            if state == "up":
                self.url = f"http://127.0.0.1:{port}{HOOK_PATH}"
                return
            last = tail(self.path("nginx-error.log"))
            self.nginx.stop()
            self.nginx = None
            if "Address already in use" not in last:
                break
        raise HarnessError(f"nginx did not start:\n{last}")

    # -- sending ---------------------------------------------------------

    def _scratch(self, suffix):
        self._seq += 1
        return self.path(f"req-{self._seq:03d}.{suffix}")

    def curl(self, method, url, headers, body_path=None):
        """
        One request with curl: exactly the headers given (name and value
        as written), the body file as is. Host, Content-Length and
        Connection are curl's; its default User-Agent, Accept and
        Content-Type are removed unless given; no Expect.
        """
        out = self._scratch("reply")
        head = self._scratch("head")
        argv = [tool("curl"), "-sS", "--http1.1", "--max-time",
                str(REQUEST_TIMEOUT), "-o", out, "-D", head,
                "-w", "%{http_code}", "-H", "Expect:"]
        given = {name.lower() for name, _ in headers}
        for name, value in headers:
            if name.lower() in CURL_OWNS:
                continue
            argv += ["-H", f"{name}: {value}" if value else f"{name};"]
        for name in CURL_DEFAULTS:
            if name.lower() not in given:
                argv += ["-H", f"{name}:"]
        if body_path is not None:
            argv += ["--data-binary", "@" + body_path]
            if method != "POST":
                argv += ["-X", method]
        elif method != "GET":
            argv += ["-X", method]
        argv.append(url)
        proc = subprocess.run(argv, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE,
                              timeout=REQUEST_TIMEOUT + 30)
        if proc.returncode != 0:
            raise HarnessError(f"curl failed ({proc.returncode}): "
                               f"{proc.stderr.decode().strip()}")
        with open(out, "rb") as f:
            body = f.read()
        with open(head, "rb") as f:
            reply_headers = _parse_headers(f.read())
        for path in (out, head):
            os.unlink(path)
        return Reply(int(proc.stdout), reply_headers, body)

    def deliver(self, fixture_base):
        """Replay a captured delivery to nginx, byte for byte."""
        fixture = Fixture(fixture_base)
        return self.curl(fixture.method, self._need_url(),
                         fixture.headers, fixture.body_path)

    def post(self, body, headers=(), method="POST"):
        """
        A hand-made request to nginx: body (bytes or None) and headers as
        a list of (name, value) pairs or a dict.
        """
        if isinstance(headers, dict):
            headers = list(headers.items())
        body_path = None
        if body is not None:
            body_path = self._scratch("body")
            with open(body_path, "wb") as f:
                f.write(body)
        try:
            return self.curl(method, self._need_url(), list(headers),
                             body_path)
        finally:
            if body_path:
                os.unlink(body_path)

    def _need_url(self):
        if not self.url:
            raise HarnessError("this harness runs no nginx")
        return self.url

    def cgi(self, body, headers=(), method="POST", extra_env=None):
        """
        Run wc2sf.fcgi once as a CGI program, the way a web server would:
        headers become HTTP_* variables (Content-Type and Content-Length
        their own), the body arrives on standard input. The reply's
        status comes from its Status: line (None when there is none).
        """
        if isinstance(headers, dict):
            headers = list(headers.items())
        env = self.wc2sf_env()
        env.update({
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "SERVER_SOFTWARE": "wc2sf-harness",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "REMOTE_ADDR": "127.0.0.1",
            "REQUEST_METHOD": method,
            "REQUEST_URI": HOOK_PATH,
            "SCRIPT_NAME": HOOK_PATH,
            "QUERY_STRING": "",
        })
        for name, value in headers:
            key = name.upper().replace("-", "_")
            if key == "CONTENT_TYPE":
                env["CONTENT_TYPE"] = value
            elif key not in ("CONTENT_LENGTH", "CONNECTION"):
                env["HTTP_" + key] = value
        if body is not None:
            env["CONTENT_LENGTH"] = str(len(body))
        env.update(extra_env or {})
        if not os.access(self.fcgi_bin, os.X_OK):
            raise HarnessError(f"{self.fcgi_bin} is not built")
        with open(self.path("cgi.stderr"), "ab") as err:
            proc = subprocess.run([self.fcgi_bin], input=body or b"",
                                  stdout=subprocess.PIPE, stderr=err,
                                  env=env, cwd=self.dir,
                                  timeout=REQUEST_TIMEOUT)
        return _parse_cgi(proc.stdout, proc.returncode)

    def cgi_deliver(self, fixture_base):
        """Replay a captured delivery through CGI."""
        fixture = Fixture(fixture_base)
        return self.cgi(fixture.body, fixture.headers, fixture.method)

    # -- the fake Salesforce ---------------------------------------------

    def fake_call(self, method, path, payload=None):
        if not self.fake_url:
            raise HarnessError("this harness runs no fake Salesforce")
        data = None
        headers = {}
        if payload is not None:
            data = json.dumps(payload).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.fake_url + path, data=data,
                                     method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, context=self._ssl,
                                        timeout=30) as r:
                text = r.read()
        except urllib.error.HTTPError as e:
            raise HarnessError(f"fake {method} {path}: {e.code} "
                               f"{e.read()[:300]!r}") from e
        except OSError as e:
            raise HarnessError(f"fake {method} {path}: {e}") from e
        return json.loads(text) if text.strip() else None

    def records(self, sobject):
        """Every record of one type the fake holds."""
        return self.fake_call("GET", f"/__fake/records/{sobject}")

    def requests(self):
        """
        Every request wc2sf made to the fake, oldest first, as
        {method, path, status, ms, kind, body}; the harness's own calls
        to the control API are left out.
        """
        return [r for r in self.fake_call("GET", "/__fake/requests")
                if not r.get("path", "").startswith("/__fake/")]

    def data_requests(self):
        """The requests that reached the REST data API (not sign-in)."""
        return [r for r in self.requests()
                if "/services/data/" in r.get("path", "")]

    def stats(self):
        return self.fake_call("GET", "/__fake/stats")

    def reset(self):
        return self.fake_call("POST", "/__fake/reset", {})

    def knobs(self, settings=None, **kw):
        """POST /__fake/knobs, e.g. knobs(expire_tokens=True)."""
        return self.fake_call("POST", "/__fake/knobs",
                              dict(settings or {}, **kw))

    # -- logs and state --------------------------------------------------

    def log_lines(self):
        """wc2sf's log lines so far (its [log] file)."""
        try:
            with open(self.path("wc2sf.log"), "rb") as f:
                return f.read().decode("utf-8", "replace").splitlines()
        except FileNotFoundError:
            return []

    def log_records(self):
        return [parse_log_line(line) for line in self.log_lines()]

    def fcgi_alive(self):
        return self.fcgi is not None and self.fcgi.alive()

    def diagnostics(self):
        """Log tails for a failure message."""
        parts = [f"environment: {self.dir}",
                 "wc2sf.log:\n" + tail(self.path("wc2sf.log"))]
        if self.fcgi:
            parts.append("fcgi stderr:\n" + tail(self.path("fcgi.stderr")))
        if self.nginx:
            parts.append("nginx error log:\n"
                         + tail(self.path("nginx-error.log")))
        parts.append("fake:\n" + tail(self.path("fake_sf.log"), 10))
        return "\n".join(parts)


def _parse_headers(raw):
    """The last header block curl wrote with -D, as a lower-case dict."""
    text = raw.decode("latin-1")
    blocks = [b for b in re.split(r"\r?\n\r?\n", text) if b.strip()]
    headers = {}
    if blocks:
        for line in blocks[-1].splitlines()[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
    return headers


def _parse_cgi(out, returncode):
    """A CGI program's output as a Reply."""
    m = re.search(rb"\r?\n\r?\n", out)
    if not m:
        raise HarnessError(f"CGI output has no header block (exit "
                           f"{returncode}): {out[:300]!r}")
    headers = {}
    for line in out[:m.start()].decode("latin-1").splitlines():
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    status = None
    sm = re.match(r"(\d{3})\b", headers.get("status", ""))
    if sm:
        status = int(sm.group(1))
    reply = Reply(status, headers, out[m.end():])
    reply.exit_status = returncode
    return reply


@atexit.register
def _close_all():
    for h in list(_live):
        h.close(keep=True)


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def close_on_signals():
    """
    Make SIGTERM and SIGHUP interrupt the program like Ctrl-C, so that
    cleanups and the atexit hook stop what was started (by default they
    end Python at once). Handlers someone else installed are kept.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) == signal.SIG_DFL:
            signal.signal(sig, _interrupt)


class HarnessCase(unittest.TestCase):
    """A TestCase whose harnesses are closed however the test ends."""

    def start_harness(self, **options):
        name = self.id().split(".")[-1]
        h = Harness(name, **options)
        self.addCleanup(self._close_harness, h)
        h.start()
        return h

    def _failed(self):
        outcome = getattr(self, "_outcome", None)
        result = getattr(outcome, "result", None)
        if result is None:
            return True
        bad = list(result.failures) + list(result.errors)
        # A failed subTest is reported as a _SubTest naming its case.
        return any(getattr(test, "test_case", test) is self
                   for test, _ in bad)

    def _close_harness(self, h):
        h.close(keep=self._failed())

    def assertReply(self, h, reply, status, result=None):
        """status (and result, if given) or a message with the logs."""
        ok = reply.status == status and (result is None
                                         or reply.result == result)
        if not ok:
            want = f"{status} {result or ''}".strip()
            self.fail(f"expected {want}, got {reply!r}\n"
                      + h.diagnostics())
