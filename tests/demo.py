#!/usr/bin/env python3
"""make demo: real WooCommerce deliveries through nginx into a fake Salesforce.

Starts, on loopback and under tests/tmp/, a fake Salesforce, wc2sf.fcgi
under spawn-fcgi and nginx with nginx-conf/wc2sf.conf; replays with curl
the customer deliveries captured from a real WooCommerce 10.0.2 shop;
prints one line per delivery and then what Salesforce holds; stops
everything. No Salesforce account is needed.
"""

import argparse
import os
import sys
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "integration"))

import harness  # noqa: E402

DELIVERIES = [
    "055-customer_created",
    "056-customer_updated",
    "057-customer_updated",
    "058-customer_created",
    "059-customer_updated",
    "112-customer_created",
    "113-customer_updated",
    "114-customer_updated",
    "115-customer_deleted",
]


def width(text):
    """Columns text takes on a terminal: wide characters (emoji, CJK)
    two, combining marks none."""
    n = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        n += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
    return n


def table(title, columns, rows):
    """Print rows under a title as aligned columns."""
    print(f"\n{title} ({len(rows)})")
    cells = [[str(c) for c in columns]]
    cells += [["" if v is None else str(v).replace("\n", ", ")
               for v in row] for row in rows]
    widths = [max(width(r[i]) for r in cells)
              for i in range(len(columns))]
    for n, row in enumerate(cells):
        line = "  ".join(v + " " * (w - width(v))
                         for v, w in zip(row, widths))
        print("  " + line.rstrip())
        if n == 0:
            print("  " + "  ".join("-" * w for w in widths))


def show_deliveries(h):
    """Send each delivery; False if any got a failure status."""
    ok = True
    print(f"{'fixture':<22} {'topic':<18} {'HTTP':<4}  result")
    for base in DELIVERIES:
        fixture = harness.Fixture(base)
        reply = h.deliver(base)
        result = reply.result or "(no JSON reply from wc2sf)"
        print(f"{base:<22} {fixture.topic:<18} {reply.status:<4}  {result}")
        if reply.status >= 300:
            ok = False
    return ok


def show_salesforce(h):
    accounts = sorted(h.records("Account"),
                      key=lambda r: r.get("WC_Customer_Id__c") or "")
    contacts = sorted(h.records("Contact"),
                      key=lambda r: r.get("WC_Customer_Id__c") or "")
    names = {a["Id"]: a.get("Name") for a in accounts}
    table("Salesforce Accounts",
          ["Id", "WC key", "Name", "City", "Country"],
          [[a["Id"], a.get("WC_Customer_Id__c"), a.get("Name"),
            a.get("BillingCity"), a.get("BillingCountry")]
           for a in accounts])
    table("Salesforce Contacts",
          ["Id", "WC key", "Name", "E-mail", "Account"],
          [[c["Id"], c.get("WC_Customer_Id__c"),
            " ".join(x for x in (c.get("FirstName"), c.get("LastName"))
                     if x),
            c.get("Email"), names.get(c.get("AccountId"), "-")]
           for c in contacts])
    marked = [a.get("WC_Customer_Id__c") for a in accounts
              if a.get("WC_Deleted__c")]
    if marked:
        print("\nDeleted in WooCommerce, kept and marked WC_Deleted__c "
              "in Salesforce: customer " + ", ".join(marked))
    sent = h.data_requests()
    print(f"\nSalesforce REST requests made by wc2sf: {len(sent)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build",
                    help="where wc2sf.fcgi was built (default: build)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the files under tests/tmp/ afterwards")
    args = ap.parse_args()
    os.environ["WC2SF_BUILD"] = os.path.abspath(args.build)

    h = harness.Harness("demo")
    ok = False
    try:
        h.start()
        print("wc2sf demo: captured WooCommerce deliveries -> nginx -> "
              "wc2sf.fcgi -> fake Salesforce")
        print(f"  webhook URL      {h.url}")
        print(f"  fake Salesforce  {h.fake_url}")
        print(f"  files            {os.path.relpath(h.dir)}\n")
        ok = show_deliveries(h)
        show_salesforce(h)
        if not ok:
            print("\ndemo: some deliveries failed; the logs:",
                  file=sys.stderr)
            print(h.diagnostics(), file=sys.stderr)
    except harness.HarnessError as e:
        print(f"demo: {e}", file=sys.stderr)
        print(h.diagnostics(), file=sys.stderr)
    finally:
        h.close(keep=args.keep or not ok)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
