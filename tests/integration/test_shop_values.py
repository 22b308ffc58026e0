"""Values that are easy to get wrong, through nginx into the fake.

Crafted deliveries (real bodies with a few fields changed, signed with
the shop's secret): HTML entities decoded exactly once, non-ASCII text
and emoji (sent as WooCommerce sends them, \\u escapes and surrogate
pairs) arriving whole, names longer than their field cut on a character
boundary in UTF-16 units, and external ID values with '/', '%', '+',
spaces and non-ASCII (a guest's e-mail) kept exactly and never put in a
URL. Expected values come from test_shop_state's model of the tables and
from literal strings written out here.
"""

import copy
import unittest

import harness
from test_shop_state import (ShopAssertions, customer_fields, index,
                             item_fields, order_buyer_fields, order_fields,
                             product_fields, send, utf16_units)

ROCKET = "\U0001F680"
PARTY = "\U0001F389"


def fixture_body(base):
    return copy.deepcopy(harness.Fixture(base).json())


class Values(ShopAssertions):

    @classmethod
    def setUpClass(cls):
        cls.h = harness.Harness(cls.__name__)
        try:
            cls.h.start()
        except BaseException:
            cls.h.close(keep=True)
            raise

    def sync(self, like, body, result="synced"):
        reply = send(self.h, like, body)
        self.assertReply(self.h, reply, 200, result)
        return reply

    def one(self, sobject, field, key):
        found = index(self.h.records(sobject), field).get(key, [])
        self.assertEqual(len(found), 1, f"{sobject} {key}: {found}")
        return found[0]

    def test_product_text(self):
        body = fixture_body("016-product_created")
        body["id"] = 701
        # Entities once: "&amp;amp;" stays "&amp;"; then a name too long
        # for Product2.Name (255) whose cut falls inside an emoji.
        body["name"] = ("Caf&eacute; &amp;amp; Cr&egrave;me &#8211; "
                        "&#x1F680; &quot;Deluxe&quot; " + PARTY * 200)
        body["sku"] = " A/B %2F+ \u00fc \u00e9 " + ROCKET + " "
        body["description"] = (
            "<p>Tom &amp;amp; Jerry&nbsp;&lt;3</p>"
            "<script>alert('x')</script><ul><li>one</li><li>two</li></ul>")
        body["categories"] = [{"id": 9, "name": "Caf&eacute;s &amp; Bars",
                               "slug": "cafes"}]
        self.sync("016-product_created", body)
        product = self.one("Product2", "WC_Product_Id__c", "701")
        entry = self.one("PricebookEntry", "WC_Price_Key__c", "std-701")
        want, want_entry = product_fields("701", body, False)
        self.assertFields(product, want, "Product2")
        self.assertFields(entry, want_entry, "PricebookEntry")
        # The same, written out.
        head = "Caf\u00e9 &amp; Cr\u00e8me \u2013 " + ROCKET + \
            " \"Deluxe\" "
        self.assertTrue(product["Name"].startswith(head + PARTY))
        # 31 units of head, then whole emoji (2 units) up to 255.
        self.assertEqual(utf16_units(head), 31)
        self.assertEqual(product["Name"], head + PARTY * 112)
        self.assertEqual(utf16_units(product["Name"]), 255)
        self.assertEqual(product["ProductCode"],
                         "A/B %2F+ \u00fc \u00e9 " + ROCKET)
        self.assertEqual(product["Description"],
                         "Tom &amp; Jerry <3 one two")
        self.assertEqual(product["Family"], "Caf\u00e9s & Bars")

        # An even-length head: the cut falls inside the 113th emoji.
        body["name"] = "ab" + "&amp;" + PARTY * 200
        body["date_modified_gmt"] = "2026-12-03T18:00:00"
        self.sync("017-product_updated", body)
        product = self.one("Product2", "WC_Product_Id__c", "701")
        self.assertEqual(product["Name"], "ab&" + PARTY * 126)
        self.assertEqual(utf16_units(product["Name"]), 255)
        body["name"] = "abc" + PARTY * 200
        body["date_modified_gmt"] = "2026-12-03T18:00:01"
        self.sync("017-product_updated", body)
        product = self.one("Product2", "WC_Product_Id__c", "701")
        self.assertEqual(product["Name"], "abc" + PARTY * 126)
        self.assertEqual(utf16_units(product["Name"]), 255)
        body["name"] = "abcd" + PARTY * 200
        body["date_modified_gmt"] = "2026-12-03T18:00:02"
        self.sync("017-product_updated", body)
        product = self.one("Product2", "WC_Product_Id__c", "701")
        self.assertEqual(product["Name"], "abcd" + PARTY * 125)
        self.assertEqual(utf16_units(product["Name"]), 254)

    def test_customer_text(self):
        body = fixture_body("055-customer_created")
        body["id"] = 702
        body["first_name"] = ROCKET * 25            # 50 units; 40 fit
        body["last_name"] = "O&#039;Brien-\u00c4" + "\u00e4" * 100
        body["email"] = "zo\u00eb@example.test"     # Email refuses it
        body["billing"]["city"] = "S&atilde;o Paulo"
        body["billing"]["address_1"] = "Rua &amp;amp; 1"
        body["billing"]["company"] = ""
        body["billing"]["email"] = "zoe@example.test"
        self.sync("055-customer_created", body)
        account = self.one("Account", "WC_Customer_Id__c", "702")
        contact = self.one("Contact", "WC_Customer_Id__c", "702")
        want_account, want_contact = customer_fields(body, False)
        self.assertFields(account, want_account, "Account")
        self.assertFields(contact, want_contact, "Contact")
        self.assertEqual(contact["FirstName"], ROCKET * 20)
        self.assertEqual(contact["LastName"],
                         "O'Brien-\u00c4" + "\u00e4" * 71)
        self.assertEqual(utf16_units(contact["LastName"]), 80)
        # The customer's own e-mail is not one Salesforce takes: the
        # billing one stands in.
        self.assertEqual(contact["Email"], "zoe@example.test")
        self.assertEqual(account["BillingCity"], "S\u00e3o Paulo")
        self.assertEqual(account["BillingStreet"], "Rua &amp; 1\nSuite 5")
        self.assertEqual(account["Name"],
                         ROCKET * 25 + " O'Brien-\u00c4" + "\u00e4" * 100)

    def test_guest_key_round_trip(self):
        """A guest e-mail with '/', '%', '+', a space and non-ASCII is
        the key of the Account and Contact exactly (ASCII letters in
        lower case), travels in bodies only, and a second order of the
        same guest, written in other case, finds the same records."""
        email = "\u00fcn\u00ef/50% +Off@Example.test"
        key = "\u00fcn\u00ef/50% +off@example.test"
        body = fixture_body("082-order_restored")
        body["id"] = 703
        body["number"] = "703"
        body["billing"]["email"] = email
        body["customer_note"] = "&lt;3 &amp;amp; " + ROCKET
        lines = body["line_items"]
        lines[0]["name"] = "x" + ROCKET * 200       # 401 units
        before = len(self.h.data_requests())
        self.sync("082-order_restored", body)
        account = self.one("Account", "WC_Guest_Email__c", key)
        contact = self.one("Contact", "WC_Guest_Email__c", key)
        self.assertEqual(contact["AccountId"], account["Id"])
        want_account, want_contact = order_buyer_fields(
            body, "WC_Guest_Email__c", key)
        self.assertFields(account, want_account, "Account")
        self.assertFields(contact, want_contact, "Contact")
        self.assertIsNone(contact["Email"])     # not an address SF takes
        order = self.one("Order", "WC_Order_Id__c", "703")
        self.assertFields(order, order_fields(body, False), "Order")
        self.assertEqual(order["AccountId"], account["Id"])
        self.assertEqual(order["WC_Customer_Note__c"],
                         "<3 &amp; " + ROCKET)
        item = self.one("OrderItem", "WC_Line_Id__c", str(lines[0]["id"]))
        self.assertFields(item, item_fields(lines[0], "17"), "OrderItem")
        self.assertEqual(item["Description"], "x" + ROCKET * 127)
        for r in self.h.data_requests()[before:]:
            urls = [r["path"]] + [s["url"] for s in (r.get("body") or {})
                                  .get("compositeRequest", [])]
            for url in urls:
                self.assertNotIn("Off", url)
                self.assertNotIn("%25", url)
                self.assertNotIn("example.test", url)

        second = copy.deepcopy(body)
        second["id"] = 704
        second["number"] = "704"
        second["billing"]["email"] = "\u00fcn\u00ef/50% +OFF@example.TEST"
        for n, ln in enumerate(second["line_items"]):
            ln["id"] = 900 + n
        self.sync("082-order_restored", second)
        self.one("Account", "WC_Guest_Email__c", key)
        self.one("Contact", "WC_Guest_Email__c", key)
        order = self.one("Order", "WC_Order_Id__c", "704")
        self.assertEqual(order["AccountId"], account["Id"])
        self.assertEqual(len([a for a in self.h.records("Account")
                              if a["WC_Guest_Email__c"]]), 1)

    def test_rest_error_body_is_ignored(self):
        before = len(self.h.data_requests())
        body = {"code": "woocommerce_rest_cannot_view",
                "message": "Sorry, you cannot view this resource.",
                "data": {"status": 401}}
        reply = self.sync("063-order_created", body, "ignored")
        self.assertIn("woocommerce_rest_cannot_view", reply.json["error"])
        self.assertEqual(len(self.h.data_requests()), before)
        lines = [harness.parse_log_line(x) for x in self.h.log_lines()
                 if "woocommerce_rest_cannot_view" in x]
        self.assertEqual(len(lines), 1)
        self.assertEqual(lines[0]["result"], "ignored")

    def test_rest_error_body_is_a_warning(self):
        """A REST error body is ignored, with a warning naming its code."""
        body = {"code": "rest_forbidden_context",
                "message": "Sorry, you are not allowed.",
                "data": {"status": 403}}
        self.sync("063-order_created", body, "ignored")
        lines = [harness.parse_log_line(x) for x in self.h.log_lines()
                 if "rest_forbidden_context" in x]
        self.assertEqual(len(lines), 1)
        self.assertEqual(lines[0]["level"], "warn")


if __name__ == "__main__":
    unittest.main()
