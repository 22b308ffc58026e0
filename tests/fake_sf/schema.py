"""The objects and fields the fake knows, as one table (reference §5).

Lengths and types of standard fields come from §5.5 (Field Reference
Guide); the custom fields are the ones wc2sf writes (DESIGN.md, "What goes
where in Salesforce"). Object and field names are matched without regard
to case (§0). Key prefixes are the well-known ones of §5.10.

A field's flags mean what describe says:
  createable/updateable  whether a write may set it; a field that is
                         createable but not updateable accepts its stored
                         value again on update and refuses a change
  required               must have a value after a create (Salesforce's
                         "not nillable and not defaulted")
  external_id, unique, case_sensitive, id_lookup
                         whether it can be an upsert key and how it matches
"""

STATE_CODES = {
    # §5.6: Salesforce ships states for a few countries only; these are
    # the ones the fake checks. Other countries with states (BR, CN, IN,
    # IE, IT, MX) accept any code; all the rest accept none.
    # XXX the US list leaves out the armed-forces codes AA/AE/AP, which a
    # real org may or may not have.
    "US": set("AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME "
              "MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI "
              "SC SD TN TX UT VT VA WA WV WI WY AS GU MP PR VI UM".split()),
    "CA": set("AB BC MB NB NL NS NT NU ON PE QC SK YT".split()),
    "AU": set("ACT NSW NT QLD SA TAS VIC WA".split()),
    "BR": None, "CN": None, "IN": None, "IE": None, "IT": None, "MX": None,
}

COUNTRY_CODES = set("""
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ
BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR
CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU
ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ
LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF
PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI
SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR
TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
""".split())

TEXT_TYPES = {"string", "textarea", "email", "phone", "url", "picklist"}
NUMBER_TYPES = {"double", "currency", "int", "percent"}


class Field:
    """One field as describe reports it, plus what validation needs."""

    def __init__(self, name, type, length=0, label=None, required=False,
                 createable=True, updateable=True, external_id=False,
                 unique=False, case_sensitive=False, id_lookup=False,
                 reference_to=None, relationship=None, precision=0,
                 scale=0, picklist=None, restricted=False, default=None,
                 nillable=None):
        self.name = name
        self.type = type
        self.length = length
        self.label = label or default_label(name)
        self.required = required
        self.createable = createable
        self.updateable = updateable
        self.external_id = external_id
        self.unique = unique
        self.case_sensitive = case_sensitive
        self.id_lookup = id_lookup or external_id
        self.reference_to = reference_to
        self.relationship = relationship
        self.precision = precision
        self.scale = scale
        self.picklist = picklist
        self.restricted = restricted
        self.default = default
        self.custom = name.endswith("__c")
        # None: derived; system fields that are always set say False
        self.nillable_override = nillable

    @property
    def nillable(self):
        if self.nillable_override is not None:
            return self.nillable_override
        return not self.required and self.type not in ("boolean", "id")

    # describe's name for each attribute a knob may change
    ATTRS = {"externalId": "external_id", "unique": "unique",
             "caseSensitive": "case_sensitive", "idLookup": "id_lookup",
             "createable": "createable", "updateable": "updateable",
             "length": "length", "label": "label"}

    def set_attrs(self, attrs):
        """Change attributes by their describe names; an external ID
        field that stops being one also stops being an upsert key unless
        idLookup is given too. nillable false makes the field required."""
        for key, value in attrs.items():
            if key == "nillable":
                self.required = not bool(value)
                self.nillable_override = None
                continue
            if key not in self.ATTRS:
                raise ValueError(f"field attribute {key!r} cannot be set")
            if key == "length":
                value = int(value)
            elif key != "label":
                value = bool(value)
            setattr(self, self.ATTRS[key], value)
        if "externalId" in attrs and "idLookup" not in attrs:
            self.id_lookup = self.external_id

    def describe(self):
        """The field as GET .../describe shows it."""
        return {
            "name": self.name, "label": self.label, "type": self.type,
            "length": self.length, "precision": self.precision,
            "scale": self.scale, "custom": self.custom,
            "externalId": self.external_id, "unique": self.unique,
            "caseSensitive": self.case_sensitive,
            "idLookup": self.id_lookup, "nillable": self.nillable,
            "createable": self.createable, "updateable": self.updateable,
            "defaultedOnCreate": self.default is not None
            or self.nillable_override is False,
            "referenceTo": [self.reference_to] if self.reference_to else [],
            "relationshipName": self.relationship,
            "restrictedPicklist": self.restricted,
            "picklistValues": [
                {"value": v, "label": v, "active": True,
                 "defaultValue": v == self.default}
                for v in (self.picklist or [])],
        }


def default_label(name):
    """'BillingPostalCode' -> 'Billing Postal Code';
    'WC_Customer_Id__c' -> 'WC Customer Id'."""
    if name.endswith("__c"):
        return name[:-3].replace("_", " ")
    words = []
    for i, ch in enumerate(name):
        if i and ch.isupper() and not name[i - 1].isupper():
            words.append(" ")
        words.append(ch)
    return "".join(words)


# --- field constructors, so the tables below read like a field list -------

def text(name, length, **kw):
    return Field(name, "string", length, **kw)


def textarea(name, length, **kw):
    return Field(name, "textarea", length, **kw)


def email(name, length=80, **kw):
    return Field(name, "email", length, **kw)


def phone(name, length=40, **kw):
    return Field(name, "phone", length, **kw)


def url(name, length=255, **kw):
    return Field(name, "url", length, **kw)


def checkbox(name, **kw):
    kw.setdefault("default", False)
    return Field(name, "boolean", **kw)


def currency(name, precision=18, scale=2, **kw):
    return Field(name, "currency", precision=precision, scale=scale, **kw)


def double(name, precision=18, scale=2, **kw):
    return Field(name, "double", precision=precision, scale=scale, **kw)


def date(name, **kw):
    return Field(name, "date", **kw)


def datetime(name, **kw):
    return Field(name, "datetime", **kw)


def picklist(name, values, length=255, restricted=False, **kw):
    return Field(name, "picklist", length, picklist=values,
                 restricted=restricted, **kw)


def ref(name, to, relationship, **kw):
    return Field(name, "reference", 18, reference_to=to,
                 relationship=relationship, **kw)


def readonly(field):
    field.createable = False
    field.updateable = False
    return field


def create_only(field):
    field.updateable = False
    return field


def ext_id(name, length, case_sensitive=True):
    """Text, External ID, Unique (case-sensitive unless said otherwise)."""
    return text(name, length, external_id=True, unique=True,
                case_sensitive=case_sensitive)


def system_fields(owner=True):
    """The audit fields Salesforce always sets: never null, as describe
    says (nillable false)."""
    always = {"nillable": False}
    fields = [
        readonly(Field("Id", "id", 18, label="Record ID", id_lookup=True)),
        readonly(checkbox("IsDeleted", label="Deleted")),
        readonly(datetime("CreatedDate", label="Created Date", **always)),
        readonly(ref("CreatedById", "User", "CreatedBy",
                     label="Created By ID", **always)),
        readonly(datetime("LastModifiedDate", label="Last Modified Date",
                          **always)),
        readonly(ref("LastModifiedById", "User", "LastModifiedBy",
                     label="Last Modified By ID", **always)),
        readonly(datetime("SystemModstamp", label="System Modstamp",
                          **always)),
    ]
    if owner:
        fields.append(ref("OwnerId", "User", "Owner", label="Owner ID",
                          **always))
    return fields


def address(prefix, state_picklists, street_type=textarea):
    """The §5.5 address set: street 255, city 40, state 80, postal 20,
    country 80, and with State and Country picklists (§5.6) the codes."""
    fields = [
        street_type(prefix + "Street", 255),
        text(prefix + "City", 40),
        text(prefix + "State", 80),
        text(prefix + "PostalCode", 20),
        text(prefix + "Country", 80),
    ]
    if state_picklists:
        # XXX only the *Code fields are checked; Salesforce also checks the
        # text fields against the countries' integration values.
        fields.append(picklist(prefix + "StateCode", None,
                               label=default_label(prefix) + " State Code"))
        fields.append(picklist(prefix + "CountryCode", None,
                               label=default_label(prefix)
                               + " Country Code"))
    return fields


def customer_keys():
    """The keys wc2sf puts on both Account and Contact."""
    return [
        ext_id("WC_Customer_Id__c", 64),
        # The guest key: Text 80, unique without regard to case.
        ext_id("WC_Guest_Email__c", 80, case_sensitive=False),
        checkbox("WC_Deleted__c"),
    ]


class SObject:
    """One object: its name, key prefix and fields, looked up by any
    case."""

    def __init__(self, name, label, prefix, fields):
        self.name = name
        self.label = label
        self.prefix = prefix
        self.fields = fields
        self._by_name = {f.name.lower(): f for f in fields}
        self._by_relationship = {f.relationship.lower(): f for f in fields
                                 if f.relationship}

    def field(self, name):
        return self._by_name.get(name.lower())

    def drop(self, name):
        """Remove a field, as if the org never had it (a knob); False
        when there is no such field."""
        field = self.field(name)
        if field is None:
            return False
        self.fields = [f for f in self.fields if f is not field]
        self._by_name.pop(field.name.lower(), None)
        if field.relationship:
            self._by_relationship.pop(field.relationship.lower(), None)
        return True

    def relationship(self, name):
        return self._by_relationship.get(name.lower())

    def describe(self, version):
        base = f"/services/data/v{version}/sobjects/{self.name}"
        out = self.summary(version)
        out["fields"] = [f.describe() for f in self.fields]
        out["urls"] = {"sobject": base, "describe": base + "/describe",
                       "rowTemplate": base + "/{ID}"}
        return out

    def summary(self, version):
        base = f"/services/data/v{version}/sobjects/{self.name}"
        return {"name": self.name, "label": self.label,
                "keyPrefix": self.prefix, "custom": False,
                "createable": True, "updateable": True, "deletable": True,
                "queryable": True,
                "urls": {"sobject": base, "describe": base + "/describe",
                         "rowTemplate": base + "/{ID}"}}


def build(state_picklists=False):
    """All objects, keyed by lower-case name."""
    sp = state_picklists
    objects = [
        SObject("Account", "Account", "001", system_fields() + [
            text("Name", 255, label="Account Name", required=True),
            text("AccountNumber", 40, label="Account Number"),
            picklist("Type", ["Prospect", "Customer - Direct",
                              "Customer - Channel", "Other"],
                     label="Account Type"),
            *address("Billing", sp),
            *address("Shipping", sp),
            phone("Phone", label="Account Phone"),
            phone("Fax", label="Account Fax"),
            url("Website"),
            textarea("Description", 32000, label="Account Description"),
            *customer_keys(),
        ]),
        SObject("Contact", "Contact", "003", system_fields() + [
            ref("AccountId", "Account", "Account", label="Account ID"),
            text("FirstName", 40, label="First Name"),
            text("LastName", 80, label="Last Name", required=True),
            readonly(text("Name", 121, label="Full Name")),
            text("Title", 128),
            text("Department", 80),
            # §5.8: Email is an idLookup field, usable as an upsert key,
            # not unique.
            email("Email", id_lookup=True),
            phone("Phone", label="Business Phone"),
            phone("MobilePhone", label="Mobile Phone"),
            *address("Mailing", sp),
            *address("Other", sp),
            textarea("Description", 32000, label="Contact Description"),
            *customer_keys(),
        ]),
        SObject("Product2", "Product", "01t", system_fields(False) + [
            text("Name", 255, label="Product Name", required=True),
            text("ProductCode", 255, label="Product Code"),
            textarea("Description", 4000, label="Product Description"),
            picklist("Family", ["None"], length=40, label="Product Family"),
            checkbox("IsActive", label="Active"),
            text("StockKeepingUnit", 180, label="Product SKU"),
            text("ExternalId", 255, label="External ID"),
            url("DisplayUrl", 1000, label="Display URL"),
            ext_id("WC_Product_Id__c", 64),
            text("WC_Parent_Id__c", 64),
            text("WC_Type__c", 40),
            text("WC_Status__c", 40),
        ]),
        SObject("Pricebook2", "Price Book", "01s", system_fields(False) + [
            text("Name", 255, label="Price Book Name", required=True),
            checkbox("IsActive", label="Active"),
            readonly(checkbox("IsStandard", label="Is Standard Price Book")),
            text("Description", 255),
        ]),
        SObject("PricebookEntry", "Price Book Entry", "01u",
                system_fields(False) + [
            readonly(text("Name", 255, label="Product Name")),
            create_only(ref("Pricebook2Id", "Pricebook2", "Pricebook2",
                            label="Price Book ID", required=True)),
            create_only(ref("Product2Id", "Product2", "Product2",
                            label="Product ID", required=True)),
            currency("UnitPrice", label="List Price", required=True),
            checkbox("IsActive", label="Active"),
            checkbox("UseStandardPrice", label="Use Standard Price"),
            readonly(text("ProductCode", 255, label="Product Code")),
            ext_id("WC_Price_Key__c", 80),
        ]),
        SObject("Order", "Order", "801", system_fields() + [
            ref("AccountId", "Account", "Account", label="Account ID",
                required=True),
            ref("Pricebook2Id", "Pricebook2", "Pricebook2",
                label="Price Book ID"),
            date("EffectiveDate", label="Order Start Date", required=True),
            date("EndDate", label="Order End Date"),
            picklist("Status", ["Draft", "Activated"], length=40,
                     restricted=True, required=True),
            readonly(picklist("StatusCode", ["Draft", "Activated"],
                              label="Status Category")),
            text("Name", 80, label="Order Name"),
            readonly(text("OrderNumber", 30, label="Order Number")),
            readonly(currency("TotalAmount", label="Order Amount")),
            textarea("Description", 32000),
            text("PoNumber", 80, label="PO Number"),
            text("OrderReferenceNumber", 80,
                 label="Order Reference Number"),
            *address("Billing", sp),
            *address("Shipping", sp),
            ext_id("WC_Order_Id__c", 64),
            text("WC_Number__c", 40),
            text("WC_Status__c", 40),
            text("WC_Currency__c", 3),
            currency("WC_Total__c", 16, 2),
            currency("WC_Subtotal__c", 16, 2),
            currency("WC_Discount_Total__c", 16, 2),
            currency("WC_Shipping_Total__c", 16, 2),
            currency("WC_Total_Tax__c", 16, 2),
            currency("WC_Refunded__c", 16, 2),
            text("WC_Payment_Method__c", 255),
            textarea("WC_Customer_Note__c", 32000),
            datetime("WC_Date_Paid__c"),
            checkbox("WC_Deleted__c"),
        ]),
        SObject("OrderItem", "Order Product", "802",
                system_fields(False) + [
            create_only(ref("OrderId", "Order", "Order", label="Order ID",
                            required=True)),
            create_only(ref("PricebookEntryId", "PricebookEntry",
                            "PricebookEntry", label="Price Book Entry ID",
                            required=True)),
            create_only(ref("Product2Id", "Product2", "Product2",
                            label="Product ID")),
            double("Quantity", required=True),
            currency("UnitPrice", label="Unit Price", required=True),
            readonly(currency("ListPrice", label="List Price")),
            readonly(currency("TotalPrice", label="Total Price")),
            text("Description", 255, label="Line Description"),
            date("ServiceDate", label="Start Date"),
            date("EndDate", label="End Date"),
            readonly(text("OrderItemNumber", 10,
                          label="Order Product Number")),
            ext_id("WC_Line_Id__c", 64),
            text("WC_Product_Id__c", 64),
            text("WC_Sku__c", 100),
            currency("WC_Line_Total__c", 16, 2),
            currency("WC_Line_Tax__c", 16, 2),
        ]),
    ]
    return {o.name.lower(): o for o in objects}


def by_prefix(objects):
    return {o.prefix: o for o in objects.values()}
