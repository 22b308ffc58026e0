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
import shlex
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
# A worker under valgrind checks for leaks when it exits: give it time.
WRAPPED_STOP_TIMEOUT = 60.0
REQUEST_TIMEOUT = 60

_live = set()


class HarnessError(Exception):
    """Something the harness itself could not do (start, stop, send)."""


def repo_path(path):
    """path as given when absolute, else relative to the repository."""
    return path if os.path.isabs(path) else os.path.join(REPO, path)


def build_dir():
    return repo_path(os.environ.get("WC2SF_BUILD") or "build")


def wrap_prefix():
    """
    $WC2SF_WRAP split into words: a command that wc2sf.fcgi is started
    under, FastCGI worker and CGI alike ("valgrind --error-exitcode=99
    ..."); [] when unset. The command is looked up in PATH here, since
    spawn-fcgi execs without a search.
    """
    words = shlex.split(os.environ.get("WC2SF_WRAP") or "")
    if words and os.sep not in words[0]:
        words[0] = tool(words[0])
    return words


# What a sanitizer or memcheck writes when it finds something. Each
# worker's standard error is searched for these when its test ends.
REPORT_PATTERNS = [
    re.compile(rb"ERROR: AddressSanitizer"),
    re.compile(rb"ERROR: LeakSanitizer"),
    re.compile(rb"runtime error: "),
    re.compile(rb"SUMMARY: UndefinedBehaviorSanitizer"),
    re.compile(rb"==\d+== ERROR SUMMARY: [1-9]"),
    re.compile(rb"==\d+== +definitely lost: [1-9]"),
]
# valgrind --error-exitcode as make check sets it.
WRAP_ERROR_EXIT = 99


def sanitizer_reports(path):
    """The lines of path that show a sanitizer or memcheck finding."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return []
    found = []
    for line in data.splitlines():
        if any(p.search(line) for p in REPORT_PATTERNS):
            found.append(line.decode("utf-8", "replace"))
    return found


def shared_dir():
    return repo_path(os.environ.get("WC2SF_SHARED") or "../shared")


def fixture_dir():
    """The captured deliveries: tests/fixtures/, or $WC2SF_SHARED's."""
    if os.environ.get("WC2SF_SHARED"):
        return os.path.join(shared_dir(), "fixtures", "woocommerce-10.0.2")
    return repo_path(os.path.join("tests", "fixtures", "woocommerce-10.0.2"))


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

    def __init__(self, name, argv, log_path, env=None, cwd=None,
                 stop_timeout=STOP_TIMEOUT):
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self.stop_timeout = stop_timeout
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
                self.popen.wait(timeout=self.stop_timeout)
                wait_until(lambda: not _group_exists(pgid),
                           self.stop_timeout,
                           f"{self.name}'s process group to exit")
                return
            except (subprocess.TimeoutExpired, HarnessError):
                continue
        self.popen.wait(timeout=self.stop_timeout)


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


# What snapshot() compares: the sObjects wc2sf writes, and the fields of
# theirs that differ between two runs that wrote the same data.
SNAPSHOT_TYPES = ("Account", "Contact", "Product2", "PricebookEntry",
                  "Order", "OrderItem")
SNAPSHOT_VOLATILE = frozenset((
    "Id", "CreatedDate", "CreatedById", "LastModifiedDate",
    "LastModifiedById", "SystemModstamp", "OrderNumber",
    "OrderItemNumber"))
SNAPSHOT_KEYS = {
    "Account": ("WC_Customer_Id__c", "WC_Guest_Email__c"),
    "Contact": ("WC_Customer_Id__c", "WC_Guest_Email__c"),
    "Product2": ("WC_Product_Id__c",),
    "PricebookEntry": ("WC_Price_Key__c",),
    "Order": ("WC_Order_Id__c",),
    "OrderItem": ("WC_Line_Id__c",),
}


def _record_key(sobject, record):
    """A record's external ID value, as "field=value"."""
    for field in SNAPSHOT_KEYS.get(sobject, ()):
        if record.get(field):
            return f"{field}={record[field]}"
    return f"Name={record.get('Name')}"


def _pid_alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _fixture_for_topic(topic):
    """The first captured delivery of topic, e.g. 063-order_created."""
    suffix = "-" + topic.replace(".", "_") + ".headers"
    names = sorted(n for n in os.listdir(fixture_dir())
                   if n.endswith(suffix))
    if not names:
        raise HarnessError(f"no captured delivery of {topic}")
    return names[0][:-len(".headers")]


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
        self._stop_forked()
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
        wrap = wrap_prefix()
        if self.launcher == "spawn-fcgi":
            argv = [tool("spawn-fcgi"), "-n", "-s", self.socket_path,
                    "-M", "0666", "--"] + wrap + [self.fcgi_bin]
        else:
            argv = wrap + [self.fcgi_bin, "--listen",
                           "unix:" + self.socket_path]
        self.fcgi = Process("wc2sf.fcgi", argv, self.path("fcgi.stderr"),
                            env=self.wc2sf_env(),
                            stop_timeout=WRAPPED_STOP_TIMEOUT if wrap
                            else STOP_TIMEOUT)

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
            proc = subprocess.run(wrap_prefix() + [self.fcgi_bin],
                                  input=body or b"",
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

    def worker_problems(self):
        """
        Stop nginx and the worker, then say what a sanitizer or memcheck
        reported about wc2sf.fcgi (FastCGI worker and CGI runs): a list
        of lines, empty when clean. Safe to call more than once; close()
        still has to be called.
        """
        for proc in (self.nginx, self.fcgi):
            if proc is not None:
                proc.stop()
        if not self.dir:
            return []
        problems = []
        for name in ("fcgi.stderr", "cgi.stderr"):
            problems += [f"{name}: {line}" for line in
                         sanitizer_reports(self.path(name))]
        if (self.fcgi is not None and wrap_prefix()
                and self.fcgi.popen.returncode == WRAP_ERROR_EXIT):
            problems.append(f"wc2sf.fcgi exited {WRAP_ERROR_EXIT} under "
                            f"{wrap_prefix()[0]}")
        return problems

    # -- workers, faults and state (the journal tests) -------------------

    def restart_fcgi(self, workers=1, user=None):
        """
        Stop the FastCGI worker(s) and start spawn-fcgi again on the same
        socket: one worker in the foreground (-n, self.fcgi), or workers
        children forked by spawn-fcgi (-F; their pids come from its -P
        file and close() stops them). user (root only) runs them as that
        user and its group (spawn-fcgi -u, -g). Returns the worker pids.
        """
        self.stop_fcgi()
        argv = [tool("spawn-fcgi"), "-s", self.socket_path, "-M", "0666"]
        if user is not None:
            pw = pwd.getpwnam(user)
            argv += ["-u", user, "-g", grp.getgrgid(pw.pw_gid).gr_name]
        pidfile = self.path("spawn-fcgi.pid")
        if workers == 1:
            argv.append("-n")
        else:
            if os.path.exists(pidfile):
                os.unlink(pidfile)
            argv += ["-F", str(workers), "-P", pidfile]
        argv += ["--"] + wrap_prefix() + [self.fcgi_bin]
        self.fcgi = Process("wc2sf.fcgi", argv, self.path("fcgi.stderr"),
                            env=self.wc2sf_env())
        if workers > 1:
            # spawn-fcgi forks the workers (each in its own session) and
            # exits; they are found by the pids it wrote.
            try:
                status = self.fcgi.popen.wait(timeout=START_TIMEOUT)
            except subprocess.TimeoutExpired:
                status = None
            if status != 0:
                raise HarnessError(f"spawn-fcgi -F {workers} failed "
                                   f"({status}):\n"
                                   f"{tail(self.path('fcgi.stderr'))}")
            with open(pidfile) as f:
                self._forked = [int(x) for x in f.read().split()]
            if len(self._forked) != workers:
                raise HarnessError(f"spawn-fcgi wrote {self._forked}")

        def ready():
            if workers == 1:
                self.fcgi.check_alive()
            return _fcgi_probe(self.socket_path)

        wait_until(ready, START_TIMEOUT, "wc2sf.fcgi to accept")
        return self.fcgi_pids()

    def fcgi_pids(self):
        """The pids of the live FastCGI workers this harness started."""
        if getattr(self, "_forked", None):
            return [p for p in self._forked if _pid_alive(p)]
        if self.fcgi is not None and self.fcgi.alive():
            return [self.fcgi.pid]
        return []

    def kill_fcgi(self, pid=None, sig=signal.SIGKILL):
        """
        Send sig (default SIGKILL) to one worker (default: the single
        foreground one) and wait until the process is gone.
        """
        if pid is None:
            pid = self.fcgi.pid
        os.kill(pid, sig)
        if self.fcgi is not None and pid == self.fcgi.pid:
            self.fcgi.popen.wait(timeout=STOP_TIMEOUT)
        else:
            wait_until(lambda: not _pid_alive(pid), STOP_TIMEOUT,
                       f"worker {pid} to exit")

    def stop_fcgi(self):
        """Stop the foreground worker and any forked ones."""
        self._stop_forked()
        if self.fcgi is not None:
            self.fcgi.stop()

    def _stop_forked(self):
        pids, self._forked = getattr(self, "_forked", None) or [], []
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            try:
                wait_until(lambda: not any(_pid_alive(p) for p in pids),
                           STOP_TIMEOUT, "forked workers to exit")
                return
            except HarnessError:
                continue

    def stop_fake(self):
        """Stop the fake Salesforce: its port refuses connections."""
        self.fake.stop()

    def restart_fake(self):
        """
        Start the fake Salesforce again on the port it had, empty (no
        records, tokens or knobs), as after a restart of the real one.
        """
        port = int(self.fake_url.rsplit(":", 1)[1])
        log = self.path("fake_sf.log")
        offset = os.path.getsize(log) if os.path.exists(log) else 0
        self.fake = Process(
            "fake Salesforce",
            [sys.executable, FAKE_SF, "--port", str(port),
             "--cert", os.path.join(self.ca, "server.pem"),
             "--key", os.path.join(self.ca, "server.key")], log,
            env=dict(os.environ, PYTHONUNBUFFERED="1"))

        def ready():
            self.fake.check_alive()
            with open(log, "rb") as f:
                f.seek(offset)
                return b"fake_sf ready on" in f.read()

        wait_until(ready, START_TIMEOUT, "the fake Salesforce again")

    def rewrite_config(self, config):
        """
        Merge config ({section: {key: value}}; None removes a key) into
        this environment's settings and write wc2sf.conf again. Running
        workers keep what they read until restart_fcgi().
        """
        merged = {s: dict(k) for s, k in self.config_overrides.items()}
        for section, keys in config.items():
            merged.setdefault(section, {}).update(keys)
        self.config_overrides = merged
        self._write_config()

    def cli(self, *args):
        """
        Run the wc2sf command with this environment's configuration;
        returns the CompletedProcess, output as text.
        """
        argv = [os.path.join(self.build, "wc2sf"), "-c",
                self.config_path] + [str(a) for a in args]
        return subprocess.run(argv, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True,
                              env=self.wc2sf_env(), cwd=self.dir,
                              timeout=REQUEST_TIMEOUT * 4)

    def journal(self, writable=False):
        """
        An sqlite3 connection to wc2sf's journal, read-only unless
        writable (for a test that must move its clock, say).
        """
        import sqlite3
        store = self.config_overrides.get("store", {})
        path = store.get("path") or self.path("wc2sf.db")
        mode = "rw" if writable else "ro"
        return sqlite3.connect(f"file:{path}?mode={mode}", uri=True,
                               timeout=10)

    def wait_journal_idle(self, timeout=60, quiet=1.0):
        """
        Wait until no event in the journal is claimed and none changed
        for quiet seconds: the workers' drains after their replies are
        over.
        """
        def idle():
            db = self.journal()
            try:
                held, last = db.execute(
                    "SELECT count(claimed_by), coalesce(max(updated_ms), 0)"
                    " FROM events").fetchone()
            finally:
                db.close()
            return held == 0 and last < (time.time() - quiet) * 1000

        wait_until(idle, timeout, "the workers to finish draining")

    def webhook_headers(self, topic, body, template=None):
        """
        WooCommerce's headers for a delivery of body under topic ("order.
        updated"), from a captured delivery's (template, else the first
        fixture of that topic), with a fresh signature and Delivery-ID.
        """
        if template is None:
            template = _fixture_for_topic(topic)
        fixture = Fixture(template)
        resource, event = topic.split(".", 1)
        fresh = {"x-wc-webhook-topic": topic,
                 "x-wc-webhook-resource": resource,
                 "x-wc-webhook-event": event,
                 "x-wc-webhook-signature": sign(body),
                 "x-wc-webhook-delivery-id": os.urandom(16).hex()}
        return [(n, fresh.get(n.lower(), v)) for n, v in fixture.headers]

    def post_many(self, items, threads=1):
        """
        Send [(headers, body), ...] to nginx with Python's http.client,
        threads at a time, one connection per request; the replies in
        the order of items. Faster than curl for bursts of thousands.
        """
        import concurrent.futures
        import http.client
        import urllib.parse
        url = urllib.parse.urlsplit(self._need_url())

        def send(item):
            headers, body = item
            conn = http.client.HTTPConnection(url.hostname, url.port,
                                              timeout=REQUEST_TIMEOUT)
            try:
                conn.putrequest("POST", url.path, skip_host=False,
                                skip_accept_encoding=True)
                for name, value in headers:
                    if name.lower() not in CURL_OWNS:
                        conn.putheader(name, value)
                conn.putheader("Content-Length", str(len(body)))
                conn.putheader("Connection", "close")
                conn.endheaders(body)
                r = conn.getresponse()
                return Reply(r.status, {k.lower(): v for k, v in
                                        r.getheaders()}, r.read())
            finally:
                conn.close()

        if threads <= 1:
            return [send(item) for item in items]
        with concurrent.futures.ThreadPoolExecutor(threads) as pool:
            return list(pool.map(send, items))

    def snapshot(self):
        """
        What the fake Salesforce holds, comparable across runs: for each
        sObject wc2sf writes, its records without Ids, audit fields and
        auto-numbers, lookups replaced by the key of the record they
        point to, sorted. Raises if two records share a key (a twin).
        """
        records = {t: self.records(t) for t in SNAPSHOT_TYPES}
        names = {}
        for t, recs in records.items():
            for r in recs:
                names[r["Id"]] = f"{t}:{_record_key(t, r)}"
        for r in self.records("Pricebook2"):
            names[r["Id"]] = f"Pricebook2:{r.get('Name')}"
        out = {}
        for t, recs in records.items():
            rows = {}
            for r in recs:
                key = _record_key(t, r)
                if key in rows:
                    raise HarnessError(f"two {t} records keyed {key}")
                rows[key] = {k: names.get(v, v) if isinstance(v, str)
                             else v for k, v in r.items()
                             if k not in SNAPSHOT_VOLATILE}
            out[t] = [rows[k] for k in sorted(rows)]
        return out

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
        problems = h.worker_problems()
        h.close(keep=self._failed() or bool(problems))
        if problems:
            self.fail("sanitizer or memcheck report from wc2sf.fcgi "
                      f"(kept in {h.dir}):\n" + "\n".join(problems[:20]))

    def assertReply(self, h, reply, status, result=None):
        """status (and result, if given) or a message with the logs."""
        ok = reply.status == status and (result is None
                                         or reply.result == result)
        if not ok:
            want = f"{status} {result or ''}".strip()
            self.fail(f"expected {want}, got {reply!r}\n"
                      + h.diagnostics())


# -- Apache ------------------------------------------------------------------

APACHE_CONF = os.path.join(REPO, "apache-conf")
APACHE_MODULES = "/usr/lib/apache2/modules"
# The paths the shipped Apache examples name; a test replaces each with
# its own and changes nothing else in them.
EXAMPLE_FCGI = "/usr/local/sbin/wc2sf.fcgi"
EXAMPLE_CONFIG = "/etc/wc2sf/wc2sf.conf"
EXAMPLE_HOME = "/home/USER"
# What a WordPress site's own .htaccess does: unknown paths go to
# index.php. A shared-hosting folder must keep wc2sf out of its reach.
WORDPRESS_HTACCESS = (
    "# Generated by tests/integration/harness.py: a catch-all like\n"
    "# WordPress's, sending every path that is not a file to index.php.\n"
    "RewriteEngine On\n"
    "RewriteBase /\n"
    "RewriteCond %{REQUEST_FILENAME} !-f\n"
    "RewriteCond %{REQUEST_FILENAME} !-d\n"
    "RewriteRule . /index.php [L]\n")

# Passed on to the wc2sf processes Apache starts (sanitizer builds).
APACHE_PASS_ENV = ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS")

# setup: (example files, modules to load, MPM, wc2sf started by the test)
APACHE_SETUPS = {
    "fcgid": (["wc2sf-fcgid.conf"], ["alias", "fcgid"], "event", False),
    "proxy_fcgi": (["wc2sf-proxy-fcgi.conf"], ["proxy", "proxy_fcgi"],
                   "event", True),
    "cgi": (["shared-hosting/cgi.htaccess"], ["cgi"], "prefork", False),
    "fcgid_htaccess": (["shared-hosting/fcgid.htaccess",
                        "shared-hosting/hook-fcgid.sh"], ["fcgid"],
                       "event", False),
}


def _nobody():
    """The unprivileged user and group a root-run web server uses."""
    user = pwd.getpwnam("nobody")
    try:
        group = grp.getgrnam("nogroup")
    except KeyError:
        group = grp.getgrgid(user.pw_gid)
    return user, group


class ApacheHarness(Harness):
    """
    A real Apache (apache2 -f <generated httpd.conf> -DFOREGROUND, with
    its own ServerRoot, PidFile, ErrorLog and a loopback port: never the
    machine's own Apache service or /etc/apache2) in front of wc2sf,
    running one of the shipped examples of apache-conf/ with only paths
    (and the directives given) changed. setup is one of:

      fcgid           wc2sf-fcgid.conf inside a <VirtualHost>; Apache's
                      mod_fcgid starts and recycles wc2sf.fcgi
      proxy_fcgi      wc2sf-proxy-fcgi.conf; wc2sf.fcgi runs under
                      spawn-fcgi (or --listen) as for nginx
      cgi             shared-hosting/cgi.htaccess in public_html/wc2sf/
                      beside a WordPress-style catch-all .htaccess, the
                      program uploaded as public_html/wc2sf/hook; mod_cgi
                      under the prefork MPM, AllowOverride FileInfo Options
      fcgid_htaccess  shared-hosting/fcgid.htaccess and hook-fcgid.sh
                      the same way, under mod_fcgid

    The files are laid out as on a host, under site/ (the test's
    directory, or a private one under the system temporary directory
    when the tests run as root and Apache's "nobody" could not reach
    it):

      home/wc2sf/     wc2sf.conf, wc2sf.db, wc2sf.log, ca.pem and copies
                      of wc2sf.fcgi and wc2sf: outside the document root
      home/public_html/   the document root
      apache/         httpd.conf, wc2sf-site.conf, error.log, access.log

    directives  {name: value}: the argument of a directive the example
                sets exactly once, e.g. {"FcgidMaxRequestsPerProcess": 2}
    Other options are Harness's (nginx is never started).
    """

    def __init__(self, name, setup, directives=None, **options):
        if setup not in APACHE_SETUPS:
            raise HarnessError(f"unknown Apache setup {setup!r}")
        files, modules, mpm, own_fcgi = APACHE_SETUPS[setup]
        options["nginx"] = False
        options["fcgi"] = own_fcgi
        super().__init__(name, **options)
        self.setup = setup
        self.example_files = files
        self.modules = modules
        self.mpm = mpm
        self.directives = dict(directives or {})
        self.apache = None
        self.site = None
        # Apache starts wc2sf itself in every setup but proxy_fcgi; as
        # root it does so as "nobody", who must own wc2sf's files.
        self.worker_user = None
        if os.geteuid() == 0 and not own_fcgi:
            self.worker_user = _nobody()

    # -- layout ----------------------------------------------------------

    def site_path(self, *names):
        return os.path.join(self.site, *names)

    def _make_dirs(self):
        super()._make_dirs()
        self.site = self.dir
        if os.geteuid() == 0 and not _reachable_by_others(self.dir):
            if self.run_dir == self.dir:
                self.run_dir = tempfile.mkdtemp(prefix="wc2sf-")
                os.chmod(self.run_dir, 0o755)
            self.site = self.run_dir
            self.socket_path = os.path.join(self.run_dir, "wc2sf.sock")
        for d in ("home", "home/wc2sf", "home/public_html", "apache",
                  "apache/run"):
            os.makedirs(self.site_path(d), mode=0o755, exist_ok=True)
            os.chmod(self.site_path(d), 0o755)

    def _write_config(self):
        wc2sf_dir = self.site_path("home", "wc2sf")
        overrides = {s: dict(k) for s, k in self.config_overrides.items()}
        store = overrides.setdefault("store", {})
        store.setdefault("path", os.path.join(wc2sf_dir, "wc2sf.db"))
        log = overrides.setdefault("log", {})
        log.setdefault("file", os.path.join(wc2sf_dir, "wc2sf.log"))
        ca = os.path.join(self.ca or CA_DIR, "ca.pem")
        if os.path.exists(ca):
            shutil.copyfile(ca, os.path.join(wc2sf_dir, "ca.pem"))
            os.chmod(os.path.join(wc2sf_dir, "ca.pem"), 0o644)
            sf = overrides.setdefault("salesforce", {})
            sf.setdefault("ca_file", os.path.join(wc2sf_dir, "ca.pem"))
        given = self.config_overrides
        self.config_overrides = overrides
        try:
            super()._write_config()
        finally:
            self.config_overrides = given
        target = os.path.join(wc2sf_dir, "wc2sf.conf")
        os.replace(self.config_path, target)
        self.config_path = target
        for name in ("wc2sf.fcgi", "wc2sf"):
            src = os.path.join(self.build, name)
            if not os.access(src, os.X_OK):
                raise HarnessError(f"{src} is not built (run make all)")
            shutil.copyfile(src, os.path.join(wc2sf_dir, name))
            os.chmod(os.path.join(wc2sf_dir, name), 0o755)
        if self.worker_user is not None:
            user, group = self.worker_user
            for path in (wc2sf_dir, target):
                os.chown(path, user.pw_uid, group.gr_gid)
            os.chmod(wc2sf_dir, 0o700)

    def wc2sf_dir(self):
        return self.site_path("home", "wc2sf")

    def _example(self, name):
        with open(os.path.join(APACHE_CONF, name)) as f:
            return f.read()

    def _substitute(self, text, name):
        """The example with this test's paths and directives."""
        wc2sf_dir = self.wc2sf_dir()
        text = text.replace(EXAMPLE_FCGI,
                            os.path.join(wc2sf_dir, "wc2sf.fcgi"))
        text = text.replace(EXAMPLE_CONFIG, self.config_path)
        text = text.replace(EXAMPLE_HOME + "/wc2sf", wc2sf_dir)
        text = text.replace(SNIPPET_SOCKET, self.socket_path)
        for directive, value in self.directives.items():
            text, n = re.subn(r"(?m)^(\s*" + re.escape(directive)
                              + r"\s+)\S+$", r"\g<1>" + str(value), text)
            if n != 1:
                raise HarnessError(f"apache-conf/{name}: expected one "
                                   f"{directive} line, found {n}")
        return text

    def _lay_out_site(self):
        """The document root and what the example puts into it."""
        docroot = self.site_path("home", "public_html")
        with open(os.path.join(docroot, "index.php"), "w") as f:
            f.write("WordPress would answer here.\n")
        if self.setup not in ("cgi", "fcgid_htaccess"):
            return
        with open(os.path.join(docroot, ".htaccess"), "w") as f:
            f.write(WORDPRESS_HTACCESS)
        folder = os.path.join(docroot, "wc2sf")
        os.makedirs(folder, mode=0o755, exist_ok=True)
        htaccess, *rest = self.example_files
        with open(os.path.join(folder, ".htaccess"), "w") as f:
            f.write(self._substitute(self._example(htaccess), htaccess))
        hook = os.path.join(folder, "hook")
        if rest:
            with open(hook, "w") as f:
                f.write(self._substitute(self._example(rest[0]), rest[0]))
        else:
            shutil.copyfile(os.path.join(self.wc2sf_dir(), "wc2sf.fcgi"),
                            hook)
        os.chmod(hook, 0o755)

    def _apache_conf(self, port):
        site_conf = ""
        if self.setup in ("fcgid", "proxy_fcgi"):
            name = self.example_files[0]
            site_conf = self.site_path("apache", "wc2sf-site.conf")
            with open(site_conf, "w") as f:
                f.write(self._substitute(self._example(name), name))
        modules = (["mpm_" + self.mpm, "authz_core", "env", "rewrite"]
                   + self.modules)
        run = self.site_path("apache", "run")
        lines = [
            "# Generated by tests/integration/harness.py",
            f"ServerRoot {self.site_path('apache')}",
            f"DefaultRuntimeDir {run}",
            f"PidFile {run}/httpd.pid",
            f"ErrorLog {self.site_path('apache', 'error.log')}",
            "LogLevel info",
            f"Listen 127.0.0.1:{port}",
            "ServerName 127.0.0.1",
            "Timeout 60",
        ]
        if self.worker_user is not None or os.geteuid() == 0:
            user, group = _nobody()
            lines += [f"User {user.pw_name}", f"Group {group.gr_name}"]
        lines += [f"LoadModule {m}_module {APACHE_MODULES}/mod_{m}.so"
                  for m in modules]
        if "fcgid" in self.modules:
            lines += [f"FcgidIPCDir {run}/fcgid",
                      f"FcgidProcessTableFile {run}/fcgid_shm"]
        # A sanitizer build's options reach the workers Apache starts:
        # mod_fcgid's through their environment, mod_cgi's through the
        # request's (Apache passes its own environment on to neither).
        for name in APACHE_PASS_ENV:
            value = os.environ.get(name)
            if value and "fcgid" in self.modules:
                lines.append(f'FcgidInitialEnv {name} "{value}"')
            elif value and "cgi" in self.modules:
                lines.append(f"PassEnv {name}")
        lines += [
            'LogFormat "%h \\"%r\\" %>s %b %D" short',
            f"CustomLog {self.site_path('apache', 'access.log')} short",
            # Debian's apache2.conf: nothing is served unless granted.
            "<Directory />",
            "\tAllowOverride None",
            "\tRequire all denied",
            "</Directory>",
            '<FilesMatch "^\\.ht">',
            "\tRequire all denied",
            "</FilesMatch>",
            f"<Directory {self.site_path('home', 'public_html')}>",
            "\tOptions FollowSymLinks",
            # What a shared host grants: the example needs no more.
            "\tAllowOverride FileInfo Options",
            "\tRequire all granted",
            "</Directory>",
            f"<VirtualHost 127.0.0.1:{port}>",
            f"\tDocumentRoot {self.site_path('home', 'public_html')}",
        ]
        if site_conf:
            lines.append(f"\tInclude {site_conf}")
        lines += ["</VirtualHost>", ""]
        return "\n".join(lines)

    def _start_apache(self):
        self._lay_out_site()
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"}
        env.update({k: os.environ[k] for k in APACHE_PASS_ENV
                    if os.environ.get(k)})
        error_log = self.site_path("apache", "error.log")
        last = None
        for _ in range(3):
            port = free_port()
            conf = self.site_path("apache", "httpd.conf")
            with open(conf, "w") as f:
                f.write(self._apache_conf(port))
            test = subprocess.run([tool("apache2"), "-f", conf, "-t"],
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, env=env,
                                  timeout=30)
            if test.returncode != 0:
                raise HarnessError("apache2 -t refused the generated "
                                   f"configuration:\n"
                                   f"{test.stdout.decode()}")
            self.apache = Process(
                "apache2", [tool("apache2"), "-f", conf, "-DFOREGROUND"],
                self.path("apache.stderr"), env=env)

            def ready():
                if not self.apache.alive():
                    return "exited"
                try:
                    with socket.create_connection(("127.0.0.1", port),
                                                  timeout=1):
                        return "up"
                except OSError:
                    return None

            state = wait_until(ready, START_TIMEOUT, "Apache to listen")
            if state == "up":
                self.url = f"http://127.0.0.1:{port}{HOOK_PATH}"
                return
            last = tail(error_log) + "\n" + tail(self.path("apache.stderr"))
            self.apache.stop()
            self.apache = None
            if "Address already in use" not in last:
                break
        raise HarnessError(f"Apache did not start:\n{last}")

    # -- life cycle ------------------------------------------------------

    def start(self):
        super().start()
        try:
            self._start_apache()
        except BaseException:
            self.close(keep=True)
            raise
        return self

    def close(self, keep=False):
        if self._closed:
            return
        if self.apache is not None:
            self.apache.stop()
        if keep and self.site and self.site != self.dir:
            for name in ("apache/error.log", "apache/access.log",
                         "apache/httpd.conf", "apache/wc2sf-site.conf",
                         "home/wc2sf/wc2sf.log"):
                src = self.site_path(name)
                if os.path.exists(src):
                    shutil.copyfile(src, self.path(name.replace("/", "-")))
        super().close(keep=keep)

    def worker_problems(self):
        """Harness's, after Apache stopped, plus Apache's error log."""
        if self.apache is not None:
            self.apache.stop()
        problems = super().worker_problems()
        if self.site:
            problems += [f"apache error.log: {line}" for line in
                         sanitizer_reports(self.site_path("apache",
                                                          "error.log"))]
        return problems

    # -- logs and state --------------------------------------------------

    def log_lines(self):
        try:
            with open(os.path.join(self.wc2sf_dir(), "wc2sf.log"),
                      "rb") as f:
                return f.read().decode("utf-8", "replace").splitlines()
        except FileNotFoundError:
            return []

    def error_log(self):
        """Apache's error log so far."""
        try:
            with open(self.site_path("apache", "error.log"), "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def worker_pids(self):
        """The pid of the wc2sf process behind each logged request."""
        pids = []
        for line in self.log_lines():
            m = re.search(r"wc2sf\.fcgi\[(\d+)\]: .*\bresult=\S+ status=",
                          line)
            if m:
                pids.append(int(m.group(1)))
        return pids

    def cli(self, *args):
        """
        Run the wc2sf command on this site's configuration, as the user
        the workers run as (so that no file of the journal changes
        owner); returns the CompletedProcess, output as text.
        """
        argv = [os.path.join(self.wc2sf_dir(), "wc2sf"), "-c",
                self.config_path] + list(args)
        extra = {}
        if self.worker_user is not None:
            extra = {"user": self.worker_user[0].pw_uid,
                     "group": self.worker_user[1].gr_gid,
                     "extra_groups": []}
        return subprocess.run(argv, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True,
                              env=self.wc2sf_env(), cwd="/",
                              timeout=REQUEST_TIMEOUT, **extra)

    def diagnostics(self):
        parts = [super().diagnostics()]
        if self.site:
            parts.append("site wc2sf.log:\n"
                         + tail(os.path.join(self.wc2sf_dir(),
                                             "wc2sf.log")))
            parts.append("Apache error log:\n"
                         + tail(self.site_path("apache", "error.log")))
        return "\n".join(parts)
