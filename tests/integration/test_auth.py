"""Salesforce sign-in as production orgs need it, seen through nginx.

Each of the four OAuth flows signs in against the fake Salesforce and a
real delivery lands; each documented token endpoint failure answers
WooCommerce 202 "queued" with Salesforce's words and what to do, keeps
the event pending, and a replay after the fix sends it; a refresh token
Salesforce rotated survives a kill -9 of the worker right after the
rotation; a token `wc2sf check` stored and that died with the worker's
own leads to one sign-in, not to "check the integration user".
"""

import json
import os
import ssl
import subprocess
import threading
import unittest
import urllib.error
import urllib.parse
import urllib.request

import harness

TEMPLATE = "055-customer_created"
REFRESH_TOKEN = "test-refresh-token-5e6f7a"    # the fake's first one

# [salesforce] settings of each flow, on top of the harness's (password).
FLOWS = {
    "password": {},
    "client_credentials": {"auth": "client_credentials", "username": None,
                           "password": None},
    "client_credentials basic": {"auth": "client_credentials",
                                 "client_auth": "basic",
                                 "username": None, "password": None},
    "jwt": {"auth": "jwt", "client_secret": None, "password": None},
    "refresh_token": {"auth": "refresh_token",
                      "refresh_token": REFRESH_TOKEN,
                      "username": None, "password": None},
}
# Every key any flow above sets, so that switching flows starts clean.
FLOW_KEYS = ("auth", "client_auth", "client_secret", "username",
             "password", "private_key", "audience", "refresh_token")


def flow_settings(h, name, **extra):
    """The [salesforce] changes for flow name, from the password setup."""
    sf = {k: None for k in FLOW_KEYS}
    sf.update(auth="password", client_secret=harness.SF_CLIENT_SECRET,
              username=harness.SF_USERNAME, password=harness.SF_PASSWORD)
    sf.update(FLOWS[name])
    if sf["auth"] == "jwt":
        sf["private_key"] = os.path.join(h.ca, "jwt.key")
    sf.update(extra)
    return {"salesforce": sf}


def customer_body(n):
    """The captured customer with WooCommerce id n: a resource of its own."""
    body = harness.Fixture(TEMPLATE).json()
    body["id"] = n
    body["email"] = f"customer{n}@example.test"
    body["billing"]["email"] = body["email"]
    body["last_name"] = f"Number{n}"
    return json.dumps(body).encode()


def customer_items(h, ids):
    """[(headers, body)] for h.post_many, one new customer per id."""
    items = []
    for n in ids:
        body = customer_body(n)
        items.append((h.webhook_headers("customer.created", body, TEMPLATE),
                      body))
    return items


def send_customer(h, n):
    return h.post_many(customer_items(h, [n]))[0]


def account_keys(h):
    return {a.get("WC_Customer_Id__c") for a in h.records("Account")}


def token_statuses(h, since=0):
    """The statuses of the token requests wc2sf made, from request since."""
    return [r["status"] for r in h.requests()[since:]
            if r["kind"] == "token"]


def event_state(h, event_id):
    proc = h.cli("show", str(event_id), "--json")
    if proc.returncode != 0:
        raise AssertionError(f"wc2sf show {event_id}: {proc.stderr}")
    return json.loads(proc.stdout)


def make_other_key(h):
    """An RSA key whose certificate the fake does not know, mode 0600."""
    path = h.path("other-jwt.key")
    subprocess.run(["openssl", "genrsa", "-out", path, "2048"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=True, timeout=60)
    os.chmod(path, 0o600)
    return path


class AuthFlows(harness.HarnessCase):

    def setUp(self):
        self.h = self.start_harness()

    def test_each_flow_signs_in_and_delivers(self):
        h = self.h
        for n, name in enumerate(FLOWS, start=901):
            with self.subTest(flow=name):
                h.rewrite_config(flow_settings(h, name))
                h.restart_fcgi()
                # Whatever token the journal holds from the last flow is
                # dead: the worker has to sign in with this one.
                h.knobs(expire_tokens=True)
                before = len(h.requests())
                reply = send_customer(h, n)
                self.assertReply(h, reply, 200, "synced")
                self.assertEqual(token_statuses(h, before), [200])
                self.assertIn(str(n), account_keys(h))
                flow = FLOWS[name].get("auth", "password")
                signed = [r for r in h.log_records()
                          if r.get("event") == "sf_sign_in"]
                self.assertEqual((signed[-1].get("flow"),
                                  signed[-1].get("result")), (flow, "ok"))


# One documented failure each: what to change, what the fake is told,
# and the one message WooCommerce's delivery log and wc2sf's log show.
FAILURES = [
    ("wrong secret", "password", {"client_secret": "wrong-secret-0a1b2c"},
     None,
     "invalid_client: invalid client credentials; check [salesforce] "
     "client_secret (the consumer secret)"),
    ("wrong audience", "jwt", {"audience": "https://wrong.example.com"},
     None,
     "invalid_grant: audience is invalid; check [salesforce] audience "
     "(sandboxes use https://test.salesforce.com)"),
    ("wrong key", "jwt", {"private_key": "OTHER"}, None,
     "invalid_grant: invalid assertion; check that [salesforce] "
     "private_key matches the certificate of the connected app"),
    ("expired assertion", "jwt", {},
     {"token_fail": {"status": 400, "error": "invalid_grant",
                     "error_description": "expired authorization code",
                     "times": 1}},
     "invalid_grant: expired authorization code; check this host's "
     "clock; the assertion is valid for 3 minutes"),
    ("revoked refresh token", "refresh_token", {},
     {"revoke_refresh_tokens": True},
     "invalid_grant: expired access/refresh token; re-authorise the "
     "connected app and put the new token in [salesforce] refresh_token"),
    ("unsupported grant", "client_credentials", {},
     {"token_fail": {"status": 400, "error": "unsupported_grant_type",
                     "error_description": "grant type not supported",
                     "times": 1}},
     "unsupported_grant_type: grant type not supported; check "
     "[salesforce] auth, and that login_url is the https login, test or "
     "My Domain URL"),
    ("not my domain", "client_credentials", {}, {"cc_wrong_host": True},
     "invalid_grant: request not supported on this domain; use the "
     "org's My Domain URL as [salesforce] login_url"),
    ("HTML 503", "password", {},
     {"token_fail": {"status": 503, "content_type": "text/html",
                     "body": "<html><head><title>Maintenance</title>"
                             "</head><body>Back soon</body></html>",
                     "times": 1}},
     "the token endpoint answered HTTP 503 with an HTML page "
     "(\"Maintenance\") instead of a token; Salesforce is unavailable, "
     "wc2sf will retry"),
]


class AuthFailures(harness.HarnessCase):

    def setUp(self):
        self.h = self.start_harness()

    def test_each_failure_says_what_to_do_and_keeps_the_event(self):
        h = self.h
        other_key = make_other_key(h)
        events = {}
        for n, (name, flow, change, knobs, message) in enumerate(
                FAILURES, start=801):
            with self.subTest(failure=name):
                change = {k: other_key if v == "OTHER" else v
                          for k, v in change.items()}
                h.rewrite_config(flow_settings(h, flow, **change))
                h.restart_fcgi()
                h.knobs({"token_fail": None, "cc_wrong_host": False,
                         "expire_tokens": True})
                if knobs:
                    h.knobs(knobs)
                reply = send_customer(h, n)
                self.assertReply(h, reply, 202, "queued")
                self.assertEqual(reply.json.get("error"), message)
                events[n] = reply.json["event"]
                shown = event_state(h, events[n])
                self.assertEqual(shown["state"], "pending")
                self.assertEqual(shown["last_error"], message)
                failed = [r for r in h.log_records()
                          if r.get("event") == "sf_sign_in"
                          and r.get("result") != "ok"]
                self.assertEqual(failed[-1].get("message"), message)
                self.assertNotIn(str(n), account_keys(h))

        # Fixed: one replay sends every kept event; none was lost.
        h.rewrite_config(flow_settings(h, "password"))
        h.knobs({"token_fail": None, "cc_wrong_host": False})
        proc = h.cli("replay")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        for n, event_id in events.items():
            self.assertEqual(event_state(h, event_id)["state"], "synced")
            self.assertIn(str(n), account_keys(h))


class TokenFromCheck(harness.HarnessCase):

    def setUp(self):
        self.h = self.start_harness()

    def test_dead_token_from_check_is_renewed(self):
        h = self.h
        self.assertReply(h, send_customer(h, 611), 200, "synced")
        self.assertEqual(h.stats()["token_requests"], 1)
        # check signs in and leaves its own token in the journal.
        proc = h.cli("check")
        signed = [line for line in proc.stdout.splitlines()
                  if "salesforce sign-in" in line]
        self.assertEqual(len(signed), 1, proc.stdout + proc.stderr)
        self.assertTrue(signed[0].startswith("ok   "), signed[0])
        self.assertEqual(h.stats()["token_requests"], 2)

        # Both die. The worker's 401 reloads check's token, dead too:
        # one sign-in, and the delivery is synced.
        h.knobs(expire_tokens=True)
        before = len(h.requests())
        reply = send_customer(h, 612)
        self.assertReply(h, reply, 200, "synced")
        self.assertEqual(h.stats()["token_requests"], 3)
        self.assertEqual(token_statuses(h, before), [200])
        self.assertIn("612", account_keys(h))
        self.assertFalse([r for r in h.log_records()
                          if r.get("event") == "sf_sign_in"
                          and r.get("result") != "ok"])


class RotatedRefreshToken(harness.HarnessCase):

    def setUp(self):
        self.h = self.start_harness(config={"salesforce": {
            "auth": "refresh_token", "refresh_token": REFRESH_TOKEN,
            "username": None, "password": None}})

    def fake_refresh(self, token):
        """A refresh request of our own; the fake's status."""
        form = urllib.parse.urlencode({
            "grant_type": "refresh_token", "refresh_token": token,
            "client_id": harness.SF_CLIENT_ID,
            "client_secret": harness.SF_CLIENT_SECRET}).encode()
        ctx = ssl.create_default_context(
            cafile=os.path.join(self.h.ca, "ca.pem"))
        req = urllib.request.Request(
            self.h.fake_url + "/services/oauth2/token", data=form)
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    def test_rotated_token_survives_kill_9(self):
        h = self.h
        h.knobs(rotate_refresh_tokens=True, delay_ms=3000)
        result = {}

        def deliver():
            result["reply"] = send_customer(h, 701)

        sender = threading.Thread(target=deliver)
        sender.start()
        # The composite request after the token request arrives at the
        # fake (its answer delayed): the rotation is behind the worker.
        harness.wait_until(
            lambda: any(r["kind"] == "data" for r in h.requests()), 20,
            "the worker's first data request")
        self.assertEqual(token_statuses(h), [200])
        h.kill_fcgi()
        sender.join(60)
        self.assertFalse(sender.is_alive())
        self.assertEqual(result["reply"].status, 502)

        # The configured token was rotated away: it is dead now.
        self.assertEqual(self.fake_refresh(REFRESH_TOKEN), 400)
        h.knobs(delay_ms=0, expire_tokens=True)
        before = len(h.requests())
        h.restart_fcgi()
        reply = send_customer(h, 702)
        self.assertReply(h, reply, 200, "synced")
        self.assertEqual(token_statuses(h, before), [200])
        # The drain after that reply sends the one the kill interrupted.
        harness.wait_until(lambda: {"701", "702"} <= account_keys(h), 20,
                           "both customers in Salesforce")


if __name__ == "__main__":
    unittest.main()
