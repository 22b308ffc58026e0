"""The journal cannot be written: 503, no Salesforce call, a loud line.

A verified delivery is only ever answered with a failure code when wc2sf
cannot keep it (DESIGN.md, step 4). Two real ways to get there:

  - read-only: the journal belongs to another user than the worker's
    (the worker runs as "nobody" under spawn-fcgi -u; as another user
    than root the file is simply made read-only);
  - full: the journal lives on a small tmpfs mounted for the test and
    filled to the last byte (skipped where mounting is not permitted).

Each time the worker must answer 503 journal_failed, call nothing in
Salesforce, log an error naming the file and the cause, keep running,
and serve again, without a restart, once the cause is gone.
"""

import errno
import json
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import unittest

import harness


def error_lines(lines, pattern):
    return [line for line in lines
            if "level=error" in line and re.search(pattern, line)]


class JournalFailure(harness.HarnessCase):

    def private_dir(self):
        d = tempfile.mkdtemp(prefix="wc2sf-journal-")
        os.chmod(d, 0o755)
        self.addCleanup(shutil.rmtree, d, True)
        return d

    def assertRefused(self, h, base):
        """503 journal_failed for base, and no Salesforce request."""
        before = len(h.data_requests())
        reply = h.deliver(base)
        self.assertReply(h, reply, 503, "journal_failed")
        self.assertEqual(len(h.data_requests()), before)
        self.assertTrue(h.fcgi_pids(), "the worker died")
        return reply

    def test_read_only_journal(self):
        # Everything the worker reads or writes, in a folder "nobody" can
        # reach (the repository may not be).
        d = self.private_dir()
        os.makedirs(os.path.join(d, "journal"))
        db = os.path.join(d, "journal", "wc2sf.db")
        log = os.path.join(d, "wc2sf.log")
        ca = os.path.join(d, "ca.pem")
        h = self.start_harness(config={
            "store": {"path": db}, "log": {"file": log},
            "salesforce": {"ca_file": ca}})
        # The CA exists once the harness made it; the worker that could
        # not find it is started again.
        shutil.copyfile(os.path.join(h.ca, "ca.pem"), ca)
        h.restart_fcgi()
        self.assertReply(h, h.deliver("055-customer_created"), 200,
                         "synced")
        h.stop_fcgi()	# the last connection closes: -wal, -shm go

        user = None
        if os.geteuid() == 0:
            # The journal is root's; the worker runs as nobody.
            user = "nobody"
            pw = pwd.getpwnam(user)
            for path in (d, os.path.join(d, "journal"), log):
                os.chown(path, pw.pw_uid, pw.pw_gid)
            os.chmod(db, 0o644)
            config = os.path.join(d, "wc2sf.conf")
            shutil.copyfile(h.config_path, config)
            os.chown(config, pw.pw_uid, pw.pw_gid)
            os.chmod(config, 0o600)
            h.config_path = config
        else:
            os.chmod(db, 0o444)
        h.restart_fcgi(user=user)

        self.assertRefused(h, "057-customer_updated")
        self.assertRefused(h, "058-customer_created")
        lines = error_lines(_lines(log), r"event=journal_open")
        self.assertGreaterEqual(len(lines), 2, h.diagnostics())
        self.assertIn(db, lines[-1])
        self.assertIn("read-only", lines[-1])
        self.assertEqual(len(h.records("Account")), 1)
        if user is not None:
            # Not even readable: SQLite's "unable to open database file"
            # alone would not say why.
            os.chmod(db, 0o600)
            self.assertRefused(h, "057-customer_updated")
            lines = error_lines(_lines(log), r"event=journal_open")
            self.assertIn("permission denied for this process",
                          lines[-1])
            self.assertIn("readable and writable by the user wc2sf "
                          "runs as", lines[-1])

        # Fixed by the administrator: served again, same worker.
        pid = h.fcgi_pids()
        if user is not None:
            os.chown(db, pw.pw_uid, pw.pw_gid)
        os.chmod(db, 0o600)
        self.assertReply(h, h.deliver("058-customer_created"), 200,
                         "synced")
        self.assertEqual(h.fcgi_pids(), pid)
        keys = sorted(a["WC_Customer_Id__c"] for a in h.records("Account"))
        self.assertEqual(keys, ["2", "3"])

    def test_full_disk(self):
        mnt = self.private_dir()
        size = 2 * 1024 * 1024
        mount = subprocess.run(["mount", "-t", "tmpfs", "-o",
                                f"size={size},mode=0755", "tmpfs", mnt],
                               stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
        if mount.returncode != 0:
            self.skipTest("cannot mount a tmpfs here (needs root and "
                          f"CAP_SYS_ADMIN): {mount.stdout.strip()}")
        # Runs after the harness is closed (cleanups go last in, first
        # out): the worker no longer holds the file.
        self.addCleanup(subprocess.run, ["umount", "-l", mnt])
        db = os.path.join(mnt, "wc2sf.db")
        h = self.start_harness(config={"store": {"path": db}})
        self.assertReply(h, h.deliver("055-customer_created"), 200,
                         "synced")

        filler = os.path.join(mnt, "filler")
        fill(filler)
        self.assertEqual(shutil.disk_usage(mnt).free, 0)
        self.assertRefused(h, "058-customer_created")
        self.assertRefused(h, "063-order_created")
        lines = error_lines(h.log_lines(), r"event=journal_record")
        self.assertGreaterEqual(len(lines), 2, h.diagnostics())
        self.assertIn(db, lines[-1])
        self.assertIn("full", lines[-1])
        status = json.loads(h.cli("status", "--json").stdout)
        self.assertEqual(status["counts"]["synced"], 1)
        self.assertEqual(sum(status["counts"].values()), 1)

        os.unlink(filler)
        pid = h.fcgi_pids()
        self.assertReply(h, h.deliver("058-customer_created"), 200,
                         "synced")
        self.assertEqual(h.fcgi_pids(), pid)
        keys = sorted(a["WC_Customer_Id__c"] for a in h.records("Account"))
        self.assertEqual(keys, ["2", "3"])


def _lines(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace").splitlines()
    except FileNotFoundError:
        return []


def fill(path):
    """Write path until the file system has no byte left."""
    with open(path, "wb", buffering=0) as f:
        for chunk in (1 << 16, 4096, 1):
            block = b"\0" * chunk
            while True:
                try:
                    f.write(block)
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
                    break


if __name__ == "__main__":
    unittest.main()
