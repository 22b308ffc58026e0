"""Salesforce error shapes and the exact words of each error (reference §3).

Every rule in the fake raises SFError. Whoever catches it decides the
shape: a REST error array uses "errorCode" (§3.1), a per-record result in
sObject Collections uses "statusCode" (§4.2). The constructors below keep
the messages in one place so a test can grep for them.
"""

ROLLBACK_MESSAGE = ("The transaction was rolled back since another "
                    "operation in the same transaction failed.")
ALL_OR_NONE_MESSAGE = ("Record rolled back because not all records were "
                       "valid and the request was using AllOrNone header")
LOCKED_ORDER_MESSAGE = ("Unable to modify activated or superseded Order: "
                        "cannot delete Order, or add or remove Order "
                        "Products")


class SFError(Exception):
    """One Salesforce error.

    status is the HTTP status a single-resource request answers with.
    request_level marks errors Salesforce raises while reading the JSON
    (unknown column, wrong JSON type): in sObject Collections they fail the
    whole request with 400 instead of one record.
    """

    def __init__(self, code, message, fields=None, status=400,
                 request_level=False):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.fields = list(fields) if fields is not None else []
        self.status = status
        self.request_level = request_level

    def rest(self):
        """The element of a REST error array (§3.1)."""
        return {"message": self.message, "errorCode": self.code,
                "fields": self.fields}

    def record(self):
        """The element of a collections result's errors list (§4.2)."""
        return {"statusCode": self.code, "message": self.message,
                "fields": self.fields}


def error_array(err):
    return [err.rest()]


# --- request and resource errors (§2, §3.2) -------------------------------

def not_found(message="The requested resource does not exist"):
    return SFError("NOT_FOUND", message, status=404)


def ext_field_not_found(name):
    """§2.3: unknown external ID field in an upsert/GET URL."""
    return not_found("Provided external ID field does not exist or is "
                     f"not accessible: {name}")


def method_not_allowed(method, allowed):
    """§2.2, §2.3: e.g. PATCH with no Id or an empty key value."""
    return SFError("METHOD_NOT_ALLOWED",
                   f"HTTP Method '{method}' not allowed. Allowed are "
                   f"{allowed}", status=405)


def json_parser(message):
    return SFError("JSON_PARSER_ERROR", message, request_level=True)


def cannot_deserialize(kind, token, value):
    """The wording Salesforce uses when a JSON value has the wrong type."""
    return json_parser(f"Cannot deserialize instance of {kind} from "
                       f"{token} value {value} or request may be missing "
                       "a required field")


def no_such_column(field, sobject):
    return SFError("INVALID_FIELD",
                   f"No such column '{field}' on sobject of type "
                   f"{sobject}", request_level=True)


def invalid_type(name):
    return SFError("INVALID_TYPE",
                   f"sObject type '{name}' is not supported. If you are "
                   "attempting to use a custom object, be sure to append "
                   "the '__c' after the entity name. Please reference your "
                   "WSDL or the describe call for the appropriate names.")


def malformed_id(label, value, field="Id"):
    return SFError("MALFORMED_ID",
                   f"{label}: id value of incorrect type: {value}",
                   [field])


def entity_deleted():
    return SFError("ENTITY_IS_DELETED", "entity is deleted", status=404)


# --- record errors (§3.3) ---------------------------------------------------

def required_missing(fields):
    names = ", ".join(fields)
    return SFError("REQUIRED_FIELD_MISSING",
                   f"Required fields are missing: [{names}]", fields)


def string_too_long(label, value, max_len, field):
    return SFError("STRING_TOO_LONG",
                   f"{label}: data value too large: {value} "
                   f"(max length={max_len})", [field])


def invalid_email(label, value, field):
    return SFError("INVALID_EMAIL_ADDRESS",
                   f"{label}: invalid email address: {value}", [field])


def bad_picklist(label, value, field):
    return SFError("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                   f"{label}: bad value for restricted picklist field: "
                   f"{value}", [field])


def number_out_of_range(label, value, field):
    return SFError("NUMBER_OUTSIDE_VALID_RANGE",
                   f"{label}: value outside of valid range on numeric "
                   f"field: {value}", [field])


def not_writable(fields):
    names = ", ".join(fields)
    return SFError("INVALID_FIELD_FOR_INSERT_UPDATE",
                   f"Unable to create/update fields: {names}. Please check "
                   "the security settings of this field and verify that "
                   "it is read/write for your profile or permission set.",
                   fields)


def duplicate_value(field, other_id):
    return SFError("DUPLICATE_VALUE",
                   f"duplicate value found: {field} duplicates value on "
                   f"record with id: {other_id}")


def duplicate_external_id(field, value):
    """Two records of one upsert call carry the same key."""
    return SFError("DUPLICATE_VALUE",
                   f"Duplicate external id specified: {value}", [field])


def foreign_key_not_found(value, field, sobject):
    return SFError("INVALID_FIELD",
                   f"Foreign key external ID: {value} not found for field "
                   f"{field} in entity {sobject}")


def cross_reference(field):
    return SFError("INVALID_CROSS_REFERENCE_KEY",
                   "invalid cross reference id", [field])


def field_integrity(message, fields=()):
    return SFError("FIELD_INTEGRITY_EXCEPTION", message, fields)


def entity_locked():
    return SFError("ENTITY_IS_LOCKED", LOCKED_ORDER_MESSAGE)


def processing_halted(message=ROLLBACK_MESSAGE):
    return SFError("PROCESSING_HALTED", message)


def all_or_none_rolled_back():
    return SFError("ALL_OR_NONE_OPERATION_ROLLED_BACK", ALL_OR_NONE_MESSAGE)
