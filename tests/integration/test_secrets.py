"""No secret or token in any log, reply or command output.

One environment walks every path that handles a credential, with the
log at debug: the four sign-in flows (client credentials also as HTTP
Basic), a token renewed after a 401, a rotated refresh token, failed
sign-ins, CGI, and the wc2sf commands. Every reply and command output
is kept, every access and refresh token wc2sf stored is read from its
journal, and then all of it, every file the environment wrote and every
file under tests/tmp/ that this run's other tests left, is searched for
each secret. Only the configuration, the journal and key files may hold
them.
"""

import os
import sqlite3
import time
import unittest

import harness
from test_auth import REFRESH_TOKEN, customer_items, flow_settings

# Set when unittest discovery imports this module, before any test of
# the run starts: files changed since belong to this run.
RUN_STARTED = time.time() - 1

WRONG_SECRET = "wrong-secret-9z8y7x6w"
# Where secrets belong: the configuration, the journal, key material.
ALLOWED_NAMES = ("wc2sf.conf",)
ALLOWED_SUFFIXES = (".db", ".db-wal", ".db-shm", ".db-journal", ".key",
                    ".pem")


def allowed(path):
    name = os.path.basename(path)
    return (name in ALLOWED_NAMES or name.endswith(ALLOWED_SUFFIXES)
            or f"{os.sep}ca{os.sep}" in path)


def key_lines(path):
    """The base64 lines of a PEM private key: secret material."""
    with open(path) as f:
        return [line.strip() for line in f
                if len(line.strip()) >= 40 and "-----" not in line]


def find(needles, text):
    """The names of the needles found in text (bytes)."""
    return sorted({name for name, value in needles
                   if value and value.encode() in text})


class Secrets(harness.HarnessCase):

    def setUp(self):
        self.h = self.start_harness(config={"log": {"level": "debug"}})
        self.outputs = []
        self.tokens = set()

    def keep(self, what, data):
        if isinstance(data, str):
            data = data.encode()
        self.outputs.append((what, data))

    def stored_tokens(self):
        """Every token in the journal's key-value table, kept for later."""
        with sqlite3.connect(f"file:{self.h.path('wc2sf.db')}?mode=ro",
                             uri=True, timeout=10) as db:
            for key, value in db.execute(
                    "SELECT key, value FROM kv WHERE key LIKE 'sf_%token'"):
                self.tokens.add((key, value.rsplit(" ", 1)[-1]))

    def deliver(self, n, flow=None, **change):
        h = self.h
        if flow is not None:
            h.rewrite_config(flow_settings(h, flow, **change))
            h.restart_fcgi()
        reply = h.post_many(customer_items(h, [n]))[0]
        self.keep(f"reply {n}", reply.body)
        self.stored_tokens()
        return reply

    def cli(self, *args):
        proc = self.h.cli(*args)
        self.keep(f"wc2sf {' '.join(args)}", proc.stdout + proc.stderr)
        return proc

    def test_nothing_secret_is_written(self):
        h = self.h
        self.assertEqual(self.deliver(601).status, 200)
        h.knobs(expire_tokens=True)
        self.assertEqual(self.deliver(602).status, 200)
        self.assertEqual(self.deliver(603, "jwt").status, 200)
        self.assertEqual(self.deliver(604, "client_credentials basic")
                         .status, 200)
        h.knobs(rotate_refresh_tokens=True)
        self.assertEqual(self.deliver(605, "refresh_token").status, 200)
        h.knobs(expire_tokens=True)
        self.assertEqual(self.deliver(606).status, 200)
        self.assertIn("sf_refresh_token", {k for k, _ in self.tokens})
        h.knobs(revoke_refresh_tokens=True, expire_tokens=True)
        self.assertEqual(self.deliver(607).status, 202)
        self.assertEqual(self.deliver(608, "password",
                                      client_secret=WRONG_SECRET).status,
                         202)
        reply = h.cgi_deliver("058-customer_created")
        self.keep("cgi reply", reply.body)
        for args in (("check",), ("check", "--json"), ("status", "--json"),
                     ("events", "--json"), ("show", "1", "--json")):
            self.cli(*args)
        h.rewrite_config(flow_settings(h, "password"))
        for args in (("check",), ("check", "--json"), ("replay",),
                     ("status",), ("show", "7")):
            self.cli(*args)
        self.stored_tokens()
        self.assertGreaterEqual(len(self.tokens), 4)
        h.stop_fcgi()

        needles = [("webhook secret", harness.SECRET),
                   ("client secret", harness.SF_CLIENT_SECRET),
                   ("password", harness.SF_PASSWORD),
                   ("first refresh token", REFRESH_TOKEN),
                   ("wrong client secret", WRONG_SECRET)]
        needles += [(f"jwt.key line {i}", line) for i, line in enumerate(
            key_lines(os.path.join(h.ca, "jwt.key")))]
        needles += [(f"{key} {value[:6]}...", value)
                    for key, value in self.tokens]
        leaks = []
        for what, data in self.outputs:
            leaks += [f"{what}: {n}" for n in find(needles, data)]
        scanned = 0
        for top in {h.dir, h.run_dir, harness.TMP_ROOT}:
            for root, _, files in os.walk(top):
                for name in files:
                    path = os.path.join(root, name)
                    try:
                        if allowed(path) or not os.path.isfile(path) or \
                                os.path.getmtime(path) < RUN_STARTED:
                            continue
                        with open(path, "rb") as f:
                            data = f.read()
                    except OSError:
                        continue
                    scanned += 1
                    leaks += [f"{path}: {n}" for n in find(needles, data)]
        self.assertEqual(sorted(set(leaks)), [])
        # The search did look where the secrets would go.
        self.assertGreater(scanned, 5)
        with open(h.path("wc2sf.log"), "rb") as f:
            log = f.read()
        self.assertIn(b"event=sf_sign_in flow=refresh_token result=ok "
                      b"refresh_token=rotated", log)
        self.assertIn(b"level=debug sf_request", log)


if __name__ == "__main__":
    unittest.main()
