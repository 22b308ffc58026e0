"""wc2sf.fcgi as plain CGI, the way a shared host without FastCGI runs it.

No web server: each test runs the binary once per request with a CGI
environment (REQUEST_METHOD, CONTENT_LENGTH, HTTP_X_WC_WEBHOOK_*, ...)
and the body on standard input, against a private fake Salesforce, and
reads the Status: line and JSON body it prints.
"""

import unittest

import harness


class Cgi(harness.HarnessCase):

    def setUp(self):
        self.h = self.start_harness(nginx=False, fcgi=False)

    def assertCgi(self, reply, status, result):
        self.assertReply(self.h, reply, status, result)
        self.assertEqual(reply.exit_status, 0)
        self.assertTrue(reply.headers.get("content-type", "")
                        .startswith("application/json"), reply.headers)

    def test_ping(self):
        reply = self.h.cgi_deliver("001-ping")
        self.assertCgi(reply, 200, "ping")
        self.assertEqual(self.h.requests(), [])

    def test_bad_signature(self):
        fixture = harness.Fixture("055-customer_created")
        headers = [(n, harness.sign(fixture.body, "not-the-secret")
                    if n == "X-WC-Webhook-Signature" else v)
                   for n, v in fixture.headers]
        reply = self.h.cgi(fixture.body, headers)
        self.assertCgi(reply, 401, "bad_signature")
        self.assertEqual(self.h.data_requests(), [])
        self.assertEqual(self.h.records("Account"), [])

    def test_customer_delivery(self):
        fixture = harness.Fixture("055-customer_created")
        body = fixture.json()
        reply = self.h.cgi_deliver(fixture.base)
        self.assertCgi(reply, 200, "synced")
        accounts = self.h.records("Account")
        contacts = self.h.records("Contact")
        self.assertEqual(len(accounts), 1)
        self.assertEqual(len(contacts), 1)
        self.assertEqual(accounts[0].get("WC_Customer_Id__c"),
                         str(body["id"]))
        self.assertEqual(contacts[0].get("Email"), body["email"])
        self.assertEqual(contacts[0].get("AccountId"), accounts[0]["Id"])

        # A second process sees the first one's journal: duplicate.
        reply = self.h.cgi_deliver("056-customer_updated")
        self.assertCgi(reply, 200, "duplicate")
        self.assertEqual(len(self.h.records("Account")), 1)

    def test_get_is_405(self):
        reply = self.h.cgi(None, [], method="GET")
        self.assertCgi(reply, 405, "bad_method")


if __name__ == "__main__":
    unittest.main()
