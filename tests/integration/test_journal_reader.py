"""A reader that holds one snapshot of the journal while workers write.

An admin's sqlite3 shell left in a transaction, or a backup tool, keeps
the WAL from starting over. Past 4,000 WAL pages each worker asks for a
RESTART checkpoint after its reply, and SQLite's RESTART waits for that
reader while it holds the write lock. It once waited the writers' whole
busy timeout (5 s) after every reply: deliveries stalled, and some got
503 "database is locked" (a lost delivery: WooCommerce does not retry).

Here four workers take 700 new customers from four client threads while
a second connection holds a read transaction. What must hold: the WAL
did grow past the RESTART threshold (the case was reached), every reply
is 200 "synced", no log line says the journal was locked, and once the
reader is gone every event is synced and nothing is pending or dead.
"""

import json
import os
import sqlite3
import unittest

import harness

CUSTOMER = "055-customer_created"
WORKERS = 4
THREADS = 4
DELIVERIES = 700
BATCH = 50
RESTART_PAGES = 4000		# CHECKPOINT_RESTART_PAGES in lib/journal.c
PAGE = 4096


class JournalLongReader(harness.HarnessCase):

    def customer(self, h, base, i):
        body = base.json()
        body["id"] = 10000 + i
        body["email"] = f"reader{i}@example.test"
        body["billing"]["email"] = body["email"]
        data = json.dumps(body, separators=(",", ":")).encode()
        return (h.webhook_headers("customer.created", data, base.base),
                data)

    def test_reader_holding_a_snapshot(self):
        h = self.start_harness()
        h.restart_fcgi(workers=WORKERS)
        base = harness.Fixture(CUSTOMER)
        first = h.post_many([self.customer(h, base, 0)])
        self.assertEqual(first[0].status, 200, h.diagnostics())

        reader = sqlite3.connect(h.path("wc2sf.db"), isolation_level=None)
        try:
            reader.execute("BEGIN")
            held = reader.execute("SELECT count(*) FROM events").fetchone()
            self.assertEqual(held[0], 1)
            # In batches, so that a regression fails at its first
            # refused delivery instead of stalling through all of them.
            replies = []
            for start in range(1, DELIVERIES + 1, BATCH):
                batch = h.post_many(
                    [self.customer(h, base, i) for i in
                     range(start, min(start + BATCH, DELIVERIES + 1))],
                    threads=THREADS)
                replies += batch
                bad = [(start + k, r.status, r.result)
                       for k, r in enumerate(batch)
                       if (r.status, r.result) != (200, "synced")]
                self.assertEqual(bad, [], h.diagnostics())
            wal_pages = os.path.getsize(h.path("wc2sf.db-wal")) // PAGE
            # The snapshot is still the one of before the burst.
            held = reader.execute("SELECT count(*) FROM events").fetchone()
            self.assertEqual(held[0], 1)
            reader.execute("COMMIT")
        finally:
            reader.close()

        self.assertGreater(wal_pages, RESTART_PAGES,
                           "the burst did not reach the RESTART threshold")
        bad = [(i + 1, r.status, r.result) for i, r in enumerate(replies)
               if (r.status, r.result) != (200, "synced")]
        self.assertEqual(bad, [], h.diagnostics())
        for line in h.log_lines():
            self.assertNotIn("database is locked", line)

        h.wait_journal_idle()
        db = h.journal()
        states = dict(db.execute("SELECT state, count(*) FROM events"
                                 " GROUP BY state").fetchall())
        db.close()
        self.assertNotIn(0, states)	# pending
        self.assertNotIn(5, states)	# dead
        self.assertEqual(sum(states.values()), DELIVERIES + 1)
        snap = h.snapshot()
        ids = {c.get("WC_Customer_Id__c") for c in snap["Account"]}
        self.assertEqual(len([i for i in ids if i is not None]),
                         DELIVERIES + 1)


if __name__ == "__main__":
    unittest.main()
