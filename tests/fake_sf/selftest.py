#!/usr/bin/env python3
"""Prove the fake Salesforce behaves: start it on a free port with a
throwaway CA (tests/tls/mkca.sh), talk to it over verified HTTPS, check
its answers against the reference. Exit 0 when every check passes.

    python3 tests/fake_sf/selftest.py [-v] [TestName...]
"""

import base64
import http.client
import json
import os
import select
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

HERE = os.path.dirname(os.path.abspath(__file__))
MKCA = os.path.join(HERE, "..", "tls", "mkca.sh")
V = "/services/data/v62.0"
CLIENT_ID = "wc2sf-test-client"
SECRET = "test-client-secret-9f8e7d"
USERNAME = "integration@example.test"
PASSWORD = "test-password-1a2b3cSECTOKEN"

FAKE = {}


def start(tmp, *flags):
    """Run fake_sf on a free port; returns (process, base URL)."""
    proc = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "fake_sf.py"), "--port", "0",
         "--cert", os.path.join(tmp, "server.pem"),
         "--key", os.path.join(tmp, "server.key"), *flags],
        stdout=subprocess.PIPE, text=True)
    ready, _, _ = select.select([proc.stdout], [], [], 15)
    line = proc.stdout.readline() if ready else ""
    prefix = "fake_sf ready on "
    if not line.startswith(prefix):
        stop(proc)
        raise RuntimeError(f"fake_sf did not start: {line!r}")
    return proc, line[len(prefix):].strip()


def stop(proc):
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def setUpModule():
    tmp = tempfile.mkdtemp(prefix="fake_sf_selftest.")
    FAKE["tmp"] = tmp
    subprocess.run(["sh", MKCA, tmp], check=True)
    FAKE["ssl"] = ssl.create_default_context(
        cafile=os.path.join(tmp, "ca.pem"))
    try:
        FAKE["proc"], FAKE["base"] = start(
            tmp, "--log", os.path.join(tmp, "fake.log"))
    except RuntimeError:
        tearDownModule()
        raise


def tearDownModule():
    stop(FAKE.get("proc"))
    if "tmp" in FAKE:
        shutil.rmtree(FAKE["tmp"], ignore_errors=True)


def request(method, path, body=None, headers=None, form=None, base=None):
    """(status, headers, parsed body) for one HTTPS request; the body is
    JSON when it parses, else text."""
    headers = dict(headers or {})
    data = None
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers.setdefault("Content-Type",
                           "application/x-www-form-urlencoded")
    elif body is not None:
        data = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    req = urllib.request.Request((base or FAKE["base"]) + path, data=data,
                                 headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, context=FAKE["ssl"],
                                    timeout=30) as resp:
            status, head, raw = resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        status, head, raw = err.code, err.headers, err.read()
    text = raw.decode("utf-8")
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = text
    return status, head, parsed


def token(grant="password", **extra):
    form = {"grant_type": grant, "client_id": CLIENT_ID,
            "client_secret": SECRET, "username": USERNAME,
            "password": PASSWORD}
    form.update(extra)
    return request("POST", "/services/oauth2/token",
                   form={k: v for k, v in form.items() if v is not None})


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(key_path=None, key=None, **claims):
    if key is None:
        with open(key_path, "rb") as f:
            key = serialization.load_pem_private_key(f.read(), None)
    body = {"iss": CLIENT_ID, "sub": USERNAME,
            "aud": "https://login.salesforce.com",
            "exp": int(time.time()) + 180}
    body.update(claims)
    head = b64url(json.dumps({"alg": "RS256"}).encode())
    payload = b64url(json.dumps(body).encode())
    sig = key.sign(f"{head}.{payload}".encode(), padding.PKCS1v15(),
                   hashes.SHA256())
    return f"{head}.{payload}.{b64url(sig)}"


class FakeTest(unittest.TestCase):
    """Each test starts from a reset org and a fresh token."""

    def setUp(self):
        status, _, _ = request("POST", "/__fake/reset")
        self.assertEqual(status, 200)
        status, _, body = token()
        self.assertEqual(status, 200, body)
        self.auth = {"Authorization": "Bearer " + body["access_token"]}

    def api(self, method, path, body=None, headers=None):
        return request(method, V + path, body, {**self.auth,
                                                **(headers or {})})

    def knobs(self, **knobs):
        status, _, body = request("POST", "/__fake/knobs", knobs)
        self.assertEqual(status, 200, body)

    def records(self, sobject):
        status, _, body = request("GET", f"/__fake/records/{sobject}")
        self.assertEqual(status, 200)
        return body

    def error(self, body):
        self.assertIsInstance(body, list, body)
        return body[0]["errorCode"], body[0]["message"]

    def upsert(self, sobject, field, records, all_or_none=False):
        recs = [{"attributes": {"type": sobject}, **r} for r in records]
        return self.api("PATCH", f"/composite/sobjects/{sobject}/{field}",
                        {"allOrNone": all_or_none, "records": recs})

    def standard_book(self):
        _, _, body = self.api("GET", "/query?q=" + urllib.parse.quote(
            "SELECT Id FROM Pricebook2 WHERE IsStandard = true"))
        return body["records"][0]["Id"]

    def product_with_price(self, key, price=10):
        book = self.standard_book()
        status, _, body = self.upsert("Product2", "WC_Product_Id__c", [
            {"WC_Product_Id__c": key, "Name": f"Product {key}",
             "IsActive": True}])
        self.assertTrue(body[0]["success"], body)
        status, _, body = self.upsert("PricebookEntry", "WC_Price_Key__c", [
            {"WC_Price_Key__c": f"std-{key}", "Pricebook2Id": book,
             "Product2": {"WC_Product_Id__c": key}, "UnitPrice": price,
             "IsActive": True}])
        self.assertTrue(body[0]["success"], body)
        return book


class TokenEndpoint(FakeTest):
    """§1: the four flows and their errors."""

    def test_password_success_shape(self):
        status, head, body = token()
        self.assertEqual(status, 200)
        for key in ("access_token", "instance_url", "id", "token_type",
                    "issued_at", "signature"):
            self.assertIn(key, body)
        self.assertNotIn("expires_in", body)
        self.assertNotIn("refresh_token", body)
        self.assertEqual(body["instance_url"], FAKE["base"])
        self.assertEqual(body["token_type"], "Bearer")
        self.assertIsInstance(body["issued_at"], str)

    def test_password_errors(self):
        cases = [({"client_secret": "nope"}, "invalid_client"),
                 ({"client_id": "other"}, "invalid_client_id"),
                 ({"password": "test-password-1a2b3c"}, "invalid_grant"),
                 ({"grant_type": "passwd"}, "unsupported_grant_type")]
        for change, error in cases:
            grant = change.pop("grant_type", "password")
            status, _, body = token(grant, **change)
            self.assertEqual(status, 400, change)
            self.assertEqual(body["error"], error, change)
            self.assertIn("error_description", body)

    def test_client_credentials_basic_and_body(self):
        basic = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
        status, _, body = request(
            "POST", "/services/oauth2/token",
            form={"grant_type": "client_credentials"},
            headers={"Authorization": "Basic " + basic})
        self.assertEqual(status, 200, body)
        status, _, body = request(
            "POST", "/services/oauth2/token",
            form={"grant_type": "client_credentials",
                  "client_id": CLIENT_ID, "client_secret": "bad"})
        self.assertEqual((status, body["error"]), (400, "invalid_client"))

    def test_jwt_bearer(self):
        key = os.path.join(FAKE["tmp"], "jwt.key")
        grant = "urn:ietf:params:oauth:grant-type:jwt-bearer"

        def send(assertion):
            return request("POST", "/services/oauth2/token",
                           form={"grant_type": grant,
                                 "assertion": assertion})
        status, _, body = send(jwt(key))
        self.assertEqual(status, 200, body)
        self.assertNotIn("refresh_token", body)
        other = rsa.generate_private_key(public_exponent=65537,
                                         key_size=2048)
        now = int(time.time())
        cases = [
            (jwt(key, aud="https://example.com"), "invalid_grant",
             "audience is invalid"),
            (jwt(key, exp=now - 5), "invalid_grant",
             "expired authorization code"),
            (jwt(key, exp=now * 1000), "invalid_grant", "invalid assertion"),
            (jwt(key=other), "invalid_grant", "invalid assertion"),
            (jwt(key, iss="someone-else"), "invalid_client_id",
             "client identifier invalid"),
            (jwt(key, sub="nobody@example.test"), "invalid_grant",
             "user hasn't approved this consumer"),
            ("not.a.jwt", "invalid_grant", "invalid assertion"),
        ]
        for assertion, error, description in cases:
            status, _, body = send(assertion)
            self.assertEqual(status, 400, description)
            self.assertEqual((body["error"], body["error_description"]),
                             (error, description))

    def test_refresh_token_rotation_and_revocation(self):
        form = {"grant_type": "refresh_token", "client_id": CLIENT_ID,
                "client_secret": SECRET,
                "refresh_token": "test-refresh-token-5e6f7a"}
        status, _, body = request("POST", "/services/oauth2/token",
                                  form=form)
        self.assertEqual(status, 200, body)
        self.assertNotIn("refresh_token", body)
        self.knobs(rotate_refresh_tokens=True)
        status, _, body = request("POST", "/services/oauth2/token",
                                  form=form)
        new = body["refresh_token"]
        status, _, body = request("POST", "/services/oauth2/token",
                                  form=form)
        self.assertEqual((status, body["error_description"]),
                         (400, "expired access/refresh token"))
        status, _, _ = request("POST", "/services/oauth2/token",
                               form={**form, "refresh_token": new})
        self.assertEqual(status, 200)
        self.knobs(revoke_refresh_tokens=True)
        status, _, body = request("POST", "/services/oauth2/token",
                                  form={**form, "refresh_token": new})
        self.assertEqual((status, body["error"]), (400, "invalid_grant"))

    def test_token_fail_knob(self):
        self.knobs(token_fail={"status": 503, "body": "<html>down</html>",
                               "content_type": "text/html"})
        status, head, body = token()
        self.assertEqual(status, 503)
        self.assertTrue(head["Content-Type"].startswith("text/html"))
        status, _, _ = token()
        self.assertEqual(status, 200)


class Sessions(FakeTest):
    """§1.7: a REST call needs a live token."""

    def test_missing_and_expired_tokens(self):
        status, _, body = request("GET", V + "/limits")
        self.assertEqual(status, 401)
        self.assertEqual(body, [{"message": "Session expired or invalid",
                                 "errorCode": "INVALID_SESSION_ID"}])
        status, _, _ = self.api("GET", "/limits")
        self.assertEqual(status, 200)
        self.knobs(expire_tokens=True)
        status, _, body = self.api("GET", "/limits")
        self.assertEqual((status, self.error(body)[0]),
                         (401, "INVALID_SESSION_ID"))

    def test_limit_header_and_daily_limit(self):
        status, head, body = self.api("GET", "/limits")
        self.assertEqual(head["Sforce-Limit-Info"], "api-usage=1/15000")
        self.assertEqual(body["DailyApiRequests"],
                         {"Max": 15000, "Remaining": 14999})
        self.knobs(api_limit=2)
        status, head, _ = self.api("GET", "/limits")
        self.assertEqual(head["Sforce-Limit-Info"], "api-usage=2/2")
        status, _, body = self.api("GET", "/limits")
        self.assertEqual(status, 403)
        self.assertEqual(self.error(body), ("REQUEST_LIMIT_EXCEEDED",
                                            "TotalRequests Limit exceeded."))

    def test_versions(self):
        status, head, body = request("GET", "/services/data/")
        self.assertEqual(status, 200)
        versions = [v["version"] for v in body]
        self.assertEqual((versions[0], versions[-1]), ("46.0", "62.0"))
        self.assertNotIn("Sforce-Limit-Info", head)
        status, _, _ = request("GET", "/services/data/v45.0/limits",
                               headers=self.auth)
        self.assertEqual(status, 410)
        status, _, _ = request("GET", "/services/data/v99.0/limits",
                               headers=self.auth)
        self.assertEqual(status, 404)

    def test_keep_alive(self):
        host, port = FAKE["base"][len("https://"):].split(":")
        conn = http.client.HTTPSConnection(host, int(port),
                                           context=FAKE["ssl"], timeout=10)
        conn.request("GET", V + "/limits", headers=self.auth)
        first = conn.getresponse()
        first.read()
        sock = conn.sock
        conn.request("GET", V + "/limits", headers=self.auth)
        second = conn.getresponse()
        second.read()
        self.assertEqual((first.status, second.status), (200, 200))
        self.assertIs(conn.sock, sock)
        conn.close()


class Records(FakeTest):
    """§2: single-record resources and field validation."""

    def test_required_field_missing(self):
        status, _, body = self.api("POST", "/sobjects/Account/",
                                   {"BillingCity": "Berlin"})
        self.assertEqual(status, 400)
        self.assertEqual(body[0]["errorCode"], "REQUIRED_FIELD_MISSING")
        self.assertEqual(body[0]["message"],
                         "Required fields are missing: [Name]")
        self.assertEqual(body[0]["fields"], ["Name"])
        self.assertEqual(self.records("Account"), [])

    def test_string_too_long_counts_utf16(self):
        status, _, body = self.api("POST", "/sobjects/Account/",
                                   {"Name": "A", "BillingCity": "x" * 41})
        self.assertEqual(status, 400)
        self.assertEqual(body[0]["errorCode"], "STRING_TOO_LONG")
        self.assertEqual(body[0]["fields"], ["BillingCity"])
        self.assertIn("(max length=40)", body[0]["message"])
        emoji = "\U0001F600"
        status, _, _ = self.api("POST", "/sobjects/Account/",
                                {"Name": "A", "BillingCity": emoji * 20})
        self.assertEqual(status, 201)
        status, _, body = self.api("POST", "/sobjects/Account/",
                                   {"Name": "A", "BillingCity": emoji * 21})
        self.assertEqual(self.error(body)[0], "STRING_TOO_LONG")

    def test_upsert_single_created_then_updated(self):
        url = "/sobjects/Account/WC_Customer_Id__c/42"
        status, head, body = self.api("PATCH", url, {"Name": "Jane"})
        self.assertEqual(status, 201)
        self.assertEqual(body["created"], True)
        self.assertTrue(head["Location"].endswith(body["id"]))
        status, _, again = self.api("PATCH", url, {"Name": "Jane D"})
        self.assertEqual((status, again["created"], again["id"]),
                         (200, False, body["id"]))
        recs = self.records("Account")
        self.assertEqual([(r["Name"], r["WC_Customer_Id__c"]) for r in recs],
                         [("Jane D", "42")])
        status, _, body = self.api("PATCH", url, {"Name": "J",
                                                  "WC_Customer_Id__c": "42"})
        self.assertEqual(status, 400)

    def test_key_rules(self):
        status, _, body = self.api("PATCH", "/sobjects/Account/"
                                   "WC_Customer_Id__c/", {"Name": "x"})
        self.assertEqual((status, self.error(body)[0]),
                         (405, "METHOD_NOT_ALLOWED"))
        status, _, body = self.api("PATCH", "/sobjects/Account/Nope__c/1",
                                   {"Name": "x"})
        self.assertEqual(status, 404)
        self.assertIn("Provided external ID field does not exist",
                      self.error(body)[1])
        status, _, body = self.api("GET", "/sobjects/Thing/describe")
        self.assertEqual((status, self.error(body)[0]), (404, "NOT_FOUND"))
        status, _, body = self.api("POST", "/sobjects/Account/",
                                   {"Name": "x", "Colour__c": "red"})
        self.assertEqual(self.error(body), (
            "INVALID_FIELD",
            "No such column 'Colour__c' on sobject of type Account"))

    def test_case_insensitive_guest_key_and_names(self):
        url = "/sobjects/contact/wc_guest_email__c/"
        status, _, first = self.api("PATCH", url + "Ann%40Example.test",
                                    {"lastname": "Ann"})
        self.assertEqual(status, 201)
        status, _, second = self.api("PATCH", url + "ann%40example.TEST",
                                     {"LastName": "Ann B"})
        self.assertEqual((status, second["id"]), (200, first["id"]))

    def test_types_and_email(self):
        status, _, body = self.api("POST", "/sobjects/Contact/",
                                   {"LastName": "X", "Email": "not-mail"})
        self.assertEqual(self.error(body)[0], "INVALID_EMAIL_ADDRESS")
        status, _, body = self.api("POST", "/sobjects/Product2/",
                                   {"Name": "X", "IsActive": "yes"})
        self.assertEqual(self.error(body)[0], "JSON_PARSER_ERROR")

    def test_delete_then_entity_is_deleted(self):
        status, _, body = self.api("POST", "/sobjects/Account/",
                                   {"Name": "Gone"})
        url = "/sobjects/Account/" + body["id"]
        status, _, _ = self.api("DELETE", url)
        self.assertEqual(status, 204)
        status, _, body = self.api("GET", url)
        self.assertEqual((status, self.error(body)[0]),
                         (404, "ENTITY_IS_DELETED"))
        status, _, body = self.api("GET", "/sobjects/Account/001bad")
        self.assertEqual(status, 404)

    def test_unique_clash_and_several_matches(self):
        status, _, first = self.api("POST", "/sobjects/Account/", {
            "Name": "G", "WC_Guest_Email__c": "g@example.test"})
        status, _, body = self.api("POST", "/sobjects/Account/", {
            "Name": "H", "WC_Guest_Email__c": "G@EXAMPLE.test"})
        self.assertEqual(status, 400)
        self.assertEqual(self.error(body), (
            "DUPLICATE_VALUE", "duplicate value found: WC_Guest_Email__c "
            f"duplicates value on record with id: {first['id']}"))
        ids = [self.api("POST", "/sobjects/Contact/", {
            "LastName": n, "Email": "same@example.test"})[2]["id"]
            for n in ("A", "B")]
        status, _, body = self.api("PATCH", "/sobjects/Contact/Email/"
                                   "same%40example.test", {"LastName": "C"})
        self.assertEqual(status, 300)
        self.assertEqual(sorted(u.rsplit("/", 1)[1] for u in body),
                         sorted(ids))
        status, _, body = self.upsert("Contact", "Email", [
            {"Email": "same@example.test", "LastName": "C"}])
        self.assertEqual(body[0]["errors"][0]["statusCode"],
                         "MULTIPLE_CHOICES")
        self.assertEqual(sorted(r["LastName"] for r in
                                self.records("Contact")), ["A", "B"])

    def test_describe(self):
        status, _, body = self.api("GET", "/sobjects/Order/describe")
        self.assertEqual(status, 200)
        fields = {f["name"]: f for f in body["fields"]}
        key = fields["WC_Order_Id__c"]
        self.assertEqual((key["type"], key["length"], key["externalId"],
                          key["unique"]), ("string", 64, True, True))
        self.assertFalse(fields["OrderNumber"]["updateable"])


class Collections(FakeTest):
    """§4.2: sObject Collections upsert."""

    def test_partial_success_and_all_or_none(self):
        good = {"WC_Customer_Id__c": "1", "Name": "One"}
        bad = {"WC_Customer_Id__c": "2"}
        status, _, body = self.upsert("Account", "WC_Customer_Id__c",
                                      [good, bad])
        self.assertEqual(status, 200)
        self.assertEqual(body[0]["success"], True)
        self.assertEqual(body[0]["created"], True)
        self.assertEqual(body[1]["errors"][0]["statusCode"],
                         "REQUIRED_FIELD_MISSING")
        self.setUp()
        status, _, body = self.upsert("Account", "WC_Customer_Id__c",
                                      [good, bad], all_or_none=True)
        self.assertEqual(body[0]["errors"][0]["statusCode"],
                         "ALL_OR_NONE_OPERATION_ROLLED_BACK")
        self.assertEqual(body[1]["errors"][0]["statusCode"],
                         "REQUIRED_FIELD_MISSING")
        self.assertEqual(self.records("Account"), [])

    def test_duplicate_key_and_limit(self):
        rec = {"WC_Customer_Id__c": "7", "Name": "Seven"}
        status, _, body = self.upsert("Account", "WC_Customer_Id__c",
                                      [rec, rec])
        self.assertEqual([r["errors"][0]["message"] for r in body],
                         ["Duplicate external id specified: 7"] * 2)
        many = [{"WC_Customer_Id__c": str(i), "Name": "n"}
                for i in range(201)]
        status, _, body = self.upsert("Account", "WC_Customer_Id__c", many)
        self.assertEqual((status, self.error(body)[0]),
                         (400, "EXCEEDED_ID_LIMIT"))

    def test_foreign_key_not_found(self):
        status, _, body = self.upsert("Contact", "WC_Customer_Id__c", [
            {"WC_Customer_Id__c": "42", "LastName": "Doe",
             "Account": {"WC_Customer_Id__c": "42"}}])
        err = body[0]["errors"][0]
        self.assertEqual(err["statusCode"], "INVALID_FIELD")
        self.assertEqual(err["message"], "Foreign key external ID: 42 not "
                         "found for field WC_Customer_Id__c in entity "
                         "Account")


class Composite(FakeTest):
    """§4.1: composite with collections, references and rollback."""

    def composite(self, subs, all_or_none=True):
        return self.api("POST", "/composite", {
            "allOrNone": all_or_none, "collateSubrequests": False,
            "compositeRequest": subs})

    def collection(self, ref, sobject, field, records):
        return {"method": "PATCH", "referenceId": ref,
                "url": f"{V}/composite/sobjects/{sobject}/{field}",
                "body": {"allOrNone": True, "records": [
                    {"attributes": {"type": sobject}, **r}
                    for r in records]}}

    def test_two_collections_second_names_first_by_external_id(self):
        subs = [
            self.collection("acct", "Account", "WC_Customer_Id__c", [
                {"WC_Customer_Id__c": "42", "Name": "Jane Doe",
                 "BillingCity": "Berlin"}]),
            self.collection("cont", "Contact", "WC_Customer_Id__c", [
                {"WC_Customer_Id__c": "42", "LastName": "Doe",
                 "FirstName": "Jane", "Email": "jane@example.test",
                 "Account": {"WC_Customer_Id__c": "42"}}]),
        ]
        status, head, body = self.composite(subs)
        self.assertEqual(status, 200)
        self.assertEqual(head["Sforce-Limit-Info"], "api-usage=1/15000")
        answers = body["compositeResponse"]
        self.assertEqual([a["httpStatusCode"] for a in answers], [200, 200])
        self.assertEqual([a["referenceId"] for a in answers],
                         ["acct", "cont"])
        account = self.records("Account")[0]
        contact = self.records("Contact")[0]
        self.assertEqual(answers[0]["body"][0]["id"], account["Id"])
        self.assertEqual(contact["AccountId"], account["Id"])
        self.assertEqual(contact["Name"], "Jane Doe")
        status, _, body = self.composite(subs)
        self.assertEqual([a["body"][0]["created"] for a in
                          body["compositeResponse"]], [False, False])
        self.assertEqual(len(self.records("Contact")), 1)

    def test_rollback_marks_siblings_processing_halted(self):
        subs = [
            self.collection("acct", "Account", "WC_Customer_Id__c", [
                {"WC_Customer_Id__c": "42", "Name": "Jane Doe"}]),
            self.collection("cont", "Contact", "WC_Customer_Id__c", [
                {"WC_Customer_Id__c": "42", "FirstName": "Jane",
                 "Account": {"WC_Customer_Id__c": "42"}}]),
            {"method": "GET", "referenceId": "after",
             "url": f"{V}/limits"},
        ]
        status, _, body = self.composite(subs)
        answers = body["compositeResponse"]
        self.assertEqual(status, 200)
        for i in (0, 2):
            self.assertEqual(answers[i]["httpStatusCode"], 400)
            self.assertEqual(answers[i]["body"], [{
                "message": "The transaction was rolled back since another "
                           "operation in the same transaction failed.",
                "errorCode": "PROCESSING_HALTED", "fields": []}])
        err = answers[1]["body"][0]["errors"][0]
        self.assertEqual(err["statusCode"], "REQUIRED_FIELD_MISSING")
        self.assertEqual(self.records("Account"), [])

    def test_references_and_unresolved(self):
        subs = [
            {"method": "POST", "referenceId": "acct",
             "url": f"{V}/sobjects/Account", "body": {"Name": "Ref Co"}},
            {"method": "POST", "referenceId": "cont",
             "url": f"{V}/sobjects/Contact",
             "body": {"LastName": "R", "AccountId": "@{acct.id}"}},
            {"method": "GET", "referenceId": "read",
             "url": f"{V}/sobjects/Contact/@{{cont.id}}"},
        ]
        status, _, body = self.composite(subs)
        answers = body["compositeResponse"]
        self.assertEqual([a["httpStatusCode"] for a in answers],
                         [201, 201, 200])
        self.assertEqual(answers[2]["body"]["AccountId"],
                         answers[0]["body"]["id"])
        subs = [
            {"method": "GET", "referenceId": "find",
             "url": f"{V}/sobjects/Account/WC_Customer_Id__c/none"},
            {"method": "PATCH", "referenceId": "mark",
             "url": f"{V}/sobjects/Account/@{{find.Id}}",
             "body": {"WC_Deleted__c": True}},
        ]
        status, _, body = self.composite(subs, all_or_none=False)
        answers = body["compositeResponse"]
        self.assertEqual(answers[0]["httpStatusCode"], 404)
        self.assertEqual(answers[1]["body"][0]["errorCode"],
                         "PROCESSING_HALTED")

    def test_whole_request_errors(self):
        get = {"method": "GET", "url": f"{V}/limits"}
        subs = [dict(get, referenceId=f"r{i}") for i in range(26)]
        status, _, _ = self.composite(subs)
        self.assertEqual(status, 400)
        bad = [dict(get, referenceId="r", httpHeaders={"Accept": "x"})]
        status, _, _ = self.composite(bad)
        self.assertEqual(status, 400)
        status, _, _ = self.composite([{"method": "GET", "referenceId": "r",
                                        "url": "/limits"}])
        self.assertEqual(status, 400)
        query = {"method": "GET", "url": f"{V}/query?q=SELECT+Id+FROM+Account"}
        status, _, _ = self.composite(
            [dict(query, referenceId=f"q{i}") for i in range(6)])
        self.assertEqual(status, 400)
        self.assertEqual(self.records("Account"), [])


class PriceBooksAndOrders(FakeTest):
    """§5.2, §5.3: price book and order rules."""

    def test_standard_price_first_and_one_per_book(self):
        book = self.product_with_price("77")
        status, _, body = self.api("POST", "/sobjects/Pricebook2/",
                                   {"Name": "Shop", "IsActive": True})
        custom = body["id"]
        status, _, body = self.api("POST", "/sobjects/Product2/",
                                   {"Name": "Lonely"})
        lonely = body["id"]
        status, _, body = self.api("POST", "/sobjects/PricebookEntry/", {
            "Pricebook2Id": custom, "Product2Id": lonely, "UnitPrice": 5})
        self.assertEqual(self.error(body)[0], "STANDARD_PRICE_NOT_DEFINED")
        status, _, body = self.upsert("PricebookEntry", "WC_Price_Key__c", [
            {"WC_Price_Key__c": "again", "Pricebook2Id": book,
             "Product2": {"WC_Product_Id__c": "77"}, "UnitPrice": 3}])
        err = body[0]["errors"][0]
        self.assertEqual((err["statusCode"], err["message"]), (
            "FIELD_INTEGRITY_EXCEPTION",
            "This price definition already exists in this price book"))

    def test_create_only_fields_on_update(self):
        book = self.product_with_price("77")
        same = {"WC_Price_Key__c": "std-77", "Pricebook2Id": book,
                "Product2": {"WC_Product_Id__c": "77"}, "UnitPrice": 12}
        status, _, body = self.upsert("PricebookEntry", "WC_Price_Key__c",
                                      [same])
        self.assertEqual(body[0]["success"], True, body)
        self.upsert("Product2", "WC_Product_Id__c",
                    [{"WC_Product_Id__c": "78", "Name": "Other"}])
        moved = dict(same, Product2={"WC_Product_Id__c": "78"})
        status, _, body = self.upsert("PricebookEntry", "WC_Price_Key__c",
                                      [moved])
        self.assertEqual(body[0]["errors"][0]["statusCode"],
                         "INVALID_FIELD_FOR_INSERT_UPDATE")

    def test_order_lifecycle(self):
        book = self.product_with_price("77", 9.5)
        self.upsert("Account", "WC_Customer_Id__c",
                    [{"WC_Customer_Id__c": "5", "Name": "Buyer"}])
        order = {"WC_Order_Id__c": "1001", "Status": "Draft",
                 "EffectiveDate": "2026-12-03", "Pricebook2Id": book,
                 "Account": {"WC_Customer_Id__c": "5"},
                 "WC_Total__c": "19.00"}
        status, _, body = self.upsert("Order", "WC_Order_Id__c", [order])
        self.assertTrue(body[0]["success"], body)
        line = {"WC_Line_Id__c": "1", "Quantity": 2, "UnitPrice": 9.5,
                "Order": {"WC_Order_Id__c": "1001"},
                "PricebookEntry": {"WC_Price_Key__c": "std-77"}}
        status, _, body = self.upsert("OrderItem", "WC_Line_Id__c", [line])
        self.assertTrue(body[0]["success"], body)
        status, _, body = self.upsert("OrderItem", "WC_Line_Id__c", [line])
        self.assertEqual(body[0]["created"], False)
        saved = self.records("Order")[0]
        self.assertEqual((saved["TotalAmount"], saved["WC_Total__c"]),
                         (19.0, 19.0))
        status, _, body = self.upsert("Order", "WC_Order_Id__c", [
            dict(order, Status="Activated", WC_Total__c=20)])
        self.assertEqual(body[0]["errors"][0]["statusCode"],
                         "FIELD_INTEGRITY_EXCEPTION")
        status, _, _ = self.api("PATCH", "/sobjects/Order/" + saved["Id"],
                                {"Status": "Activated"})
        self.assertEqual(status, 204)
        status, _, body = self.upsert("OrderItem", "WC_Line_Id__c", [
            dict(line, WC_Line_Id__c="2")])
        self.assertEqual(body[0]["errors"][0]["statusCode"],
                         "ENTITY_IS_LOCKED")
        status, _, body = self.upsert("Order", "WC_Order_Id__c", [
            {"WC_Order_Id__c": "1002", "Status": "Activated",
             "EffectiveDate": "2026-12-03",
             "Account": {"WC_Customer_Id__c": "5"}}])
        self.assertEqual(body[0]["errors"][0]["statusCode"],
                         "FIELD_INTEGRITY_EXCEPTION")
        status, _, body = self.upsert("Order", "WC_Order_Id__c", [
            {"WC_Order_Id__c": "1003", "Status": "Draft",
             "EffectiveDate": "03/12/2026",
             "Account": {"WC_Customer_Id__c": "5"}}])
        self.assertEqual((status, self.error(body)[0]),
                         (400, "JSON_PARSER_ERROR"))

    def test_order_item_needs_the_orders_price_book(self):
        self.product_with_price("77")
        self.upsert("Account", "WC_Customer_Id__c",
                    [{"WC_Customer_Id__c": "5", "Name": "Buyer"}])
        self.upsert("Order", "WC_Order_Id__c", [
            {"WC_Order_Id__c": "1", "Status": "Draft",
             "EffectiveDate": "2026-12-03",
             "Account": {"WC_Customer_Id__c": "5"}}])
        status, _, body = self.upsert("OrderItem", "WC_Line_Id__c", [
            {"WC_Line_Id__c": "1", "Quantity": 1, "UnitPrice": 10,
             "Order": {"WC_Order_Id__c": "1"},
             "PricebookEntry": {"WC_Price_Key__c": "std-77"}}])
        err = body[0]["errors"][0]
        self.assertEqual((err["statusCode"], err["fields"]),
                         ("FIELD_INTEGRITY_EXCEPTION", ["PricebookEntryId"]))

    def test_activated_order_locks(self):
        self.test_order_lifecycle()
        order = self.records("Order")[0]
        item = self.records("OrderItem")[0]
        status, _, body = self.api("DELETE", "/sobjects/OrderItem/"
                                   + item["Id"])
        self.assertEqual(self.error(body)[0], "ENTITY_IS_LOCKED")
        status, _, body = self.api("DELETE", "/sobjects/Order/"
                                   + order["Id"])
        self.assertEqual(self.error(body)[0], "ENTITY_IS_LOCKED")
        status, _, other = self.api("POST", "/sobjects/Account/",
                                    {"Name": "Other"})
        status, _, body = self.api("PATCH", "/sobjects/Order/" + order["Id"],
                                   {"AccountId": other["id"]})
        self.assertEqual(self.error(body)[0],
                         "INVALID_FIELD_FOR_INSERT_UPDATE")
        status, _, _ = self.api("PATCH", "/sobjects/Order/" + order["Id"],
                                {"Status": "Draft"})
        self.assertEqual(status, 204)
        status, _, _ = self.api("DELETE", "/sobjects/OrderItem/"
                                + item["Id"])
        self.assertEqual(status, 204)

    def test_query_relationship_and_malformed(self):
        self.test_order_lifecycle()
        q = ("SELECT Id, Order.WC_Order_Id__c FROM OrderItem "
             "WHERE Order.WC_Order_Id__c = '1001' AND WC_Line_Id__c = '1'")
        status, _, body = self.api("GET", "/query?q=" + urllib.parse.quote(q))
        self.assertEqual((status, body["totalSize"]), (200, 1))
        self.assertEqual(body["records"][0]["Order"]["WC_Order_Id__c"],
                         "1001")
        status, _, body = self.api("GET", "/query?q=" + urllib.parse.quote(
            "SELECT Id FROM Account WHERE Name = 'a' OR Name = 'b'"))
        self.assertEqual((status, self.error(body)[0]),
                         (400, "MALFORMED_QUERY"))


class Knobs(FakeTest):
    """The control API's fault injection."""

    def test_injected_failures_then_recovery(self):
        self.knobs(fail=[{"path_contains": "/composite", "status": 503,
                          "body": "<html>Service Unavailable</html>",
                          "content_type": "text/html", "times": 2}])
        for _ in range(2):
            status, head, body = self.api("POST", "/composite",
                                          {"compositeRequest": []})
            self.assertEqual(status, 503)
            self.assertIn("Service Unavailable", body)
        status, _, _ = self.api("POST", "/composite",
                                {"compositeRequest": []})
        self.assertEqual(status, 200)
        self.knobs(fail=[{"path_contains": "/sobjects", "status": 400,
                          "errorCode": "UNABLE_TO_LOCK_ROW"}])
        status, _, body = self.api("GET", "/sobjects/Account/describe")
        self.assertEqual(self.error(body)[0], "UNABLE_TO_LOCK_ROW")

    def test_drop_after_commit_applies_the_write(self):
        self.knobs(drop_after_commit=1)
        with self.assertRaises((http.client.HTTPException, ConnectionError,
                                urllib.error.URLError)):
            self.api("PATCH", "/sobjects/Account/WC_Customer_Id__c/9",
                     {"Name": "Nine"})
        self.assertEqual([r["Name"] for r in self.records("Account")],
                         ["Nine"])
        status, _, body = self.api("PATCH", "/sobjects/Account/"
                                   "WC_Customer_Id__c/9", {"Name": "Nine"})
        self.assertEqual((status, body["created"]), (200, False))

    def test_request_log_and_stats(self):
        self.api("POST", "/sobjects/Account/", {"Name": "Logged"})
        status, _, log = request("GET", "/__fake/requests")
        kinds = [e["kind"] for e in log]
        self.assertIn("token", kinds)
        data = [e for e in log if e["kind"] == "data"]
        self.assertEqual(data[-1]["body"], {"Name": "Logged"})
        self.assertEqual(data[-1]["status"], 201)
        status, _, stats = request("GET", "/__fake/stats")
        self.assertEqual((stats["token_requests"], stats["data_requests"],
                          stats["api_usage"]), (1, 1, 1))
        status, _, body = request("POST", "/__fake/knobs", {"nope": 1})
        self.assertEqual(status, 400)


class SchemaKnobs(FakeTest):
    """Knobs that change the org's schema and price book, for the tests
    of `wc2sf check`; /__fake/reset undoes them."""

    DESCRIBED = ("name", "type", "length", "externalId", "unique",
                 "caseSensitive", "nillable", "createable", "updateable")

    def field(self, sobject, name):
        status, _, body = self.api("GET", f"/sobjects/{sobject}/describe")
        self.assertEqual(status, 200, body)
        for f in body["fields"]:
            for key in self.DESCRIBED:
                self.assertIn(key, f, f["name"])
        found = [f for f in body["fields"] if f["name"] == name]
        return found[0] if found else None

    def test_describe_attributes(self):
        key = self.field("Order", "WC_Order_Id__c")
        self.assertEqual(
            {k: key[k] for k in self.DESCRIBED},
            {"name": "WC_Order_Id__c", "type": "string", "length": 64,
             "externalId": True, "unique": True, "caseSensitive": True,
             "nillable": True, "createable": True, "updateable": True})
        self.assertEqual(self.field("Account", "Name")["nillable"], False)
        ident = self.field("Account", "Id")
        self.assertEqual((ident["type"], ident["createable"],
                          ident["nillable"]), ("id", False, False))
        guest = self.field("Contact", "WC_Guest_Email__c")
        self.assertEqual((guest["unique"], guest["caseSensitive"]),
                         (True, False))

    def test_drop_field(self):
        self.knobs(drop_field="Account.WC_Customer_Id__c")
        self.assertIsNone(self.field("Account", "WC_Customer_Id__c"))
        self.assertIsNotNone(self.field("Contact", "WC_Customer_Id__c"))
        status, _, body = self.upsert("Account", "WC_Customer_Id__c",
                                      [{"WC_Customer_Id__c": "1",
                                        "Name": "A"}])
        self.assertEqual(status, 404, body)
        status, _, body = self.api("POST", "/sobjects/Account/",
                                   {"Name": "A", "WC_Customer_Id__c": "1"})
        self.assertEqual((status, self.error(body)[0]),
                         (400, "INVALID_FIELD"))
        status, _, knobs = request("GET", "/__fake/knobs")
        self.assertEqual(knobs["drop_field"], ["Account.WC_Customer_Id__c"])
        self.setUp()
        self.assertIsNotNone(self.field("Account", "WC_Customer_Id__c"))
        status, _, body = request("POST", "/__fake/knobs",
                                  {"drop_field": "Account.Nope__c"})
        self.assertEqual(status, 400)

    def test_field_attrs(self):
        self.knobs(field_attrs={"Order.WC_Order_Id__c": {
            "externalId": False, "unique": False}})
        key = self.field("Order", "WC_Order_Id__c")
        self.assertEqual((key["externalId"], key["unique"],
                          key["idLookup"]), (False, False, False))
        status, _, body = self.upsert("Order", "WC_Order_Id__c", [])
        self.assertEqual((status, self.error(body)[0]),
                         (400, "INVALID_FIELD"))
        self.knobs(field_attrs={"Account.WC_Customer_Id__c": {
            "caseSensitive": False, "length": 10}})
        key = self.field("Account", "WC_Customer_Id__c")
        self.assertEqual((key["caseSensitive"], key["length"]), (False, 10))
        status, _, body = self.api("POST", "/sobjects/Account/",
                                   {"Name": "A",
                                    "WC_Customer_Id__c": "x" * 11})
        self.assertEqual(self.error(body)[0], "STRING_TOO_LONG")
        self.setUp()
        key = self.field("Order", "WC_Order_Id__c")
        self.assertEqual((key["externalId"], key["unique"]), (True, True))
        status, _, body = request("POST", "/__fake/knobs", {
            "field_attrs": {"Order.WC_Order_Id__c": {"color": "red"}}})
        self.assertEqual(status, 400)

    def test_standard_pricebook_knobs(self):
        q = "/query?q=" + urllib.parse.quote(
            "SELECT Id, IsActive FROM Pricebook2 WHERE IsStandard = true")
        self.knobs(standard_pricebook_active=False)
        _, _, body = self.api("GET", q)
        self.assertEqual(body["records"][0]["IsActive"], False)
        book = body["records"][0]["Id"]
        self.upsert("Account", "WC_Customer_Id__c",
                    [{"WC_Customer_Id__c": "1", "Name": "A"}])
        status, _, body = self.api("POST", "/sobjects/Order/", {
            "Account": {"WC_Customer_Id__c": "1"}, "Status": "Draft",
            "EffectiveDate": "2026-01-02", "Pricebook2Id": book})
        self.assertEqual((status, self.error(body)[0]),
                         (400, "FIELD_INTEGRITY_EXCEPTION"))
        self.knobs(standard_pricebook_active=True)
        self.product_with_price("7")
        self.knobs(delete_standard_pricebook=True)
        _, _, body = self.api("GET", q)
        self.assertEqual(body["totalSize"], 0)
        self.assertEqual(self.records("PricebookEntry"), [])
        self.setUp()
        _, _, body = self.api("GET", q)
        self.assertEqual((body["totalSize"], body["records"][0]["IsActive"]),
                         (1, True))


class StatePicklists(unittest.TestCase):
    """§5.6 with --state-picklists: a second fake with the code fields."""

    @classmethod
    def setUpClass(cls):
        cls.proc, cls.base = start(FAKE["tmp"], "--state-picklists")

    @classmethod
    def tearDownClass(cls):
        stop(cls.proc)

    def test_country_and_state_codes(self):
        _, _, tok = request("POST", "/services/oauth2/token", form={
            "grant_type": "client_credentials", "client_id": CLIENT_ID,
            "client_secret": SECRET}, base=self.base)
        auth = {"Authorization": "Bearer " + tok["access_token"]}

        def create(**fields):
            return request("POST", V + "/sobjects/Account/",
                           {"Name": "A", **fields}, auth, base=self.base)
        self.assertEqual(create(BillingCountryCode="US",
                                BillingStateCode="CA")[0], 201)
        cases = [({"BillingCountryCode": "XX"}, ["BillingCountryCode"]),
                 ({"ShippingStateCode": "CA"}, ["ShippingStateCode"]),
                 ({"BillingCountryCode": "US", "BillingStateCode": "ZZ"},
                  ["BillingStateCode"])]
        for fields, where in cases:
            status, _, body = create(**fields)
            self.assertEqual(status, 400, fields)
            self.assertEqual((body[0]["errorCode"], body[0]["fields"]),
                             ("FIELD_INTEGRITY_EXCEPTION", where))
        # Without the flag the code fields do not exist (§5.6).
        _, _, tok = token()
        status, _, body = request(
            "POST", V + "/sobjects/Account/",
            {"Name": "A", "BillingCountryCode": "DE"},
            {"Authorization": "Bearer " + tok["access_token"]})
        self.assertEqual((status, body[0]["errorCode"]),
                         (400, "INVALID_FIELD"))


if __name__ == "__main__":
    unittest.main(verbosity=1 if "-v" not in sys.argv else 2)
