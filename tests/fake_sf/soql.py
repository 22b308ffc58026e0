"""The small SOQL subset wc2sf uses, for GET /query and /queryAll.

  SELECT f1, Rel.f2 FROM Type
      [WHERE path = literal [AND path != literal ...]]
      [ORDER BY path [ASC|DESC]] [LIMIT n]

Paths may go through lookups ("Order.WC_Order_Id__c" on OrderItem).
Literals: 'string' (backslash escapes), numbers, true, false, null. Text
comparisons ignore case, as SOQL's do; Id literals may have 15 or 18
characters. Anything else (OR, IN, LIKE, functions, sub-queries) answers
MALFORMED_QUERY, so a client relying on more fails loudly.
"""

import re
from decimal import Decimal

import errors as E
import schema
from store import canonical_id

TOKEN = re.compile(r"""\s*(?:
      (?P<str>'(?:[^'\\]|\\.)*')
    | (?P<num>-?\d+(?:\.\d+)?)(?![A-Za-z_])
    | (?P<op>!=|=|,)
    | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
    | (?P<bad>\S)
    )""", re.X)
ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f",
           '"': '"', "'": "'", "\\": "\\"}

FIELD_HINT = ("If you are attempting to use a custom field, be sure to "
              "append the '__c' after the custom field name. Please "
              "reference your WSDL or the describe call for the "
              "appropriate names.")
REL_HINT = ("If you are attempting to use a custom relationship, be sure "
            "to append the '__r' after the custom relationship name. "
            "Please reference your WSDL or the describe call for the "
            "appropriate names.")


def malformed(message):
    return E.SFError("MALFORMED_QUERY", message)


def tokenize(text):
    tokens = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = TOKEN.match(text, pos)
        kind = m.lastgroup
        value = m.group(kind)
        if kind == "bad":
            raise malformed(f"unexpected token: '{value}'")
        tokens.append((kind, value))
        pos = m.end()
    return tokens


class Path:
    """A field path resolved against the schema: the lookups to follow,
    then the field."""

    def __init__(self, text, hops, field):
        self.text = text
        self.hops = hops            # [(lookup Field, target SObject)]
        self.field = field


class Query:
    def __init__(self, sobj):
        self.sobj = sobj
        self.select = []
        self.where = []             # [(Path, op, literal)]
        self.order = None           # (Path, descending)
        self.limit = None


class Parser:
    """Recursive descent over the token list; every error is
    MALFORMED_QUERY, INVALID_TYPE or INVALID_FIELD like Salesforce's."""

    def __init__(self, text, objects):
        self.tokens = tokenize(text)
        self.pos = 0
        self.objects = objects

    def peek(self):
        if self.pos < len(self.tokens):
            return self.tokens[self.pos]
        return (None, None)

    def take(self):
        tok = self.peek()
        if tok[0] is None:
            raise malformed("unexpected end of query")
        self.pos += 1
        return tok

    def keyword(self, word):
        kind, value = self.peek()
        if kind == "word" and value.upper() == word:
            self.pos += 1
            return True
        return False

    def expect(self, word):
        if not self.keyword(word):
            _, value = self.peek()
            raise malformed(f"unexpected token: '{value}'" if value
                            else "unexpected end of query")

    def parse(self):
        self.expect("SELECT")
        names = [self.name()]
        while self.peek() == ("op", ","):
            self.pos += 1
            names.append(self.name())
        self.expect("FROM")
        type_name = self.name()
        sobj = self.objects.get(type_name.lower())
        if sobj is None:
            raise E.invalid_type(type_name)
        query = Query(sobj)
        query.select = [self.path(sobj, n) for n in names]
        if self.keyword("WHERE"):
            query.where.append(self.condition(sobj))
            while self.keyword("AND"):
                query.where.append(self.condition(sobj))
        if self.keyword("ORDER"):
            self.expect("BY")
            path = self.path(sobj, self.name())
            desc = False
            if self.keyword("DESC"):
                desc = True
            else:
                self.keyword("ASC")
            query.order = (path, desc)
        if self.keyword("LIMIT"):
            kind, value = self.take()
            if kind != "num" or not value.isdigit():
                raise malformed(f"unexpected token: '{value}'")
            query.limit = int(value)
        kind, value = self.peek()
        if kind is not None:
            raise malformed(f"unexpected token: '{value}'")
        return query

    def name(self):
        kind, value = self.take()
        if kind != "word":
            raise malformed(f"unexpected token: '{value}'")
        if "(" in value:
            raise malformed(f"unexpected token: '{value}'")
        return value

    def path(self, sobj, text):
        parts = text.split(".")
        hops = []
        current = sobj
        for rel in parts[:-1]:
            lookup = current.relationship(rel)
            target = self.objects.get((lookup.reference_to or "").lower()) \
                if lookup else None
            if target is None:
                raise E.SFError("INVALID_FIELD",
                                f"Didn't understand relationship '{rel}' "
                                f"in field path. {REL_HINT}")
            hops.append((lookup, target))
            current = target
        field = current.field(parts[-1])
        if field is None:
            raise E.SFError("INVALID_FIELD",
                            f"No such column '{parts[-1]}' on entity "
                            f"'{current.name}'. {FIELD_HINT}")
        return Path(text, hops, field)

    def condition(self, sobj):
        path = self.path(sobj, self.name())
        kind, op = self.take()
        if kind != "op" or op not in ("=", "!="):
            raise malformed(f"unexpected token: '{op}'")
        return (path, op, self.literal(path))

    def literal(self, path):
        """Read a literal and check it fits the field's type."""
        kind, value = self.take()
        field = path.field
        if kind == "word" and value.lower() == "null":
            return None
        if field.type == "boolean":
            if kind == "word" and value.lower() in ("true", "false"):
                return value.lower() == "true"
            raise type_error(field, "boolean", quoted=False)
        if field.type in schema.NUMBER_TYPES:
            if kind == "num":
                return Decimal(value)
            raise type_error(field, "double", quoted=False)
        if kind != "str":
            raise type_error(field, "string", quoted=True)
        text = unquote(value)
        if field.type in ("id", "reference"):
            rid = canonical_id(text)
            if rid is None:
                raise E.SFError("INVALID_QUERY_FILTER_OPERATOR",
                                f"invalid ID field: {text}")
            return rid
        return text


def type_error(field, kind, quoted):
    how = ("should be enclosed in quotes" if quoted
           else "should not be enclosed in quotes")
    return E.SFError("INVALID_QUERY_FILTER_OPERATOR",
                     f"value of filter criterion for field '{field.name}' "
                     f"must be of type {kind} and {how}")


def unquote(token):
    body = token[1:-1]
    out = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt not in ESCAPES:
                raise malformed(f"Invalid string literal '{body}'. Illegal "
                                "character sequence "
                                f"'\\{nxt}' in string literal.")
            out.append(ESCAPES[nxt])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def follow(store, rec, path):
    """The value at path from rec, or None when a lookup is empty."""
    for lookup, target in path.hops:
        parent_id = rec.get(lookup.name)
        rec = store.live[target.name].get(parent_id) if parent_id else None
        if rec is None:
            return None
    return rec.get(path.field.name)


def matches(store, rec, where):
    for path, op, want in where:
        have = follow(store, rec, path)
        if isinstance(have, str) and isinstance(want, str) \
                and path.field.type not in ("id", "reference"):
            equal = have.casefold() == want.casefold()
        elif isinstance(want, Decimal) and have is not None:
            equal = Decimal(have) == want
        else:
            equal = have == want
        if equal != (op == "="):
            return False
    return True


def select_into(store, out, rec, path, version):
    """Put one selected path into a result record, nesting relationship
    objects with their own attributes the way the REST API does."""
    node = out
    current = rec
    for lookup, target in path.hops:
        parent_id = current.get(lookup.name) if current else None
        current = store.live[target.name].get(parent_id) \
            if parent_id else None
        key = lookup.relationship
        if current is None:
            node[key] = None
            return
        child = node.get(key)
        if child is None:
            child = {"attributes": {
                "type": target.name,
                "url": f"/services/data/v{version}/sobjects/{target.name}/"
                       f"{current['Id']}"}}
            node[key] = child
        node = child
    node[path.field.name] = current.get(path.field.name)


def run(store, text, version, include_deleted=False):
    """Answer a query: {"totalSize","done","records"} (§2.5 shapes)."""
    if not text or not text.strip():
        raise malformed("unexpected end of query")
    query = Parser(text, store.objects).parse()
    sobj = query.sobj
    rows = store.records(sobj)
    if include_deleted:
        rows += [rec for name, rec in store.deleted.values()
                 if name == sobj.name]
    rows = [r for r in rows if matches(store, r, query.where)]
    if query.order:
        path, desc = query.order
        rows.sort(key=lambda r: (follow(store, r, path) is None,
                                 str(follow(store, r, path))),
                  reverse=desc)
    if query.limit is not None:
        rows = rows[:query.limit]
    records = []
    for rec in rows:
        out = {"attributes": {
            "type": sobj.name,
            "url": f"/services/data/v{version}/sobjects/{sobj.name}/"
                   f"{rec['Id']}"}}
        for path in query.select:
            select_into(store, out, rec, path, version)
        records.append(out)
    return {"totalSize": len(records), "done": True, "records": records}
