"""Every shipped web server example, run under the real server.

One contract, checked against each way wc2sf is put behind a web server:
Apache with mod_fcgid (apache-conf/wc2sf-fcgid.conf), Apache with
mod_proxy_fcgi to a spawn-fcgi socket (apache-conf/wc2sf-proxy-fcgi.conf),
Apache with mod_cgi from a folder configured by .htaccess only
(apache-conf/shared-hosting/cgi.htaccess), the same under mod_fcgid
(shared-hosting/fcgid.htaccess + hook-fcgid.sh), and nginx
(nginx-conf/wc2sf.conf). Each runs the example file as shipped with
only ports and paths changed, on loopback, with private configuration,
pid and log files (harness.ApacheHarness and harness.Harness), and gets
captured WooCommerce deliveries through curl:

- deliveries land in the fake Salesforce and the replies say so;
- every X-WC-Webhook-* header reaches wc2sf whatever the case of its
  name, its value intact;
- a body of exactly max_body passes, one byte more gets 413 from wc2sf
  or from the server, with the reason in that one's log;
- the docs/ page's closing curl command answers 200.

The nginx case lives here too so that all four setups answer to one
contract; its other tests are test_nginx_*.py.
"""

import json
import os
import re
import subprocess
import threading
import unittest

import harness

DOCS = os.path.join(harness.REPO, "docs")
DOC_URL = "https://shop.example.com/wc2sf/hook"
DOC_SECRET = "paste the secret from wc2sf.conf here"

CUSTOMERS = ["055-customer_created", "057-customer_updated",
             "058-customer_created", "112-customer_created",
             "114-customer_updated"]
# The WooCommerce X-WC-Webhook-* headers, with names in odd case.
ODD_CASE = {
    "X-WC-Webhook-Source": "x-wc-WEBHOOK-source",
    "X-WC-Webhook-Topic": "X-Wc-Webhook-TOPIC",
    "X-WC-Webhook-Resource": "x-WC-webhook-Resource",
    "X-WC-Webhook-Event": "X-WC-WEBHOOK-EVENT",
    "X-WC-Webhook-Signature": "x-wc-webhook-signature",
    "X-WC-Webhook-ID": "X-wc-Webhook-Id",
    "X-WC-Webhook-Delivery-ID": "x-Wc-Webhook-Delivery-Id",
}


def padded(body, size):
    """body (a JSON object) grown to exactly size bytes with spaces."""
    if not body.endswith(b"}") or len(body) > size:
        raise ValueError("cannot pad this body")
    return body[:-1] + b" " * (size - len(body)) + b"}"


def signed(headers, body, changes=None):
    """The headers with a fresh signature for body and changed values."""
    changes = dict(changes or {})
    changes.setdefault("X-WC-Webhook-Signature", harness.sign(body))
    return [(n, changes.get(n, v)) for n, v in headers]


def doc_snippet(page):
    """The last ```sh block of a docs/ page: its proof that it works."""
    with open(os.path.join(DOCS, page)) as f:
        text = f.read()
    blocks = re.findall(r"```sh\n(.*?)```", text, re.S)
    if not blocks:
        raise AssertionError(f"docs/{page} has no sh block")
    return blocks[-1]


class ServerContract:
    """
    The tests every setup passes. A subclass says how to start its
    harness (start()), where its server logs (server_log(h)), and who
    refuses a body over max_body: the server,
    with a line matching OVER_LIMIT_LOG in server_log(), or wc2sf.
    """

    MAX_BODY = 1024 * 1024		# max_body's default, as shipped
    OVER_LIMIT_BY = "server"
    OVER_LIMIT_LOG = None
    DOC = None

    def setUp(self):
        self.h = self.start()

    def account_keys(self):
        return sorted(a["WC_Customer_Id__c"]
                      for a in self.h.records("Account"))

    def test_deliveries(self):
        h = self.h
        self.assertReply(h, h.deliver("001-ping"), 200, "ping")
        self.assertEqual(h.requests(), [])
        self.assertReply(h, h.deliver("055-customer_created"), 200,
                         "synced")
        self.assertReply(h, h.deliver("056-customer_updated"), 200,
                         "duplicate")
        self.assertReply(h, h.deliver("057-customer_updated"), 200,
                         "synced")
        self.assertReply(h, h.deliver("016-product_created"), 200,
                         "synced")
        latest = harness.Fixture("057-customer_updated").json()
        accounts = h.records("Account")
        self.assertEqual([a["WC_Customer_Id__c"] for a in accounts],
                         [str(latest["id"])])
        self.assertEqual(accounts[0]["Phone"], latest["billing"]["phone"])
        contacts = h.records("Contact")
        self.assertEqual([c["Email"] for c in contacts], [latest["email"]])
        product = harness.Fixture("016-product_created").json()
        self.assertEqual([p["WC_Product_Id__c"]
                          for p in h.records("Product2")],
                         [str(product["id"])])

    def test_headers_arrive_intact(self):
        h = self.h
        fixture = harness.Fixture("058-customer_created")
        # Every name in odd case: signature and topic are read.
        odd = [(ODD_CASE.get(n, n), v) for n, v in fixture.headers]
        self.assertEqual(len([n for n, _ in odd if n in
                              ODD_CASE.values()]), len(ODD_CASE))
        self.assertReply(h, h.post(fixture.body, odd), 200, "synced")
        self.assertEqual(self.account_keys(), [str(fixture.json()["id"])])

        # Resource and Event are compared with the topic: a value that
        # disagrees is refused, so both must have arrived.
        other = harness.Fixture("112-customer_created")
        for name, value in (("X-WC-Webhook-Resource", "order"),
                            ("X-WC-Webhook-Event", "deleted")):
            with self.subTest(header=name):
                headers = [(ODD_CASE.get(n, n), v) for n, v in
                           signed(other.headers, other.body,
                                  {name: value})]
                self.assertReply(h, h.post(other.body, headers), 400,
                                 "bad_request")

        # A ping body with any X-WC-Webhook-* header is no ping: it
        # needs a signature. So ID, Delivery-ID and Source are seen too.
        ping = harness.Fixture("001-ping")
        self.assertReply(h, h.post(ping.body, ping.headers), 200, "ping")
        for name in ("X-WC-Webhook-ID", "X-WC-Webhook-Delivery-ID",
                     "X-WC-Webhook-Source"):
            with self.subTest(header=name):
                headers = ping.headers + [(ODD_CASE[name],
                                           fixture.header(name))]
                self.assertReply(h, h.post(ping.body, headers), 401,
                                 "bad_signature")
        self.assertEqual(self.account_keys(), [str(fixture.json()["id"])])

    def test_body_limit(self):
        h = self.h
        fixture = harness.Fixture("058-customer_created")
        body = padded(fixture.body, self.MAX_BODY)
        reply = h.post(body, signed(fixture.headers, body))
        self.assertReply(h, reply, 200, "synced")
        self.assertEqual(self.account_keys(), [str(fixture.json()["id"])])

        over = harness.Fixture("112-customer_created")
        body = padded(over.body, self.MAX_BODY + 1)
        log_before = len(self.server_log(h))
        wc2sf_before = len(h.log_lines())
        data_before = len(h.data_requests())
        reply = h.post(body, signed(over.headers, body))
        self.assertEqual(reply.status, 413, f"{reply!r}\n"
                         + h.diagnostics())
        new_wc2sf = h.log_records()[wc2sf_before:]
        if self.OVER_LIMIT_BY == "wc2sf":
            self.assertEqual(reply.result, "too_large")
            self.assertEqual([(r.get("result"), r.get("status"))
                              for r in new_wc2sf], [("too_large", "413")])
        else:
            # The server refused it: wc2sf never saw it.
            self.assertEqual(new_wc2sf, [])
            self.assertRegex(self.server_log(h)[log_before:],
                             self.OVER_LIMIT_LOG)
        self.assertEqual(len(h.data_requests()), data_before)
        self.assertEqual(self.account_keys(), [str(fixture.json()["id"])])

        # The server and wc2sf go on serving.
        self.assertReply(h, h.deliver("001-ping"), 200, "ping")

    def test_docs_curl_command(self):
        """The closing command of the setup's docs/ page: 200."""
        snippet = doc_snippet(self.DOC)
        self.assertIn(DOC_URL, snippet)
        self.assertIn(DOC_SECRET, snippet)
        script = (snippet.replace(DOC_URL, self.h.url)
                  .replace(DOC_SECRET, harness.SECRET))
        proc = subprocess.run(["sh", "-eu"], input=script, text=True,
                              stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        lines = proc.stdout.strip().splitlines()
        self.assertEqual(lines[-1], "200", proc.stdout)
        reply = json.loads(lines[-2])
        self.assertEqual(reply["result"], "ignored", proc.stdout)
        self.assertEqual(self.h.data_requests(), [])
        # Run twice, as a person checking again would: still 200.
        proc = subprocess.run(["sh", "-eu"], input=script, text=True,
                              stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(proc.stdout.strip().splitlines()[-1], "200",
                         proc.stdout)


class ApacheCase(harness.HarnessCase):
    SETUP = None

    def start(self, **options):
        h = harness.ApacheHarness(self.id().split(".")[-1], self.SETUP,
                                  **options)
        self.addCleanup(self._close_harness, h)
        h.start()
        return h

    def server_log(self, h):
        return h.error_log()


class ApacheFcgid(ServerContract, ApacheCase):
    SETUP = "fcgid"
    DOC = "apache-fcgid.md"
    # FcgidMaxRequestLen lets more through; wc2sf refuses it.
    OVER_LIMIT_BY = "wc2sf"


class ApacheFcgidRecycling(ApacheCase):
    """Workers replaced after a few requests lose no delivery."""

    SETUP = "fcgid"
    DELIVERIES = [
        "055-customer_created", "056-customer_updated",
        "057-customer_updated", "058-customer_created",
        "016-product_created", "018-product_created",
        "019-product_created", "020-product_created",
        "112-customer_created", "113-customer_updated",
        "114-customer_updated", "021-product_created",
    ]

    def test_recycled_mid_run(self):
        h = self.start(directives={"FcgidMaxRequestsPerProcess": 2})
        results = {}

        def send(bases):
            for base in bases:
                results[base] = h.deliver(base)

        # Two senders at once: customers and products, each in order.
        customers = [b for b in self.DELIVERIES if "customer" in b]
        products = [b for b in self.DELIVERIES if "product" in b]
        threads = [threading.Thread(target=send, args=(part,))
                   for part in (customers, products)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        self.assertEqual(sorted(results), sorted(self.DELIVERIES))
        for base, reply in results.items():
            with self.subTest(delivery=base):
                self.assertIn(reply.status, (200, 202), reply)
                self.assertIn(reply.result, ("synced", "duplicate",
                                             "queued"), reply)

        # Every request was served, by several processes in turn.
        pids = h.worker_pids()
        self.assertEqual(len(pids), len(self.DELIVERIES), h.log_lines())
        self.assertGreaterEqual(len(set(pids)), 3, pids)
        self.assertTrue(all(pids.count(p) <= 2 for p in set(pids)), pids)

        # Nothing lost: what a retry still owed is sent by a replay,
        # and Salesforce then has every customer and product.
        replay = h.cli("replay", "--json")
        self.assertEqual(replay.returncode, 0, replay.stderr)
        status = json.loads(h.cli("status", "--json").stdout)
        self.assertEqual(status["counts"].get("pending", 0), 0, status)
        self.assertEqual(status["counts"].get("dead", 0), 0, status)
        want_customers = sorted({str(harness.Fixture(b).json()["id"])
                                 for b in customers})
        self.assertEqual(sorted(a["WC_Customer_Id__c"] for a in
                                h.records("Account")), want_customers)
        want_products = sorted({str(harness.Fixture(b).json()["id"])
                                for b in products})
        self.assertEqual(sorted(p["WC_Product_Id__c"] for p in
                                h.records("Product2")), want_products)
        last = harness.Fixture("114-customer_updated").json()
        account = [a for a in h.records("Account")
                   if a["WC_Customer_Id__c"] == str(last["id"])][0]
        self.assertEqual(account["Phone"], last["billing"]["phone"] or None)


class ApacheErrorLog(ApacheCase):
    """Without [log] file, wc2sf's lines land in Apache's error log."""

    def check(self, setup):
        self.SETUP = setup
        h = self.start(config={"log": {"file": None}})
        self.assertReply(h, h.deliver("001-ping"), 200, "ping")
        self.assertReply(h, h.deliver("055-customer_created"), 200,
                         "synced")
        wait = harness.wait_until
        wait(lambda: re.search(r"wc2sf\.fcgi\[\d+\]: level=info .*"
                               r"topic=customer\.created .*result=synced",
                               h.error_log()), 10, "the log line")
        self.assertEqual(h.log_lines(), [])

    def test_fcgid(self):
        self.check("fcgid")

    def test_cgi(self):
        self.check("cgi")


class ApacheProxyFcgi(ServerContract, ApacheCase):
    SETUP = "proxy_fcgi"
    DOC = "apache-proxy-fcgi.md"
    OVER_LIMIT_BY = "wc2sf"


class ApacheCgi(ServerContract, ApacheCase):
    SETUP = "cgi"
    DOC = "shared-hosting.md"
    OVER_LIMIT_BY = "wc2sf"

    def test_wordpress_still_answers(self):
        # The catch-all of the folder above still serves the rest of
        # the site; the wc2sf folder lists nothing.
        reply = self.h.curl("GET", self.h.url.replace("/wc2sf/hook",
                                                      "/some/page"), [])
        self.assertEqual(reply.status, 200)
        self.assertIn(b"WordPress", reply.body)
        reply = self.h.curl("GET", self.h.url.replace("hook", ""), [])
        self.assertIn(reply.status, (403, 404))
        reply = self.h.curl("GET", self.h.url, [])
        self.assertReply(self.h, reply, 405, "bad_method")


class ApacheFcgidHtaccess(ServerContract, ApacheCase):
    SETUP = "fcgid_htaccess"
    DOC = "shared-hosting.md"
    # Under .htaccess only the host's FcgidMaxRequestLen applies (128 KiB
    # unless raised), and mod_fcgid answers 500 past it: the example and
    # docs/shared-hosting.md set max_body = 120K, for wc2sf to say 413.
    MAX_BODY = 120 * 1024
    OVER_LIMIT_BY = "wc2sf"

    def start(self, **options):
        options.setdefault("max_body", "120K")
        return super().start(**options)


class Nginx(ServerContract, harness.HarnessCase):
    DOC = "nginx.md"
    OVER_LIMIT_LOG = r"client intended to send too large body: 1048577"

    def start(self):
        return self.start_harness()

    def server_log(self, h):
        try:
            with open(h.path("nginx-error.log"), "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""


if __name__ == "__main__":
    unittest.main()
