#!/usr/bin/env python3
"""make bench: how fast wc2sf is, next to the ceiling of its web server.

Runs on loopback only, everything started here and stopped here:

  stand-in    nginx over HTTPS (the test CA of tests/tls/mkca.sh) with
              canned token and price book answers, and composite answers
              shaped to each request by bench/standin.js (njs): a
              Salesforce that costs next to nothing
  front       nginx with nginx-conf/wc2sf.conf, as a shop runs it
  ceiling     the front before bench/null_fcgi (answers 200, nothing else)
  wc2sf       the same front before build/wc2sf.fcgi, several workers,
              durable journal, real signatures, real fixture bodies
  light load  the same with one connection, 300-line orders added
  memory      one worker for 100,000 deliveries (or about 5 minutes)
  lean memory the same with the lean build (make lean: static but for
              the C library, libcurl for HTTP and HTTPS only), when
              --lean-build names it
  callgrind   bench/drive (sync_handle in-process) under valgrind, N and
              2N deliveries per payload kind

and prints one table, written with the machine's description to
bench/results/<date>-<host>.md. bench/README.md explains every figure.
"""

import argparse
import base64
import datetime
import glob
import grp
import hashlib
import hmac
import http.client
import json
import os
import platform
import pwd
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
MKCA = os.path.join(REPO, "tests", "tls", "mkca.sh")
SNIPPET = os.path.join(REPO, "nginx-conf", "wc2sf.conf")
SNIPPET_SOCKET = "/run/wc2sf/wc2sf.sock"
HOOK_PATH = "/wc2sf/hook"
JS_MODULE = "/usr/lib/nginx/modules/ngx_http_js_module.so"
STANDIN_JS = os.path.join(HERE, "standin.js")

SECRET = "bench-secret-4d7f1c"
API_VERSION = "62.0"
START_TIMEOUT = 20.0

# The captured deliveries each payload kind is made from.
CUSTOMERS = ("055-customer_created", "058-customer_created",
             "112-customer_created")
PRODUCTS = ("016-product_created", "018-product_created",
            "019-product_created", "025-product_created",
            "106-product_created")
ORDERS = ("063-order_created", "082-order_restored", "099-order_created",
          "125-order_updated")
BIG_ORDER_FROM = "063-order_created"
WARM_PRODUCT = "025-product_created"

# What the load cycles through: 3 customers, 3 products, 3 orders and
# one 30-line order in every 10 deliveries. The light-load run adds a
# 300-line order to every 11.
LOAD_MIX = ["customer", "product", "order"] * 3 + ["order30"]
LIGHT_MIX = LOAD_MIX + ["order300"]
KIND_ORDER = ["customer", "product", "order", "order30", "order300"]

# Id ranges, one per run, so no body of one run repeats another's.
BASE = {"ceiling": 0, "warm": 100000000, "load": 200000000,
        "light": 300000000, "memory": 400000000, "memory-lean": 500000000}

# The targets wc2sf aims for; the table says which it meets.
TARGET_RATE = 1000
TARGET_OWN_P99_MS = 2
TARGET_OWN_P99_BIG_MS = 20
TARGET_RSS_MIB = 10

SENTINEL = 777777777


class BenchError(Exception):
    """Something the bench could not do; the message says what."""


def say(text):
    sys.stderr.write(f"bench: {text}\n")
    sys.stderr.flush()


def tool(name):
    for d in ([] if shutil.which(name) is None else [""]) + [
            "/usr/sbin", "/sbin", "/usr/local/sbin"]:
        path = shutil.which(name) if d == "" else os.path.join(d, name)
        if path and os.access(path, os.X_OK):
            return path
    raise BenchError(f"{name} is not installed (make deps installs it)")


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise BenchError(f"timed out after {timeout:g}s waiting for "
                             f"{what}")
        time.sleep(0.05)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(argv, timeout=600, **kw):
    return subprocess.run(argv, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=timeout, **kw)


def sign(body):
    mac = hmac.new(SECRET.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def pct(values, p):
    """Nearest-rank percentile of a list; None when empty."""
    if not values:
        return None
    values = sorted(values)
    rank = max(1, -(-len(values) * p // 100))
    return values[int(rank) - 1]


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def stop_pids(pids):
    """SIGTERM the processes we started, then SIGKILL what is left."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        try:
            wait_until(lambda: not any(alive(p) for p in pids), 5.0,
                       "processes to exit")
            return
        except BenchError:
            continue


class Child:
    """A process started here, in its own group, output to a file."""

    def __init__(self, name, argv, log_path, env=None):
        self.name = name
        self.log_path = log_path
        with open(log_path, "ab") as log:
            self.popen = subprocess.Popen(
                argv, env=env, cwd=REPO, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)

    def alive(self):
        return self.popen.poll() is None

    def stop(self):
        if not self.alive():
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.popen.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.popen.wait(timeout=5)
                return
            except subprocess.TimeoutExpired:
                continue

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")


# -- payloads --------------------------------------------------------------

def php_json(obj):
    """JSON as WooCommerce writes it: compact, \\/ and \\uXXXX escapes."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=True)
    return text.replace("/", "\\/").encode()


def line_key(line):
    variation = int(line.get("variation_id") or 0)
    return str(variation if variation else line["product_id"])


class Payloads:
    """Templates with @ID@ where ids go, built from the real fixtures."""

    def __init__(self, fixtures, out_dir):
        self.fixtures = fixtures
        self.dir = out_dir
        os.makedirs(out_dir, exist_ok=True)
        self.kinds = {}
        self.product_keys = set()
        self._customer_product()
        self._orders()

    def _read(self, base):
        path = os.path.join(self.fixtures, base + ".body")
        try:
            with open(path, "rb") as f:
                return f.read()
        except OSError as e:
            raise BenchError(f"fixture {path}: {e}") from e

    def _template(self, obj):
        text = php_json(obj)
        if str(SENTINEL).encode() not in text:
            raise BenchError("template without an id to vary")
        return text.replace(str(SENTINEL).encode(), b"@ID@")

    def _write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(text)
        return path

    def _customer_product(self):
        for kind, topic, bases in (("customer", "customer.created",
                                    CUSTOMERS),
                                   ("product", "product.created",
                                    PRODUCTS)):
            files = []
            for base in bases:
                obj = json.loads(self._read(base))
                if php_json(obj) != self._read(base):
                    raise BenchError(f"{base} does not survive a JSON "
                                     "round trip")
                obj["id"] = SENTINEL
                files.append(self._write(f"{base}.tmpl",
                                         self._template(obj)))
            self.kinds[kind] = {"topic": topic, "lines": 0,
                                "files": files}

    def _order(self, obj, lines):
        """obj with the sentinel id, and lines line items if given."""
        obj = json.loads(json.dumps(obj))
        items = obj["line_items"]
        if lines:
            items = [json.loads(json.dumps(items[i % len(items)]))
                     for i in range(lines)]
        for i, item in enumerate(items):
            item["id"] = SENTINEL * 1000 + i + 1
            self.product_keys.add(line_key(item))
        obj["line_items"] = items
        obj["id"] = SENTINEL
        obj["number"] = str(SENTINEL)
        return obj

    def _orders(self):
        files = []
        for base in ORDERS:
            obj = json.loads(self._read(base))
            if len(obj["line_items"]) != 2:
                raise BenchError(f"{base}: expected 2 line items")
            files.append(self._write(f"{base}.tmpl",
                                     self._template(self._order(obj, 0))))
        self.kinds["order"] = {"topic": "order.created", "lines": 2,
                               "files": files}
        big = json.loads(self._read(BIG_ORDER_FROM))
        for lines in (30, 300):
            name = f"order{lines}"
            path = self._write(f"{name}.tmpl",
                               self._template(self._order(big, lines)))
            self.kinds[name] = {"topic": "order.created", "lines": lines,
                                "files": [path]}

    def manifest(self, mix):
        """The Lua manifest bench/deliver.lua reads."""
        def q(s):
            return json.dumps(s)
        parts = ["return {", f"  secret = {q(SECRET)},",
                 f"  path = {q(HOOK_PATH)},", "  kinds = {"]
        for name, k in self.kinds.items():
            files = ", ".join(q(f) for f in k["files"])
            parts.append(f"    {{ name = {q(name)}, topic = {q(k['topic'])},"
                         f" lines = {k['lines']}, files = {{ {files} }} }},")
        parts += ["  },", "  mix = { " + ", ".join(q(m) for m in mix) +
                  " },", "}", ""]
        path = os.path.join(self.dir, f"manifest-{len(mix)}.lua")
        with open(path, "w") as f:
            f.write("\n".join(parts))
        return path

    def body(self, kind, n, id_base):
        """The n-th distinct body of kind, as deliver.lua would make it."""
        k = self.kinds[kind]
        with open(k["files"][n % len(k["files"])], "rb") as f:
            text = f.read()
        ident = id_base + n
        if k["lines"]:
            ident = ident * 1000 + k["lines"]
        return k["topic"], text.replace(b"@ID@", str(ident).encode())

    def warm_products(self):
        """Signed product bodies for every product the orders sell."""
        obj = json.loads(self._read(WARM_PRODUCT))
        out = []
        for key in sorted(self.product_keys, key=int):
            obj["id"] = int(key)
            out.append(("product.created", php_json(obj)))
        return out


# -- servers ---------------------------------------------------------------

def nginx_user():
    if os.geteuid() != 0:
        return ""
    try:
        group = grp.getgrnam("nogroup").gr_name
    except KeyError:
        group = grp.getgrgid(pwd.getpwnam("nobody").pw_gid).gr_name
    return f"user nobody {group};\n"


def temp_paths(run_dir, prefix):
    text = ""
    for module in ("client_body", "fastcgi", "proxy", "uwsgi", "scgi"):
        text += (f"\t{module}_temp_path "
                 f"{os.path.join(run_dir, prefix + '-' + module)};\n")
    return text


class StandIn:
    """nginx over HTTPS answering as a fast Salesforce would."""

    def __init__(self, run_dir, ca_dir, line_counts):
        self.dir = run_dir
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.access_log = os.path.join(run_dir, "sf-access.log")
        self.ca_dir = ca_dir
        self.line_counts = line_counts
        self.proc = None

    def config(self):
        token = json.dumps({
            "access_token": "00DBENCH!stand-in-token",
            "instance_url": self.url, "id": self.url + "/id/00D/005",
            "token_type": "Bearer", "issued_at": "1700000000000",
            "signature": "c3RhbmQtaW4="}, separators=(",", ":"))
        pricebook = ('{"totalSize":1,"done":true,"records":[{"attributes":'
                     '{"type":"Pricebook2"},"Id":"01sBENCH000000000A",'
                     '"IsActive":true}]}')
        # For the access log only: which kind of delivery a composite
        # carries (an order's id ends in its line count, deliver.lua).
        kinds = "".join(
            f'\t\t"~\\"WC_Order_Id__c\\":\\"\\d+{n:03d}\\"" order{n};\n'
            for n in self.line_counts)
        v = f"/services/data/v{API_VERSION}"
        return (
            f"load_module {JS_MODULE};\n"
            f"{nginx_user()}"
            "worker_processes 1;\n"
            f"pid {self.dir}/sf.pid;\n"
            f"error_log {self.dir}/sf-error.log warn;\n"
            "events {\n\tworker_connections 1024;\n}\n"
            "http {\n"
            f"{temp_paths(self.dir, 'sf')}"
            f"\tjs_import standin from {STANDIN_JS};\n"
            "\tlog_format sf '$msec $request_method $uri $status "
            "$connection $connection_requests $ssl_session_reused "
            "$sf_kind';\n"
            f"\taccess_log {self.access_log} sf;\n"
            "\tmap $request_body $sf_kind {\n"
            "\t\tdefault other;\n"
            f"{kinds}"
            "\t}\n"
            "\tserver {\n"
            f"\t\tlisten 127.0.0.1:{self.port} ssl;\n"
            f"\t\tssl_certificate {self.ca_dir}/server.pem;\n"
            f"\t\tssl_certificate_key {self.ca_dir}/server.key;\n"
            "\t\tssl_session_cache shared:bench:1m;\n"
            "\t\tkeepalive_requests 1000000;\n"
            "\t\tkeepalive_timeout 600s;\n"
            "\t\tclient_max_body_size 16m;\n"
            "\t\tclient_body_buffer_size 16m;\n"
            "\t\tclient_body_in_single_buffer on;\n"
            "\t\tdefault_type application/json;\n"
            "\t\tlocation = /services/oauth2/token {\n"
            f"\t\t\treturn 200 '{token}';\n\t\t}}\n"
            f"\t\tlocation = {v}/query {{\n"
            f"\t\t\treturn 200 '{pricebook}';\n\t\t}}\n"
            f"\t\tlocation = {v}/composite {{\n"
            "\t\t\tjs_content standin.composite;\n\t\t}\n"
            "\t\tlocation / {\n"
            "\t\t\treturn 404 '[{\"errorCode\":\"NOT_FOUND\","
            "\"message\":\"not served by the bench stand-in\"}]';\n"
            "\t\t}\n"
            "\t}\n"
            "}\n")

    def start(self):
        self.proc = start_nginx(self.dir, "sf", self.config(), self.port)
        return self

    def log_size(self):
        try:
            return os.path.getsize(self.access_log)
        except OSError:
            return 0

    def requests_since(self, offset):
        """Access log lines written after offset, as dicts."""
        out = []
        with open(self.access_log, "rb") as f:
            f.seek(offset)
            for line in f.read().decode("utf-8", "replace").splitlines():
                p = line.split()
                if len(p) < 8:
                    continue
                out.append({"uri": p[2], "status": p[3], "conn": p[4],
                            "conn_requests": int(p[5]),
                            "reused": p[6] == "r", "kind": p[7]})
        return out


def start_nginx(run_dir, name, text, port):
    conf = os.path.join(run_dir, f"{name}.conf")
    with open(conf, "w") as f:
        f.write(text)
    err = os.path.join(run_dir, f"{name}-error.log")
    check = run([tool("nginx"), "-t", "-q", "-e", err, "-p", run_dir + "/",
                 "-c", conf], timeout=30)
    if check.returncode != 0:
        raise BenchError(f"nginx -t refused {conf}:\n"
                         f"{check.stdout.decode()}")
    proc = Child(f"nginx ({name})",
                 [tool("nginx"), "-e", err, "-p", run_dir + "/", "-c", conf,
                  "-g", "daemon off;"], os.path.join(run_dir,
                                                     f"{name}.stderr"))

    def up():
        if not proc.alive():
            raise BenchError(f"nginx ({name}) exited:\n{proc.output()}"
                             f"{open(err).read()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            return False

    wait_until(up, START_TIMEOUT, f"nginx ({name}) to listen")
    return proc


class Front:
    """The shop's nginx: nginx-conf/wc2sf.conf on a unix socket."""

    def __init__(self, run_dir, socket_path):
        self.dir = run_dir
        self.port = free_port()
        self.socket = socket_path
        self.url = f"http://127.0.0.1:{self.port}{HOOK_PATH}"

    def config(self):
        with open(SNIPPET) as f:
            snippet = f.read()
        if SNIPPET_SOCKET not in snippet:
            raise BenchError(f"{SNIPPET} no longer names {SNIPPET_SOCKET}")
        snippet = snippet.replace(SNIPPET_SOCKET, self.socket)
        site = os.path.join(self.dir, "wc2sf-site.conf")
        with open(site, "w") as f:
            f.write(snippet)
        for path in ("/etc/nginx/fastcgi_params",
                     "/usr/local/nginx/conf/fastcgi_params"):
            if os.path.exists(path):
                shutil.copy(path, os.path.join(self.dir, "fastcgi_params"))
                break
        else:
            raise BenchError("no fastcgi_params for nginx")
        return (
            f"{nginx_user()}"
            "worker_processes auto;\n"
            f"pid {self.dir}/front.pid;\n"
            f"error_log {self.dir}/front-error.log warn;\n"
            "events {\n\tworker_connections 1024;\n}\n"
            "http {\n"
            f"{temp_paths(self.dir, 'front')}"
            f"\taccess_log {self.dir}/front-access.log combined "
            "buffer=64k flush=1s;\n"
            "\tserver {\n"
            f"\t\tlisten 127.0.0.1:{self.port};\n"
            "\t\tserver_name localhost;\n"
            f"\t\tinclude {site};\n"
            "\t\tlocation / {\n\t\t\treturn 404;\n\t\t}\n"
            "\t}\n"
            "}\n")

    def start(self):
        self.proc = start_nginx(self.dir, "front", self.config(), self.port)
        return self

    def post(self, topic, body):
        """One signed delivery; returns (status, reply JSON)."""
        resource, event = topic.split(".", 1)
        conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                          timeout=30)
        try:
            conn.request("POST", HOOK_PATH, body, {
                "Content-Type": "application/json",
                "X-WC-Webhook-Topic": topic,
                "X-WC-Webhook-Resource": resource,
                "X-WC-Webhook-Event": event,
                "X-WC-Webhook-Signature": sign(body),
                "X-WC-Webhook-ID": "1",
                "X-WC-Webhook-Delivery-ID": "bench-warm",
                "X-WC-Webhook-Source": "http://shop.example.test/"})
            reply = conn.getresponse()
            data = reply.read()
        finally:
            conn.close()
        try:
            return reply.status, json.loads(data)
        except ValueError:
            return reply.status, {"raw": data[:200].decode("latin-1")}


class Workers:
    """FastCGI workers forked by spawn-fcgi on one unix socket."""

    def __init__(self, run_dir, socket_path, program, count, env):
        self.socket = socket_path
        if os.path.exists(socket_path):
            os.unlink(socket_path)
        proc = run([tool("spawn-fcgi"), "-s", socket_path, "-M", "0666",
                    "-F", str(count), "--", program], timeout=30, env=env)
        text = proc.stdout.decode("utf-8", "replace")
        self.pids = [int(p) for p in re.findall(r"PID: (\d+)", text)]
        if proc.returncode != 0 or len(self.pids) != count:
            stop_pids(self.pids)
            raise BenchError(f"spawn-fcgi failed:\n{text}")

    def stop(self):
        stop_pids(self.pids)
        if os.path.exists(self.socket):
            os.unlink(self.socket)


# -- measuring -------------------------------------------------------------

class Wrk:
    """One wrk run of bench/deliver.lua."""

    def __init__(self, url, manifest, mode, base, pool, threads,
                 connections, seconds, log_path):
        argv = [tool("wrk"), "-t", str(threads), "-c", str(connections),
                "-d", f"{seconds}s", "--timeout", "30s",
                "-s", os.path.join(HERE, "deliver.lua"), url, "--",
                manifest, mode, str(base), str(pool)]
        self.threads = threads
        self.child = Child("wrk", argv, log_path)
        self.seconds = seconds

    def ready(self, timeout=120):
        """Wait until every thread has built its requests."""
        def all_ready():
            if not self.child.alive():
                raise BenchError(f"wrk exited:\n{self.child.output()}")
            return self.child.output().count("bench ready") >= \
                self.threads
        wait_until(all_ready, timeout, "wrk to build its requests")

    def wait(self, groups=None):
        """
        wrk's result, with "cpu": the machine's busy share meanwhile, and
        "cpu_by": CPU seconds (user, system) of each group of pids in
        groups ({name: [pid]}) and of wrk itself.
        """
        groups = groups or {}
        self.ready()
        before = cpu_times()
        mark = {name: group_cpu(pids) for name, pids in groups.items()}
        wrk_before = proc_cpu(self.child.popen.pid)
        reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
        try:
            self.child.popen.wait(timeout=self.seconds + 120)
        except subprocess.TimeoutExpired:
            self.child.stop()
            raise BenchError("wrk did not finish")
        after = cpu_times()
        result = parse_wrk(self.child.output())
        result["cpu"] = (after[0] - before[0]) / max(1, after[1] -
                                                     before[1])
        by = {}
        for name, pids in groups.items():
            u, s = group_cpu(pids)
            by[name] = (u - mark[name][0], s - mark[name][1])
        now = resource.getrusage(resource.RUSAGE_CHILDREN)
        by["wrk"] = (now.ru_utime - reaped.ru_utime - wrk_before[0],
                     now.ru_stime - reaped.ru_stime - wrk_before[1])
        result["cpu_by"] = by
        return result


def parse_wrk(text):
    out = {}
    for line in text.splitlines():
        if not line.startswith("bench "):
            continue
        for key, value in re.findall(r"(\w+)=(\S+)", line):
            out[key] = value
    if "requests" not in out:
        raise BenchError(f"wrk printed no result:\n{text[-3000:]}")
    result = {k: float(out[k]) for k in ("requests", "duration_us", "p50",
                                         "p90", "p99", "p999", "mean",
                                         "max")}
    result["errors"] = sum(int(out[k]) for k in ("connect", "read",
                                                 "write", "timeout"))
    result["statuses"] = dict(
        (int(a), int(b)) for a, b in
        (s.split(":") for s in out.get("statuses", "").split(",") if s))
    result["wraps"] = int(out.get("pool_wraps", 0))
    result["rate"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


LOG_LINE = re.compile(r"\[(\d+)\]: level=\w+ topic=(\S+) id=(\S+) "
                      r"event=\S+ result=(\S+) status=(\d+) "
                      r"sf_ms=(\d+) ms=(\d+)")


def kind_of(topic, ident):
    resource = topic.split(".")[0].strip('"')
    if resource != "order":
        return resource
    try:
        lines = int(ident) % 1000
    except ValueError:
        return "order"
    return "order" if lines < 30 else f"order{lines}"


class WorkerLog:
    """wc2sf's own log: one line per delivery with ms= and sf_ms=."""

    def __init__(self, path):
        self.path = path
        self.offset = 0

    def mark(self):
        self.offset = os.path.getsize(self.path) if os.path.exists(
            self.path) else 0
        return self.offset

    def read_new(self):
        """Deliveries in whole lines written since the last call."""
        if not os.path.exists(self.path):
            return []
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        end = data.rfind(b"\n") + 1
        self.offset += end
        return self.parse(data[:end].decode("utf-8", "replace"))

    def deliveries(self, since=None):
        start = self.offset if since is None else since
        out = []
        if not os.path.exists(self.path):
            return out
        with open(self.path, "rb") as f:
            f.seek(start)
            text = f.read().decode("utf-8", "replace")
        return self.parse(text)

    @staticmethod
    def parse(text):
        """
        Delivery lines as dicts. ms and sf_ms are whole milliseconds; if
        the log also gives us= and sf_us= (microseconds), those are used.
        """
        out = []
        for line in text.splitlines():
            m = LOG_LINE.search(line)
            if m is None:
                continue
            pid, topic, ident, result, status, sf_ms, ms = m.groups()
            d = {"pid": int(pid), "kind": kind_of(topic, ident),
                 "result": result, "status": int(status),
                 "sf_ms": int(sf_ms), "ms": int(ms)}
            us = re.search(r" us=(\d+)", line)
            sf_us = re.search(r" sf_us=(\d+)", line)
            if us and sf_us:
                d["ms"] = int(us.group(1)) / 1000
                d["sf_ms"] = int(sf_us.group(1)) / 1000
            out.append(d)
        return out


def own_times(deliveries):
    """{kind: [ms - sf_ms]} over synced deliveries."""
    out = {}
    for d in deliveries:
        if d["result"] == "synced":
            out.setdefault(d["kind"], []).append(d["ms"] - d["sf_ms"])
    return out


def results_by_kind(deliveries):
    out = {}
    for d in deliveries:
        k = out.setdefault(d["kind"], {})
        k[d["result"]] = k.get(d["result"], 0) + 1
    return out


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def cpu_times():
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values) - idle, sum(values)


def proc_cpu(pid):
    """User and system CPU seconds of one process, 0 if gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0, 0.0
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def children_of(pid):
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid:
            out.append(int(name))
    return out


def group_cpu(pids):
    user = system = 0.0
    for pid in pids:
        u, s = proc_cpu(pid)
        user += u
        system += s
    return user, system


def proc_status(pid):
    fields = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                name, _, value = line.partition(":")
                if name in ("VmHWM", "VmRSS", "RssAnon", "RssFile"):
                    fields[name] = int(value.split()[0])
    except OSError:
        pass
    return fields


def smaps(pid):
    """
    /proc/PID/smaps summed by what is mapped: {name: {"Rss": KiB,
    "Anonymous": KiB}}. A library's name is its file's base name, all its
    segments together (the pages relocation or writing made private are
    its Anonymous); "[heap]" and "[stack]" are the kernel's names, "anon"
    the other anonymous mappings (malloc's mmap'd chunks, thread stacks).
    Empty when the process is gone.
    """
    out, cur = {}, None
    try:
        with open(f"/proc/{pid}/smaps") as f:
            for line in f:
                head = line.split(None, 5)
                if re.match(r"^[0-9a-f]+-[0-9a-f]+$", head[0]):
                    path = head[5].strip() if len(head) > 5 else ""
                    name = os.path.basename(path) if path.startswith("/") \
                        else path or "anon"
                    cur = out.setdefault(name, {"Rss": 0, "Anonymous": 0})
                elif cur is not None and head[0].rstrip(":") in cur:
                    cur[head[0].rstrip(":")] += int(head[1])
    except OSError:
        return {}
    return out


def curl_only_libraries(program):
    """
    Base names of the shared libraries that program loads only because
    libcurl needs them (nghttp2, ssh2, rtmp and GnuTLS, Kerberos, LDAP,
    ...): every library ldd lists, less libcurl and the libraries that
    program's other dependencies need. Empty when ldd or readelf fails.
    """
    try:
        text = run(["ldd", program], timeout=30).stdout.decode()
    except (OSError, subprocess.SubprocessError):
        return set()
    paths = dict(re.findall(r"^\s*(\S+) => (/\S+)", text, re.M))

    def needed(path):
        try:
            out = run(["readelf", "-dW", path], timeout=30).stdout.decode()
        except (OSError, subprocess.SubprocessError):
            return []
        return re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", out)

    keep, todo = set(), [n for n in needed(program)
                         if not n.startswith("libcurl.")]
    while todo:
        name = todo.pop()
        if name in keep or name not in paths:
            continue
        keep.add(name)
        todo += needed(paths[name])
    return {os.path.basename(os.path.realpath(path))
            for name, path in paths.items()
            if name not in keep and not name.startswith("libcurl.")}


# -- the bench -------------------------------------------------------------

class Bench:
    def __init__(self, opts):
        self.opts = opts
        self.build = os.path.abspath(opts.build)
        self.fcgi = os.path.join(self.build, "wc2sf.fcgi")
        self.null = os.path.join(self.build, "bench", "null_fcgi")
        self.drive = os.path.join(self.build, "bench", "drive")
        self.lean_fcgi = os.path.join(os.path.abspath(opts.lean_build),
                                      "wc2sf.fcgi") if opts.lean_build \
            else None
        for path in (self.fcgi, self.null, self.drive, self.lean_fcgi):
            if path is None:
                continue
            if not os.access(path, os.X_OK):
                raise BenchError(f"{path} is not built (make bench builds "
                                 "it)")
        if not os.path.exists(JS_MODULE):
            raise BenchError(f"{JS_MODULE} is missing: install "
                             "libnginx-mod-http-js (make deps)")
        # The journal lives on the build directory's disk, as a shop's
        # would; sockets and nginx's scratch files in a short /tmp path
        # that nginx's workers can reach.
        self.data_dir = os.path.join(self.build, "bench", "run")
        shutil.rmtree(self.data_dir, ignore_errors=True)
        os.makedirs(self.data_dir)
        self.run_dir = tempfile.mkdtemp(prefix="wc2sf-bench-")
        os.chmod(self.run_dir, 0o755)
        self.socket = os.path.join(self.run_dir, "fcgi.sock")
        self.children = []
        self.workers = None
        self.results = {}
        self.loadavg = loadavg()

    def close(self):
        if self.workers is not None:
            self.workers.stop()
        for child in reversed(self.children):
            child.stop()
        shutil.rmtree(self.run_dir, ignore_errors=True)
        if not self.opts.keep:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    # The pieces -----------------------------------------------------------

    def prepare(self):
        ca = os.path.join(self.build, "bench", "tls")
        proc = run(["sh", MKCA, ca], timeout=120)
        if proc.returncode != 0:
            raise BenchError(f"mkca.sh failed:\n{proc.stdout.decode()}")
        # nginx's workers read nothing of it; the master reads it as root.
        self.ca = ca
        shared = os.environ.get("WC2SF_SHARED")
        fixtures = os.path.join(shared, "fixtures") if shared else \
            os.path.join(REPO, "tests", "fixtures")
        fixtures = os.path.join(fixtures, "woocommerce-10.0.2")
        self.payloads = Payloads(fixtures, os.path.join(self.data_dir,
                                                        "templates"))
        self.load_manifest = self.payloads.manifest(LOAD_MIX)
        self.light_manifest = self.payloads.manifest(LIGHT_MIX)
        self.standin = StandIn(self.run_dir, ca, [2, 30, 300])
        self.children.append(self.standin.start().proc)
        self.front = Front(self.run_dir, self.socket)
        self.children.append(self.front.start().proc)

    def config(self, name):
        """A wc2sf configuration with its own journal and log."""
        d = os.path.join(self.data_dir, name)
        os.makedirs(d, exist_ok=True)
        text = (
            "[woocommerce]\n"
            f"secret = {SECRET}\n"
            "max_body = 1M\n\n"
            "[salesforce]\n"
            "auth = password\n"
            f"login_url = {self.standin.url}\n"
            "client_id = bench-client\n"
            "client_secret = bench-client-secret\n"
            "username = bench@example.test\n"
            "password = bench-password\n"
            f"api_version = {API_VERSION}\n"
            f"ca_file = {self.ca}/ca.pem\n"
            "timeout = 10\n\n"
            "[store]\n"
            f"path = {d}/wc2sf.db\n\n"
            "[log]\n"
            "level = info\n"
            f"file = {d}/wc2sf.log\n")
        path = os.path.join(d, "wc2sf.conf")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        env = {k: os.environ[k] for k in ("PATH", "LANG", "TZ", "HOME")
               if k in os.environ}
        env["WC2SF_CONFIG"] = path
        return env, WorkerLog(os.path.join(d, "wc2sf.log")), d

    def start_workers(self, program, count, env):
        if self.workers is not None:
            self.workers.stop()
        self.workers = Workers(self.run_dir, self.socket, program, count,
                               env)

    def wrk(self, manifest, mode, base, pool, connections, seconds, name):
        say(f"{name}: wrk -c{connections} for {seconds}s")
        front = self.front.proc.popen.pid
        standin = self.standin.proc.popen.pid
        groups = {"workers": list(self.workers.pids),
                  "nginx (front)": [front] + children_of(front),
                  "nginx (Salesforce stand-in)": [standin] +
                  children_of(standin)}
        return Wrk(self.front.url, manifest, mode, base, pool,
                   self.opts.threads, connections, seconds,
                   os.path.join(self.data_dir, f"wrk-{name}.out")).wait(
                       groups)

    def warm_products(self, after_first=None):
        """Sync every product the orders sell, so orders find them."""
        for i, (topic, body) in enumerate(self.payloads.warm_products()):
            status, reply = self.front.post(topic, body)
            if status != 200 or reply.get("result") != "synced":
                raise BenchError(f"warm-up product: {status} {reply}")
            if i == 0 and after_first is not None:
                after_first()

    def pool_size(self, seconds):
        # Enough distinct bodies per thread for any rate this machine
        # could reach; a wrap shows up as duplicates in the table.
        return int(seconds * self.opts.pool_rate / self.opts.threads) + 100

    # The runs -------------------------------------------------------------

    def ceiling(self):
        o = self.opts
        self.start_workers(self.null, o.workers, None)
        self.wrk(self.load_manifest, "pool", BASE["ceiling"],
                 self.pool_size(o.warmup), o.connections, o.warmup,
                 "ceiling-warmup")
        self.results["ceiling"] = self.wrk(
            self.load_manifest, "pool", BASE["ceiling"] + 50000000,
            self.pool_size(o.duration), o.connections, o.duration,
            "ceiling")

    def load(self):
        o = self.opts
        env, log, _ = self.config("load")
        self.start_workers(self.fcgi, o.workers, env)
        self.warm_products()
        self.wrk(self.load_manifest, "pool", BASE["warm"],
                 self.pool_size(o.warmup), o.connections, o.warmup,
                 "wc2sf-warmup")
        log_mark = log.mark()
        sf_mark = self.standin.log_size()
        r = self.wrk(self.load_manifest, "pool", BASE["load"],
                     self.pool_size(o.duration), o.connections, o.duration,
                     "wc2sf")
        r["deliveries"] = self.settle(log, log_mark, r["requests"])
        r["sf"] = self.standin.requests_since(sf_mark)
        self.results["load"] = r
        light_mark = log.mark()
        sf_mark = self.standin.log_size()
        light = self.wrk(self.light_manifest, "pool", BASE["light"],
                         self.pool_size(o.light) // 4, 1, o.light,
                         "wc2sf-light")
        light["deliveries"] = self.settle(log, light_mark,
                                          light["requests"])
        light["sf"] = self.standin.requests_since(sf_mark)
        self.results["light"] = light
        self.workers.stop()
        self.workers = None

    def settle(self, log, mark, requests):
        """The log lines of a run, once every answered request has one."""
        def enough():
            got = log.deliveries(mark)
            return got if len(got) >= requests else None
        try:
            return wait_until(enough, 10, "the log of every delivery")
        except BenchError:
            return log.deliveries(mark)

    def memory(self, name="memory", fcgi=None):
        o = self.opts
        fcgi = fcgi or self.fcgi
        env, log, mem_dir = self.config(name)
        self.start_workers(fcgi, 1, env)
        pid = self.workers.pids[0]
        # What each phase maps: the worker started and waiting for its
        # first request (libraries loaded, libcurl and OpenSSL set up,
        # journal open), after its first delivery (first TLS handshake,
        # token, price book, journal writes), after the warm-up, then at
        # each checkpoint.
        phases = []

        def phase(label):
            phases.append({"label": label, "status": proc_status(pid),
                           "maps": smaps(pid)})

        wait_until(lambda: os.path.exists(os.path.join(mem_dir,
                                                       "wc2sf.db")),
                   10, "the worker's journal")
        time.sleep(0.5)
        phase("started")
        self.warm_products(lambda: phase("1 delivery"))
        phase("warm-up")
        log.mark()
        checkpoints = [c for c in (1000, 10000, 25000, 50000, 75000,
                                   100000) if c <= o.memory_deliveries]
        say(f"{name}: one worker, up to {o.memory_deliveries} deliveries "
            f"or {o.memory_seconds}s")
        load = Wrk(self.front.url, self.load_manifest, "live",
                   BASE[name], 0, 1, 2, o.memory_seconds + 60,
                   os.path.join(self.data_dir, f"wrk-{name}.out"))
        started = time.monotonic()
        seen, marks, results = 0, [], {}
        try:
            while checkpoints:
                time.sleep(0.5)
                for d in log.read_new():
                    results[d["result"]] = results.get(d["result"], 0) + 1
                    seen += 1
                elapsed = time.monotonic() - started
                while checkpoints and seen >= checkpoints[0]:
                    st = proc_status(pid)
                    marks.append({"deliveries": seen, "seconds": elapsed,
                                  "hwm_kib": st.get("VmHWM"),
                                  "rss_kib": st.get("VmRSS"),
                                  "anon_kib": st.get("RssAnon")})
                    phase(f"{seen:,}")
                    say(f"{name}: {seen} deliveries, VmHWM "
                        f"{st.get('VmHWM')} kB")
                    checkpoints.pop(0)
                if elapsed > o.memory_seconds or not load.child.alive():
                    break
        finally:
            load.child.stop()
        st = proc_status(pid)
        for d in log.read_new():
            results[d["result"]] = results.get(d["result"], 0) + 1
            seen += 1
        marks.append({"deliveries": seen, "seconds":
                      time.monotonic() - started, "hwm_kib": st.get("VmHWM"),
                      "rss_kib": st.get("VmRSS"),
                      "anon_kib": st.get("RssAnon"), "final": True})
        db = os.path.join(mem_dir, "wc2sf.db")
        with open(os.path.join(mem_dir, "smaps.json"), "w") as f:
            json.dump(phases, f, indent=1)
        self.results[name] = {"marks": marks, "results": results,
                              "phases": phases,
                              "curl_only": sorted(
                                  curl_only_libraries(fcgi)),
                              "db_bytes": sum(
                                  os.path.getsize(p) for p in
                                  glob.glob(db + "*"))}
        self.workers.stop()
        self.workers = None

    def memory_lean(self):
        if self.lean_fcgi:
            self.memory("memory-lean", self.lean_fcgi)

    def callgrind(self):
        """Instructions per delivery by kind: runs of N and 2N."""
        o = self.opts
        valgrind = tool("valgrind")
        env, _, d = self.config("callgrind")
        prelude = self.payloads.warm_products()
        counts = {"customer": o.cg_count, "product": o.cg_count,
                  "order": o.cg_count, "order30": max(2, o.cg_count // 2),
                  "order300": max(2, o.cg_count // 8)}
        out = {}
        for kind in KIND_ORDER:
            n = counts[kind]
            path = os.path.join(d, f"{kind}.deliveries")
            with open(path, "wb") as f:
                for topic, body in prelude + [
                        self.payloads.body(kind, i, 900000000)
                        for i in range(2 * n)]:
                    f.write(f"{topic} {sign(body)} {len(body)}\n".encode())
                    f.write(body + b"\n")
            irs = []
            for count in (n, 2 * n):
                for name in os.listdir(d):
                    if name.startswith("wc2sf.db"):
                        os.unlink(os.path.join(d, name))
                cg_out = os.path.join(d, f"cg-{kind}-{count}.out")
                say(f"callgrind: {kind} x{count}")
                proc = run([valgrind, "--tool=callgrind",
                            f"--callgrind-out-file={cg_out}", self.drive,
                            path, str(len(prelude)), str(count)],
                           timeout=600, env=env)
                if proc.returncode != 0:
                    raise BenchError(f"drive {kind} x{count} failed:\n"
                                     f"{proc.stdout.decode()[-3000:]}\n"
                                     f"(see {d}/wc2sf.log)")
                irs.append(callgrind_total(cg_out))
            out[kind] = {"n": n, "ir": (irs[1] - irs[0]) / n,
                         "runs": [os.path.join(d, f"cg-{kind}-{c}.out")
                                  for c in (n, 2 * n)]}
        self.results["callgrind"] = out
        self.results["profile"] = profile(out)


def callgrind_total(path):
    with open(path) as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise BenchError(f"{path}: no instruction total")


FUNC_LINE = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*?)\s*$")


def annotate(path, inclusive):
    """{"file:function [object]": instructions} of one callgrind run."""
    proc = run(["callgrind_annotate", "--auto=no", "--threshold=100",
                f"--inclusive={'yes' if inclusive else 'no'}", path],
               timeout=120)
    rows = {}
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        m = FUNC_LINE.match(line)
        if m and m.group(2) != "PROGRAM TOTALS":
            rows[m.group(2)] = int(m.group(1).replace(",", ""))
    return rows


def per_delivery(runs, n, inclusive):
    """What N more deliveries cost, per delivery, by function."""
    small, big = (annotate(p, inclusive) for p in runs)
    return {k: (v - small.get(k, 0)) / n for k, v in big.items()}


def object_of(where):
    m = re.search(r"\[(.*)\]$", where)
    obj = os.path.basename(m.group(1)) if m else "(unknown)"
    if obj.strip("?") == "":
        obj = "(unknown)"
    obj = re.sub(r"\.so[.\d]*$", "", obj)
    return "wc2sf" if obj in ("drive", "wc2sf.fcgi") else obj


def func_of(where):
    name = re.sub(r"\s*\[.*\]$", "", where).split(":", 1)[-1]
    if name.startswith("0x"):
        return "(no symbol)"
    return name


# wc2sf's steps, as functions whose inclusive cost tells what each costs:
# the first name of each list that the profile has (names change as the
# code does; a step none of whose names appears is left out of the
# table, and so are static functions the compiler inlined).
STEPS = [("signature check", ["signature_verify"]),
         ("JSON parse of the body", ["parse_body_why", "parse_body"]),
         ("journal: record and claim", ["journal_record_claim",
                                        "journal_record"]),
         ("journal: claim (older versions first)",
          ["journal_claim_first", "journal_claim"]),
         ("journal: finish", ["journal_finish"]),
         ("journal: last synced body", ["journal_last_synced_body"]),
         ("journal: product known", ["journal_resource_known",
                                     "journal_product_synced"]),
         ("mapping", ["map_build_since", "map_build"]),
         ("Salesforce call (pack, HTTPS, read)", ["sf_execute"]),
         ("drain after the reply", ["sync_drain"]),
         ("the whole delivery path", ["sync_handle"])]


def profile(cg):
    """Per delivery: instructions by library, by step, top functions."""
    out = {}
    for kind, data in cg.items():
        excl = per_delivery(data["runs"], data["n"], False)
        incl = per_delivery(data["runs"], data["n"], True)
        by_obj, top = {}, {}
        for where, ir in excl.items():
            by_obj[object_of(where)] = by_obj.get(object_of(where), 0) + ir
            key = (func_of(where), object_of(where))
            top[key] = top.get(key, 0) + ir
        by_func = {}
        for where, ir in incl.items():
            name = func_of(where)
            by_func[name] = max(by_func.get(name, 0), ir)
        out[kind] = {"total": data["ir"], "objects": by_obj,
                     "top": sorted(((ir, f, o) for (f, o), ir in
                                    top.items()), reverse=True)[:15],
                     "steps": [(label, next((by_func[f] for f in names
                                             if f in by_func), None))
                               for label, names in STEPS]}
    return out


# -- the report ------------------------------------------------------------

def share(part, total):
    return f"{100 * part / total:.1f} %" if total else "-"


def fmt_ms(v):
    return "-" if v is None else f"{v:.3g}"


def machine():
    info = {}
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"model name\s*:\s*(.*)", f.read())
            info["cpu"] = m.group(1).strip() if m else platform.processor()
    except OSError:
        info["cpu"] = platform.processor()
    info["cores"] = os.cpu_count()
    with open("/proc/meminfo") as f:
        kb = int(re.search(r"MemTotal:\s*(\d+)", f.read()).group(1))
    info["memory"] = f"{kb / 1048576:.1f} GiB"
    info["kernel"] = f"{platform.system()} {platform.release()}"
    virt = run(["systemd-detect-virt"], timeout=10).stdout.decode().strip() \
        if shutil.which("systemd-detect-virt") else ""
    info["virtualization"] = virt or "-"
    try:
        with open("/etc/os-release") as f:
            m = re.search(r'PRETTY_NAME="(.*)"', f.read())
            info["os"] = m.group(1) if m else "-"
    except OSError:
        info["os"] = "-"

    def first(argv, pattern=r"(.*)"):
        try:
            text = run(argv, timeout=30).stdout.decode("utf-8", "replace")
        except (OSError, subprocess.TimeoutExpired):
            return "-"
        m = re.search(pattern, text)
        return m.group(1).strip() if m else "-"

    def pkg(name):
        return first(["pkg-config", "--modversion", name])

    info["versions"] = {
        "nginx": first([tool("nginx"), "-v"], r"nginx/(\S+)"),
        "wrk": first([tool("wrk"), "-v"], r"wrk (\S+)"),
        "valgrind": first(["valgrind", "--version"], r"valgrind-(\S+)"),
        "cc": first([os.environ.get("CC", "cc"), "--version"]),
        "libcurl": pkg("libcurl"), "openssl": pkg("openssl"),
        "sqlite": pkg("sqlite3"), "json-c": pkg("json-c"),
        "libfcgi": first(["dpkg-query", "-W", "-f=${Version}",
                          "libfcgi0ldbl"]) if shutil.which("dpkg-query")
        else "-",
    }
    # Dirty means changed sources; an earlier run's table is not one.
    commit = first(["git", "-C", REPO, "rev-parse", "--short", "HEAD"])
    changed = first(["git", "-C", REPO, "status", "--porcelain", "--",
                     ".", ":!bench/results"])
    info["commit"] = (commit or "-") + ("-dirty" if changed not in ("", "-")
                                        else "")
    return info


def memory_rows(row, yes, mem, what, lean=None):
    """The rows of one memory run: peak RSS at each checkpoint, rate."""
    if not mem:
        return
    marks = [m for m in mem["marks"] if m.get("hwm_kib")]
    text = "; ".join(f"{m['deliveries']:,}: {m['hwm_kib'] / 1024:.1f}"
                     f" (anon {m.get('anon_kib', 0) / 1024:.1f})"
                     for m in marks if not m.get("final"))
    final = marks[-1] if marks else None
    ten = next((m for m in marks if m["deliveries"] >= 10000), None)
    flat = ten is not None and final is not None and \
        final["hwm_kib"] <= ten["hwm_kib"] * 1.02 + 256
    under = final is not None and final["hwm_kib"] < \
        TARGET_RSS_MIB * 1024
    last = (f" (stopped at {final['deliveries']:,} after "
            f"{final['seconds']:.0f} s)") if final else ""
    row(what, (text or "-") + last, f"< {TARGET_RSS_MIB} MiB, flat",
        yes(flat and under))
    segs = []
    for a, b in zip(marks, marks[1:]):
        if b["deliveries"] - a["deliveries"] >= 1000 and \
                b["seconds"] > a["seconds"]:
            rate = (b["deliveries"] - a["deliveries"]) / \
                (b["seconds"] - a["seconds"])
            segs.append(f"{b['deliveries']:,}: {rate:,.0f}/s")
    row("one worker's rate as the journal grows" +
        ("" if lean is None else f" ({lean})"), "; ".join(segs) +
        f"; journal {mem['db_bytes'] / 1048576:.0f} MiB")


def report(bench, opts, wall):
    """The table, the results file's head and its profile section."""
    r = bench.results
    rows = []

    def row(what, value, target="", verdict=""):
        rows.append((what, value, target, verdict))

    def yes(ok):
        return "met" if ok else "**not met**"

    ceil = r.get("ceiling")
    load = r.get("load")
    if ceil:
        row(f"ceiling: nginx + null responder ({opts.workers} workers)",
            f"{ceil['rate']:,.0f} req/s; p50 {ceil['p50'] / 1000:.2f} ms, "
            f"p99 {ceil['p99'] / 1000:.2f} ms; CPU "
            f"{100 * ceil['cpu']:.0f} % busy")
    if load:
        rate = load["rate"]
        row(f"wc2sf through nginx ({opts.workers} workers, durable journal)",
            f"{rate:,.0f} deliveries/s; p50 {load['p50'] / 1000:.2f} ms, "
            f"p99 {load['p99'] / 1000:.2f} ms; CPU "
            f"{100 * load['cpu']:.0f} % busy",
            f">= {TARGET_RATE:,}/s on {os.cpu_count()} cores",
            yes(rate >= TARGET_RATE))
        if ceil:
            row("wc2sf / ceiling", f"{100 * rate / ceil['rate']:.1f} %")
        by = results_by_kind(load["deliveries"])
        other = {k: {x: n for x, n in v.items() if x != "synced"}
                 for k, v in by.items()}
        odd = {k: v for k, v in other.items() if v}
        errs = load["errors"] + sum(n for s, n in load["statuses"].items()
                                    if s != 200)
        row("replies other than 200 synced (load run)",
            f"{errs} HTTP; {odd or 'none'}; pool wraps {load['wraps']}",
            "none", yes(errs == 0 and not odd))
    for name, data in (("ceiling", ceil), ("wc2sf", load)):
        if data and data.get("cpu_by"):
            parts = []
            for group, (u, s) in data["cpu_by"].items():
                per = 1000 * (u + s) / max(1, data["requests"])
                parts.append(f"{group} {per:.3f} (user "
                             f"{1000 * u / max(1, data['requests']):.3f})")
            row(f"CPU ms per request by process, {name} run",
                "; ".join(parts))
    for run_name, label in (("light", "1 connection"), ("load",
                                                        "loaded")):
        data = r.get(run_name)
        if not data:
            continue
        own = own_times(data["deliveries"])
        for kind in KIND_ORDER:
            v = own.get(kind)
            if not v:
                continue
            big = kind == "order300"
            target = TARGET_OWN_P99_BIG_MS if big else TARGET_OWN_P99_MS
            p99 = pct(v, 99)
            # The target is wc2sf's own time, what one delivery costs
            # when it does not queue: the 1-connection run. Under load
            # the same figure adds the wait for a core (8 connections,
            # 2 cores shared with nginx, the stand-in and wrk) and for
            # the journal's write lock: shown, not judged.
            light = run_name == "light"
            row(f"own time {kind} ({label}, n={len(v)})",
                f"p50 {fmt_ms(pct(v, 50))} ms, p99 {fmt_ms(p99)} ms, "
                f"mean {sum(v) / len(v):.2f} ms",
                f"p99 < {target} ms" if light else
                "(includes queueing)", yes(p99 < target) if light else "")
    cg = r.get("callgrind")
    if cg:
        for kind in KIND_ORDER:
            if kind in cg:
                row(f"CPU per delivery, {kind} (callgrind, "
                    f"2x{cg[kind]['n']} - {cg[kind]['n']})",
                    f"{cg[kind]['ir'] / 1e6:.2f} M instructions")
    if load:
        sf = load["sf"]
        dl = load["deliveries"]
        synced = {}
        for d in dl:
            synced[d["kind"]] = synced.get(d["kind"], 0) + 1
        composites = {}
        for q in sf:
            if q["uri"].endswith("/composite"):
                kind = "order" if q["kind"] == "order2" else (
                    q["kind"] if q["kind"].startswith("order") else "other")
                composites[kind] = composites.get(kind, 0) + 1
        n_sf = len(sf)
        tokens = sum(1 for q in sf if q["uri"].endswith("/oauth2/token"))
        queries = sum(1 for q in sf if q["uri"].endswith("/query"))
        handshakes = sum(1 for q in sf if q["conn_requests"] == 1)
        per = n_sf / len(dl) if dl else 0
        ordinary = synced.get("customer", 0) + synced.get("product", 0)
        detail = []
        if ordinary:
            detail.append(f"customer+product "
                          f"{composites.get('other', 0) / ordinary:.2f}")
        for kind in ("order", "order30"):
            if synced.get(kind):
                ratio = composites.get(kind, 0) / synced[kind]
                detail.append(f"{kind} {ratio:.2f}")
        row("Salesforce requests per delivery (load run)",
            f"{per:.3f} ({n_sf} for {len(dl)}; {', '.join(detail)})",
            "1 per ordinary delivery", yes(abs(per - 1) < 0.01))
        row("token requests per 1,000 deliveries (load run)",
            f"{1000 * tokens / max(1, len(dl)):.2f} ({tokens}); price book "
            f"queries {queries}", "0 in steady state", yes(tokens == 0))
        row("new TLS connections to Salesforce per 1,000 deliveries",
            f"{1000 * handshakes / max(1, len(dl)):.2f} ({handshakes})")
    for key, what in (("memory", "worker peak RSS (VmHWM, MiB; anon = "
                       "RssAnon, the worker's own) after N deliveries"),
                      ("memory-lean", "the same, lean build (make lean: "
                       "static but for libc, libcurl for HTTP and HTTPS "
                       "only)")):
        memory_rows(row, yes, r.get(key), what,
                    None if key == "memory" else "lean build")
    lines = ["| what | measured | target | |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    table = "\n".join(lines)

    return (table, describe(bench, opts, wall),
            memory_section(r.get("memory")) +
            memory_section(r.get("memory-lean"),
                           "The lean build's worker") +
            profile_section(r.get("profile")))


def describe(bench, opts, wall):
    """The results file's head: the machine, the versions, the run."""
    info = machine()
    v = info["versions"]
    # findmnt names ext4 as such; stat -f says "ext2/ext3" for all three.
    fs = run(["findmnt", "-n", "-o", "FSTYPE", "-T", bench.data_dir],
             timeout=10).stdout.decode().strip() or run(
        ["stat", "-f", "-c", "%T", bench.data_dir],
        timeout=10).stdout.decode().strip()
    head = [
        f"# wc2sf bench, {datetime.date.today().isoformat()}, "
        f"{socket.gethostname()}",
        "",
        f"- machine: {info['cpu']}, {info['cores']} cores, "
        f"{info['memory']} memory, {info['os']}, {info['kernel']}, "
        f"virtualization {info['virtualization']}",
        f"- versions: nginx {v['nginx']}, wrk {v['wrk']}, valgrind "
        f"{v['valgrind']}, libcurl {v['libcurl']}, OpenSSL {v['openssl']}, "
        f"SQLite {v['sqlite']}, json-c {v['json-c']}, libfcgi "
        f"{v['libfcgi']}; {v['cc']}",
        f"- wc2sf: {info['commit']}, built with the Makefile's CFLAGS; "
        f"journal on {fs} (each record fsync'd before the reply; "
        "outcomes with the next record)",
        f"- load: wrk {opts.threads} thread(s), {opts.connections} "
        f"connections, {opts.duration} s after {opts.warmup} s warm-up; "
        f"light load: 1 connection, {opts.light} s; mix per 10 deliveries: "
        "3 customers, 3 products, 3 two-line orders, 1 thirty-line order "
        "(light load adds a 300-line order per 11)",
        f"- everything on this one machine: wrk, nginx, wc2sf and the "
        f"Salesforce stand-in share the {info['cores']} cores; load "
        f"average {bench.loadavg} before the bench, {loadavg()} after "
        "(anything else running skews every figure but the instruction "
        "counts)",
        f"- bench wall time {wall:.0f} s",
    ]
    busy = float(bench.loadavg.split()[0]) > 0.5
    if busy:
        head += [
            "",
            f"**The machine was busy when this ran (load average "
            f"{bench.loadavg}): the rates, latencies, own times and the "
            "memory run's length measure that contention as much as "
            "wc2sf. Only the instruction counts, request counts and "
            "memory sizes stand as they are. Run it again on an idle "
            "machine.**"]
    head.append("")
    return "\n".join(head)


def memory_section(mem, title="The memory run's worker"):
    """A memory run's worker, mapping by mapping, as markdown."""
    if not mem or not mem.get("phases"):
        return ""
    phases = mem["phases"]
    shown = phases[:3] + ([phases[3]] if len(phases) > 4 else []) + \
        ([phases[-1]] if len(phases) > 3 else [])
    last = shown[-1]["maps"]
    curl_only = set(mem.get("curl_only", []))

    def short(name):
        return re.sub(r"\.so[.\d]*$", "", name)

    def rss(p, names):
        return sum(p["maps"].get(n, {}).get("Rss", 0) for n in names)

    names = set().union(*(p["maps"] for p in shown))
    own = sorted((n for n in names if n not in curl_only and
                  max(rss(p, [n]) for p in shown) >= 192),
                 key=lambda n: -rss(shown[-1], [n]))
    rest = names - curl_only - set(own)
    rows = [(short(n), [n]) for n in own]
    if curl_only:
        rows.append((f"{len(curl_only)} libraries only libcurl needs",
                     sorted(curl_only)))
    rows.append((f"{len(rest)} other mappings", sorted(rest)))

    def mib(kib):
        return f"{kib / 1024:.2f}"

    out = [f"## {title}, mapping by mapping", "",
           "Rss in MiB from /proc/PID/smaps: waiting for its first "
           "request, after its first delivery (first TLS handshake, "
           "token, journal writes), after the warm-up, and at the "
           "checkpoints. A library's row is all its segments; the pages "
           "relocation or writing made private are in the last column "
           "and in RssAnon. bench/README.md, \"Memory\", reads it.", "",
           "| mapping | " + " | ".join(p["label"] for p in shown) +
           f" | anonymous ({shown[-1]['label']}) |",
           "|---|" + "---|" * (len(shown) + 1)]
    for label, group in rows:
        out.append(f"| {label} | " + " | ".join(
            mib(rss(p, group)) for p in shown) + " | " + mib(sum(
                last.get(n, {}).get("Anonymous", 0) for n in group)) + " |")
    for field in ("VmRSS", "VmHWM", "RssAnon"):
        out.append(f"| {field} | " + " | ".join(
            mib(p["status"].get(field, 0)) for p in shown) + " | |")
    if curl_only:
        out += ["", f"Only for libcurl ({shown[-1]['label']}, MiB): " +
                ", ".join(f"{short(n)} {mib(rss(shown[-1], [n]))}"
                          for n in sorted(curl_only, key=lambda n: (
                              -rss(shown[-1], [n]), n))) + "."]
    out.append("")
    return "\n".join(out) + "\n"


def profile_section(prof):
    """The callgrind tables under the main one, as markdown."""
    tail = []
    if not prof:
        return ""
    tail += ["## Where the instructions of one delivery go", "",
             "callgrind, run of 2N minus run of N deliveries, per "
             "delivery; valgrind hides SHA and AVX-512 extensions, so "
             "OpenSSL runs its generic code here (more instructions "
             "than on the real CPU).", ""]
    kinds = [k for k in KIND_ORDER if k in prof]
    tail.append("| library | " + " | ".join(kinds) + " |")
    tail.append("|---|" + "---|" * len(kinds))
    objs = sorted({o for k in kinds for o in prof[k]["objects"]},
                  key=lambda o: -sum(prof[k]["objects"].get(o, 0)
                                     for k in kinds))
    for o in objs[:10]:
        tail.append(f"| {o} | " + " | ".join(
            share(prof[k]["objects"].get(o, 0), prof[k]["total"])
            for k in kinds) + " |")
    tail += ["", "| step (inclusive) | " + " | ".join(kinds) + " |",
             "|---|" + "---|" * len(kinds)]
    for i, (label, _) in enumerate(STEPS):
        if all(prof[k]["steps"][i][1] is None for k in kinds):
            continue
        tail.append(f"| {label} | " + " | ".join(
            share(prof[k]["steps"][i][1] or 0, prof[k]["total"])
            for k in kinds) + " |")
    for k in ("order", "order300"):
        if k not in prof:
            continue
        tail += ["", f"Top functions by own instructions per "
                 f"delivery, {k}:", "",
                 "| instructions | share | function | library |",
                 "|---|---|---|---|"]
        for ir, fn, obj in prof[k]["top"]:
            tail.append(f"| {ir:,.0f} | "
                        f"{share(ir, prof[k]['total'])} | {fn} | "
                        f"{obj} |")
    tail.append("")
    return "\n".join(tail)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--light", type=int, default=8)
    ap.add_argument("--pool-rate", type=int, default=2500,
                    help="distinct bodies per second of run to prepare")
    ap.add_argument("--lean-build", default=None,
                    help="the build of make lean, for a second memory run")
    ap.add_argument("--memory-deliveries", type=int, default=100000)
    ap.add_argument("--memory-seconds", type=int, default=300)
    ap.add_argument("--cg-count", type=int, default=16)
    ap.add_argument("--quick", action="store_true",
                    help="short runs, to try the bench out")
    ap.add_argument("--skip", default="",
                    help="comma-separated: ceiling,load,memory,"
                    "memory_lean,callgrind")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--keep", action="store_true",
                    help="keep the journals and logs in BUILD/bench/run")
    opts = ap.parse_args()
    if opts.quick:
        opts.duration, opts.warmup, opts.light = 3, 1, 3
        opts.memory_deliveries, opts.memory_seconds = 10000, 40
        opts.cg_count = 4
    skip = set(filter(None, opts.skip.split(",")))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    started = time.monotonic()
    bench = None
    try:
        bench = Bench(opts)
        bench.prepare()
        for name in ("ceiling", "load", "memory", "memory_lean",
                     "callgrind"):
            if name not in skip:
                getattr(bench, name)()
        table, head, tail = report(bench, opts, time.monotonic() - started)
    except BenchError as e:
        say(str(e))
        return 1
    finally:
        if bench is not None:
            bench.close()
    print(table)
    os.makedirs(opts.out, exist_ok=True)
    name = (f"{datetime.date.today().isoformat()}-"
            f"{re.sub(r'[^A-Za-z0-9_.-]', '_', socket.gethostname())}.md")
    path = os.path.join(opts.out, name)
    with open(path, "w") as f:
        f.write(head + "\n" + table + "\n\n" + tail)
    say(f"written to {os.path.relpath(path, REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
