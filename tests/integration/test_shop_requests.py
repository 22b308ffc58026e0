"""How many Salesforce requests a big order costs, through nginx.

A composite request carries at most 25 subrequests, of which at most 5
are sObject Collections, each of at most 200 records (reference §4.1,
§4.2). A one-record upsert keyed by a plain word (an id) is a
subrequest of its own that is no collection. From these limits:

- 300 lines of products Salesforce has, bought by a registered
  customer: the 300 OrderItems need 2 collections (200 + 100); the
  Order (and the customer's Account and Contact, unless wc2sf knows
  Salesforce has them) are one-record upserts. At most 5 subrequests,
  2 collections: 1 request.
- 300 lines each selling a product Salesforce has never seen, bought by
  a guest: Product2, PricebookEntry and OrderItem need 2 collections
  each, and the guest's Account and Contact one each (an e-mail key
  never goes in a URL): 8 collections, more than 5, so at least 2
  requests, and wc2sf needs exactly 2.

Each test builds its order from the real order 51 and signs it with the
shop's secret, as WooCommerce would.
"""

import copy
import unittest
from decimal import Decimal

import harness
from test_shop_state import (CENT, ShopAssertions, index, item_fields, send,
                             money)

LINES = 300
BASE_ORDER = "071-order_updated"


def big_order(order_id, lines, guest=None):
    """Order 51 with order_id and the given line items; guest is a
    billing e-mail that makes the buyer a guest."""
    body = copy.deepcopy(harness.Fixture(BASE_ORDER).json())
    body["id"] = order_id
    body["number"] = str(order_id)
    body["order_key"] = f"wc_order_big{order_id}"
    body["refunds"] = []
    body["line_items"] = lines
    if guest is not None:
        body["customer_id"] = 0
        body["billing"]["email"] = guest
        body["billing"]["company"] = ""
    return body


def line(line_id, product_id, variation_id, quantity, price, name):
    total = (Decimal(str(price)) * quantity).quantize(CENT)
    return {
        "id": line_id, "name": name, "product_id": product_id,
        "variation_id": variation_id, "quantity": quantity,
        "tax_class": "", "subtotal": str(total), "subtotal_tax": "0.00",
        "total": str(total), "total_tax": "0.00", "taxes": [],
        "meta_data": [], "sku": f"SKU-{line_id}", "global_unique_id": "",
        "price": price, "image": {"id": "", "src": ""},
        "parent_name": None,
    }


class BigOrders(ShopAssertions):

    def setUp(self):
        self.h = self.start_harness(max_body="2M",
                                    client_max_body_size="2m")

    def deliver(self, base):
        reply = self.h.deliver(base)
        self.assertReply(self.h, reply, 200, "synced")

    def send_order(self, body, like="063-order_created"):
        before = len(self.h.data_requests())
        reply = send(self.h, like, body)
        self.assertReply(self.h, reply, 200, "synced")
        return self.h.data_requests()[before:]

    def assertItems(self, order_id, lines):
        order = index(self.h.records("Order"),
                      "WC_Order_Id__c")[str(order_id)]
        self.assertEqual(len(order), 1)
        items = [i for i in self.h.records("OrderItem")
                 if i["OrderId"] == order[0]["Id"]]
        self.assertEqual(len(items), len(lines))
        by_line = index(items, "WC_Line_Id__c")
        for ln in lines:
            key = str(ln["variation_id"] or ln["product_id"])
            got = by_line[str(ln["id"])]
            self.assertEqual(len(got), 1)
            self.assertFields(got[0], item_fields(ln, key),
                              f"line {ln['id']}")
        want = sum((money(ln["price"]) * ln["quantity"] for ln in lines),
                   Decimal(0))
        self.assertEqual(money(order[0]["TotalAmount"]), want)

    def test_300_lines_of_known_products_in_one_request(self):
        # The products and the customer first, as the shop sent them.
        for base in ("016-product_created", "020-product_created",
                     "055-customer_created"):
            self.deliver(base)
        lines = [line(1000 + i, 12, 0, 1 + i % 3, 14.99, "Realwc T-Shirt")
                 if i % 2 == 0 else
                 line(1000 + i, 13, 15, 1, 39, "Realwc Hoodie - M, Red")
                 for i in range(LINES)]
        sent = self.send_order(big_order(9001, lines))
        self.assertEqual(len(sent), 1, [r["path"] for r in sent])
        composite = sent[0]
        self.assertTrue(composite["path"].endswith("/composite"))
        self.assertEqual(composite["status"], 200)
        subs = composite["body"]["compositeRequest"]
        self.assertTrue(composite["body"]["allOrNone"])
        collections = [s for s in subs if "/composite/sobjects/" in s["url"]]
        self.assertEqual([len(s["body"]["records"]) for s in collections],
                         [200, 100])
        # The rest are one-record upserts by id: the Order, and the
        # customer's Account and Contact unless wc2sf knows Salesforce
        # has them from customer.* events.
        singles = [s["url"].split("/sobjects/")[1] for s in subs
                   if s not in collections]
        self.assertIn(singles, (["Order/WC_Order_Id__c/9001"],
                                ["Account/WC_Customer_Id__c/2",
                                 "Contact/WC_Customer_Id__c/2",
                                 "Order/WC_Order_Id__c/9001"]))
        self.assertTrue(all(s["method"] == "PATCH" for s in subs))
        self.assertItems(9001, lines)
        self.assertEqual(len(self.h.records("Account")), 1)

        # The same body again as order.updated: a duplicate, no request.
        before = len(self.h.data_requests())
        reply = send(self.h, "064-order_updated", big_order(9001, lines))
        self.assertReply(self.h, reply, 200, "duplicate")
        self.assertEqual(len(self.h.data_requests()), before)

        # Ten lines fewer: the upserts in one request, the ten deletes
        # (a line already gone is no error, so no allOrNone) in another.
        body = big_order(9001, lines[:LINES - 10])
        body["date_modified_gmt"] = "2026-12-03T16:00:00"
        sent = self.send_order(body, "067-order_updated")
        self.assertEqual(len(sent), 2)
        self.assertTrue(sent[0]["body"]["allOrNone"])
        self.assertFalse(sent[1]["body"]["allOrNone"])
        deletes = sent[1]["body"]["compositeRequest"]
        self.assertEqual([d["method"] for d in deletes], ["DELETE"] * 10)
        self.assertItems(9001, lines[:LINES - 10])

    def test_300_new_products_for_a_guest_in_two_requests(self):
        lines = [line(2000 + i, 5000 + i, 0, 2, 1.25, f"Gadget {i}")
                 for i in range(LINES)]
        guest = "big.buyer+300@example.test"
        sent = self.send_order(big_order(9002, lines, guest=guest))
        self.assertEqual(len(sent), 3, [r["path"] for r in sent])
        query, first, second = sent
        self.assertIn("/query", query["path"])      # the price book, once
        heavy = []
        for composite in (first, second):
            self.assertTrue(composite["path"].endswith("/composite"))
            self.assertEqual(composite["status"], 200)
            subs = composite["body"]["compositeRequest"]
            self.assertLessEqual(len(subs), 25)
            n = sum(1 for s in subs if "/composite/sobjects/" in s["url"])
            self.assertLessEqual(n, 5)
            heavy.append(n)
        self.assertEqual(sum(heavy), 8)
        # The guest's key travels in bodies only, never in a URL.
        for composite in (first, second):
            for s in composite["body"]["compositeRequest"]:
                self.assertNotIn("big.buyer", s["url"])
        self.assertItems(9002, lines)
        self.assertEqual(len(self.h.records("Product2")), LINES)
        entries = self.h.records("PricebookEntry")
        self.assertEqual(len(entries), LINES)
        self.assertTrue(all(e["IsActive"] and e["UnitPrice"] == 1.25
                            for e in entries))
        accounts = self.h.records("Account")
        self.assertEqual([a["WC_Guest_Email__c"] for a in accounts],
                         [guest])


if __name__ == "__main__":
    unittest.main()
