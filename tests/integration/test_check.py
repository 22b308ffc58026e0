"""`wc2sf check` against the fake Salesforce: ready, and not ready.

Like `nginx -t`: each problem is one line naming the key, file, object
or field and the fix, and the exit status is 0 only when the setup is
ready. The fake's knobs take a field away, change its flags, deactivate
or hide the standard price book; a wrong secret fails the sign-in. A
webhook secret anyone could sign with, or one in quotes, is a problem
of its own, and so is an API version the org does not serve.
"""

import json
import os
import re
import shutil
import subprocess
import unittest

import harness

DEPLOY = "deploy salesforce/ (see salesforce/README.md)"
# A webhook secret check accepts (the fixtures' own is too short).
GOOD_SECRET = "Zq3v9XbT7LmW2pRk8sYd4HfN"
SECRET_FIX = ("put the secret WooCommerce shows for the webhook "
              "(WooCommerce > Settings > Advanced > Webhooks) here")


class Check(harness.HarnessCase):

    def setUp(self):
        self.h = self.start_harness(nginx=False, fcgi=False, config={
            "woocommerce": {"secret": GOOD_SECRET}})
        if self._testMethodName != "test_offline_and_journal_mode":
            # The journal a first worker would have made.
            self.assertEqual(self.h.cli("check", "--offline").returncode,
                             0)

    def check(self, *args):
        """(exit status, lines of stdout, stderr) of wc2sf check."""
        proc = self.h.cli("check", *args)
        return proc.returncode, proc.stdout.splitlines(), proc.stderr

    def failures(self, lines):
        return [line for line in lines if line.startswith("FAIL ")]

    def expect_one_problem(self, line, *args):
        """check exits 1 with exactly this one FAIL line."""
        rc, lines, err = self.check(*args)
        self.assertEqual(self.failures(lines), [line],
                         "\n".join(lines) + err)
        self.assertEqual(rc, 1)
        self.assertEqual(lines[-1], "wc2sf: not ready: 1 problem")
        return lines

    def test_ready_org(self):
        rc, lines, err = self.check()
        self.assertEqual(rc, 0, "\n".join(lines) + err)
        self.assertEqual(self.failures(lines), [])
        self.assertEqual(err, "")
        for want in ("ok   config: " + self.h.config_path,
                     "ok   journal: " + self.h.path("wc2sf.db"),
                     "ok   Account: 3 custom fields ready",
                     "ok   Contact: 3 custom fields ready",
                     "ok   Product2: 4 custom fields ready",
                     "ok   PricebookEntry: 1 custom field ready",
                     "ok   Order: 13 custom fields ready",
                     "ok   OrderItem: 5 custom fields ready",
                     "ok   Pricebook2: the standard price book is active",
                     "ok   [salesforce] api_version: 62.0 (the org's "
                     "newest is 62.0)",
                     "wc2sf: ready"):
            self.assertIn(want, lines)
        signed = [l for l in lines if "salesforce sign-in" in l]
        self.assertEqual(len(signed), 1)
        self.assertTrue(signed[0].startswith(
            "ok   salesforce sign-in: auth = password at "
            + self.h.fake_url), signed[0])
        usage = [l for l in lines if l.startswith("ok   api usage: ")]
        self.assertEqual(len(usage), 1, lines)
        self.assertRegex(usage[0], r"^ok   api usage: \d+ of 15000 API "
                         r"requests of the last 24 hours used \(0%\)$")

        rc, lines, _ = self.check("--json")
        self.assertEqual(rc, 0)
        report = json.loads("\n".join(lines))
        self.assertTrue(report["ready"])
        self.assertEqual(report["problems"], 0)
        self.assertEqual(report["api_usage"]["max"], 15000)
        self.assertGreater(report["api_usage"]["used"], 0)
        self.assertTrue(all(c["level"] == "ok" for c in report["checks"]))

    def test_system_ca_bundle_elsewhere(self):
        """
        Without ca_file, the system's CA bundle wherever the host keeps
        it: a lean build copied to a SUSE or RHEL-family host finds no
        /etc/ssl/certs/ca-certificates.crt there. Played in a mount
        namespace whose /etc/ssl holds SUSE's ca-bundle.pem (the test
        CA) and nothing else but openssl.cnf.
        """
        if subprocess.run(["unshare", "-m", "true"],
                          capture_output=True).returncode != 0:
            self.skipTest("no mount namespace here (needs root)")
        with open(self.h.config_path) as f:
            text = f.read()
        conf = self.h.path("no-ca-file.conf")
        with open(conf, "w") as f:
            f.write(re.sub(r"(?m)^ca_file\s*=.*\n", "", text))
        os.chmod(conf, 0o600)
        etc = self.h.path("etc-ssl")
        os.makedirs(etc)
        shutil.copyfile("/etc/ssl/openssl.cnf",
                        os.path.join(etc, "openssl.cnf"))
        shutil.copyfile(os.path.join(self.h.ca, "ca.pem"),
                        os.path.join(etc, "ca.pem"))
        wc2sf = [os.path.join(self.h.build, "wc2sf"), "-c", conf, "check"]
        script = ('mount -t tmpfs wc2sf-test /etc/ssl && '
                  'cp "$1/openssl.cnf" /etc/ssl/ && '
                  '{ [ -z "$2" ] || cp "$1/ca.pem" "/etc/ssl/$2"; } && '
                  'shift 2 && exec "$@"')

        def run(argv):
            proc = subprocess.run(argv, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True,
                                  env=self.h.wc2sf_env(), cwd=self.h.dir,
                                  timeout=120)
            return proc.returncode, proc.stdout.splitlines(), proc.stderr

        def sign_in(lines):
            return [l for l in lines if "salesforce sign-in" in l]

        rc, lines, err = run(["unshare", "-m", "sh", "-c", script, "sh",
                              etc, "ca-bundle.pem"] + wc2sf)
        self.assertEqual(rc, 0, "\n".join(lines) + err)
        self.assertIn("wc2sf: ready", lines)

        # No bundle anywhere: libcurl's error names its own default.
        rc, lines, err = run(["unshare", "-m", "sh", "-c", script, "sh",
                              etc, ""] + wc2sf)
        self.assertEqual(rc, 1, "\n".join(lines) + err)
        failed = sign_in(self.failures(lines))
        self.assertEqual(len(failed), 1, lines)
        self.assertIn("/etc/ssl/certs/ca-certificates.crt", failed[0])
        self.assertIn("no system CA bundle was found (also looked for "
                      "/etc/pki/tls/certs/ca-bundle.crt", failed[0])
        self.assertTrue(failed[0].endswith(
            "name this host's in [salesforce] ca_file"), failed[0])

        # Where libcurl's default is there, it is the one used, and this
        # machine's does not hold the test CA.
        rc, lines, err = run(wc2sf)
        self.assertEqual(rc, 1, "\n".join(lines) + err)
        self.assertEqual(len(sign_in(self.failures(lines))), 1, lines)

    def test_missing_field(self):
        self.h.knobs(drop_field="Account.WC_Customer_Id__c")
        lines = self.expect_one_problem(
            "FAIL Account.WC_Customer_Id__c: missing or hidden from the "
            "integration user; " + DEPLOY)
        self.assertIn("ok   Contact: 3 custom fields ready", lines)

    def test_external_id_flag(self):
        self.h.knobs(field_attrs={"Order.WC_Order_Id__c": {
            "externalId": False, "unique": False}})
        self.expect_one_problem(
            "FAIL Order.WC_Order_Id__c: not flagged External ID and "
            "Unique; " + DEPLOY)
        self.h.reset()
        self.h.knobs(field_attrs={"OrderItem.WC_Line_Id__c": {
            "unique": False}})
        self.expect_one_problem(
            "FAIL OrderItem.WC_Line_Id__c: not flagged Unique; " + DEPLOY)

    def test_field_type_length_and_access(self):
        self.h.knobs(field_attrs={"Order.WC_Number__c": {"length": 20}})
        self.expect_one_problem(
            "FAIL Order.WC_Number__c: length 20, expected at least 40; "
            + DEPLOY)
        self.h.reset()
        self.h.knobs(field_attrs={"OrderItem.WC_Sku__c": {
            "updateable": False}})
        self.expect_one_problem(
            "FAIL OrderItem.WC_Sku__c: the integration user cannot write "
            "it; assign the wc2sf_integration permission set (see "
            "salesforce/README.md)")

    def test_standard_pricebook(self):
        self.h.knobs(standard_pricebook_active=False)
        self.expect_one_problem(
            "FAIL Pricebook2: the standard price book is inactive; "
            "activate it (Setup > Price Books > Standard Price Book > "
            "Active)")
        self.h.reset()
        self.h.knobs(delete_standard_pricebook=True)
        self.expect_one_problem(
            "FAIL Pricebook2: no standard price book is visible "
            "(IsStandard = true); let the integration user read price "
            "books (salesforce/README.md)")

    def test_wrong_secret(self):
        self.h.rewrite_config({"salesforce": {
            "client_secret": "not-the-consumer-secret"}})
        lines = self.expect_one_problem(
            "FAIL salesforce sign-in: invalid_client: invalid client "
            "credentials; check [salesforce] client_secret (the consumer "
            "secret)")
        # Nothing is asked of an org it could not sign in to.
        self.assertFalse([l for l in lines if "Account" in l])
        self.assertEqual(self.h.stats()["data_requests"], 0)
        rc, out, _ = self.check("--json")
        report = json.loads("\n".join(out))
        self.assertEqual(rc, 1)
        self.assertFalse(report["ready"])
        fails = [c for c in report["checks"] if c["level"] == "fail"]
        self.assertEqual([(c["check"], c["ok"]) for c in fails],
                         [("salesforce sign-in", False)])
        self.assertIn("invalid_client", fails[0]["detail"])

    def test_webhook_secret(self):
        h = self.h
        cases = [
            ("", "empty, so anyone can sign a delivery; give the webhook "
             "a random secret of 16 or more characters and put it here"),
            ("abcdefghijklmno", "only 15 characters, easily guessed; "
             "give the webhook a random secret of 16 or more characters "
             "and put it here"),
            ('"' + GOOD_SECRET + '"', "in quotes, which become part of "
             "the secret, so no delivery will match; remove the quotes"),
            ("'" + GOOD_SECRET + "'", "in quotes, which become part of "
             "the secret, so no delivery will match; remove the quotes"),
            ("replace-with-the-webhook-secret", "still the placeholder of "
             "wc2sf.conf.sample; " + SECRET_FIX),
        ]
        for secret, detail in cases:
            with self.subTest(secret=secret):
                h.rewrite_config({"woocommerce": {"secret": secret}})
                lines = self.expect_one_problem(
                    "FAIL [woocommerce] secret: " + detail, "--offline")
                if secret:
                    self.assertNotIn(secret, "\n".join(lines))
        # The same secret in a secret_file.
        path = h.path("webhook.secret")
        with open(path, "w") as f:
            f.write('"' + GOOD_SECRET + '"\n')
        os.chmod(path, 0o600)
        h.rewrite_config({"woocommerce": {"secret": None,
                                          "secret_file": path}})
        self.expect_one_problem(
            "FAIL [woocommerce] secret: in quotes, which become part of "
            "the secret, so no delivery will match; remove the quotes",
            "--offline")
        # 16 characters are enough; the sample's text inside one is fine.
        h.rewrite_config({"woocommerce": {"secret": "abcdefghijklmnop",
                                          "secret_file": None}})
        rc, lines, _ = self.check("--offline")
        self.assertEqual((rc, self.failures(lines)), (0, []), lines)
        h.rewrite_config({"woocommerce": {
            "secret": "x-replace-with-the-webhook-secret"}})
        rc, lines, _ = self.check("--offline")
        self.assertEqual((rc, self.failures(lines)), (0, []), lines)

    def test_api_version_not_served(self):
        h = self.h
        h.rewrite_config({"salesforce": {"api_version": "99.0"}})
        lines = self.expect_one_problem(
            "FAIL [salesforce] api_version: 99.0 is not served by this "
            "org, whose newest is 62.0; set api_version = 62.0")
        # The describes and the price book are not asked for.
        paths = [r["path"] for r in h.requests() if r["kind"] == "data"]
        self.assertEqual(paths, ["/services/data/"])
        self.assertFalse([l for l in lines if l.startswith(
            ("ok   Account", "FAIL Account", "ok   Pricebook2"))])
        # An older version the org still serves is fine.
        h.reset()
        h.rewrite_config({"salesforce": {"api_version": "v58.0"}})
        rc, lines, _ = self.check()
        self.assertEqual(rc, 0, lines)
        self.assertIn("ok   [salesforce] api_version: 58.0 (the org's "
                      "newest is 62.0)", lines)

    def test_config_problems(self):
        h = self.h
        # A readable config is a warning; still ready.
        os.chmod(h.config_path, 0o644)
        rc, lines, _ = self.check()
        self.assertEqual(rc, 0)
        self.assertIn(f"warn {h.config_path}: other users can read it "
                      "(mode 0644) and it holds a secret; run chmod o-r "
                      "on it", lines)
        # A writable one is refused, naming the file and the fix.
        os.chmod(h.config_path, 0o666)
        rc, lines, _ = self.check("--offline")
        self.assertEqual(rc, 1)
        self.assertEqual(len(self.failures(lines)), 1, lines)
        self.assertIn("mode 0666; run chmod go-w on it", lines[0])
        os.chmod(h.config_path, 0o600)
        # An unknown key names itself and every known one.
        with open(h.config_path, "a") as f:
            f.write("[salesforce]\n")
        h.rewrite_config({"salesforce": {"clientid": "x"}})
        rc, lines, _ = self.check()
        self.assertEqual(rc, 1)
        self.assertEqual(len(self.failures(lines)), 1)
        self.assertRegex(lines[0], r"^FAIL config: .*wc2sf\.conf:\d+: "
                         r"\[salesforce\] clientid: unknown key; known "
                         r"keys in \[salesforce\] are auth, ")

    def test_refresh_token_needs_the_journal(self):
        # Where the journal cannot be written, a refresh_token sign-in
        # is not tried: a rotated token would be lost with the process.
        h = self.h
        h.rewrite_config({
            "salesforce": {"auth": "refresh_token",
                           "refresh_token": "test-refresh-token-5e6f7a",
                           "username": None, "password": None},
            "store": {"path": h.path("missing-folder/wc2sf.db")}})
        rc, lines, _ = self.check()
        self.assertEqual(rc, 1)
        fails = self.failures(lines)
        self.assertEqual(len(fails), 2, lines)
        self.assertTrue(fails[0].startswith("FAIL [store] path: "))
        self.assertEqual(fails[1], "FAIL salesforce sign-in: not tried: a "
                         "sign-in with auth = refresh_token may rotate "
                         "the token, and this user cannot keep it in the "
                         "journal; run wc2sf check as the user "
                         "wc2sf.fcgi runs as")
        self.assertEqual(h.stats()["token_requests"], 0)
        # With the journal, the rotated token is kept there.
        h.rewrite_config({"store": {"path": h.path("wc2sf.db")}})
        h.knobs(rotate_refresh_tokens=True)
        for _ in range(2):
            rc, lines, _ = self.check()
            self.assertEqual(rc, 0, lines)
        self.assertEqual(h.stats()["token_requests"], 2)

    def test_offline_and_journal_mode(self):
        h = self.h
        rc, lines, _ = self.check("--offline")
        self.assertEqual(rc, 0)
        db = h.path("wc2sf.db")
        if os.geteuid() == 0:
            self.assertIn(f"warn {db}: created it as root; chown it to "
                          "the user wc2sf.fcgi runs as", lines)
        else:
            self.assertIn(f"ok   journal: {db} (created)", lines)
        self.assertEqual(os.stat(db).st_mode & 0o777, 0o600)
        self.assertEqual(lines[-1], "wc2sf: ready (Salesforce not checked)")
        self.assertEqual(h.stats()["token_requests"], 0)
        os.chmod(h.path("wc2sf.db"), 0o644)
        rc, lines, _ = self.check("--offline")
        self.assertEqual(rc, 1)
        self.assertEqual(self.failures(lines), [
            f"FAIL {h.path('wc2sf.db')}: other users can read or write "
            "the journal (mode 0644), which holds the Salesforce token; "
            "run chmod 600 on it"])


if __name__ == "__main__":
    unittest.main()
