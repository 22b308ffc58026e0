#!/usr/bin/env python3
"""Write the seed corpora of fuzz/corpus/<target>/ from the fixtures.

The seeds are committed; this script says where they came from and can
make them again (python3 fuzz/mkseeds.py). It reads the captured
deliveries in tests/fixtures/woocommerce-10.0.2 (or
$WC2SF_SHARED/fixtures/...) and the hand-made answers below, and
replaces what each target's folder held. Each seed is named after what
it is, not after its hash.
"""
import json
import os
import shutil
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SHARED = os.environ.get("WC2SF_SHARED")
FIXTURES = os.path.join(SHARED, "fixtures", "woocommerce-10.0.2") if SHARED \
    else os.path.join(REPO, "tests", "fixtures", "woocommerce-10.0.2")
CORPUS = os.path.join(HERE, "corpus")

# Deliveries that between them show every shape the tables read.
DELIVERIES = [
    "001-ping", "055-customer_created", "057-customer_updated",
    "115-customer_deleted", "016-product_created", "018-product_created",
    "022-product_updated", "086-product_deleted", "089-product_restored",
    "063-order_created", "071-order_updated", "081-order_deleted",
    "082-order_restored", "083-order_created", "098-order_updated",
    "117-order_updated", "060-coupon_created", "088-coupon_restored",
]

# fuzz_map's topic byte indexes this list (fuzz/fuzz_map.c topics[]).
MAP_TOPICS = [
    "customer.created", "customer.updated", "customer.deleted",
    "product.created", "product.updated", "product.restored",
    "product.deleted", "order.created", "order.updated",
    "order.restored", "order.deleted", "coupon.created",
]


def fixture(base):
    with open(os.path.join(FIXTURES, base + ".headers"), "rb") as f:
        head = f.read()
    with open(os.path.join(FIXTURES, base + ".body"), "rb") as f:
        body = f.read()
    lines = head.split(b"\r\n")[1:]
    headers = [line for line in lines if line and not
               line.lower().startswith((b"host:", b"connection:",
                                        b"content-length:"))]
    return headers, body


def topic_of(headers):
    for line in headers:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"x-wc-webhook-topic":
            return value.strip().decode()
    return None


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def webhook_seeds():
    for base in DELIVERIES:
        headers, body = fixture(base)
        data = b"\n".join(headers) + b"\n\n" + body
        put("fuzz_webhook", base, b"\x00" + data)
    # Signed by the target (flag 0x01) with CGI-form names.
    headers, body = fixture("057-customer_updated")
    cgi = [b"HTTP_" + line.split(b":")[0].upper().replace(b"-", b"_")
           + b":" + line.split(b":", 1)[1] for line in headers]
    put("fuzz_webhook", "057-cgi-names", b"\x01" + b"\n".join(cgi)
        + b"\n\n" + body)
    put("fuzz_webhook", "get", b"\x02Content-Type: text/plain\n\nx")


def map_seeds():
    for base in DELIVERIES:
        headers, body = fixture(base)
        topic = topic_of(headers)
        if topic not in MAP_TOPICS:
            continue
        put("fuzz_map", base, bytes([MAP_TOPICS.index(topic), 0]) + body)
    # An order whose earlier version had another line: a delete step.
    _, now = fixture("071-order_updated")
    prev = json.loads(now)
    extra = dict(prev["line_items"][0], id=9999)
    prev["line_items"].append(extra)
    put("fuzz_map", "071-with-prev", bytes([MAP_TOPICS.index(
        "order.updated"), 0x01]) + now + b"\x00"
        + json.dumps(prev, separators=(",", ":")).encode())


def strings(value, out):
    if isinstance(value, str):
        out.add(value)
    elif isinstance(value, list):
        for v in value:
            strings(v, out)
    elif isinstance(value, dict):
        for v in value.values():
            strings(v, out)


def text_seeds():
    found = set()
    for base in DELIVERIES:
        _, body = fixture(base)
        try:
            strings(json.loads(body), found)
        except ValueError:
            pass
    odd = sorted(s for s in found if any(c in s for c in "&<\n")
                 or any(ord(c) > 127 for c in s))
    for i, s in enumerate(odd[:16]):
        limit = 40 if len(s) > 40 else 255
        put("fuzz_text", f"fixture-{i:02d}",
            struct.pack("<H", limit) + s.encode("utf-8", "surrogatepass"))
    hand = {
        "entities": "Fish &amp;amp; Chips &ndash; 10&#36; &#x1F600; &bogus;"
                    " &#0; &#xD800; &#1114112; &lt;b&gt; &nbsp;x",
        "markup": "<p>One<br/>two</p><script>x<y</script><!-- c -->"
                  "<style>p{}</style> a < b <li>three",
        "emoji-cut": "\U0001F600" * 5 + "\u00e9\u20ac",
    }
    for name, s in hand.items():
        put("fuzz_text", name, struct.pack("<H", 7) + s.encode())
    put("fuzz_text", "ill-formed", struct.pack("<H", 5)
        + b"a\xc3\x28\xe2\x82\xf0\x9f\x98\xed\xa0\x80\xc0\xaf\xffz\x00q")


SF = {
    # (parser byte, status index, body); see fuzz_sf_response.c
    "token-ok": (0, 0, {
        "access_token": "00DXX0000000001!AQ0AQFakeToken",
        "instance_url": "https://example.my.salesforce.com",
        "id": "https://login.salesforce.com/id/00DXX0000000001EAA/"
              "005XX000001AbcDAAA",
        "token_type": "Bearer", "issued_at": "1735689600000",
        "signature": "c2lnbmF0dXJl", "scope": "api",
        "refresh_token": "5Aep861rotated"}),
    "token-http-url": (0, 0, {"access_token": "x",
                              "instance_url": "http://x"}),
    "token-invalid-grant": (0, 4, {"error": "invalid_grant",
                                   "error_description":
                                   "authentication failure"}),
    "token-unknown-error": (0, 11, {"error": "unknown_error",
                                    "error_description": "retry"}),
    "composite-ok": (1, 0, {"compositeResponse": [
        {"body": [{"id": "001XX000003DHP0YAO", "success": True,
                   "errors": [], "created": True}],
         "httpHeaders": {}, "httpStatusCode": 200, "referenceId": "s0"},
        {"body": [{"id": "003XX000004TmiQQAS", "success": True,
                   "errors": [], "created": False}],
         "httpHeaders": {}, "httpStatusCode": 200, "referenceId": "s1"}]}),
    "composite-rollback": (1, 0, {"compositeResponse": [
        {"body": [{"success": False, "errors": [{
            "statusCode": "INVALID_FIELD", "message": "No such column "
            "'Foo__c' on sobject of type Account", "fields": []}]}],
         "httpHeaders": {}, "httpStatusCode": 200, "referenceId": "s0"},
        {"body": [{"errorCode": "PROCESSING_HALTED", "message": "The "
                   "transaction was rolled back since another operation "
                   "in the same transaction failed."}],
         "httpHeaders": {}, "httpStatusCode": 400, "referenceId": "s1"}]}),
    "composite-lookup": (2, 0, {"compositeResponse": [
        {"body": [{"errorCode": "NOT_FOUND",
                   "message": "The requested resource does not exist"}],
         "httpHeaders": {}, "httpStatusCode": 404, "referenceId": "l0"},
        {"body": [{"errorCode": "PROCESSING_HALTED",
                   "message": "Invalid reference specified."}],
         "httpHeaders": {}, "httpStatusCode": 400, "referenceId": "u0"},
        {"body": {"Id": "01uXX0000001", "attributes": {
            "type": "PricebookEntry"}},
         "httpHeaders": {}, "httpStatusCode": 200, "referenceId": "l1"},
        {"body": None, "httpHeaders": {}, "httpStatusCode": 204,
         "referenceId": "u1"}]}),
    "composite-delete": (3, 0, {"compositeResponse": [
        {"body": [{"errorCode": "ENTITY_IS_DELETED",
                   "message": "entity is deleted"}],
         "httpHeaders": {}, "httpStatusCode": 404, "referenceId": "d0"},
        {"body": None, "httpHeaders": {}, "httpStatusCode": 204,
         "referenceId": "d1"}]}),
    "composite-lock": (4, 0, {"compositeResponse": [
        {"body": [{"success": False, "errors": [{
            "statusCode": "UNABLE_TO_LOCK_ROW",
            "message": "unable to obtain exclusive access to this record",
            "fields": []}]}],
         "httpHeaders": {}, "httpStatusCode": 200, "referenceId": "s0"}]}),
    "error-array": (5, 4, [{"message": "Session expired or invalid",
                            "errorCode": "INVALID_SESSION_ID"}]),
    "error-limit": (5, 6, [{"message": "TotalRequests Limit exceeded.",
                            "errorCode": "REQUEST_LIMIT_EXCEEDED"}]),
    "error-300": (5, 3, ["/services/data/v62.0/sobjects/Contact/003A",
                         "/services/data/v62.0/sobjects/Contact/003B"]),
    "pricebook": (6, 0, {"totalSize": 1, "done": True, "records": [{
        "attributes": {"type": "Pricebook2"}, "Id": "01sXX0000001AbcYAE",
        "IsActive": True}]}),
    "pricebook-inactive": (6, 0, {"totalSize": 1, "done": True,
                                  "records": [{"Id": "01s", "IsActive":
                                               False}]}),
}


def sf_seeds():
    for name, (parser, status, body) in SF.items():
        put("fuzz_sf_response", name, bytes([parser, status])
            + json.dumps(body, separators=(",", ":")).encode())
    html = (b"<html><head><title>Service Unavailable</title></head>"
            b"<body>Maintenance</body></html>")
    put("fuzz_sf_response", "html-503", bytes([5, 13]) + html)
    put("fuzz_sf_response", "html-token", bytes([0, 0]) + html)
    put("fuzz_sf_response", "limit-info", bytes([7, 0])
        + b"api-usage=25/5000; per-app-api-usage=17/250(appName=x)")
    put("fuzz_sf_response", "classify", bytes([8, 4])
        + b"DUPLICATE_VALUE\x00duplicate value found: WC_Customer_Id__c "
        b"duplicates value on record with id: 001\x00WC_Customer_Id__c")


def config_seeds():
    with open(os.path.join(REPO, "wc2sf.conf.sample"), "rb") as f:
        sample = f.read()
    put("fuzz_config", "sample", sample)
    put("fuzz_config", "password", b"""[woocommerce]
secret = test-secret-123
max_body = 1M
sync_statuses = processing,completed
[salesforce]
auth = password
login_url = https://127.0.0.1:8443
client_id = id
client_secret_file = secret
username = u@example.test
password = p
api_version = 62.0
timeout = 10
state_picklists = yes
[store]
path = wc2sf.db
drain_seconds = 3
retention_days = 30
[log]
level = debug
file = wc2sf.log
""")
    put("fuzz_config", "jwt", b"""[woocommerce]
secret_file = secret
[salesforce]
auth = jwt
client_id = 3MVG9
username = u@example.test
private_key = key.pem
audience = https://test.salesforce.com
; a comment
[store]
path = /var/lib/wc2sf/wc2sf.db
""")
    put("fuzz_config", "refresh", b"""[woocommerce]
secret = a&amp;b ; comment
[salesforce]
auth = refresh_token
client_id = x
refresh_token = 5Aep
client_auth = basic
login_url = https://example.my.salesforce.com/
""")


def main():
    if not os.path.isdir(FIXTURES):
        sys.exit(f"mkseeds: no fixtures in {FIXTURES}")
    for target in ("fuzz_webhook", "fuzz_map", "fuzz_text",
                   "fuzz_sf_response", "fuzz_config"):
        shutil.rmtree(os.path.join(CORPUS, target), ignore_errors=True)
    webhook_seeds()
    map_seeds()
    text_seeds()
    sf_seeds()
    config_seeds()
    total = 0
    for root, _, files in os.walk(CORPUS):
        for name in files:
            total += os.path.getsize(os.path.join(root, name))
    print(f"mkseeds: {total} bytes of seeds in {CORPUS}")


if __name__ == "__main__":
    main()
