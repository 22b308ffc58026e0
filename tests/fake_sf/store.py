"""Records in memory and the generic write path every resource shares.

A write goes through the same steps whatever resource carried it (a
single sObject call, a collection, a composite subrequest):

  read_body        JSON -> typed values; unknown column or wrong JSON type
                   are request-level errors (§3.3 INVALID_FIELD,
                   JSON_PARSER_ERROR)
  resolve          relationship by external ID, "Account":{"Key__c":"42"}
                   (§2.3), into the lookup field
  check_writable   createable / updateable (INVALID_FIELD_FOR_INSERT_UPDATE)
  check_required   REQUIRED_FIELD_MISSING
  check_values     lengths in UTF-16 code units (STRING_TOO_LONG), e-mail,
                   restricted picklists, numeric range, lookups
                   (MALFORMED_ID, FIELD_INTEGRITY_EXCEPTION,
                   INVALID_CROSS_REFERENCE_KEY, ENTITY_IS_DELETED)
  rules            the object's own rules (rules.py)
  check_unique     DUPLICATE_VALUE

Nothing is stored until every check passed, so a failed record leaves no
trace; transactions (composite allOrNone) use snapshot()/restore().
"""

import datetime as dt
import re
from decimal import Decimal, InvalidOperation, ROUND_HALF_UP

import errors as E
import rules
import schema

ID_CHARS = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")
SUFFIX_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9]"
                   r"(?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
DATETIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})"
                      r"(?:\.(\d{1,3}))?(Z|[+-]\d{2}:?\d{2})$")


def id18(id15):
    """Append the case-safe suffix Salesforce puts on 15-character ids:
    one character per five, encoding which of them are upper case."""
    suffix = ""
    for chunk in range(3):
        bits = 0
        for i in range(5):
            if "A" <= id15[chunk * 5 + i] <= "Z":
                bits |= 1 << i
        suffix += SUFFIX_CHARS[bits]
    return id15 + suffix


def canonical_id(value):
    """The 18-character form of a 15- or 18-character id (§0: requests
    accept both), or None when value is no id at all."""
    if not isinstance(value, str) or not ID_CHARS.match(value):
        return None
    full = id18(value[:15])
    if len(value) == 18 and full.lower() != value.lower():
        return None
    return full


def make_id(prefix, n):
    return id18(f"{prefix}FK{n:010d}")


ORG_ID = make_id("00D", 1)
USER_ID = make_id("005", 1)


def utf16_len(s):
    """Salesforce counts lengths in UTF-16 code units (an emoji is 2)."""
    return len(s.encode("utf-16-le")) // 2


def now_stamp():
    t = dt.datetime.now(dt.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}" \
        + "+0000"


def json_token(value):
    """The parser token name Salesforce's messages use for a value."""
    if isinstance(value, bool):
        return "VALUE_TRUE" if value else "VALUE_FALSE"
    if isinstance(value, int):
        return "VALUE_NUMBER_INT"
    if isinstance(value, (float, Decimal)):
        return "VALUE_NUMBER_FLOAT"
    if isinstance(value, dict):
        return "START_OBJECT"
    if isinstance(value, list):
        return "START_ARRAY"
    if value is None:
        return "VALUE_NULL"
    return "VALUE_STRING"


def shown(value):
    if isinstance(value, dict):
        return "{"
    if isinstance(value, list):
        return "["
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class RelRef:
    """A parent named by external ID inside a record (§2.3), waiting to be
    resolved into its lookup field."""

    def __init__(self, lookup, target, key_field, key_value, name):
        self.lookup = lookup          # the reference Field, e.g. AccountId
        self.target = target          # the parent SObject
        self.key_field = key_field    # Field of the parent, or None
        self.key_value = key_value
        self.name = name              # as written in the body
        self.problem = None           # SFError found while reading


class Store:
    """All records of one fake org, and the DML operations on them."""

    def __init__(self, objects, duplicate_price_code):
        self.objects = objects
        self.prefixes = schema.by_prefix(objects)
        self.duplicate_price_code = duplicate_price_code
        self.reset()

    # --- state ----------------------------------------------------------

    def reset(self):
        self.live = {o.name: {} for o in self.objects.values()}
        self.deleted = {}
        self.counters = {}
        self.seed()

    def seed(self):
        """§5.2: every org has one standard price book, active here."""
        rec = {"Name": "Standard Price Book", "IsActive": True,
               "IsStandard": True, "Description": None}
        self._store(self.objects["pricebook2"], rec)

    def drop_standard_pricebook(self):
        """For a knob: the standard price book and everything hanging on
        it leave without the rules that normally forbid it."""
        book = self.standard_pricebook()
        if book is None:
            return
        for entry in self.children("PricebookEntry", "Pricebook2Id",
                                   book["Id"]):
            for item in self.children("OrderItem", "PricebookEntryId",
                                      entry["Id"]):
                self._bury(self.objects["orderitem"], item)
            self._bury(self.objects["pricebookentry"], entry)
        self._bury(self.objects["pricebook2"], book)

    def snapshot(self):
        return ({name: {i: dict(r) for i, r in recs.items()}
                 for name, recs in self.live.items()},
                dict(self.deleted), dict(self.counters))

    def restore(self, snap):
        live, deleted, counters = snap
        self.live = {name: {i: dict(r) for i, r in recs.items()}
                     for name, recs in live.items()}
        self.deleted = dict(deleted)
        self.counters = dict(counters)

    def next_number(self, name):
        self.counters[name] = self.counters.get(name, 0) + 1
        return self.counters[name]

    # --- lookups --------------------------------------------------------

    def sobject(self, name):
        return self.objects.get(name.lower())

    def standard_pricebook(self):
        for rec in self.live["Pricebook2"].values():
            if rec.get("IsStandard"):
                return rec
        return None

    def records(self, sobj):
        return list(self.live[sobj.name].values())

    def get(self, sobj, any_id):
        """(record, None) or (None, error) for an id given in a URL."""
        rid = canonical_id(any_id)
        if rid is None or not rid.startswith(sobj.prefix):
            label = f"{sobj.label} ID"
            return None, E.malformed_id(label, any_id)
        rec = self.live[sobj.name].get(rid)
        if rec is not None:
            return rec, None
        if rid in self.deleted:
            return None, E.entity_deleted()
        return None, E.not_found()

    def find_any(self, rid):
        """The live record with this canonical id, of whatever type."""
        sobj = self.prefixes.get(rid[:3])
        if sobj is None:
            return None, None
        return sobj, self.live[sobj.name].get(rid)

    def match(self, sobj, field, value):
        """Live records whose field equals value, under the field's case
        rule (§2.3, §5.8: only Unique + case-insensitive fields, and
        idLookup standard fields like Email, ignore case)."""
        if field.type == "id":
            rid = canonical_id(value)
            rec = self.live[sobj.name].get(rid) if rid else None
            return [rec] if rec else []
        want = str(value)
        fold = not field.case_sensitive
        if fold:
            want = want.casefold()
        out = []
        for rec in self.live[sobj.name].values():
            have = rec.get(field.name)
            if have is None:
                continue
            have = str(have)
            if (have.casefold() if fold else have) == want:
                out.append(rec)
        return out

    def children(self, sobj_name, field, parent_id):
        return [r for r in self.live[sobj_name].values()
                if r.get(field) == parent_id]

    # --- reading a body (request level) ---------------------------------

    def read_body(self, sobj, body):
        """Turn one JSON record into {field name: value}. Raises SFError
        (request_level) for an unknown column or a JSON value of the wrong
        type; relationship problems are kept on the RelRef and raised as
        record errors by resolve()."""
        if not isinstance(body, dict):
            raise E.cannot_deserialize("SObject", json_token(body),
                                       shown(body))
        values = {}
        for key, raw in body.items():
            if key == "attributes":
                continue
            field = sobj.field(key)
            if field is not None:
                values[field.name] = self.coerce(field, raw)
                continue
            lookup = sobj.relationship(key)
            if lookup is not None and (isinstance(raw, dict) or raw is None):
                values[lookup.relationship] = self.read_relationship(
                    lookup, key, raw)
                continue
            raise E.no_such_column(key, sobj.name)
        return values

    def read_relationship(self, lookup, name, raw):
        target = self.sobject(lookup.reference_to)
        keys = [k for k in (raw or {}) if k != "attributes"]
        ref = RelRef(lookup, target, None, None, name)
        if target is None:
            ref.problem = E.SFError("INVALID_FIELD",
                                    f"Cannot use {name} as a foreign key "
                                    "reference")
            return ref
        if len(keys) != 1:
            ref.problem = E.SFError(
                "INVALID_FIELD",
                "An external foreign key reference must name exactly one "
                f"field, in entity: {target.name}")
            return ref
        key_field = target.field(keys[0])
        if key_field is None:
            raise E.no_such_column(keys[0], target.name)
        if not key_field.id_lookup:
            ref.problem = E.SFError(
                "INVALID_FIELD",
                f"Field name provided, {key_field.name} does not match an "
                "External ID, Salesforce Id, or Indexed field for "
                f"{target.name}")
        ref.key_field = key_field
        ref.key_value = self.coerce(key_field, raw[keys[0]])
        return ref

    def coerce(self, field, raw):
        """JSON value -> stored value, the way Salesforce's JSON reader is
        lenient (numbers and booleans given as strings) or strict (an
        object for a string, a bad date)."""
        t = field.type
        if isinstance(raw, str) and raw == "" and t != "boolean":
            return None
        if raw is None:
            return False if t == "boolean" else None
        if t in schema.TEXT_TYPES or t in ("id", "reference"):
            if isinstance(raw, (dict, list)):
                raise E.cannot_deserialize("string", json_token(raw),
                                           shown(raw))
            return shown(raw) if not isinstance(raw, str) else raw
        if t == "boolean":
            if isinstance(raw, bool):
                return raw
            if isinstance(raw, str) and raw.lower() in ("true", "false"):
                return raw.lower() == "true"
            raise E.cannot_deserialize("boolean", json_token(raw),
                                       shown(raw))
        if t in schema.NUMBER_TYPES:
            kind = "int" if t == "int" else "double"
            if isinstance(raw, bool) or isinstance(raw, (dict, list)):
                raise E.cannot_deserialize(kind, json_token(raw), shown(raw))
            try:
                value = Decimal(str(raw).strip())
            except InvalidOperation:
                raise E.cannot_deserialize(kind, json_token(raw), shown(raw))
            if not value.is_finite():
                raise E.cannot_deserialize(kind, json_token(raw), shown(raw))
            return value
        if t == "date":
            day = parse_date(raw)
            if day is None:
                raise E.cannot_deserialize("date", json_token(raw),
                                           shown(raw))
            return day
        if t == "datetime":
            stamp = parse_datetime(raw)
            if stamp is None:
                raise E.cannot_deserialize("datetime", json_token(raw),
                                           shown(raw))
            return stamp
        return raw

    # --- record checks --------------------------------------------------

    def resolve(self, sobj, values):
        """Replace each RelRef by the parent's Id in its lookup field
        (§2.3). No match: INVALID_FIELD "Foreign key external ID: …"."""
        for name in [k for k, v in values.items() if isinstance(v, RelRef)]:
            ref = values.pop(name)
            if ref.problem is not None:
                raise ref.problem
            lookup = ref.lookup
            if lookup.name in values:
                raise E.SFError(
                    "INVALID_FIELD",
                    "Cannot specify both an external ID reference "
                    f"{ref.name} and a salesforce id, {lookup.name}")
            if ref.key_value is None:
                raise E.foreign_key_not_found("null", ref.key_field.name,
                                              ref.target.name)
            found = self.match(ref.target, ref.key_field, ref.key_value)
            if not found:
                raise E.foreign_key_not_found(ref.key_value,
                                              ref.key_field.name,
                                              ref.target.name)
            if len(found) > 1:
                raise E.SFError(
                    "INVALID_FIELD",
                    f"Foreign key external ID: {ref.key_value} matched "
                    f"more than one record for field {ref.key_field.name} "
                    f"in entity {ref.target.name}")
            values[lookup.name] = found[0]["Id"]

    def check_writable(self, sobj, values, existing):
        """§3.3 INVALID_FIELD_FOR_INSERT_UPDATE. A create-only field sent
        again on update with its stored value is accepted and ignored;
        with another value it fails."""
        bad = []
        for name in list(values):
            field = sobj.field(name)
            if existing is None:
                if not field.createable:
                    bad.append(name)
                continue
            if field.updateable:
                continue
            same = existing.get(name) == values[name]
            if field.type in ("id", "reference"):
                same = existing.get(name) == canonical_id(values[name])
            if field.createable and same:
                del values[name]
            elif name == "Id" and same:
                del values[name]
            else:
                bad.append(name)
        if bad:
            raise E.not_writable(bad)

    def check_required(self, sobj, rec):
        missing = [f.name for f in sobj.fields
                   if f.required and rec.get(f.name) is None]
        if missing:
            raise E.required_missing(missing)

    def check_values(self, sobj, values):
        """Per-field checks on the values being written; normalises
        numbers to the field's scale and ids to 18 characters."""
        for name, value in values.items():
            if value is None:
                continue
            field = sobj.field(name)
            t = field.type
            if t in schema.TEXT_TYPES:
                self.check_text(field, value)
            elif t in ("currency", "double", "percent", "int"):
                values[name] = self.check_number(field, value)
            elif t == "reference":
                values[name] = self.check_reference(field, value)

    def check_text(self, field, value):
        if field.length and utf16_len(value) > field.length:
            raise E.string_too_long(field.label, value, field.length,
                                    field.name)
        if field.type == "email" and not EMAIL.match(value):
            raise E.invalid_email(field.label, value, field.name)
        if field.restricted and value not in field.picklist:
            raise E.bad_picklist(field.label, value, field.name)

    def check_number(self, field, value):
        """Round to the field's scale; too many integer digits is
        NUMBER_OUTSIDE_VALID_RANGE."""
        if field.type == "int":
            if value != value.to_integral_value():
                raise E.cannot_deserialize("int", "VALUE_NUMBER_FLOAT",
                                           value)
            return value
        step = Decimal(1).scaleb(-field.scale)
        limit = Decimal(10) ** (field.precision - field.scale)
        # Compare before rounding: quantize() itself fails on 1e400.
        if abs(value) >= limit:
            raise E.number_out_of_range(field.label, value, field.name)
        value = value.quantize(step, rounding=ROUND_HALF_UP)
        if abs(value) >= limit:
            raise E.number_out_of_range(field.label, value, field.name)
        return value

    def check_reference(self, field, value):
        """A lookup given as an Id: malformed, of another object, gone or
        unknown each have their own error."""
        rid = canonical_id(value)
        if rid is None:
            raise E.malformed_id(field.label, value, field.name)
        if field.reference_to == "User":
            if rid != USER_ID:
                raise E.cross_reference(field.name)
            return rid
        target = self.sobject(field.reference_to)
        if not rid.startswith(target.prefix):
            raise E.field_integrity(
                f"{field.label}: id value of incorrect type: {value}",
                [field.name])
        if rid in self.live[target.name]:
            return rid
        if rid in self.deleted:
            raise E.SFError("ENTITY_IS_DELETED", "entity is deleted",
                            [field.name])
        raise E.cross_reference(field.name)

    def check_unique(self, sobj, rec):
        for field in sobj.fields:
            value = rec.get(field.name)
            if not field.unique or value is None:
                continue
            for other in self.match(sobj, field, value):
                if other["Id"] != rec.get("Id"):
                    raise E.duplicate_value(field.name, other["Id"])

    # --- DML ------------------------------------------------------------

    def insert(self, sobj, values):
        """Create from read_body() output; returns the new Id."""
        if "Id" in values:
            raise E.SFError("INVALID_FIELD",
                            "cannot specify Id in an insert call")
        self.resolve(sobj, values)
        self.check_writable(sobj, values, None)
        rec = {f.name: f.default for f in sobj.fields
               if f.default is not None}
        if sobj.field("OwnerId"):
            rec["OwnerId"] = USER_ID
        rec.update(values)
        self.check_required(sobj, rec)
        self.check_values(sobj, values)
        rec.update(values)
        rules.before_insert(self, sobj, rec)
        self.check_unique(sobj, rec)
        self._store(sobj, rec)
        rules.after_write(self, sobj, rec)
        return rec["Id"]

    def update(self, sobj, existing, values):
        """Apply read_body() output to an existing live record."""
        self.resolve(sobj, values)
        self.check_writable(sobj, values, existing)
        rec = dict(existing)
        rec.update(values)
        self.check_required(sobj, rec)
        self.check_values(sobj, values)
        rec.update(values)
        rules.before_update(self, sobj, existing, rec, values)
        self.check_unique(sobj, rec)
        rec["LastModifiedDate"] = rec["SystemModstamp"] = now_stamp()
        self.live[sobj.name][rec["Id"]] = rec
        rules.after_write(self, sobj, rec)
        return rec["Id"]

    def upsert(self, sobj, field, key, values):
        """§2.3 matching: none -> create with the key set, one -> update.
        Returns (id, created). Several matches raise MultipleMatches."""
        found = self.match(sobj, field, key)
        if len(found) > 1:
            raise MultipleMatches(found)
        if not found:
            values[field.name] = key
            return self.insert(sobj, values), True
        values.pop(field.name, None)
        return self.update(sobj, found[0], values), False

    def delete(self, sobj, rec):
        """§2.5: the record goes to the recycle bin; later reads answer
        ENTITY_IS_DELETED. Object rules may refuse or cascade."""
        cascade = rules.before_delete(self, sobj, rec)
        for child_sobj, child in cascade:
            self._bury(child_sobj, child)
        self._bury(sobj, rec)
        rules.after_delete(self, sobj, rec)

    def _bury(self, sobj, rec):
        if self.live[sobj.name].pop(rec["Id"], None) is not None:
            gone = dict(rec, IsDeleted=True)
            self.deleted[rec["Id"]] = (sobj.name, gone)

    def _store(self, sobj, rec):
        rid = make_id(sobj.prefix, self.next_number(sobj.name))
        stamp = now_stamp()
        rec.update({"Id": rid, "IsDeleted": False, "CreatedDate": stamp,
                    "CreatedById": USER_ID, "LastModifiedDate": stamp,
                    "LastModifiedById": USER_ID, "SystemModstamp": stamp})
        self.live[sobj.name][rid] = rec
        return rid

    # --- output ---------------------------------------------------------

    def to_json(self, sobj, rec, version, fields=None):
        """A record as GET /sobjects/{Type}/{Id} shows it: attributes, then
        every field (null when unset)."""
        out = {"attributes": {
            "type": sobj.name,
            "url": f"/services/data/v{version}/sobjects/{sobj.name}/"
                   f"{rec['Id']}"}}
        for field in sobj.fields:
            if fields is None or field.name in fields:
                out[field.name] = rec.get(field.name)
        return out

    def plain(self, sobj, rec):
        """A record for the control API: every field, no attributes."""
        return {f.name: rec.get(f.name) for f in sobj.fields}


class MultipleMatches(Exception):
    """An external ID matched more than one record (§2.3: 300)."""

    def __init__(self, records):
        super().__init__("multiple matches")
        self.records = records


def parse_date(raw):
    """§0: dates are yyyy-MM-dd, no time, no offset."""
    if not isinstance(raw, str):
        return None
    m = DATE.match(raw)
    if not m:
        return None
    try:
        dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None
    return raw


def parse_datetime(raw):
    """§0: yyyy-MM-ddTHH:mm:ss[.SSS](Z|+HH:MM); stored the way Salesforce
    answers, in UTC with "+0000"."""
    if not isinstance(raw, str):
        return None
    m = DATETIME.match(raw)
    if not m:
        return None
    zone = m[8]
    if zone == "Z":
        offset = dt.timedelta(0)
    else:
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = sign * dt.timedelta(hours=int(digits[:2]),
                                     minutes=int(digits[2:]))
    try:
        t = dt.datetime(int(m[1]), int(m[2]), int(m[3]), int(m[4]),
                        int(m[5]), int(m[6]),
                        tzinfo=dt.timezone(offset))
    except ValueError:
        return None
    millis = int((m[7] or "0").ljust(3, "0"))
    t = t.astimezone(dt.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis:03d}+0000"
