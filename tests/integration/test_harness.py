"""The harness itself: replays are faithful, signatures are WooCommerce's.

The other integration tests trust Harness.deliver() to put a captured
delivery on the wire as WooCommerce did and harness.sign() to sign as
WooCommerce does. Here a raw socket stands where nginx would be and
records exactly what curl sent, for every captured delivery.
"""

import os
import socket
import threading
import unittest

import harness


class Recorder:
    """A one-thread HTTP listener that keeps each raw request."""

    REPLY = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
             b"Content-Length: 17\r\nConnection: close\r\n\r\n"
             b'{"result":"ping"}')

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(30)
        self.port = self.sock.getsockname()[1]
        self.requests = []
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(30)
                self.requests.append(self._read(conn))
                conn.sendall(self.REPLY)

    @staticmethod
    def _read(conn):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return data, b""
            data += chunk
        head, body = data.split(b"\r\n\r\n", 1)
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, value = line.split(b":", 1)
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
        return head, body

    def close(self):
        self.stop = True
        try:
            # Wakes the accept() the thread is blocked in.
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.thread.join(timeout=10)


def all_fixtures():
    names = os.listdir(harness.fixture_dir())
    return sorted(n[:-len(".headers")] for n in names
                  if n.endswith(".headers"))


class HarnessReplay(harness.HarnessCase):

    def setUp(self):
        self.h = self.start_harness(fake=False, nginx=False, fcgi=False)
        self.rec = Recorder()
        self.addCleanup(self.rec.close)
        self.h.url = f"http://127.0.0.1:{self.rec.port}/hook"

    def test_replay_is_byte_for_byte(self):
        bases = all_fixtures()
        self.assertGreater(len(bases), 100)
        for n, base in enumerate(bases):
            fixture = harness.Fixture(base)
            reply = self.h.deliver(base)
            self.assertEqual(reply.status, 200, base)
            self.assertEqual(reply.result, "ping", base)
            head, body = self.rec.requests[n]
            self.assertEqual(body, fixture.body, base)
            lines = head.decode("latin-1").split("\r\n")
            self.assertEqual(lines[0], f"{fixture.method} /hook HTTP/1.1",
                             base)
            sent = [tuple(line.split(": ", 1)) for line in lines[1:]]
            owned = harness.CURL_OWNS
            want = [h for h in fixture.headers
                    if h[0].lower() not in owned]
            got = [h for h in sent if h[0].lower() not in owned]
            self.assertEqual(got, want, base)
            # curl's own: Host, and Content-Length of the real body.
            names = {name.lower(): value for name, value in sent}
            self.assertEqual(names["content-length"],
                             str(len(fixture.body)), base)
            self.assertIn("host", names, base)
            self.assertNotIn("expect", names, base)

    def test_post_sends_given_headers_only(self):
        reply = self.h.post(b"x=1", [("X-Test", "a b"), ("X-Empty", "")],
                            method="PUT")
        self.assertEqual(reply.status, 200)
        head, body = self.rec.requests[0]
        lines = head.decode("latin-1").split("\r\n")
        self.assertEqual(lines[0], "PUT /hook HTTP/1.1")
        names = [line.split(":", 1)[0].lower() for line in lines[1:]]
        self.assertEqual(sorted(names), ["content-length", "host",
                                         "x-empty", "x-test"])
        self.assertIn("X-Test: a b", lines)
        self.assertIn("X-Empty:", [line.rstrip() for line in lines])
        self.assertEqual(body, b"x=1")

    def test_get_has_no_body(self):
        reply = self.h.post(None, method="GET")
        self.assertEqual(reply.status, 200)
        head, body = self.rec.requests[0]
        self.assertTrue(head.startswith(b"GET /hook HTTP/1.1\r\n"))
        self.assertEqual(body, b"")


class Signatures(unittest.TestCase):

    def test_sign_matches_every_captured_signature(self):
        checked = 0
        for base in all_fixtures():
            fixture = harness.Fixture(base)
            captured = fixture.header("X-WC-Webhook-Signature")
            if captured is None:
                continue
            self.assertEqual(harness.sign(fixture.body), captured, base)
            checked += 1
        self.assertGreater(checked, 100)
        self.assertNotEqual(harness.sign(b"{}", "other"),
                            harness.sign(b"{}"))


if __name__ == "__main__":
    unittest.main()
