"""Each object's own rules, beyond the generic field checks of store.py.

Called by Store at fixed points of a write:
  before_insert(store, sobj, rec)             rec: the full new record
  before_update(store, sobj, old, new, values) values: what the call set
  after_write(store, sobj, rec)               derived fields, roll-ups
  before_delete(store, sobj, rec) -> [(sobj, child), ...] to delete too
  after_delete(store, sobj, rec)
A rule refuses by raising SFError. Messages marked UNCONFIRMED are the
fake's own words where the reference names the rule but not the text.
"""

from decimal import Decimal

import errors as E
import schema

ADDRESS_PREFIXES = ("Billing", "Shipping", "Mailing", "Other")


# --- addresses (§5.6, only with --state-picklists) ------------------------

def check_addresses(sobj, rec, values):
    """State and Country picklists: ISO country codes, a state only with a
    country, and for the countries the fake knows, a state of that
    country. All FIELD_INTEGRITY_EXCEPTION."""
    for prefix in ADDRESS_PREFIXES:
        cc_name, sc_name = prefix + "CountryCode", prefix + "StateCode"
        if sobj.field(cc_name) is None:
            continue
        if cc_name not in values and sc_name not in values:
            continue
        cc, sc = rec.get(cc_name), rec.get(sc_name)
        if cc is not None and cc not in schema.COUNTRY_CODES:
            raise E.field_integrity(
                "There's a problem with this country, even though it may "
                "appear correct. Please select a country/territory from "
                "the list of valid countries.", [cc_name])
        if sc is None:
            continue
        if cc is None:
            raise E.field_integrity(
                "A country/territory must be specified before specifying "
                f"a state value for field: {sc_name}", [sc_name])
        states = schema.STATE_CODES.get(cc, set())
        if states is not None and sc not in states:
            raise E.field_integrity(
                f"The {sc_name} field contains {sc}, which isn't an "
                f"available state for country/territory {cc}.", [sc_name])


# --- Contact ----------------------------------------------------------------

def contact_after(store, sobj, rec):
    """Name is derived from FirstName and LastName."""
    parts = [rec.get("FirstName"), rec.get("LastName")]
    rec["Name"] = " ".join(p for p in parts if p)


# --- Product2, Pricebook2, PricebookEntry (§5.2) ----------------------------

def product_after(store, sobj, rec):
    """Entries mirror the product's Name and ProductCode."""
    for entry in store.children("PricebookEntry", "Product2Id", rec["Id"]):
        entry["Name"] = rec.get("Name")
        entry["ProductCode"] = rec.get("ProductCode")


def product_before_delete(store, sobj, rec):
    """A product on an order cannot go; its price book entries go with
    it."""
    if store.children("OrderItem", "Product2Id", rec["Id"]):
        raise delete_failed(rec.get("Name"), "order products")
    entries = store.objects["pricebookentry"]
    return [(entries, e) for e in
            store.children("PricebookEntry", "Product2Id", rec["Id"])]


def pricebook_before_update(store, sobj, old, new, values):
    """The standard price book's Name is read-only (§5.2)."""
    if old.get("IsStandard") and "Name" in values \
            and values["Name"] != old.get("Name"):
        raise E.not_writable(["Name"])


def pricebook_before_delete(store, sobj, rec):
    if rec.get("IsStandard"):
        raise E.SFError("DELETE_FAILED",
                        "You can't delete the standard price book.")
    entries = store.objects["pricebookentry"]
    return [(entries, e) for e in
            store.children("PricebookEntry", "Pricebook2Id", rec["Id"])]


def entry_before_insert(store, sobj, rec):
    """§5.2: a standard price must exist before a custom one
    (STANDARD_PRICE_NOT_DEFINED); one entry per book and product (the
    error code is FIELD_INTEGRITY_EXCEPTION or, with
    --duplicate-price-code, DUPLICATE_VALUE)."""
    book = store.live["Pricebook2"][rec["Pricebook2Id"]]
    product_id = rec["Product2Id"]
    if not book.get("IsStandard"):
        std = store.standard_pricebook()
        has_std = std is not None and any(
            e.get("Pricebook2Id") == std["Id"]
            for e in store.children("PricebookEntry", "Product2Id",
                                    product_id))
        if not has_std:
            raise E.SFError("STANDARD_PRICE_NOT_DEFINED",
                            "Before creating a custom price, create a "
                            "standard price.")
    for other in store.children("PricebookEntry", "Product2Id", product_id):
        if other.get("Pricebook2Id") == book["Id"]:
            raise E.SFError(store.duplicate_price_code,
                            "This price definition already exists in this "
                            "price book")


def entry_after(store, sobj, rec):
    product = store.live["Product2"].get(rec.get("Product2Id"))
    if product is not None:
        rec["Name"] = product.get("Name")
        rec["ProductCode"] = product.get("ProductCode")


def entry_before_delete(store, sobj, rec):
    """§2.5: an entry used by order products is not removed."""
    if store.children("OrderItem", "PricebookEntryId", rec["Id"]):
        raise delete_failed(rec.get("Name"), "order products")
    return []


# --- Order and OrderItem (§5.3) ---------------------------------------------

def check_book_active(store, rec, values):
    """An order cannot be put in an inactive price book. UNCONFIRMED
    wording (the reference only says to check IsActive, §5.2)."""
    if "Pricebook2Id" not in values or rec.get("Pricebook2Id") is None:
        return
    book = store.live["Pricebook2"].get(rec["Pricebook2Id"])
    if book is not None and not book.get("IsActive"):
        raise E.field_integrity(
            "field integrity exception: Pricebook2Id (the price book is "
            "inactive)", ["Pricebook2Id"])


def order_before_insert(store, sobj, rec):
    """On create the status must be Draft (§5.3). UNCONFIRMED wording."""
    if rec.get("Status") != "Draft":
        raise E.field_integrity(
            "A new order must have a Draft status; activate it with a "
            "later update.", ["Status"])
    check_addresses(sobj, rec, rec)
    check_book_active(store, rec, rec)
    rec["StatusCode"] = "Draft"
    rec["OrderNumber"] = f"{store.next_number('OrderNumber') + 99:08d}"
    rec["TotalAmount"] = Decimal("0.00")


def order_before_update(store, sobj, old, new, values):
    """§5.3: AccountId changes only in Draft; the price book stays once
    there are products; activation changes Status and nothing else
    (UNCONFIRMED wording for the last two)."""
    check_addresses(sobj, new, values)
    if values.get("Pricebook2Id") != old.get("Pricebook2Id"):
        check_book_active(store, new, values)
    was_draft = old.get("StatusCode") == "Draft"
    if "AccountId" in values and values["AccountId"] != old.get("AccountId") \
            and not was_draft:
        raise E.not_writable(["AccountId"])
    items = store.children("OrderItem", "OrderId", old["Id"])
    if "Pricebook2Id" in values and items \
            and values["Pricebook2Id"] != old.get("Pricebook2Id"):
        raise E.field_integrity(
            "field integrity exception: Pricebook2Id (the price book of "
            "an order with products cannot change)", ["Pricebook2Id"])
    if was_draft and new.get("Status") == "Activated":
        changed = [k for k, v in values.items()
                   if k != "Status" and v != old.get(k)]
        if changed:
            raise E.field_integrity(
                "When an order is activated, Status must be the only "
                "field that changes.", ["Status"])
    new["StatusCode"] = new.get("Status")


def order_before_delete(store, sobj, rec):
    """Only a Draft order can be deleted; its products go with it."""
    if rec.get("StatusCode") != "Draft":
        raise E.entity_locked()
    items = store.objects["orderitem"]
    return [(items, i) for i in
            store.children("OrderItem", "OrderId", rec["Id"])]


def item_before_insert(store, sobj, rec):
    """§5.3, §3.3: no new products on an activated order
    (ENTITY_IS_LOCKED); the order needs a price book and the entry must be
    in it, and active; Product2Id follows the entry."""
    order = store.live["Order"][rec["OrderId"]]
    entry = store.live["PricebookEntry"][rec["PricebookEntryId"]]
    if order.get("StatusCode") != "Draft":
        raise E.entity_locked()
    if order.get("Pricebook2Id") is None \
            or order["Pricebook2Id"] != entry.get("Pricebook2Id"):
        raise E.field_integrity(
            "field integrity exception: PricebookEntryId (pricebook entry "
            "is in a different pricebook than the one assigned to the "
            "Order, or Order has no pricebook assigned)",
            ["PricebookEntryId"])
    if not entry.get("IsActive"):
        raise E.field_integrity(
            "field integrity exception: PricebookEntryId (pricebook entry "
            "is inactive)", ["PricebookEntryId"])
    product = rec.get("Product2Id")
    if product is not None and product != entry.get("Product2Id"):
        raise E.field_integrity(
            "field integrity exception: Product2Id (product does not "
            "match the price book entry)", ["Product2Id"])
    rec["Product2Id"] = entry.get("Product2Id")
    rec["ListPrice"] = entry.get("UnitPrice")
    rec["OrderItemNumber"] = f"{store.next_number('OrderItemNumber'):010d}"


def item_before_update(store, sobj, old, new, values):
    """On an activated order, quantity and price are locked too
    (UNCONFIRMED: the reference only names adding and removing)."""
    order = store.live["Order"].get(old["OrderId"])
    if order is None or order.get("StatusCode") == "Draft":
        return
    for name in ("Quantity", "UnitPrice"):
        if name in values and values[name] != old.get(name):
            raise E.entity_locked()


def item_after(store, sobj, rec):
    """TotalPrice = UnitPrice x Quantity; the order's TotalAmount sums
    them."""
    total = Decimal(rec.get("UnitPrice") or 0) \
        * Decimal(rec.get("Quantity") or 0)
    rec["TotalPrice"] = total.quantize(Decimal("0.01"))
    order_total(store, rec.get("OrderId"))


def item_before_delete(store, sobj, rec):
    order = store.live["Order"].get(rec.get("OrderId"))
    if order is not None and order.get("StatusCode") != "Draft":
        raise E.entity_locked()
    return []


def item_after_delete(store, sobj, rec):
    order_total(store, rec.get("OrderId"))


def order_total(store, order_id):
    order = store.live["Order"].get(order_id)
    if order is None:
        return
    total = sum((Decimal(i.get("TotalPrice") or 0) for i in
                 store.children("OrderItem", "OrderId", order_id)),
                Decimal("0.00"))
    order["TotalAmount"] = total


# --- Account ---------------------------------------------------------------

def account_before_delete(store, sobj, rec):
    """Contacts go with their account; an account with orders stays."""
    if store.children("Order", "AccountId", rec["Id"]):
        raise delete_failed(rec.get("Name"), "orders")
    contacts = store.objects["contact"]
    return [(contacts, c) for c in
            store.children("Contact", "AccountId", rec["Id"])]


def delete_failed(name, what):
    return E.SFError("DELETE_FAILED",
                     f"Your attempt to delete {name} could not be "
                     "completed because it is associated with the "
                     f"following {what}.")


# --- dispatch ----------------------------------------------------------------

BEFORE_INSERT = {
    "PricebookEntry": entry_before_insert,
    "Order": order_before_insert,
    "OrderItem": item_before_insert,
}
BEFORE_UPDATE = {
    "Pricebook2": pricebook_before_update,
    "Order": order_before_update,
    "OrderItem": item_before_update,
}
AFTER_WRITE = {
    "Contact": contact_after,
    "Product2": product_after,
    "PricebookEntry": entry_after,
    "OrderItem": item_after,
}
BEFORE_DELETE = {
    "Account": account_before_delete,
    "Product2": product_before_delete,
    "Pricebook2": pricebook_before_delete,
    "PricebookEntry": entry_before_delete,
    "Order": order_before_delete,
    "OrderItem": item_before_delete,
}
AFTER_DELETE = {
    "OrderItem": item_after_delete,
}


def before_insert(store, sobj, rec):
    if sobj.name in ("Account", "Contact"):
        check_addresses(sobj, rec, rec)
    rule = BEFORE_INSERT.get(sobj.name)
    if rule:
        rule(store, sobj, rec)


def before_update(store, sobj, old, new, values):
    if sobj.name in ("Account", "Contact"):
        check_addresses(sobj, new, values)
    rule = BEFORE_UPDATE.get(sobj.name)
    if rule:
        rule(store, sobj, old, new, values)


def after_write(store, sobj, rec):
    rule = AFTER_WRITE.get(sobj.name)
    if rule:
        rule(store, sobj, rec)


def before_delete(store, sobj, rec):
    rule = BEFORE_DELETE.get(sobj.name)
    return rule(store, sobj, rec) if rule else []


def after_delete(store, sobj, rec):
    rule = AFTER_DELETE.get(sobj.name)
    if rule:
        rule(store, sobj, rec)
