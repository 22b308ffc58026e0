"""nginx in front of wc2sf.fcgi --listen (no spawn-fcgi, no systemd).

The README's third way to start wc2sf: the responder opens the Unix
socket named by --listen itself, and nginx-conf/wc2sf.conf points at it.
"""

import signal
import unittest

import harness


class NginxListen(harness.HarnessCase):

    def setUp(self):
        self.h = self.start_harness(launcher="listen")

    def test_ping_and_customer(self):
        reply = self.h.deliver("001-ping")
        self.assertReply(self.h, reply, 200, "ping")
        reply = self.h.deliver("055-customer_created")
        self.assertReply(self.h, reply, 200, "synced")
        body = harness.Fixture("055-customer_created").json()
        accounts = self.h.records("Account")
        self.assertEqual([a.get("WC_Customer_Id__c") for a in accounts],
                         [str(body["id"])])
        reply = self.h.deliver("056-customer_updated")
        self.assertReply(self.h, reply, 200, "duplicate")

    def test_stops_on_sigterm(self):
        # A supervisor's SIGTERM ends the process promptly, also while
        # it waits in accept() for the next connection.
        reply = self.h.deliver("001-ping")
        self.assertReply(self.h, reply, 200, "ping")
        proc = self.h.fcgi.popen
        proc.send_signal(signal.SIGTERM)
        self.assertIn(proc.wait(timeout=10), (0, -signal.SIGTERM))


if __name__ == "__main__":
    unittest.main()
