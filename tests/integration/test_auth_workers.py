"""One Salesforce token for all workers (spawn-fcgi -F 8 behind nginx).

Salesforce counts logins per user and hour, so a cold start of many
workers must cost one token request, steady traffic none, and a token
that dies one renewal for everyone: the token lives in the journal and
sign-in is serialized across the worker processes.
"""

import re
import unittest

import harness
from test_auth import customer_items

WORKERS = 8
STEADY = 1000
PID = re.compile(r"wc2sf\.fcgi\[(\d+)\]: .*\btopic=customer\.created "
                 r"id=(\d+) ")


class SharedToken(harness.HarnessCase):

    def setUp(self):
        self.h = self.start_harness()

    def burst(self, ids):
        """Deliver one customer per id, all at once; every one synced."""
        replies = self.h.post_many(customer_items(self.h, ids),
                                   threads=len(ids))
        for reply in replies:
            self.assertReply(self.h, reply, 200, "synced")

    def workers_that_served(self, ids):
        """The pids whose log lines show they answered one of ids."""
        want = {str(n) for n in ids}
        return {m.group(1) for m in map(PID.search, self.h.log_lines())
                if m and m.group(2) in want}

    def test_cold_start_steady_traffic_and_renewal(self):
        h = self.h
        pids = h.restart_fcgi(workers=WORKERS)
        self.assertEqual(len(pids), WORKERS)
        # Each answer takes 300 ms, so a burst of 2 x WORKERS deliveries
        # keeps every worker busy at once: all start without a token.
        h.knobs(delay_ms=300)
        cold = list(range(1, 2 * WORKERS + 1))
        self.burst(cold)
        self.assertEqual(h.stats()["token_requests"], 1)
        served = self.workers_that_served(cold)
        self.assertGreaterEqual(len(served), WORKERS // 2,
                                f"the burst reached only {served}")

        h.knobs(delay_ms=0)
        steady = list(range(1001, 1001 + STEADY))
        replies = h.post_many(customer_items(h, steady), threads=WORKERS)
        # A delivery another worker's drain picked up first is answered
        # "queued" and sent by that worker: fine, as long as Salesforce
        # (and signing in to it) had nothing to object.
        bad = [r for r in replies if (r.status, r.result) != (200, "synced")
               and not (r.status == 202 and r.result == "queued"
                        and "salesforce_error" not in r.json)]
        self.assertEqual(bad, [], f"{len(bad)} deliveries failed")
        harness.wait_until(
            lambda: len(h.records("Account")) == len(cold) + STEADY, 30,
            "every customer in Salesforce")
        self.assertEqual(h.stats()["token_requests"], 1)

        # The token dies: the first worker to see the 401 renews it,
        # the others take the new one from the journal.
        h.knobs(expire_tokens=True, delay_ms=300)
        renewed = list(range(3001, 3001 + 2 * WORKERS))
        self.burst(renewed)
        self.assertEqual(h.stats()["token_requests"], 2)
        self.assertGreaterEqual(len(self.workers_that_served(renewed)),
                                WORKERS // 2)
        self.assertEqual(sorted(h.fcgi_pids()), sorted(pids))


if __name__ == "__main__":
    unittest.main()
