"""POST /services/data/vNN.N/composite (reference §4.1).

The request is checked as a whole first: at most 25 subrequests, at most
5 of them collections or queries, methods spelled as Salesforce wants,
URLs under /services/data/vNN.N/, referenceIds of letters, digits and
underscores, unique, and no Accept/Authorization/Content-Type in
httpHeaders. Any violation answers 400 and runs nothing.

Subrequests then run in order (collateSubrequests is accepted; running in
order is one of the orders Salesforce may choose). "@{ref.path}" in a url
or body is replaced by a value from an earlier result: "." walks an
object, "[n]" an array, names are case-sensitive.

allOrNone=true: the first failure (status >= 300, or a collection with a
failed record) undoes every write; the failing subrequest keeps its own
answer and every other one answers 400 PROCESSING_HALTED "The transaction
was rolled back…". allOrNone=false: a subrequest whose reference cannot be
resolved answers 400 PROCESSING_HALTED and the rest go on.
"""

import re

import errors as E

MAX_SUBREQUESTS = 25
MAX_COLLECTIONS_AND_QUERIES = 5
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
FORBIDDEN_HEADERS = ("accept", "authorization", "content-type")
REFERENCE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]*$")
SUB_URL = re.compile(r"^/services/data/v\d+\.\d/(?P<rest>[^?]*)")
REFERENCE = re.compile(r"@\{(?P<ref>[A-Za-z0-9][A-Za-z0-9_]*)"
                       r"(?P<path>(?:\.[A-Za-z0-9_]+|\[\d+\])*)\}")
STEP = re.compile(r"\.([A-Za-z0-9_]+)|\[(\d+)\]")


class Unresolved(Exception):
    def __init__(self, expr, ref):
        super().__init__(expr)
        self.expr = expr
        self.ref = ref


def bad_request(message, code="INVALID_API_INPUT"):
    """Whole-request failure (§4.1). UNCONFIRMED errorCode; Salesforce's
    wording for each case is not in the reference."""
    return E.SFError(code, message)


def validate(body):
    """Check the envelope and every subrequest; returns (subrequests,
    allOrNone) or raises SFError for a 400."""
    if not isinstance(body, dict) \
            or not isinstance(body.get("compositeRequest"), list):
        raise E.json_parser("The request body must be an object with a "
                            "compositeRequest array")
    for flag in ("allOrNone", "collateSubrequests"):
        if flag in body and not isinstance(body[flag], bool):
            raise E.cannot_deserialize("boolean", "VALUE_STRING",
                                       body[flag])
    subs = body["compositeRequest"]
    if len(subs) > MAX_SUBREQUESTS:
        raise bad_request(f"A composite request may contain at most "
                          f"{MAX_SUBREQUESTS} subrequests; this one has "
                          f"{len(subs)}", "LIMIT_EXCEEDED")
    heavy = 0
    seen = set()
    for i, sub in enumerate(subs):
        where = f"subrequest {i + 1}"
        if not isinstance(sub, dict):
            raise E.json_parser(f"{where} is not an object")
        method = sub.get("method")
        if method not in METHODS:
            raise bad_request(f"{where}: method must be one of "
                              f"{', '.join(METHODS)}, got {method!r}")
        url = sub.get("url")
        m = SUB_URL.match(url) if isinstance(url, str) else None
        if m is None:
            raise bad_request(f"{where}: url must start with "
                              f"/services/data/vXX.X/, got {url!r}")
        rest = m.group("rest")
        if rest.startswith("composite") \
                and not rest.startswith("composite/sobjects"):
            raise bad_request(f"{where}: {url} cannot be a composite "
                              "subrequest")
        if rest.startswith(("composite/sobjects", "query", "queryAll")):
            heavy += 1
        ref = sub.get("referenceId")
        if not isinstance(ref, str) or not REFERENCE_ID.match(ref):
            raise bad_request(f"{where}: referenceId {ref!r} must be "
                              "letters, digits and underscores, starting "
                              "with a letter or digit")
        if ref in seen:
            raise bad_request(f"Duplicate referenceId provided in the "
                              f"request: {ref}")
        seen.add(ref)
        headers = sub.get("httpHeaders", {})
        if not isinstance(headers, dict):
            raise E.json_parser(f"{where}: httpHeaders must be an object")
        for name in headers:
            if name.lower() in FORBIDDEN_HEADERS:
                raise bad_request(f"{where}: the header {name} cannot be "
                                  "set on a subrequest")
    if heavy > MAX_COLLECTIONS_AND_QUERIES:
        raise bad_request("A composite request may contain at most "
                          f"{MAX_COLLECTIONS_AND_QUERIES} sObject "
                          "Collections or query subrequests; this one has "
                          f"{heavy}", "LIMIT_EXCEEDED")
    return subs, body.get("allOrNone", False)


def lookup(results, ref, path):
    """The value at path in the result named ref."""
    expr = ref + path
    if ref not in results:
        raise Unresolved(expr, ref)
    value = results[ref]
    for name, index in STEP.findall(path):
        if name:
            if not isinstance(value, dict) or name not in value:
                raise Unresolved(expr, ref)
            value = value[name]
        else:
            n = int(index)
            if not isinstance(value, list) or n >= len(value):
                raise Unresolved(expr, ref)
            value = value[n]
    return value


def substitute(value, results):
    """Replace every @{…} in strings inside value. A string that is one
    reference and nothing else takes the referenced value as is."""
    if isinstance(value, str):
        whole = REFERENCE.fullmatch(value)
        if whole:
            return lookup(results, whole["ref"], whole["path"])

        def text(m):
            found = lookup(results, m["ref"], m["path"])
            if found is None:
                return "null"
            if isinstance(found, bool):
                return "true" if found else "false"
            return str(found)
        return REFERENCE.sub(text, value)
    if isinstance(value, list):
        return [substitute(v, results) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, results) for k, v in value.items()}
    return value


def answer(reply, ref):
    headers = {k: v for k, v in reply.headers.items() if k == "Location"}
    return {"body": reply.body, "httpHeaders": headers,
            "httpStatusCode": reply.status, "referenceId": ref}


def halted(ref, message=E.ROLLBACK_MESSAGE):
    return {"body": [E.processing_halted(message).rest()],
            "httpHeaders": {}, "httpStatusCode": 400, "referenceId": ref}


def run(rest, body, version):
    """Execute a composite request through rest.dispatch()."""
    from rest import Reply
    subs, all_or_none = validate(body)
    store = rest.store
    snap = store.snapshot()
    results = []
    bodies = {}
    failed_at = None
    for i, sub in enumerate(subs):
        ref = sub["referenceId"]
        try:
            url = substitute(sub["url"], bodies)
            sub_body = substitute(sub.get("body"), bodies)
        except Unresolved as miss:
            result = halted(ref, "Invalid reference specified. No value "
                            f"for {miss.expr} found in {miss.ref}. "
                            f"Provided referenceId ({ref}) could not be "
                            "resolved.")
            failed = True
        else:
            reply = rest.dispatch(sub["method"], str(url), sub_body,
                                  in_composite=True)
            result = answer(reply, ref)
            failed = reply.status >= 300 or reply.partial
        results.append(result)
        bodies[ref] = result["body"]
        if failed and all_or_none:
            failed_at = i
            break
    if failed_at is not None:
        store.restore(snap)
        results = [results[i] if i == failed_at else
                   halted(sub["referenceId"]) for i, sub in enumerate(subs)]
    return Reply(200, {"compositeResponse": results})
