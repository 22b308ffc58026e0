"""Order: the captured deliveries shuffled, each twice, end as in order.

Two environments (fake Salesforce, nginx, spawn-fcgi, wc2sf.fcgi) get the
same captured WooCommerce deliveries: one in the order they arrived, the
other shuffled with a fixed seed and each delivered twice. What the two
fake Salesforce orgs hold afterwards must be the same, record for record
(Ids, audit fields and auto-numbers aside: they differ between any two
orgs).

Two things no receiver can sort out, so the test leaves them be:
  - A delete is {"id":N}: no date. Nothing but arrival tells a delete
    that came late from one that a restore followed, so the deliveries
    of a resource that has a delete keep their order among themselves
    (they are still shuffled among everyone else's).
  - OrderItem.ListPrice is Salesforce's copy of the price book entry's
    price when the line was created. An order that arrives before its
    product is created against a stand-in entry priced from the order
    line; the product's own price replaces the entry's later, but not
    the copy.
"""

import json
import os
import random
import unittest

import harness

SEED = 20261203
# Compared on every record but these (see above).
NOT_COMPARED = {"OrderItem": {"ListPrice"}}


def captured():
    """Every captured delivery but the pings, in arrival order."""
    names = sorted(n[:-len(".headers")]
                   for n in os.listdir(harness.fixture_dir())
                   if n.endswith(".headers") and "-ping" not in n)
    return [harness.Fixture(n) for n in names]


def resource_of(fixture):
    """("order", 51), or None for a body without an id."""
    try:
        body = fixture.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or "id" not in body:
        return None
    return fixture.topic.split(".")[0], body["id"]


def shuffled_twice(fixtures, seed):
    """
    Each delivery twice, in a random order, except that the deliveries
    of a resource with a delete keep their arrival order among
    themselves (in the positions the shuffle gave that resource).
    """
    rnd = random.Random(seed)
    order = fixtures * 2
    rnd.shuffle(order)
    by_resource = {}
    for f in fixtures:
        by_resource.setdefault(resource_of(f), []).append(f)
    for key, group in by_resource.items():
        if key is None or not any(f.topic.endswith(".deleted")
                                  for f in group):
            continue
        slots = [i for i, f in enumerate(order) if resource_of(f) == key]
        for i, f in zip(slots, [f for f in group for _ in (0, 1)]):
            order[i] = f
    return order


def comparable(snapshot):
    out = {}
    for sobject, records in snapshot.items():
        drop = NOT_COMPARED.get(sobject, set())
        out[sobject] = [{k: v for k, v in r.items() if k not in drop}
                        for r in records]
    return out


class JournalOrder(harness.HarnessCase):

    def run_deliveries(self, fixtures):
        """Deliver in this order; the replies and the fake's state."""
        h = self.start_harness()
        replies = h.post_many([(f.headers, f.body) for f in fixtures])
        for f, reply in zip(fixtures, replies):
            if reply.status not in (200, 202):
                self.fail(f"{f.base}: {reply!r}\n" + h.diagnostics())
        # Anything still queued (none expected) goes now.
        replay = h.cli("replay", "--json")
        self.assertEqual(replay.returncode, 0, replay.stderr)
        self.assertEqual(json.loads(replay.stdout)["pending"], 0)
        return h, replies, h.snapshot()

    def test_shuffled_twice_equals_in_order(self):
        fixtures = captured()
        _, in_order, want = self.run_deliveries(fixtures)
        shuffled = shuffled_twice(fixtures, SEED)
        self.assertNotEqual([f.base for f in shuffled[:len(fixtures)]],
                            [f.base for f in fixtures])
        h, replies, got = self.run_deliveries(shuffled)

        # The run in order met nothing stale; the shuffled one did, so
        # the test exercised what it is about.
        self.assertNotIn("stale", [r.result for r in in_order])
        results = [r.result for r in replies]
        self.assertGreater(results.count("stale"), 5)
        self.assertGreaterEqual(results.count("duplicate"),
                                len(fixtures))
        self.assertEqual([r for r in results if r in ("dead", "queued")],
                         [])
        for sobject in want:
            self.assertGreater(len(want[sobject]), 0, sobject)
        want, got = comparable(want), comparable(got)
        self.maxDiff = None
        for sobject in want:
            self.assertEqual(got[sobject], want[sobject],
                             f"{sobject} differs from the run in order")


if __name__ == "__main__":
    unittest.main()
