"""Salesforce trouble seen through nginx: what WooCommerce gets back.

DESIGN.md: once a delivery is journaled wc2sf never answers with a
failure code; an expired token is renewed once and the call repeated.
"""

import unittest

import harness


class NginxSalesforceTrouble(harness.HarnessCase):

    def setUp(self):
        self.h = self.start_harness()

    def test_expired_token_is_renewed_once(self):
        reply = self.h.deliver("055-customer_created")
        self.assertReply(self.h, reply, 200, "synced")
        self.h.knobs(expire_tokens=True)
        before = len(self.h.requests())
        reply = self.h.deliver("057-customer_updated")
        self.assertReply(self.h, reply, 200, "synced")
        calls = [(r["kind"], r["status"])
                 for r in self.h.requests()[before:]]
        self.assertEqual(calls, [("data", 401), ("token", 200),
                                 ("data", 200)])
        account = self.h.records("Account")[0]
        body = harness.Fixture("057-customer_updated").json()
        self.assertEqual(account["Phone"], body["billing"]["phone"])

    def test_salesforce_unavailable_is_202(self):
        self.h.knobs({"fail": [{"path_contains": "/composite",
                                "status": 503, "times": 1}]})
        reply = self.h.deliver("055-customer_created")
        self.assertReply(self.h, reply, 202, "queued")
        self.assertEqual(self.h.records("Account"), [])
        # The worker goes on: the next customer lands.
        reply = self.h.deliver("058-customer_created")
        self.assertReply(self.h, reply, 200, "synced")
        keys = [a["WC_Customer_Id__c"] for a in self.h.records("Account")]
        self.assertIn("3", keys)
        self.assertTrue(self.h.fcgi_alive())


if __name__ == "__main__":
    unittest.main()
