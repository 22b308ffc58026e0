"""Outage: Salesforce gone, then failing, then over its daily limit.

A burst of over 200 deliveries (the captured ones, then edited copies
with fresh signatures: later date_modified_gmt, other phone numbers,
product names and order notes) goes through nginx while the
fake Salesforce
  A  is stopped (connections refused),
  B  is started again on the same port and answers every data request
     503 with an HTML page,
  C  answers 403 REQUEST_LIMIT_EXCEEDED "TotalRequests Limit exceeded."
     (its daily allocation used up).
Every reply WooCommerce sees is 2xx. After the daily-limit error nothing
reaches the fake: not the rest of the burst, not `wc2sf replay --due`.
Then the limit is raised and a person runs `wc2sf replay --id` on the
oldest event, which lifts the pause; backoffs are moved into the past (as
if the hour had gone by); pings make the worker drain after its reply;
`wc2sf replay` sends what is left. The fake must then hold exactly what
a second environment holds after the same burst with Salesforce up all
along.
"""

import copy
import json
import os
import re
import unittest

import harness

# Edited copies: round 1 of every versioned body, round 2 of customers
# and orders only (enough for 200 deliveries, and no slower than that).
ROUNDS = {1: ("customer", "product", "order"), 2: ("customer", "order")}
HTML_503 = ("<html><head><title>503 Service Unavailable</title></head>"
            "<body><h1>Service Unavailable</h1></body></html>")
LIMIT = 15000


def shift(stamp, hours):
    """ "2026-12-03T15:30:13" plus hours (the captures stay in a day)."""
    m = re.match(r"(\d{4}-\d\d-\d\d)T(\d\d)(:.*)$", stamp)
    return f"{m.group(1)}T{int(m.group(2)) + hours:02d}{m.group(3)}"


def edited(fixture, r):
    """Round r's copy of a versioned body: newer, with a visible edit."""
    body = copy.deepcopy(fixture.json())
    for key in ("date_modified", "date_modified_gmt"):
        body[key] = shift(body[key], r)
    resource = fixture.topic.split(".")[0]
    if resource == "customer":
        phone = body["billing"].get("phone") or "+1 555 0100"
        body["billing"]["phone"] = f"{phone} x{r}"
    elif resource == "product":
        body["name"] = f"{body['name']} (r{r})"
    elif resource == "order":
        body["customer_note"] = f"edit {r}"
    return json.dumps(body, separators=(",", ":")).encode()


def burst(h):
    """The deliveries: (label, headers, body)."""
    names = sorted(n[:-len(".headers")]
                   for n in os.listdir(harness.fixture_dir())
                   if n.endswith(".headers") and "-ping" not in n)
    fixtures = [harness.Fixture(n) for n in names]
    out = [(f.base, f.headers, f.body) for f in fixtures]
    for r, resources in ROUNDS.items():
        for f in fixtures:
            if f.topic.split(".")[0] not in resources:
                continue
            try:
                body = f.json()
            except ValueError:
                continue
            if not isinstance(body, dict) or \
                    not body.get("date_modified_gmt"):
                continue
            data = edited(f, r)
            out.append((f"{f.base}+r{r}",
                        h.webhook_headers(f.topic, data, f.base), data))
    return out


class JournalOutage(harness.HarnessCase):

    def send(self, h, items):
        replies = h.post_many([(hd, body) for _, hd, body in items])
        for (label, _, _), reply in zip(items, replies):
            if reply.status not in (200, 202):
                self.fail(f"{label}: {reply!r}\n" + h.diagnostics())
        return replies

    def pause_until(self, h):
        db = h.journal()
        row = db.execute("SELECT value FROM kv WHERE key ="
                         " 'sf_pause_until_ms'").fetchone()
        db.close()
        return int(row[0]) if row else 0

    def pending(self, h):
        db = h.journal()
        n = db.execute("SELECT count(*) FROM events WHERE state = 0"
                       ).fetchone()[0]
        db.close()
        return n

    def test_outage_then_recovery_equals_clean_run(self):
        clean = self.start_harness()
        items = burst(clean)
        self.assertGreaterEqual(len(items), 200)
        for reply in self.send(clean, items):
            self.assertEqual(reply.status, 200, repr(reply))
        want = clean.snapshot()

        h = self.start_harness()
        a, b, c = items[:80], items[80:150], items[150:]

        # A: connections refused.
        h.stop_fake()
        replies = self.send(h, a)
        self.assertIn("queued", [r.result for r in replies])
        self.assertNotIn("synced", [r.result for r in replies])

        # B: the same port again, every data request 503 with HTML.
        h.restart_fake()
        h.knobs({"fail": [{"path_contains": "/services/data/",
                           "status": 503, "body": HTML_503,
                           "content_type": "text/html",
                           "times": 100000}]})
        replies = self.send(h, b)
        self.assertNotIn("synced", [r.result for r in replies])
        answered = h.data_requests()
        self.assertGreater(len(answered), 0)
        self.assertEqual({r["status"] for r in answered}, {503})

        # C: the daily allocation is used up.
        h.knobs({"fail": [], "api_limit": LIMIT, "api_usage": LIMIT})
        before = len(h.data_requests())
        sent = 0
        while self.pause_until(h) == 0:
            self.assertLess(sent, 5, "no pause after the limit error\n"
                            + h.diagnostics())
            self.send(h, c[sent:sent + 1])
            sent += 1
        limited = h.data_requests()[before:]
        self.assertGreater(len(limited), 0)
        self.assertEqual({r["status"] for r in limited}, {403})
        at_pause = len(h.data_requests())
        replies = self.send(h, c[sent:])
        self.assertGreater(len(replies), 40)
        self.assertEqual({r.result for r in replies} - {"duplicate",
                                                        "stale",
                                                        "ignored"},
                         {"queued"})
        for reply in replies:
            if reply.result == "queued":
                self.assertIn("paused", reply.json.get("error", ""))
        self.assertEqual(len(h.data_requests()), at_pause,
                         "a data request reached Salesforce while "
                         "paused")
        status = h.cli("status")
        self.assertIn("paused", status.stdout)
        self.assertIn("wc2sf replay", status.stdout)
        self.assertIsNotNone(json.loads(h.cli("status", "--json")
                                        .stdout)["paused_until"])

        # Salesforce's limit is raised; cron's replay --due still waits.
        h.knobs(api_limit=10 ** 6, api_usage=0)
        due = h.cli("replay", "--due", "--json")
        self.assertEqual(due.returncode, 1, due.stdout + due.stderr)
        self.assertEqual(json.loads(due.stdout)["handled"], 0)
        self.assertIsNotNone(json.loads(due.stdout)["paused_until"])
        self.assertEqual(len(h.data_requests()), at_pause)
        log = [r for r in h.log_records() if r.get("event") == "paused"]
        self.assertEqual(len(log), 1)

        # A person lifts the pause: replay of the oldest event.
        db = h.journal()
        oldest = db.execute("SELECT min(id) FROM events WHERE state = 0"
                            ).fetchone()[0]
        db.close()
        one = h.cli("replay", "--id", oldest, "--json")
        self.assertEqual(one.returncode, 0, one.stdout + one.stderr)
        report = json.loads(one.stdout)
        self.assertTrue(report["pause_lifted"])
        self.assertEqual(report["synced"], 1)
        self.assertIsNone(report["paused_until"])
        self.assertEqual(self.pause_until(h), 0)
        self.assertNotIn("paused", h.cli("status").stdout)

        # The hour of backoff goes by; deliveries make the worker drain.
        db = h.journal(writable=True)
        with db:
            db.execute("UPDATE events SET next_attempt_ms = 0"
                       " WHERE state = 0")
        db.close()
        left = self.pending(h)
        self.assertGreater(left, 100)
        logged = len(h.log_records())
        for n in range(1, 3):
            ping = h.deliver(f"00{n}-ping")
            self.assertReply(h, ping, 200, "ping")
        drained = [r for r in h.log_records()[logged:]
                   if r.get("event") == "retry"
                   and r.get("result") == "synced"]
        self.assertGreater(len(drained), 0)
        h.wait_journal_idle()
        self.assertLess(self.pending(h), left)

        replay = h.cli("replay", "--json")
        self.assertEqual(replay.returncode, 0,
                         replay.stdout + replay.stderr)
        report = json.loads(replay.stdout)
        self.assertEqual(report["pending"], 0)
        self.assertEqual(report["dead"], 0)
        self.assertGreater(report["synced"], 0)

        self.maxDiff = None
        got = h.snapshot()
        for sobject in want:
            self.assertGreater(len(want[sobject]), 0, sobject)
            self.assertEqual(got[sobject], want[sobject],
                             f"{sobject} after the outage")


if __name__ == "__main__":
    unittest.main()
