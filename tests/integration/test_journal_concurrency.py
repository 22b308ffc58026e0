"""Concurrency: four FastCGI workers, 1,100 deliveries, four orders.

spawn-fcgi forks four wc2sf.fcgi workers on one socket behind nginx; 16
client threads send 250 versions of each of four captured orders (later
date_modified_gmt, a customer note naming the version), mostly in order
but shuffled within small windows, some twice as the order.created and
order.updated twins WooCommerce sends. All of them race on one journal.

What must hold: every reply is 2xx and none carries the journal's
trouble (SQLITE_BUSY, "locked"); Salesforce never receives an older
version of an order after a newer one; in the end each order in
Salesforce is its newest version, with no twin record anywhere.
"""

import copy
import datetime
import json
import random
import re
import time
import unittest

import harness

ORDERS = ("063-order_created", "082-order_restored", "099-order_created",
          "126-order_created")
VERSIONS = 250
WORKERS = 4
THREADS = 16
SEED = 4242


def version(fixture, v):
    """Version v of an order: v seconds newer, its note says v."""
    body = copy.deepcopy(fixture.json())
    for key in ("date_modified", "date_modified_gmt"):
        t = datetime.datetime.fromisoformat(body[key])
        body[key] = (t + datetime.timedelta(seconds=v)).isoformat()
    body["customer_note"] = f"v{v}"
    return json.dumps(body, separators=(",", ":")).encode()


def note_version(note):
    m = re.fullmatch(r"v(\d+)", note or "")
    return int(m.group(1)) if m else 0


class JournalConcurrency(harness.HarnessCase):

    def load(self, h):
        """The deliveries, in the order they are handed to the threads."""
        rnd = random.Random(SEED)
        per_order = []
        for base in ORDERS:
            f = harness.Fixture(base)
            items = []
            for v in range(1, VERSIONS + 1):
                body = version(f, v)
                items.append((f"{base} v{v}", h.webhook_headers(
                    "order.updated", body, "064-order_updated"), body))
                if v % 10 == 0:
                    items.append((f"{base} v{v} twin", h.webhook_headers(
                        "order.created", body, base), body))
            # Mostly in order: shuffled within windows of eight.
            for i in range(0, len(items), 8):
                window = items[i:i + 8]
                rnd.shuffle(window)
                items[i:i + 8] = window
            per_order.append(items)
        out = []
        while any(per_order):
            items = rnd.choice([x for x in per_order if x])
            out.append(items.pop(0))
        return out

    def sent_versions(self, h):
        """For each order, the versions Salesforce received, in order."""
        seen = {}

        def walk(node, key=None):
            """key: the order id a subrequest's URL names."""
            if isinstance(node, dict):
                m = re.search(r"/sobjects/Order/WC_Order_Id__c/(\d+)$",
                              str(node.get("url", "")))
                if m:
                    key = m.group(1)
                if "WC_Customer_Note__c" in node:
                    seen.setdefault(node.get("WC_Order_Id__c", key),
                                    []).append(note_version(
                                        node["WC_Customer_Note__c"]))
                for value in node.values():
                    walk(value, key)
            elif isinstance(node, list):
                for value in node:
                    walk(value, key)

        for request in h.data_requests():
            if request.get("status") == 200:
                walk(request.get("body"))
        return seen

    def test_four_workers_same_orders(self):
        h = self.start_harness()
        pids = h.restart_fcgi(workers=WORKERS)
        self.assertEqual(len(pids), WORKERS)
        items = self.load(h)
        self.assertGreaterEqual(len(items), 1000)

        started = time.monotonic()
        replies = h.post_many([(hd, body) for _, hd, body in items],
                              threads=THREADS)
        elapsed = time.monotonic() - started
        bad = [(label, r) for (label, _, _), r in zip(items, replies)
               if r.status not in (200, 202)]
        self.assertEqual(bad, [], h.diagnostics())
        for r in replies:
            text = r.body.decode("utf-8", "replace").lower()
            self.assertNotIn("busy", text)
            self.assertNotIn("locked", text)
        results = {r.result for r in replies}
        self.assertLessEqual(results, {"synced", "queued", "stale",
                                       "duplicate"}, results)
        self.assertIn("synced", results)
        self.assertIn("stale", results)
        self.assertIn("duplicate", results)
        # Every worker took a share.
        served = {int(m.group(1)) for m in (
            re.search(r"wc2sf\.fcgi\[(\d+)\]: .* status=", line)
            for line in h.log_lines()) if m}
        self.assertEqual(served, set(pids))
        for line in h.log_lines():
            self.assertNotIn("database is locked", line)
            self.assertNotIn("SQLITE_BUSY", line)

        # What is still queued goes with the drains or, at the latest,
        # with a replay once the workers are done.
        h.wait_journal_idle()
        replay = h.cli("replay", "--json")
        self.assertEqual(replay.returncode, 0,
                         replay.stdout + replay.stderr)
        self.assertEqual(json.loads(replay.stdout)["pending"], 0)

        # Salesforce never got an older version after a newer one.
        sent = self.sent_versions(h)
        self.assertEqual(len(sent), len(ORDERS))
        for order, seq in sent.items():
            self.assertEqual(seq, sorted(seq), f"order {order}")
            self.assertEqual(seq[-1], VERSIONS, f"order {order}")

        # The newest version of each order, once; nothing twice.
        snap = h.snapshot()
        orders = {o["WC_Order_Id__c"]: o for o in snap["Order"]}
        self.assertEqual(len(orders), len(ORDERS))
        for base in ORDERS:
            body = harness.Fixture(base).json()
            order = orders[str(body["id"])]
            self.assertEqual(order["WC_Customer_Note__c"], f"v{VERSIONS}")
            lines = [i for i in snap["OrderItem"]
                     if i["OrderId"] == f"Order:WC_Order_Id__c="
                     f"{body['id']}"]
            self.assertEqual(len(lines), len(body["line_items"]))
        db = h.journal()
        states = dict(db.execute("SELECT state, count(*) FROM events"
                                 " GROUP BY state").fetchall())
        db.close()
        self.assertNotIn(0, states)	# pending
        self.assertNotIn(5, states)	# dead
        self.assertEqual(sum(states.values()), len(items))
        sys_time = f"{len(items)} deliveries in {elapsed:.1f}s"
        self.assertLess(elapsed, 120, sys_time)


if __name__ == "__main__":
    unittest.main()
