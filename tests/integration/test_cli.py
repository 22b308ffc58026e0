"""The wc2sf command end to end: status, events, show, replay, prune.

Real deliveries through nginx leave one event in every state (synced,
duplicate, ignored, dead, pending, stale); the command, run with the
test's configuration as a person or cron would, must report them in
text and JSON, replay what it is told to (--due, --id, --dead), prune
what may go, and refuse usage mistakes with exit status 2.
"""

import json
import re
import unittest

import harness

VALIDATION = {"path_contains": "/composite", "status": 400,
              "errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
              "message": "Phone must have 10 digits", "times": 1}
UNAVAILABLE = {"path_contains": "/composite", "status": 503, "times": 1}


class Cli(harness.HarnessCase):

    def setUp(self):
        self.h = h = self.start_harness()
        self.ids = {}

        def deliver(base, status, result):
            reply = h.deliver(base)
            self.assertReply(h, reply, status, result)
            self.ids[result] = reply.json["event"]

        deliver("055-customer_created", 200, "synced")	# 1
        deliver("056-customer_updated", 200, "duplicate")	# 2
        deliver("117-order_updated", 200, "ignored")	# 3
        h.knobs({"fail": [VALIDATION]})
        deliver("058-customer_created", 202, "dead")	# 4
        h.knobs({"fail": [UNAVAILABLE]})
        deliver("112-customer_created", 202, "queued")	# 5
        deliver("057-customer_updated", 200, "synced")	# 6
        deliver("055-customer_created", 200, "stale")	# 7

    def run_cli(self, *args, status=0):
        proc = self.h.cli(*args)
        self.assertEqual(proc.returncode, status,
                         f"wc2sf {' '.join(map(str, args))}:\n"
                         f"{proc.stdout}{proc.stderr}")
        return proc

    def json_of(self, *args, status=0):
        return json.loads(self.run_cli(*args, "--json",
                                       status=status).stdout)

    def counts(self):
        return self.json_of("status")["counts"]

    def test_status(self):
        s = self.json_of("status")
        self.assertEqual(s["counts"], {"pending": 1, "synced": 2,
                                       "stale": 1, "duplicate": 1,
                                       "ignored": 1, "dead": 1})
        self.assertEqual(s["journal"], self.h.path("wc2sf.db"))
        self.assertEqual(s["oldest_pending"]["id"], self.ids["queued"])
        self.assertEqual(s["last_error"]["id"], self.ids["queued"])
        self.assertEqual(s["last_error"]["code"], "SERVER_UNAVAILABLE")
        self.assertRegex(s["last_success"], r"^\d{4}-\d\d-\d\dT")
        self.assertIsNone(s["paused_until"])

        text = self.run_cli("status").stdout
        for state, n in s["counts"].items():
            self.assertRegex(text, rf"(?m)^{state} +{n}\b")
        self.assertRegex(text, rf"oldest #{self.ids['queued']}, ")
        self.assertIn("SERVER_UNAVAILABLE", text)
        self.assertNotIn("paused", text)
        self.assertTrue(all(len(line) <= 80 for line in text.splitlines()))

    def test_events(self):
        events = self.json_of("events")
        self.assertEqual([e["id"] for e in events], list(range(7, 0, -1)))
        self.assertEqual([e["state"] for e in events],
                         ["stale", "synced", "pending", "dead", "ignored",
                          "duplicate", "synced"])
        dead = self.json_of("events", "--state", "dead")
        self.assertEqual(len(dead), 1)
        self.assertEqual(dead[0]["last_code"],
                         "FIELD_CUSTOM_VALIDATION_EXCEPTION")
        self.assertEqual(dead[0]["last_error"], VALIDATION["message"])
        self.assertEqual(dead[0]["resource_id"], "3")
        two = self.json_of("events", "--id", "2")
        self.assertEqual({e["id"] for e in two}, {1, 2, 6, 7})
        created = self.json_of("events", "--topic", "customer.created")
        self.assertEqual({e["id"] for e in created}, {1, 4, 5, 7})
        self.assertEqual(len(self.json_of("events", "--limit", "2")), 2)
        self.assertEqual(self.json_of("events", "--state", "pending",
                                      "--id", "3"), [])

        text = self.run_cli("events").stdout.splitlines()
        self.assertRegex(text[0], r"^ +ID RECEIVED +TOPIC +WC ID +STATE")
        self.assertEqual(len(text), 8)
        row = next(line for line in text if re.match(r"^ +4 ", line))
        self.assertIn("dead", row)
        self.assertIn("FIELD_CUSTOM", row)
        self.assertTrue(all(len(line) <= 80 for line in text))
        self.assertEqual(self.run_cli("events", "--state", "pending",
                                      "--id", "3").stdout, "no events\n")

    def test_show(self):
        body = harness.Fixture("055-customer_created").json()
        ev = self.json_of("show", "1")
        self.assertEqual(ev["state"], "synced")
        self.assertEqual(ev["topic"], "customer.created")
        self.assertEqual(ev["body"], body)
        self.assertTrue(ev["body_is_json"])
        self.assertEqual(sorted(ev["sf_ids"]), ["Account", "Contact"])
        self.assertEqual(ev["sf_ids"]["Account"][0],
                         self.h.records("Account")[0]["Id"])
        dead = self.json_of("show", str(self.ids["dead"]))
        self.assertEqual(dead["last_code"],
                         "FIELD_CUSTOM_VALIDATION_EXCEPTION")

        text = self.run_cli("show", str(self.ids["dead"])).stdout
        self.assertRegex(text, r"(?m)^state +dead$")
        self.assertRegex(text, r"(?m)^last code +FIELD_CUSTOM_VALIDATION")
        self.assertIn('"id": 3,', text)
        missing = self.run_cli("show", "999", status=1)
        self.assertIn("no event 999", missing.stderr)

    def test_replay_due_id_dead(self):
        h = self.h
        before = len(h.data_requests())
        # The pending event is in its backoff: cron's run leaves it.
        due = self.json_of("replay", "--due")
        self.assertEqual((due["handled"], due["pending"]), (0, 1))
        self.assertEqual(len(h.data_requests()), before)
        # By id it goes now.
        one = self.json_of("replay", "--id", str(self.ids["queued"]))
        self.assertEqual((one["handled"], one["synced"], one["pending"]),
                         (1, 1, 0))
        self.assertIn("4", [a["WC_Customer_Id__c"]
                            for a in h.records("Account")])
        again = self.run_cli("replay", "--id", str(self.ids["queued"]),
                             status=1)
        self.assertIn("not pending", again.stderr)
        # A plain replay has nothing left; a dead letter waits for --dead.
        self.assertEqual(self.json_of("replay")["handled"], 0)
        self.assertEqual(self.counts()["dead"], 1)
        text = self.run_cli("replay", "--dead").stdout
        self.assertIn("1 dead event made pending again", text)
        self.assertIn("1 event sent: 1 synced", text)
        self.assertIn("0 events pending", text)
        counts = self.counts()
        self.assertEqual((counts["dead"], counts["pending"]), (0, 0))
        self.assertIn("3", [a["WC_Customer_Id__c"]
                            for a in h.records("Account")])

    def test_replay_dead_that_fails_again(self):
        self.h.knobs({"fail": [VALIDATION]})
        report = self.json_of("replay", "--dead", "--id",
                              str(self.ids["dead"]), status=1)
        self.assertEqual((report["requeued"], report["dead"]), (1, 1))
        ev = self.json_of("show", str(self.ids["dead"]))
        self.assertEqual((ev["state"], ev["attempts"]), ("dead", 2))

    def test_prune(self):
        db = self.h.journal()
        keep = {r[0] for r in db.execute(
            "SELECT newest_event_id FROM resources UNION"
            " SELECT last_synced_event_id FROM resources")}
        db.close()
        # Synced, duplicate, stale and ignored go, but the versions a
        # resource is compared with (its newest and last synced).
        want = sorted({1, 2, 3, 7} - keep)
        self.assertEqual(want, [1, 2, 3, 7])
        report = self.json_of("prune", "--days", "1")
        self.assertEqual(report["pruned"], 0)
        self.assertEqual(report["days"], 1)
        report = self.json_of("prune", "--days", "0")
        self.assertEqual(report["pruned"], len(want))
        left = [e["id"] for e in self.json_of("events")]
        self.assertEqual(left, [6, 5, 4])
        text = self.run_cli("prune", "--days", "0").stdout
        self.assertRegex(text, r"^pruned 0 events last changed before "
                         r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC")
        # The newest version stays: the same body again is a duplicate.
        reply = self.h.deliver("057-customer_updated")
        self.assertReply(self.h, reply, 200, "duplicate")

    def test_pause_lifted_by_replay(self):
        h = self.h
        h.knobs(api_limit=100, api_usage=100)
        reply = h.deliver("068-customer_updated")
        self.assertReply(h, reply, 202, "queued")
        self.assertEqual(reply.json["salesforce_error"],
                         "REQUEST_LIMIT_EXCEEDED")
        text = self.run_cli("status").stdout
        self.assertRegex(text, r"(?m)^paused +until \d{4}-\d\d-\d\d ")
        before = len(h.data_requests())
        due = self.run_cli("replay", "--due", status=1).stdout
        self.assertIn("`wc2sf replay` without --due lifts the pause", due)
        self.assertEqual(len(h.data_requests()), before)
        h.knobs(api_limit=15000, api_usage=0)
        text = self.run_cli("replay").stdout
        self.assertIn("daily-limit pause lifted", text)
        self.assertIn("2 events sent: 2 synced", text)
        self.assertIn("0 events pending", text)
        self.assertNotIn("paused", self.run_cli("status").stdout)

    def test_usage_mistakes(self):
        for args in (("events", "--state", "lost"), ("show", "abc"),
                     ("show",), ("replay", "--due", "--id", "1"),
                     ("replay", "--id", "0"), ("prune", "--days", "x"),
                     ("status", "extra"), ("frobnicate",)):
            proc = self.run_cli(*args, status=2)
            self.assertTrue(proc.stderr.startswith("wc2sf: "), args)
            self.assertEqual(proc.stdout, "", args)
        text = self.run_cli("help", "replay").stdout
        for option in ("--due", "--dead", "--id", "--seconds", "--json"):
            self.assertIn(option, text)
        self.assertIn("lifts the", text)


if __name__ == "__main__":
    unittest.main()
