"""Customers through nginx: real WooCommerce deliveries into Salesforce.

Each test gets its own fake Salesforce, wc2sf (under spawn-fcgi) and
nginx running nginx-conf/wc2sf.conf, and replays captured deliveries from
a real WooCommerce 10.0.2 shop with curl. What the fake holds afterwards
is checked against values read from the delivered bodies.
"""

import json
import unittest

import harness

# The customer deliveries of the capture, in the order they arrived.
CUSTOMER_DELIVERIES = [
    "055-customer_created",
    "056-customer_updated",     # byte-identical to 055
    "057-customer_updated",
    "058-customer_created",
    "059-customer_updated",     # byte-identical to 058
    "112-customer_created",
    "113-customer_updated",     # byte-identical to 112
    "114-customer_updated",
    "115-customer_deleted",     # {"id":4}
]
VALID = "055-customer_created"


def latest_bodies(bases):
    """The newest full body of each customer among the deliveries."""
    latest = {}
    deleted = set()
    for base in bases:
        fixture = harness.Fixture(base)
        body = fixture.json()
        key = str(body["id"])
        if fixture.topic == "customer.deleted":
            deleted.add(key)
            continue
        old = latest.get(key)
        if old is None or body["date_modified_gmt"] >= \
                old["date_modified_gmt"]:
            latest[key] = body
    return latest, deleted


def street(address):
    lines = [address.get("address_1", ""), address.get("address_2", "")]
    return "\n".join(x for x in lines if x)


def person(c):
    """
    Names, e-mail and company as DESIGN.md's mapping reads them: the
    customer's own names, else its billing names; its e-mail, else the
    billing one; the billing company.
    """
    b = c["billing"]
    first, last = c["first_name"], c["last_name"]
    if not first and not last:
        first, last = b["first_name"], b["last_name"]
    return first, last, c["email"] or b["email"], b["company"]


def address_fields(prefix, a):
    return {
        prefix + "Street": street(a) or None,
        prefix + "City": a["city"] or None,
        prefix + "State": a["state"] or None,
        prefix + "PostalCode": a["postcode"] or None,
        prefix + "Country": a["country"] or None,
    }


def expected_account(c):
    """The Account a customer body must produce: a company's name, else
    the person's, else the e-mail; both addresses; the billing phone."""
    first, last, email, company = person(c)
    name = " ".join(x for x in (first, last) if x)
    fields = {
        "WC_Customer_Id__c": str(c["id"]),
        "Name": company or name or email,
        "Phone": c["billing"]["phone"] or None,
    }
    fields.update(address_fields("Billing", c["billing"]))
    fields.update(address_fields("Shipping", c["shipping"]))
    return fields


def expected_contact(c):
    """The Contact: a one-word name is a LastName (Salesforce requires
    one), the e-mail stands in for a missing name; billing address as
    the mailing one, shipping as the other."""
    first, last, email, _ = person(c)
    if not last:
        first, last = "", first or email
    fields = {
        "WC_Customer_Id__c": str(c["id"]),
        "FirstName": first or None,
        "LastName": last,
        "Email": email,
        "Phone": c["billing"]["phone"] or None,
    }
    fields.update(address_fields("Mailing", c["billing"]))
    fields.update(address_fields("Other", c["shipping"]))
    return fields


def by_key(records):
    out = {}
    for record in records:
        key = record.get("WC_Customer_Id__c")
        if key is not None:
            out.setdefault(key, []).append(record)
    return out


class NginxCustomers(harness.HarnessCase):

    def setUp(self):
        self.h = self.start_harness()

    def deliver_ok(self, base, result="synced"):
        reply = self.h.deliver(base)
        self.assertReply(self.h, reply, 200, result)
        return reply

    def still_serving(self):
        """A valid delivery after a refused one: same process, synced."""
        pid = self.h.fcgi.pid
        before = len(self.h.data_requests())
        reply = self.h.deliver("057-customer_updated")
        self.assertReply(self.h, reply, 200, "synced")
        self.assertTrue(self.h.fcgi_alive())
        self.assertEqual(self.h.fcgi.pid, pid)
        self.assertGreater(len(self.h.data_requests()), before)
        self.assertEqual(len(by_key(self.h.records("Account"))["2"]), 1)

    def assertNoSecretsLogged(self):
        text = "\n".join(self.h.log_lines())
        for secret in (harness.SECRET, harness.SF_PASSWORD,
                       harness.SF_CLIENT_SECRET):
            self.assertNotIn(secret, text)

    def test_customers_in_order(self):
        want = {
            "055-customer_created": "synced",
            "056-customer_updated": "duplicate",
            "057-customer_updated": "synced",
            "058-customer_created": "synced",
            "059-customer_updated": "duplicate",
            "112-customer_created": "synced",
            "113-customer_updated": "duplicate",
            "114-customer_updated": "synced",
            "115-customer_deleted": "synced",
        }
        got = []
        for base in CUSTOMER_DELIVERIES:
            reply = self.h.deliver(base)
            got.append((base, reply.status, reply.result))
        expected = [(base, 200, want[base]) for base in CUSTOMER_DELIVERIES]
        if got != expected:
            self.assertEqual(got, expected, self.h.diagnostics())

        latest, deleted = latest_bodies(CUSTOMER_DELIVERIES)
        self.assertEqual(sorted(latest), ["2", "3", "4"])
        self.assertEqual(deleted, {"4"})
        accounts = by_key(self.h.records("Account"))
        contacts = by_key(self.h.records("Contact"))
        self.assertEqual(sorted(accounts), sorted(latest))
        self.assertEqual(sorted(contacts), sorted(latest))

        for key, body in sorted(latest.items()):
            who = f"customer {key}"
            self.assertEqual(len(accounts[key]), 1, who)
            self.assertEqual(len(contacts[key]), 1, who)
            account, contact = accounts[key][0], contacts[key][0]
            for field, value in expected_account(body).items():
                self.assertEqual(account.get(field) or None, value,
                                 f"{who}: Account.{field}")
            for field, value in expected_contact(body).items():
                self.assertEqual(contact.get(field) or None, value,
                                 f"{who}: Contact.{field}")
            self.assertTrue(account["Id"].startswith("001"), who)
            self.assertTrue(contact["Id"].startswith("003"), who)
            self.assertEqual(contact.get("AccountId"), account["Id"], who)
            # A delete marks the customer; it never deletes it.
            gone = key in deleted
            self.assertEqual(bool(account.get("WC_Deleted__c")), gone, who)
            self.assertEqual(bool(contact.get("WC_Deleted__c")), gone, who)

        # Spot checks that do not go through the helpers above.
        jane = accounts["2"][0]
        self.assertEqual(jane["Name"], "Jane Doe")
        self.assertEqual(jane["BillingCity"], "San Francisco")
        self.assertEqual(jane["BillingStreet"],
                         "100 Market Street\nSuite 5")
        zoe = contacts["3"][0]
        self.assertEqual(zoe["FirstName"], "Zo\u00eb")
        self.assertEqual(zoe["LastName"], "\u00dcn\u00efcode \U0001F680")
        self.assertEqual(zoe["Email"], "zoe.unicode+tag@example.test")
        self.assertEqual(contacts["4"][0]["FirstName"], "Restina")
        self.assertNoSecretsLogged()

    def test_same_delivery_twice(self):
        self.deliver_ok(VALID)
        sent = len(self.h.data_requests())
        self.assertGreater(sent, 0)
        self.deliver_ok(VALID, "duplicate")
        self.assertEqual(len(self.h.data_requests()), sent)
        self.assertEqual(len(self.h.records("Account")), 1)
        self.assertEqual(len(self.h.records("Contact")), 1)

    def test_created_then_identical_updated_is_duplicate(self):
        self.deliver_ok("055-customer_created")
        sent = len(self.h.data_requests())
        self.deliver_ok("056-customer_updated", "duplicate")
        self.assertEqual(len(self.h.data_requests()), sent)

    def test_older_version_is_stale(self):
        newer = harness.Fixture("057-customer_updated").json()
        self.deliver_ok("057-customer_updated")
        sent = len(self.h.data_requests())
        self.deliver_ok("055-customer_created", "stale")
        self.assertEqual(len(self.h.data_requests()), sent)
        account = by_key(self.h.records("Account"))["2"][0]
        self.assertEqual(account.get("Phone"), newer["billing"]["phone"])

    def test_wrong_signature(self):
        fixture = harness.Fixture(VALID)
        other = harness.Fixture("057-customer_updated")
        headers = [(n, other.header(n) if n == "X-WC-Webhook-Signature"
                    else v) for n, v in fixture.headers]
        self.assertNotEqual(headers, fixture.headers)
        reply = self.h.post(fixture.body, headers)
        self.assertReply(self.h, reply, 401, "bad_signature")
        # The right signature over a body changed by one byte.
        body = fixture.body.replace(b'"Jane"', b'"Jana"', 1)
        self.assertNotEqual(body, fixture.body)
        reply = self.h.post(body, fixture.headers)
        self.assertReply(self.h, reply, 401, "bad_signature")
        self.assertEqual(self.h.data_requests(), [])
        self.assertEqual(self.h.records("Account"), [])
        self.assertTrue(any("bad_signature" in line
                            for line in self.h.log_lines()))
        self.still_serving()
        self.assertNoSecretsLogged()

    def test_missing_signature(self):
        fixture = harness.Fixture(VALID)
        headers = [(n, v) for n, v in fixture.headers
                   if n.lower() != "x-wc-webhook-signature"]
        reply = self.h.post(fixture.body, headers)
        self.assertReply(self.h, reply, 401, "bad_signature")
        self.assertEqual(self.h.data_requests(), [])
        self.still_serving()

    def test_ping(self):
        reply = self.h.deliver("001-ping")
        self.assertReply(self.h, reply, 200, "ping")
        # Touches nothing else: not even a sign-in.
        self.assertEqual(self.h.requests(), [])
        self.still_serving()

    def test_get_is_405(self):
        reply = self.h.post(None, method="GET")
        self.assertReply(self.h, reply, 405, "bad_method")
        self.assertEqual(self.h.data_requests(), [])
        self.still_serving()

    def test_not_json_with_valid_signature(self):
        fixture = harness.Fixture(VALID)
        body = b"this is not JSON {"
        headers = [(n, harness.sign(body)
                    if n == "X-WC-Webhook-Signature" else v)
                   for n, v in fixture.headers]
        reply = self.h.post(body, headers)
        self.assertReply(self.h, reply, 400, "bad_payload")
        self.assertEqual(self.h.data_requests(), [])
        self.still_serving()

    def test_signed_json_that_is_not_an_object(self):
        fixture = harness.Fixture(VALID)
        body = json.dumps([1, 2, 3]).encode()
        headers = [(n, harness.sign(body)
                    if n == "X-WC-Webhook-Signature" else v)
                   for n, v in fixture.headers]
        reply = self.h.post(body, headers)
        self.assertReply(self.h, reply, 400, "bad_payload")
        self.assertEqual(self.h.data_requests(), [])
        self.still_serving()


class NginxBodyLimit(harness.HarnessCase):
    """max_body is wc2sf's: nginx lets more through, wc2sf says 413."""

    MAX_BODY = 4096

    def setUp(self):
        self.h = self.start_harness(max_body=str(self.MAX_BODY),
                                    client_max_body_size="64k")

    def test_body_over_max_body(self):
        fixture = harness.Fixture(VALID)
        body = json.loads(fixture.body)
        body["meta_data"] = [{"id": n, "key": "note", "value": "x" * 100}
                             for n in range(60)]
        raw = json.dumps(body, separators=(",", ":")).encode()
        self.assertGreater(len(raw), self.MAX_BODY)
        self.assertLess(len(raw), 64 * 1024)
        headers = [(n, harness.sign(raw)
                    if n == "X-WC-Webhook-Signature" else v)
                   for n, v in fixture.headers]
        reply = self.h.post(raw, headers)
        self.assertReply(self.h, reply, 413, "too_large")
        self.assertEqual(self.h.data_requests(), [])

        # Just under the limit is fine, and the worker kept serving.
        self.assertLess(len(fixture.body), self.MAX_BODY)
        pid = self.h.fcgi.pid
        reply = self.h.deliver(VALID)
        self.assertReply(self.h, reply, 200, "synced")
        self.assertEqual(self.h.fcgi.pid, pid)
        self.assertEqual(len(self.h.records("Account")), 1)


if __name__ == "__main__":
    unittest.main()
