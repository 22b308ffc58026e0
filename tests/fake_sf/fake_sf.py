#!/usr/bin/env python3
"""fake_sf: a local stand-in for Salesforce's OAuth endpoint and REST API.

wc2sf's tests cannot reach Salesforce, so they talk to this server over
real HTTPS (certificate from tests/tls/mkca.sh). It keeps records in
memory and answers the way ../shared/reference/salesforce-api.md says
Salesforce does: status codes, error bodies, validation rules, limits.

    python3 tests/fake_sf/fake_sf.py --port 0 --cert OUT/server.pem \\
        --key OUT/server.key [--host 127.0.0.1] [--log FILE]

prints "fake_sf ready on https://127.0.0.1:PORT" once it listens and
serves until SIGTERM. Besides the Salesforce paths it offers a control
API for tests under /__fake/ (no authentication); see README.md.

Modules: oauth.py (token endpoint), rest.py (REST resources and
collections), composite.py, soql.py, store.py (records and the generic
write checks), rules.py (object rules), schema.py (objects and fields),
errors.py (error shapes and words).
"""

import argparse
import gzip
import json
import os
import signal
import socketserver
import ssl
import sys
import threading
import time
import zlib
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import errors as E  # noqa: E402
import oauth  # noqa: E402
import rest  # noqa: E402
import schema  # noqa: E402
from store import Store  # noqa: E402

WRITE_METHODS = ("POST", "PATCH", "PUT", "DELETE")
TOKEN_PATH = "/services/oauth2/token"
DATA_PREFIX = "/services/data"
FAKE_PREFIX = "/__fake/"
MAX_BODY = 32 * 1024 * 1024

DEFAULT_FAILURE_BODIES = {
    400: ("UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to "
          "this record or 1 records"),
    401: ("INVALID_SESSION_ID", "Session expired or invalid"),
    403: ("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
    500: ("UNKNOWN_EXCEPTION", "An unexpected error occurred. Please "
          "include this ErrorId if you contact support: 0-fake"),
    503: ("SERVER_UNAVAILABLE", "Server is temporarily unavailable"),
}


def to_json(value):
    def default(obj):
        if isinstance(obj, Decimal):
            return float(obj)
        raise TypeError(f"not JSON: {type(obj).__name__}")
    return json.dumps(value, default=default,
                      ensure_ascii=False).encode("utf-8")


class Outcome:
    """What the handler does with a request: send reply (after delay
    seconds), or close the connection without a word."""

    def __init__(self, reply, delay=0.0, drop=False):
        self.reply = reply
        self.delay = delay
        self.drop = drop


class Failure:
    """One {"fail": [...]} rule: the next `times` data requests whose path
    contains path_contains (and whose method matches, if given) get this
    answer instead of being served."""

    def __init__(self, spec):
        if not isinstance(spec, dict) or not isinstance(spec.get("status"),
                                                        int):
            raise ValueError("each fail rule needs an integer status")
        self.path_contains = str(spec.get("path_contains", ""))
        self.method = spec.get("method")
        self.times = int(spec.get("times", 1))
        status = spec["status"]
        body = spec.get("body")
        ctype = spec.get("content_type")
        if body is None:
            code, message = DEFAULT_FAILURE_BODIES.get(
                status, ("UNKNOWN_EXCEPTION", f"fake_sf injected {status}"))
            code = spec.get("errorCode", code)
            message = spec.get("message", message)
            self.reply = rest.Reply(status, [{"message": message,
                                              "errorCode": code}])
        elif isinstance(body, str):
            if ctype is None:
                ctype = "text/html" if body.lstrip().startswith("<") \
                    else rest.JSON_TYPE
            self.reply = rest.Reply(status, raw=body.encode("utf-8"),
                                    content_type=ctype)
        else:
            self.reply = rest.Reply(status, body,
                                    content_type=ctype or rest.JSON_TYPE)

    def matches(self, method, path):
        """path is the request's path with its query string."""
        if self.times <= 0:
            return False
        if self.method and self.method.upper() != method:
            return False
        return self.path_contains in path


class FakeSalesforce:
    """All state of one fake org, and the request entry point."""

    def __init__(self, args):
        self.args = args
        self.lock = threading.RLock()
        self.objects = schema.build(args.state_picklists)
        self.store = Store(self.objects, args.duplicate_price_code)
        self.oauth = oauth.OAuth(args)
        self.versions = rest.Versions(args.max_version)
        self.rest = rest.Rest(self.store, self.versions, self.limits)
        self.base_url = "https://127.0.0.1"
        self.log_file = open(args.log, "a", encoding="utf-8") \
            if args.log else None
        self.reset()

    def reset(self):
        """Forget records (but the standard price book), requests, tokens
        and knobs."""
        with self.lock:
            fresh = schema.build(self.args.state_picklists)
            self.objects.clear()
            self.objects.update(fresh)
            self.store.prefixes = schema.by_prefix(self.objects)
            self.store.reset()
            self.oauth.reset()
            self.requests = []
            self.token_requests = 0
            self.data_requests = 0
            self.api_usage = 0
            self.api_limit = self.args.api_limit
            self.delay_ms = 0
            self.failures = []
            self.drop_after_commit = 0
            self.token_failure = None
            self.auth_error = "INVALID_SESSION_ID"
            self.dropped_fields = []
            self.changed_attrs = {}

    def limits(self):
        return self.api_usage, self.api_limit

    def log(self, line):
        if self.log_file is None:
            return
        with self.lock:
            self.log_file.write(time.strftime("%Y-%m-%dT%H:%M:%S ")
                                + line + "\n")
            self.log_file.flush()

    # --- entry point ----------------------------------------------------

    def handle(self, method, raw_path, headers, body):
        """Answer one HTTP request; records it in the request list."""
        start = time.monotonic()
        path = urlsplit(raw_path).path
        if path.startswith(FAKE_PREFIX):
            kind = "fake"
            outcome = Outcome(self.control(method, path, body))
        elif path == TOKEN_PATH:
            kind = "token"
            outcome = Outcome(self.token(method, headers, body))
        else:
            kind = "data"
            outcome = self.data(method, raw_path, path, headers, body)
        entry = {"method": method, "path": raw_path,
                 "status": None if outcome.drop else outcome.reply.status,
                 "ms": round((time.monotonic() - start) * 1000
                             + outcome.delay * 1000, 1),
                 "kind": kind}
        if kind == "data":
            entry["body"] = logged_body(body)
        if outcome.drop:
            entry["dropped"] = True
        with self.lock:
            self.requests.append(entry)
        self.log(f"{method} {raw_path} "
                 f"{'dropped' if outcome.drop else outcome.reply.status} "
                 f"{entry['ms']}ms {kind}")
        return outcome

    def token(self, method, headers, body):
        with self.lock:
            self.token_requests += 1
            rule = self.token_failure
            if rule is not None and rule.times > 0:
                rule.times -= 1
                return rule.reply
            status, answer = self.oauth.token(method, body, headers,
                                              self.base_url)
        return rest.Reply(status, answer,
                          headers={"Cache-Control": "no-store"})

    def data(self, method, raw_path, path, headers, body):
        """Fault injection, authentication and the daily limit, then the
        REST resources. Every counted call carries Sforce-Limit-Info
        (§3.4)."""
        if path.rstrip("/") == DATA_PREFIX and method in ("GET", "HEAD"):
            return Outcome(rest.Reply(200, self.versions.listing()))
        if not path.startswith(DATA_PREFIX + "/"):
            return Outcome(rest.error_reply(E.not_found()))
        with self.lock:
            self.data_requests += 1
            for rule in self.failures:
                if rule.matches(method, raw_path):
                    rule.times -= 1
                    return Outcome(rule.reply, self.delay_ms / 1000)
            if not self.oauth.valid(headers.get("Authorization")):
                return Outcome(self.unauthorised())
            if self.api_usage >= self.api_limit:
                err = E.SFError("REQUEST_LIMIT_EXCEEDED",
                                "TotalRequests Limit exceeded.", status=403)
                return Outcome(rest.error_reply(err))
            self.api_usage += 1
            if method == "HEAD":
                method = "GET"
            parsed = parse_body(body, headers.get("Content-Type"))
            if isinstance(parsed, rest.Reply):
                reply = parsed
            else:
                reply = self.rest.dispatch(method, raw_path, parsed)
            reply.headers["Sforce-Limit-Info"] = \
                f"api-usage={self.api_usage}/{self.api_limit}"
            drop = False
            if method in WRITE_METHODS and self.drop_after_commit > 0:
                self.drop_after_commit -= 1
                drop = True
            return Outcome(reply, self.delay_ms / 1000, drop)

    def unauthorised(self):
        """§1.7: the 401 bodies; the shape is a knob."""
        if self.auth_error == "INVALID_AUTH_HEADER":
            body = [{"message": "INVALID_HEADER_TYPE",
                     "errorCode": "INVALID_AUTH_HEADER"}]
        else:
            body = [{"message": "Session expired or invalid",
                     "errorCode": "INVALID_SESSION_ID"}]
        return rest.Reply(401, body,
                          headers={"WWW-Authenticate": 'Token'})

    # --- control API ----------------------------------------------------

    def control(self, method, path, body):
        """GET records/{Type}, requests, stats, knobs; POST reset,
        knobs."""
        parts = [p for p in path[len(FAKE_PREFIX):].split("/") if p]
        with self.lock:
            if method == "GET" and len(parts) == 2 \
                    and parts[0] == "records":
                sobj = self.store.sobject(parts[1])
                if sobj is None:
                    return rest.Reply(404, {"error": "no such object "
                                            f"{parts[1]}"})
                return rest.Reply(200, [self.store.plain(sobj, r) for r in
                                        self.store.records(sobj)])
            if method == "GET" and parts == ["requests"]:
                return rest.Reply(200, list(self.requests))
            if method == "GET" and parts == ["stats"]:
                return rest.Reply(200, {"token_requests": self.token_requests,
                                        "data_requests": self.data_requests,
                                        "api_usage": self.api_usage,
                                        "api_limit": self.api_limit})
            if method == "GET" and parts == ["knobs"]:
                return rest.Reply(200, self.knob_state())
            if method == "POST" and parts == ["reset"]:
                self.reset()
                return rest.Reply(200, {"reset": True})
            if method == "POST" and parts == ["knobs"]:
                try:
                    self.set_knobs(json.loads(body.decode("utf-8") or "{}"))
                except (ValueError, TypeError) as err:
                    return rest.Reply(400, {"error": str(err)})
                return rest.Reply(200, self.knob_state())
        return rest.Reply(404, {"error": f"no control resource {method} "
                                f"{path}"})

    def knob_state(self):
        return {"delay_ms": self.delay_ms,
                "fail": [{"path_contains": f.path_contains,
                          "status": f.reply.status, "times": f.times}
                         for f in self.failures],
                "drop_after_commit": self.drop_after_commit,
                "rotate_refresh_tokens": self.oauth.rotate,
                "api_limit": self.api_limit, "api_usage": self.api_usage,
                "auth_error": self.auth_error,
                "cc_wrong_host": self.oauth.cc_wrong_host,
                "drop_field": list(self.dropped_fields),
                "field_attrs": dict(self.changed_attrs),
                "standard_pricebook_active": self.standard_book_state()}

    def set_knobs(self, knobs):
        """Apply {"knob": value, ...}; unknown knobs are an error so a
        typo in a test does not pass silently."""
        if not isinstance(knobs, dict):
            raise ValueError("knobs must be a JSON object")
        setters = {
            "expire_tokens": self.knob_expire_tokens,
            "delay_ms": self.knob_delay,
            "fail": self.knob_fail,
            "drop_after_commit": self.knob_drop,
            "rotate_refresh_tokens": self.knob_rotate,
            "revoke_refresh_tokens": self.knob_revoke,
            "api_limit": self.knob_api_limit,
            "api_usage": self.knob_api_usage,
            "token_fail": self.knob_token_fail,
            "auth_error": self.knob_auth_error,
            "cc_wrong_host": self.knob_cc_wrong_host,
            "drop_field": self.knob_drop_field,
            "field_attrs": self.knob_field_attrs,
            "standard_pricebook_active": self.knob_standard_active,
            "delete_standard_pricebook": self.knob_delete_standard,
        }
        unknown = [k for k in knobs if k not in setters]
        if unknown:
            raise ValueError(f"unknown knob(s): {', '.join(unknown)}")
        for key, value in knobs.items():
            setters[key](value)

    def knob_expire_tokens(self, value):
        if value:
            self.oauth.expire_all()

    def knob_delay(self, value):
        self.delay_ms = max(int(value), 0)

    def knob_fail(self, value):
        if not isinstance(value, list):
            raise ValueError("fail must be a list of rules")
        self.failures = [Failure(spec) for spec in value]

    def knob_drop(self, value):
        self.drop_after_commit = max(int(value), 0)

    def knob_rotate(self, value):
        self.oauth.rotate = bool(value)

    def knob_revoke(self, value):
        if value:
            self.oauth.revoke_refresh_tokens()

    def knob_api_limit(self, value):
        self.api_limit = int(value)

    def knob_api_usage(self, value):
        self.api_usage = int(value)

    def knob_token_fail(self, value):
        if value is None:
            self.token_failure = None
            return
        if not isinstance(value, dict) or not isinstance(value.get("status"),
                                                         int):
            raise ValueError("token_fail needs an integer status")
        rule = Failure({"status": value["status"],
                        "times": value.get("times", 1),
                        "body": value.get("body"),
                        "content_type": value.get("content_type")})
        if value.get("body") is None:
            rule.reply = rest.Reply(value["status"], {
                "error": value.get("error", "unknown_error"),
                "error_description": value.get("error_description",
                                               "retry your request")})
        self.token_failure = rule

    def knob_auth_error(self, value):
        if value not in ("INVALID_SESSION_ID", "INVALID_AUTH_HEADER"):
            raise ValueError("auth_error is INVALID_SESSION_ID or "
                             "INVALID_AUTH_HEADER")
        self.auth_error = value

    def knob_cc_wrong_host(self, value):
        self.oauth.cc_wrong_host = bool(value)

    def schema_field(self, dotted):
        """"Account.WC_Customer_Id__c" -> (SObject, Field); ValueError
        when either is unknown."""
        if not isinstance(dotted, str) or dotted.count(".") != 1:
            raise ValueError(f"expected Object.Field, got {dotted!r}")
        type_name, field_name = dotted.split(".")
        sobj = self.store.sobject(type_name)
        field = sobj.field(field_name) if sobj is not None else None
        if field is None:
            raise ValueError(f"no field {dotted}")
        return sobj, field

    def knob_drop_field(self, value):
        """The field leaves the schema: describe no longer lists it and
        any write naming it fails with INVALID_FIELD. A list drops
        several; /__fake/reset brings them back."""
        names = value if isinstance(value, list) else [value]
        for dotted in names:
            sobj, field = self.schema_field(dotted)
            sobj.drop(field.name)
            self.dropped_fields.append(f"{sobj.name}.{field.name}")

    def knob_field_attrs(self, value):
        """{"Order.WC_Order_Id__c": {"externalId": false, ...}}: what
        describe shows and how writes treat the field."""
        if not isinstance(value, dict):
            raise ValueError("field_attrs must be an object")
        for dotted, attrs in value.items():
            if not isinstance(attrs, dict):
                raise ValueError(f"field_attrs[{dotted}] must be an "
                                 "object")
            sobj, field = self.schema_field(dotted)
            field.set_attrs(attrs)
            key = f"{sobj.name}.{field.name}"
            self.changed_attrs[key] = dict(self.changed_attrs.get(key, {}),
                                           **attrs)

    def standard_book_state(self):
        book = self.store.standard_pricebook()
        return None if book is None else bool(book.get("IsActive"))

    def knob_standard_active(self, value):
        book = self.store.standard_pricebook()
        if book is None:
            raise ValueError("the standard price book was deleted")
        book["IsActive"] = bool(value)

    def knob_delete_standard(self, value):
        """An org whose standard price book cannot be seen: the book and
        its entries are gone (Salesforce itself never allows this)."""
        if value:
            self.store.drop_standard_pricebook()


def parse_body(body, content_type):
    """The JSON body of a data request (numbers as Decimal), None when
    empty, an SFError to raise when unreadable, or a 415 Reply when it is
    not JSON at all."""
    if not body:
        return None
    if content_type:
        media = content_type.split(";")[0].strip().lower()
        if media != "application/json" and not media.endswith("+json"):
            err = E.SFError("UNSUPPORTED_MEDIA_TYPE",
                            f"MediaType of '{media}' is not supported by "
                            "this resource", status=415)
            return rest.error_reply(err)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        return E.json_parser(f"Invalid UTF-8 byte at position {err.start}")

    def no_constants(name):
        raise ValueError(f"Unexpected token ({name})")
    try:
        return json.loads(text, parse_float=Decimal,
                          parse_constant=no_constants)
    except json.JSONDecodeError as err:
        return E.json_parser(f"{err.msg} at [line:{err.lineno}, "
                             f"column:{err.colno}]")
    except ValueError as err:
        return E.json_parser(str(err))


def logged_body(body):
    """A data request's body for /__fake/requests: JSON or text."""
    if not body:
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("latin-1")
    try:
        return json.loads(text)
    except ValueError:
        return text


class BadRequest(Exception):
    pass


class Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive; bodies by Content-Length or chunked,
    optionally gzip/deflate (§0 Compression)."""

    protocol_version = "HTTP/1.1"
    server_version = "fake_sf/1.0"
    sys_version = ""
    timeout = 120

    def setup(self):
        self.request.settimeout(self.timeout)
        self.request.do_handshake()
        super().setup()

    def do_GET(self):
        self.serve()

    do_HEAD = do_POST = do_PATCH = do_PUT = do_DELETE = do_GET

    def serve(self):
        app = self.server.app
        try:
            body = self.read_body()
        except BadRequest as err:
            self.close_connection = True
            self.send(rest.Reply(400, [{"errorCode": "JSON_PARSER_ERROR",
                                        "message": str(err)}]))
            return
        try:
            outcome = app.handle(self.command, self.path, self.headers,
                                 body)
        except Exception:
            # A bug in the fake: say so loudly instead of dropping the
            # connection, which a client would take for a network error.
            import traceback
            text = traceback.format_exc()
            app.log("internal error:\n" + text)
            sys.stderr.write("fake_sf: internal error\n" + text)
            outcome = Outcome(rest.Reply(500, [{
                "errorCode": "UNKNOWN_EXCEPTION",
                "message": "fake_sf internal error: "
                           + text.strip().splitlines()[-1]}]))
        if outcome.drop:
            self.close_connection = True
            return
        if outcome.delay:
            time.sleep(outcome.delay)
        self.send(outcome.reply)

    def read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            data = self.read_chunked()
        else:
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                raise BadRequest("bad Content-Length")
            if length < 0 or length > MAX_BODY:
                raise BadRequest("bad Content-Length")
            data = self.rfile.read(length)
        encoding = (self.headers.get("Content-Encoding") or "").lower()
        try:
            if encoding == "gzip":
                data = gzip.decompress(data)
            elif encoding == "deflate":
                data = zlib.decompress(data)
        except (OSError, zlib.error):
            raise BadRequest(f"body is not valid {encoding}")
        return data

    def read_chunked(self):
        out = bytearray()
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                raise BadRequest("bad chunk size")
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(out)
            if len(out) + size > MAX_BODY:
                raise BadRequest("body too large")
            out += self.rfile.read(size)
            self.rfile.readline(8)

    def send(self, reply):
        if reply.raw is not None:
            payload = reply.raw
        elif reply.body is not None:
            payload = to_json(reply.body)
        else:
            payload = b""
        self.send_response(reply.status)
        if reply.status != 204:
            self.send_header("Content-Type", reply.content_type)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.status != 204:
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD" and reply.status != 204:
            self.wfile.write(payload)

    def version_string(self):
        return self.server_version

    def log_message(self, fmt, *args):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, app, context):
        self.app = app
        super().__init__(address, Handler)
        # The handshake happens in the connection's own thread (setup),
        # so a slow or failing client never blocks accept().
        self.socket = context.wrap_socket(self.socket, server_side=True,
                                          do_handshake_on_connect=False)

    def server_bind(self):
        # Skip HTTPServer's reverse DNS lookup of the address.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = host
        self.server_port = port

    def handle_error(self, request, client_address):
        kind, err, _ = sys.exc_info()
        quiet = (ssl.SSLError, ConnectionError, TimeoutError, OSError)
        if isinstance(err, quiet):
            self.app.log(f"connection from {client_address[0]}: "
                         f"{kind.__name__}: {err}")
            return
        import traceback
        text = traceback.format_exc()
        self.app.log("internal error:\n" + text)
        sys.stderr.write("fake_sf: internal error\n" + text)


class Stop(Exception):
    pass


def stop(signum, frame):
    raise Stop()


def parse_args(argv):
    ap = argparse.ArgumentParser(description="Fake Salesforce for wc2sf "
                                 "tests (HTTPS, in memory).")
    ap.add_argument("--port", type=int, required=True,
                    help="port to listen on; 0 picks a free one")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--cert", required=True, help="server certificate PEM")
    ap.add_argument("--key", required=True, help="server key PEM")
    ap.add_argument("--log", help="append one line per request here")
    ap.add_argument("--client-id", default="wc2sf-test-client")
    ap.add_argument("--client-secret", default="test-client-secret-9f8e7d")
    ap.add_argument("--username", default="integration@example.test")
    ap.add_argument("--password", default="test-password-1a2b3cSECTOKEN",
                    help="the password with the security token appended")
    ap.add_argument("--refresh-token", default="test-refresh-token-5e6f7a",
                    help="a refresh token the fake accepts from the start")
    ap.add_argument("--jwt-cert",
                    help="PEM certificate or public key for JWT bearer; "
                    "default: jwt.pem next to --cert, when present")
    ap.add_argument("--jwt-audience", action="append",
                    help="an accepted aud (repeatable); default "
                    "https://login.salesforce.com and "
                    "https://test.salesforce.com")
    ap.add_argument("--jwt-max-exp", type=int, default=300,
                    help="how far ahead exp may be, seconds (default 300)")
    ap.add_argument("--api-limit", type=int, default=15000,
                    help="daily API request allocation (default 15000)")
    ap.add_argument("--max-version", default="62.0",
                    help="newest API version served (default 62.0)")
    ap.add_argument("--state-picklists", action="store_true",
                    help="add the *CountryCode/*StateCode fields")
    ap.add_argument("--duplicate-price-code", default="FIELD_INTEGRITY_"
                    "EXCEPTION", choices=("FIELD_INTEGRITY_EXCEPTION",
                                          "DUPLICATE_VALUE"),
                    help="errorCode for a second entry of one product in "
                    "one price book")
    args = ap.parse_args(argv)
    if args.jwt_cert is None:
        near = os.path.join(os.path.dirname(os.path.abspath(args.cert)),
                            "jwt.pem")
        if os.path.exists(near):
            args.jwt_cert = near
    return args


def main(argv=None):
    args = parse_args(argv)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    app = FakeSalesforce(args)
    server = Server((args.host, args.port), app, context)
    host, port = server.server_address[:2]
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    app.base_url = f"https://{host}:{port}"
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"fake_sf ready on {app.base_url}", flush=True)
    try:
        server.serve_forever()
    except Stop:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
