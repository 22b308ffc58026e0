"""The fake Salesforce checks itself: tests/fake_sf/selftest.py starts it
on a free port with a fresh test CA and exercises OAuth, composite,
collections, rollback and validation against its own rules. Every other
suite trusts the fake, so its self-test is part of make check."""
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SELFTEST = os.path.join(HERE, "..", "fake_sf", "selftest.py")


class FakeSelfTest(unittest.TestCase):
    def test_selftest_passes(self):
        proc = subprocess.run([sys.executable, SELFTEST],
                              stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True,
                              timeout=300)
        self.assertEqual(proc.returncode, 0, proc.stdout[-4000:])


if __name__ == "__main__":
    unittest.main()
