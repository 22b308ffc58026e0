"""REST resources under /services/data/vNN.N/ (reference §0, §2, §3, §4.2).

Rest.dispatch() answers one request given its method, URL and parsed
body, the same way for a top-level call and for a composite subrequest
(composite.py calls back into it). Authentication, API counting and fault
injection happen before, in fake_sf.py.
"""

import re
from urllib.parse import parse_qs, unquote, urlsplit

import composite
import errors as E
import soql
from store import MultipleMatches, canonical_id

JSON_TYPE = "application/json;charset=UTF-8"
VERSION = re.compile(r"^v(\d+)\.(\d)$")
MAX_RECORDS = 200
MAX_CHUNKS = 10
SEASONS = ("Summer", "Winter", "Spring")


class Reply:
    """An HTTP answer: status, JSON body (or raw bytes), headers.
    partial marks a collections answer in which some record failed, which
    a composite allOrNone treats as a failure (§4.1)."""

    def __init__(self, status, body=None, headers=None, raw=None,
                 content_type=JSON_TYPE, partial=False):
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.raw = raw
        self.content_type = content_type
        self.partial = partial


def error_reply(err):
    return Reply(err.status, [err.rest()])


def version_label(number):
    """46.0 was Summer '19; three releases a year since."""
    index = int(number) - 46
    season = SEASONS[index % 3]
    year = 19 + (index + 1) // 3
    return f"{season} '{year:02d}"


class Versions:
    """The versions the fake serves: 46.0 (the first with the collections
    upsert and the 200/created upsert answers, §0) to max_version."""

    def __init__(self, max_version):
        self.max = int(float(max_version))
        self.min = 46

    def listing(self):
        return [{"label": version_label(v), "url": f"/services/data/v{v}.0",
                 "version": f"{v}.0"} for v in range(self.min, self.max + 1)]

    def check(self, segment):
        """'v62.0' -> '62.0'. Retired versions answer 410 (§0; the body's
        errorCode GONE is UNCONFIRMED), unknown ones 404."""
        m = VERSION.match(segment or "")
        if not m:
            raise E.not_found()
        number = int(m[1])
        if number < self.min:
            raise E.SFError("GONE", f"API version {m[1]}.{m[2]} is retired "
                            f"in this org; use {self.min}.0 or later",
                            status=410)
        if number > self.max or m[2] != "0":
            raise E.not_found()
        return f"{m[1]}.{m[2]}"


def split_url(url):
    """'/services/data/v62.0/sobjects/A/B%2FC?x=1' ->
    ('v62.0', ['sobjects', 'A', 'B/C'], {'x': ['1']}). Segments are
    percent-decoded one by one, so an encoded '/' stays inside its
    segment (§2.4); '+' in a path is a plus."""
    parts = urlsplit(url)
    path = parts.path
    prefix = "/services/data/"
    if not path.startswith(prefix):
        raise E.not_found()
    segs = [unquote(s) for s in path[len(prefix):].split("/")]
    version = segs.pop(0) if segs else ""
    query = parse_qs(parts.query, keep_blank_values=True)
    return version, segs, query


def param(query, name):
    values = query.get(name)
    return values[0] if values else None


class Rest:
    def __init__(self, store, versions, limits):
        self.store = store
        self.versions = versions
        self.limits = limits          # () -> (used, max)

    # --- routing --------------------------------------------------------

    def dispatch(self, method, url, body, in_composite=False):
        """Answer one data request. body is the parsed JSON (numbers as
        Decimal), None, or an SFError from parsing it."""
        try:
            version_seg, segs, query = split_url(url)
            version = self.versions.check(version_seg)
            return self.route(method, version, segs, query, body,
                              in_composite)
        except E.SFError as err:
            return error_reply(err)

    def route(self, method, version, segs, query, body, in_composite):
        if method == "POST" and param(query, "_HttpMethod"):
            method = param(query, "_HttpMethod")
        head = segs[0] if segs else ""
        rest = segs[1:]
        if head == "" and len(segs) <= 1:
            return self.resources(method, version)
        if head == "sobjects":
            return self.sobjects(method, version, rest, query, body)
        if head in ("query", "queryAll") and rest in ([], [""]):
            return self.query(method, version, query, head == "queryAll")
        if head == "limits" and rest in ([], [""]):
            return self.limits_resource(method)
        if head == "composite" and rest[:1] == ["sobjects"]:
            return self.collections(method, version, rest[1:], query, body)
        if head == "composite" and rest in ([], [""]) and not in_composite:
            if method == "GET":
                base = f"/services/data/v{version}/composite"
                return Reply(200, {"sobjects": base + "/sobjects"})
            if method != "POST":
                raise E.method_not_allowed(method, "GET,HEAD,POST")
            if isinstance(body, E.SFError):
                raise body
            return composite.run(self, body, version)
        # XXX composite/batch, composite/tree and composite/graph (§4.3-4.5)
        # are not served; wc2sf does not use them.
        raise E.not_found()

    def resources(self, method, version):
        base = f"/services/data/v{version}"
        return Reply(200, {name: f"{base}/{name}" for name in
                           ("sobjects", "query", "queryAll", "composite",
                            "limits")})

    def limits_resource(self, method):
        used, most = self.limits()
        return Reply(200, {
            "DailyApiRequests": {"Max": most,
                                 "Remaining": max(most - used, 0)},
            "DataStorageMB": {"Max": 5, "Remaining": 5},
        })

    def query(self, method, version, query, include_deleted):
        if method != "GET":
            raise E.method_not_allowed(method, "GET,HEAD")
        text = param(query, "q")
        return Reply(200, soql.run(self.store, text, version,
                                   include_deleted))

    # --- single records (§2) --------------------------------------------

    def sobjects(self, method, version, segs, query, body):
        store = self.store
        if segs in ([], [""]):
            if method != "GET":
                raise E.method_not_allowed(method, "HEAD,GET")
            return Reply(200, {"encoding": "UTF-8", "maxBatchSize": 200,
                               "sobjects": [o.summary(version) for o in
                                            store.objects.values()]})
        sobj = store.sobject(segs[0])
        if sobj is None:
            raise E.not_found()
        rest = segs[1:]
        if rest in ([], [""]):
            if method == "GET":
                return Reply(200, {"objectDescribe": sobj.summary(version),
                                   "recentItems": []})
            if method == "POST":
                return self.create(sobj, version, body, created_flag=False)
            raise E.method_not_allowed(method, "HEAD,GET,POST")
        if rest == ["describe"]:
            if method != "GET":
                raise E.method_not_allowed(method, "HEAD,GET")
            return Reply(200, sobj.describe(version))
        if len(rest) == 1:
            return self.by_id(method, sobj, version, rest[0], query, body)
        if len(rest) == 2:
            return self.by_key(method, sobj, version, rest[0], rest[1],
                               query, body)
        raise E.not_found()

    def create(self, sobj, version, body, created_flag):
        """§2.1: 201 {"id","success","errors"}; through /sobjects/T/Id
        (§2.3) the body also says created:true."""
        values = self.read(sobj, body)
        rid = self.store.insert(sobj, values)
        out = {"id": rid, "success": True, "errors": []}
        if created_flag:
            out["created"] = True
        return Reply(201, out, self.location(sobj, version, rid))

    def by_id(self, method, sobj, version, segment, query, body):
        """/sobjects/T/{Id}: GET, PATCH (204), DELETE (204). A segment
        that is a field name is an external ID URL without its value."""
        if segment == "Id" and method == "POST":
            return self.create(sobj, version, body, created_flag=True)
        field = sobj.field(segment)
        if field is not None:
            if method == "GET":
                raise E.not_found()
            raise E.method_not_allowed(method, "GET,HEAD,POST")
        if canonical_id(segment) is None:
            raise E.ext_field_not_found(segment)
        rec, err = self.store.get(sobj, segment)
        if err is not None:
            raise err
        if method in ("GET", "HEAD"):
            return Reply(200, self.record_json(sobj, rec, version, query))
        if method == "PATCH":
            values = self.read(sobj, body)
            self.store.update(sobj, rec, values)
            return Reply(204)
        if method == "DELETE":
            self.store.delete(sobj, rec)
            return Reply(204)
        raise E.method_not_allowed(method, "GET,HEAD,PATCH,DELETE")

    def by_key(self, method, sobj, version, name, value, query, body):
        """/sobjects/T/{ExtField}/{value} (§2.3, §2.5): GET, upsert with
        PATCH (or POST), DELETE; 300 with record URLs on several
        matches."""
        field = sobj.field(name)
        if field is None:
            raise E.ext_field_not_found(name)
        if field.type == "id":
            return self.by_id(method, sobj, version, value, query, body)
        if value == "":
            raise E.method_not_allowed(method, "GET,HEAD,POST")
        key = self.store.coerce(field, value)
        if method in ("GET", "HEAD", "DELETE"):
            found = self.store.match(sobj, field, key)
            if not found:
                raise E.not_found()
            if len(found) > 1:
                return self.multiple(sobj, version, found)
            if method == "DELETE":
                self.store.delete(sobj, found[0])
                return Reply(204)
            return Reply(200, self.record_json(sobj, found[0], version,
                                               query))
        if method not in ("PATCH", "POST"):
            raise E.method_not_allowed(method, "GET,HEAD,PATCH,DELETE")
        if not field.id_lookup:
            raise not_a_key(sobj, field)
        values = self.read(sobj, body)
        repeated = [k for k in values if k in (field.name, "Id")]
        if repeated:
            # UNCONFIRMED code (§2.3): the key belongs in the URL only.
            raise E.SFError("INVALID_FIELD",
                            f"The field {repeated[0]} is given in the URL "
                            "and must not be repeated in the request body",
                            repeated)
        try:
            rid, created = self.store.upsert(sobj, field, key, values)
        except MultipleMatches as many:
            return self.multiple(sobj, version, many.records)
        out = {"id": rid, "success": True, "errors": [], "created": created}
        if created:
            return Reply(201, out, self.location(sobj, version, rid))
        return Reply(200, out)

    def read(self, sobj, body):
        if isinstance(body, E.SFError):
            raise body
        if body is None:
            raise E.json_parser("No content to map due to end-of-input")
        return self.store.read_body(sobj, body)

    def record_json(self, sobj, rec, version, query):
        fields = param(query, "fields")
        wanted = None
        if fields:
            wanted = set()
            for name in fields.split(","):
                field = sobj.field(name.strip())
                if field is None:
                    raise E.SFError("INVALID_FIELD",
                                    f"No such column '{name.strip()}' on "
                                    f"entity '{sobj.name}'. "
                                    f"{soql.FIELD_HINT}")
                wanted.add(field.name)
        return self.store.to_json(sobj, rec, version, wanted)

    def multiple(self, sobj, version, records):
        """§2.3: 300 with the URLs of the matching records."""
        return Reply(300, [f"/services/data/v{version}/sobjects/{sobj.name}/"
                           f"{r['Id']}" for r in records])

    def location(self, sobj, version, rid):
        return {"Location": f"/services/data/v{version}/sobjects/"
                            f"{sobj.name}/{rid}"}

    # --- sObject Collections (§4.2) -------------------------------------

    def collections(self, method, version, segs, query, body):
        if segs in ([], [""]):
            if method == "POST":
                return self.collection_write(body, "create", None, None)
            if method == "PATCH":
                return self.collection_write(body, "update", None, None)
            if method == "DELETE":
                return self.collection_delete(query)
            raise E.method_not_allowed(method, "DELETE,PATCH,POST")
        sobj = self.store.sobject(segs[0])
        if sobj is None:
            raise E.not_found()
        if len(segs) == 1:
            if method in ("GET", "POST"):
                return self.collection_retrieve(method, sobj, version,
                                                query, body)
            raise E.method_not_allowed(method, "GET,POST")
        if len(segs) == 2:
            if method != "PATCH":
                raise E.method_not_allowed(method, "PATCH")
            field = sobj.field(segs[1])
            if field is None:
                raise E.ext_field_not_found(segs[1])
            if field.type == "id":
                raise E.SFError("INVALID_FIELD", "Only external ID fields "
                                "can be used in an upsert of a collection")
            if not field.id_lookup:
                raise not_a_key(sobj, field)
            return self.collection_write(body, "upsert", sobj, field)
        raise E.not_found()

    def collection_body(self, body):
        """Check the request envelope; a bad one fails the whole call
        with 400 and nothing is written (§4.2)."""
        if isinstance(body, E.SFError):
            raise body
        if not isinstance(body, dict) or not isinstance(body.get("records"),
                                                        list):
            raise E.json_parser("The request body must be an object with "
                                "a records array")
        all_or_none = body.get("allOrNone", False)
        if not isinstance(all_or_none, bool):
            raise E.cannot_deserialize("boolean", "VALUE_STRING",
                                       all_or_none)
        records = body["records"]
        if len(records) > MAX_RECORDS:
            raise E.SFError("EXCEEDED_ID_LIMIT",
                            "record limit reached. cannot submit more than "
                            "200 records into this call")
        return records, all_or_none

    def record_type(self, rec, want=None):
        """attributes.type of one record (required, §4.2)."""
        attrs = rec.get("attributes") if isinstance(rec, dict) else None
        name = attrs.get("type") if isinstance(attrs, dict) else None
        if not isinstance(name, str):
            raise E.json_parser("Each record must have an attributes map "
                                "with a type")
        sobj = self.store.sobject(name)
        if sobj is None:
            raise E.invalid_type(name)
        if want is not None and sobj is not want:
            raise E.SFError("INVALID_TYPE",
                            f"Record type {name} does not match the type "
                            f"{want.name} of the request URL")
        return sobj

    def collection_write(self, body, op, url_sobj, key_field):
        """create / update / upsert of up to 200 records.

        First every record is read (request-level errors fail the call
        with 400), then each is written in order. With allOrNone a
        failure undoes every write: the failed records keep their error,
        the others report ALL_OR_NONE_OPERATION_ROLLED_BACK."""
        records, all_or_none = self.collection_body(body)
        prepared = []
        for rec in records:
            sobj = self.record_type(rec, url_sobj)
            try:
                values = self.store.read_body(sobj, rec)
                problem = None
            except E.SFError as err:
                if err.request_level:
                    raise
                values, problem = None, err
            prepared.append((sobj, values, problem))
        if op != "upsert":
            check_chunks([p[0] for p in prepared])
        if op == "upsert":
            mark_duplicate_keys(prepared, key_field)
        snap = self.store.snapshot()
        results = []
        failed = False
        for sobj, values, problem in prepared:
            rid = values.get("Id") if op == "update" and values else None
            try:
                if problem is not None:
                    raise problem
                result = self.write_one(op, sobj, values, key_field)
            except E.SFError as err:
                failed = True
                result = {"success": False, "errors": [err.record()]}
                if rid:
                    result = {"id": rid, **result}
            results.append(result)
        if failed and all_or_none:
            self.store.restore(snap)
            rolled = E.all_or_none_rolled_back().record()
            results = [r if not r["success"] else
                       {**({"id": r["id"]} if op == "update" else {}),
                        "success": False, "errors": [rolled]}
                       for r in results]
        return Reply(200, results, partial=failed)

    def write_one(self, op, sobj, values, key_field):
        store = self.store
        if op == "create":
            rid = store.insert(sobj, values)
            return {"id": rid, "success": True, "errors": []}
        if op == "update":
            rid = values.pop("Id", None)
            if rid is None:
                raise E.SFError("MISSING_ARGUMENT",
                                "Id not specified in an update call")
            rec, err = self.lookup(sobj, rid)
            if err is not None:
                raise err
            store.update(sobj, rec, values)
            return {"id": rec["Id"], "success": True, "errors": []}
        if "Id" in values:
            raise E.SFError("INVALID_FIELD", "cannot specify Id in an "
                            "upsert call by external ID", ["Id"])
        key = values.get(key_field.name)
        if key is None:
            raise E.SFError("MISSING_ARGUMENT",
                            f"{key_field.name} not specified",
                            [key_field.name])
        try:
            rid, created = store.upsert(sobj, key_field, key, values)
        except MultipleMatches:
            # UNCONFIRMED code: the single-record form answers 300.
            raise E.SFError("MULTIPLE_CHOICES",
                            f"More than one record found for "
                            f"{key_field.name}: {key}", [key_field.name])
        return {"id": rid, "success": True, "errors": [],
                "created": created}

    def lookup(self, sobj, rid):
        """A record named by Id inside a collection: the error codes of a
        per-record result."""
        full = canonical_id(rid)
        if full is None:
            return None, E.SFError("MALFORMED_ID", f"malformed id {rid}",
                                   ["Id"])
        if sobj is not None and not full.startswith(sobj.prefix):
            return None, E.malformed_id(f"{sobj.label} ID", rid)
        owner, rec = self.store.find_any(full)
        if rec is not None:
            return rec, None
        if full in self.store.deleted:
            return None, E.SFError("ENTITY_IS_DELETED", "entity is deleted")
        return None, E.SFError("INVALID_CROSS_REFERENCE_KEY",
                               "invalid cross reference id")

    def collection_delete(self, query):
        """DELETE /composite/sobjects?ids=a,b&allOrNone=false (§2.5)."""
        ids = [i for i in (param(query, "ids") or "").split(",") if i]
        if not ids:
            raise E.SFError("MISSING_ARGUMENT", "ids not specified")
        if len(ids) > MAX_RECORDS:
            raise E.SFError("EXCEEDED_ID_LIMIT",
                            "record limit reached. cannot submit more than "
                            "200 records into this call")
        all_or_none = (param(query, "allOrNone") or "false").lower() \
            == "true"
        snap = self.store.snapshot()
        results = []
        failed = False
        for rid in ids:
            rec, err = self.lookup(None, rid)
            try:
                if err is not None:
                    raise err
                sobj, _ = self.store.find_any(rec["Id"])
                self.store.delete(sobj, rec)
                results.append({"id": rec["Id"], "success": True,
                                "errors": []})
            except E.SFError as error:
                failed = True
                results.append({"id": rid, "success": False,
                                "errors": [error.record()]})
        if failed and all_or_none:
            self.store.restore(snap)
            rolled = E.all_or_none_rolled_back().record()
            results = [r if not r["success"] else
                       {"id": r["id"], "success": False, "errors": [rolled]}
                       for r in results]
        return Reply(200, results, partial=failed)

    def collection_retrieve(self, method, sobj, version, query, body):
        """GET ?ids=&fields= or POST {"ids","fields"}: records in the
        order asked, null for ids that name nothing."""
        if method == "GET":
            ids = (param(query, "ids") or "").split(",")
            fields = (param(query, "fields") or "").split(",")
        else:
            if not isinstance(body, dict):
                raise E.json_parser("The request body must be an object "
                                    "with ids and fields")
            ids, fields = body.get("ids") or [], body.get("fields") or []
        ids = [i for i in ids if i]
        fields = [f.strip() for f in fields if f and f.strip()]
        if not ids or not fields:
            raise E.SFError("MISSING_ARGUMENT", "ids and fields are "
                            "required")
        wanted = set()
        for name in fields:
            field = sobj.field(name)
            if field is None:
                raise E.SFError("INVALID_FIELD",
                                f"No such column '{name}' on entity "
                                f"'{sobj.name}'. {soql.FIELD_HINT}")
            wanted.add(field.name)
        out = []
        for rid in ids:
            full = canonical_id(rid)
            rec = self.store.live[sobj.name].get(full) if full else None
            out.append(self.store.to_json(sobj, rec, version, wanted)
                       if rec else None)
        return Reply(200, out)


def not_a_key(sobj, field):
    return E.SFError("INVALID_FIELD",
                     f"Field name provided, {field.name} does not match an "
                     "External ID, Salesforce Id, or Indexed field for "
                     f"{sobj.name}")


def check_chunks(types):
    """§4.2: consecutive runs of one type are chunks; at most 10."""
    chunks = sum(1 for i, t in enumerate(types)
                 if i == 0 or types[i - 1] is not t)
    if chunks > MAX_CHUNKS:
        raise E.SFError("INVALID_BATCH_REQUEST",
                        "Cannot have more than 10 chunks in a single "
                        "operation. Please rearrange the data to reduce "
                        "chunking.")


def mark_duplicate_keys(prepared, field):
    """Records of one upsert call sharing a key all fail with
    DUPLICATE_VALUE "Duplicate external id specified" (§3.3)."""
    seen = {}
    for i, (sobj, values, problem) in enumerate(prepared):
        if problem is not None or values is None:
            continue
        key = values.get(field.name)
        if key is None:
            continue
        norm = str(key) if field.case_sensitive else str(key).casefold()
        seen.setdefault(norm, []).append(i)
    for norm, where in seen.items():
        if len(where) < 2:
            continue
        for i in where:
            sobj, values, _ = prepared[i]
            err = E.duplicate_external_id(field.name,
                                          values.get(field.name))
            prepared[i] = (sobj, values, err)
