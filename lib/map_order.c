#include "map.h"
#include "map_impl.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "text.h"

/*
 * An order becomes, in this order: its buyer (Account and Contact), a
 * minimal Product2 and standard PricebookEntry for each product its
 * lines use that Salesforce does not have yet, the Order (Draft, in the
 * standard price book), one OrderItem per line item, and the deletion
 * of line items an earlier version had and this one has not.
 */

#define ORDER_KEY		"WC_Order_Id__c"
#define LINE_KEY		"WC_Line_Id__c"
#define GUEST_KEY		"WC_Guest_Email__c"
#define DELETED_KEY		"deleted"
#define DELETED_NAME		"Deleted WooCommerce product"
#define DRAFT_STATUS		"checkout-draft"
#define AMOUNT_SCALE		100000000LL	/* refunds summed in 1e-8 */
#define AMOUNT_DIGITS		8
#define GUEST_KEY_MAX		80	/* WC_Guest_Email__c, in units */
#define GUEST_KEY_KEEP		63	/* of a longer e-mail, + "~" hash */

static const struct map_field order_fields[] = {
	{ "date_created", "EffectiveDate", CONV_DATE, 0, MAP_REQUIRED },
	{ "Draft", "Status", CONV_LITERAL, 0, 0 },
	{ MAP_STANDARD_PRICEBOOK, "Pricebook2Id", CONV_LITERAL, 0, 0 },
	{ "number|id", "Name", CONV_ORDER_NAME, 80, 0 },
	{ "billing", "BillingStreet", CONV_STREET, 255, 0 },
	{ "billing.city", "BillingCity", CONV_TEXT, 40, 0 },
	{ "billing.state", "BillingState", CONV_STATE, 80, 0 },
	{ "billing.postcode", "BillingPostalCode", CONV_TEXT, 20, 0 },
	{ "billing.country", "BillingCountry", CONV_COUNTRY, 80, 0 },
	{ "shipping", "ShippingStreet", CONV_STREET, 255, 0 },
	{ "shipping.city", "ShippingCity", CONV_TEXT, 40, 0 },
	{ "shipping.state", "ShippingState", CONV_STATE, 80, 0 },
	{ "shipping.postcode", "ShippingPostalCode", CONV_TEXT, 20, 0 },
	{ "shipping.country", "ShippingCountry", CONV_COUNTRY, 80, 0 },
	{ "number", "WC_Number__c", CONV_TEXT, 40, 0 },
	{ "status", "WC_Status__c", CONV_TEXT, 40, 0 },
	{ "currency", "WC_Currency__c", CONV_TEXT, 3, 0 },
	{ "total", "WC_Total__c", CONV_MONEY, 0, 0 },
	{ "discount_total", "WC_Discount_Total__c", CONV_MONEY, 0, 0 },
	{ "shipping_total", "WC_Shipping_Total__c", CONV_MONEY, 0, 0 },
	{ "total_tax", "WC_Total_Tax__c", CONV_MONEY, 0, 0 },
	{ "refunds", "WC_Refunded__c", CONV_REFUNDS, 0, 0 },
	{ "payment_method_title|payment_method", "WC_Payment_Method__c",
	    CONV_TEXT, 255, 0 },
	{ "customer_note", "WC_Customer_Note__c", CONV_TEXT, 32000, 0 },
	{ "date_paid_gmt", "WC_Date_Paid__c", CONV_DATETIME, 0, 0 },
	{ "", "WC_Deleted__c", CONV_FALSE, 0, 0 },
};

/* Read from one line item; the keys and parents are added first. */
static const struct map_field line_fields[] = {
	{ "quantity", "Quantity", CONV_NUMBER, 0, MAP_REQUIRED },
	{ "price", "UnitPrice", CONV_PRICE, 0, 0 },
	{ "name", "Description", CONV_TEXT, 255, 0 },
	{ "sku", "WC_Sku__c", CONV_TEXT, 100, 0 },
	{ "total", "WC_Line_Total__c", CONV_MONEY, 0, 0 },
	{ "total_tax", "WC_Line_Tax__c", CONV_MONEY, 0, 0 },
};

/* Just enough of a product, read from the line, for the line to land. */
static const struct map_field stub_product_fields[] = {
	{ "name", "Name", CONV_TEXT, 255, MAP_REQUIRED },
	{ "sku", "ProductCode", CONV_TEXT, 255, MAP_OPTIONAL },
	{ "", "IsActive", CONV_TRUE, 0, 0 },
};

static const struct map_field stub_deleted_fields[] = {
	{ DELETED_NAME, "Name", CONV_LITERAL, 0, 0 },
	{ "", "IsActive", CONV_TRUE, 0, 0 },
};

static const struct map_field stub_entry_fields[] = {
	{ MAP_STANDARD_PRICEBOOK, "Pricebook2Id", CONV_LITERAL, 0, 0 },
	{ "price", "UnitPrice", CONV_PRICE, 0, 0 },
	{ "", "IsActive", CONV_TRUE, 0, 0 },
};

/* order.deleted (a trash): marked, never deleted in Salesforce. */
static const struct map_field deleted_fields[] = {
	{ "", "WC_Deleted__c", CONV_TRUE, 0, 0 },
	{ "trash", "WC_Status__c", CONV_LITERAL, 0, 0 },
};

static const struct map_record_spec deleted_step = {
	"Order", ORDER_KEY, "", NULL, NULL, deleted_fields,
	MAP_NELEM(deleted_fields)
};

/* What the buyer of an order is keyed by. */
struct buyer {
	const char *field;		/* MAP_CUSTOMER_KEY or GUEST_KEY */
	char *key;			/* malloc'd */
	bool guest;
};

/* The records of one sObject type, gathered line by line. */
struct batch {
	struct json_object *records;
};

/*
 * The absolute value of number text in units of 1e-8, digits past the
 * eighth dropped. False for exponents or more than 12 integer digits.
 */
static bool
amount_units(const char *text, int64_t *units)
{
	const char *p = text;
	int64_t whole = 0, frac = 0;
	int i;

	if (*p == '-')
		p++;
	for (i = 0; *p >= '0' && *p <= '9'; p++, i++) {
		if (i >= 12)
			return false;
		whole = whole * 10 + (*p - '0');
	}
	if (*p == '.')
		p++;
	for (i = 0; i < AMOUNT_DIGITS; i++) {
		frac *= 10;
		if (*p >= '0' && *p <= '9')
			frac += *p++ - '0';
	}
	p += strspn(p, "0123456789");
	if (*p != '\0')
		return false;
	*units = whole * AMOUNT_SCALE + frac;
	return true;
}

/* refunds: [{"total": "-14.48"}, ...] gives 14.48, exactly. */
enum wc2sf_result
map_conv_refunds(struct map_ctx *ctx, const struct map_field *f,
    const char *path, struct json_object *v, struct json_object **out)
{
	struct json_object *item, *total;
	enum wc2sf_result result;
	char text[MAP_NUMBER_MAX], where[MAP_LABEL_MAX], name[MAP_LABEL_MAX];
	int64_t sum = 0, units;
	size_t i, n;
	int len;

	if (v == NULL)
		return WC2SF_OK;
	if (!json_object_is_type(v, json_type_array))
		return map_wrong_type(ctx, path, "an array", v);
	n = json_object_array_length(v);
	for (i = 0; i < n; i++) {
		item = json_object_array_get_idx(v, i);
		snprintf(where, sizeof(where), "%s[%zu].total", path, i);
		if (!json_object_is_type(item, json_type_object) ||
		    !json_object_object_get_ex(item, "total", &total))
			return map_fail(ctx, WC2SF_BAD_PAYLOAD,
			    "missing field %s", map_label(ctx, where,
			    strlen(where), name, sizeof(name)));
		result = map_amount_text(ctx, where, total, text, sizeof(text));
		if (result != WC2SF_OK)
			return result;
		if (text[0] == '\0')
			continue;
		if (!amount_units(text, &units) ||
		    sum > INT64_MAX - units)
			return map_fail(ctx, WC2SF_BAD_PAYLOAD,
			    "field %s: amount out of range",
			    map_label(ctx, where, strlen(where), name,
			    sizeof(name)));
		sum += units;
	}
	len = snprintf(text, sizeof(text), "%lld.%0*lld",
	    (long long)(sum / AMOUNT_SCALE), AMOUNT_DIGITS,
	    (long long)(sum % AMOUNT_SCALE));
	while (len > 0 && text[len - 1] == '0')
		text[--len] = '\0';
	if (len > 0 && text[len - 1] == '.')
		text[--len] = '\0';
	*out = json_object_new_double_s((double)sum / AMOUNT_SCALE, text);
	return *out == NULL ? map_no_memory(ctx) : WC2SF_OK;
}

enum wc2sf_result
map_conv_order_name(struct map_ctx *ctx, const struct map_field *f,
    const char *path, struct json_object *v, struct json_object **out)
{
	enum wc2sf_result result;
	char *s, *name;
	size_t n;

	result = map_clean_text(ctx, path, v, &s);
	if (result != WC2SF_OK || s == NULL || s[0] == '\0') {
		free(s);
		return result;
	}
	n = strlen(s) + sizeof("WooCommerce order ");
	name = malloc(n);
	if (name != NULL)
		snprintf(name, n, "WooCommerce order %s", s);
	free(s);
	if (name == NULL)
		return map_no_memory(ctx);
	return map_text_value(ctx, name, f->max_len, out);
}

static bool
status_synced(const struct map_options *opt, const char *status)
{
	const char *const *s;

	if (opt->sync_statuses == NULL)
		return strcmp(status, DRAFT_STATUS) != 0;
	for (s = opt->sync_statuses; *s != NULL; s++)
		if (strcmp(*s, status) == 0)
			return true;
	return false;
}

/* FNV-1a: a short, stable tag telling long e-mails apart. */
static uint64_t
key_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

/*
 * An e-mail longer than the key field keeps its first GUEST_KEY_KEEP
 * units and gets "~" and a hash of the whole, so it still fits, still
 * names one guest, and is the same on every delivery.
 */
static enum wc2sf_result
guest_key_fit(struct map_ctx *ctx, char **key)
{
	char *fitted;
	size_t n;

	if (text_utf16_len(*key) <= GUEST_KEY_MAX)
		return WC2SF_OK;
	n = strlen(*key) + 24;
	if ((fitted = malloc(n)) == NULL)
		return map_no_memory(ctx);
	snprintf(fitted, n, "%s", *key);
	text_truncate(fitted, GUEST_KEY_KEEP);
	snprintf(fitted + strlen(fitted), n - strlen(fitted), "~%016llx",
	    (unsigned long long)key_hash(*key));
	free(*key);
	*key = fitted;
	return WC2SF_OK;
}

/*
 * A registered buyer is keyed by customer id; a guest by the billing
 * e-mail in lower case, or by the order when the guest left none.
 */
static enum wc2sf_result
buyer_read(struct map_ctx *ctx, const char *id, struct buyer *b)
{
	char customer[MAP_ID_MAX];
	enum wc2sf_result result;
	char *p;
	size_t n;

	b->field = MAP_CUSTOMER_KEY;
	b->key = NULL;
	b->guest = false;
	result = map_read_id(ctx, ctx->root, "customer_id", true, customer,
	    sizeof(customer));
	if (result != WC2SF_OK)
		return result;
	if (strcmp(customer, "0") != 0) {
		if ((b->key = strdup(customer)) == NULL)
			return map_no_memory(ctx);
		return WC2SF_OK;
	}
	b->field = GUEST_KEY;
	b->guest = true;
	result = map_read_text(ctx, ctx->root, "billing.email", &b->key);
	if (result != WC2SF_OK)
		return result;
	for (p = b->key; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	if ((result = guest_key_fit(ctx, &b->key)) != WC2SF_OK)
		return result;
	if (b->key[0] == '\0') {
		n = strlen(id) + sizeof("order-");
		free(b->key);
		if ((b->key = malloc(n)) == NULL)
			return map_no_memory(ctx);
		snprintf(b->key, n, "order-%s", id);
	}
	return WC2SF_OK;
}

/* The key of the product a line sells: variation, product, or none. */
static enum wc2sf_result
line_product_key(struct map_ctx *ctx, struct json_object *line, char *key,
    size_t size)
{
	char variation[MAP_ID_MAX];
	enum wc2sf_result result;

	result = map_read_id(ctx, line, "variation_id", true, variation,
	    sizeof(variation));
	if (result == WC2SF_OK)
		result = map_read_id(ctx, line, "product_id", true, key, size);
	if (result != WC2SF_OK)
		return result;
	if (strcmp(variation, "0") != 0)
		snprintf(key, size, "%s", variation);
	else if (strcmp(key, "0") == 0)
		snprintf(key, size, "%s", DELETED_KEY);
	return WC2SF_OK;
}

/* Append rec to b (created on first use); takes rec. */
static enum wc2sf_result
batch_add(struct map_ctx *ctx, struct batch *b, struct json_object *rec)
{
	if (rec == NULL)
		return map_no_memory(ctx);
	if (b->records == NULL && (b->records = json_object_new_array()) ==
	    NULL) {
		json_object_put(rec);
		return map_no_memory(ctx);
	}
	if (json_object_array_add(b->records, rec) != 0) {
		json_object_put(rec);
		return map_no_memory(ctx);
	}
	return WC2SF_OK;
}

/* Make b a step when it holds records; b is emptied either way. */
static enum wc2sf_result
batch_step(struct map_ctx *ctx, struct map_plan *plan, struct batch *b,
    enum map_op op, const char *sobject, const char *ext_field)
{
	struct json_object *records = b->records;

	b->records = NULL;
	if (records == NULL)
		return WC2SF_OK;
	return map_step_add(ctx, plan, op, sobject, ext_field, records);
}

/* Build one record and add it to b. */
static enum wc2sf_result
batch_record(struct map_ctx *ctx, struct batch *b, struct json_object *rec,
    const struct map_field *fields, size_t n, struct json_object *src)
{
	enum wc2sf_result result;

	if (rec == NULL)
		return map_no_memory(ctx);
	result = map_fill(ctx, rec, fields, n, src);
	if (result != WC2SF_OK) {
		json_object_put(rec);
		return result;
	}
	return batch_add(ctx, b, rec);
}

/*
 * The Product2 and PricebookEntry a line needs when Salesforce may not
 * have its product (a product created before wc2sf ran, or deleted
 * since). Each product once, however many lines sell it.
 */
static enum wc2sf_result
stub_products(struct map_ctx *ctx, struct map_plan *plan,
    struct json_object *lines)
{
	struct batch products = { NULL }, entries = { NULL };
	struct json_object *seen, *line, *rec;
	enum wc2sf_result result = WC2SF_OK;
	const struct map_options *opt = ctx->opt;
	char key[MAP_ID_MAX], where[48];
	size_t i, n = json_object_array_length(lines);
	bool deleted;

	if ((seen = json_object_new_object()) == NULL)
		return map_no_memory(ctx);
	for (i = 0; i < n && result == WC2SF_OK; i++) {
		line = json_object_array_get_idx(lines, i);
		snprintf(where, sizeof(where), "line_items[%zu]", i);
		ctx->where = where;
		result = line_product_key(ctx, line, key, sizeof(key));
		if (result != WC2SF_OK ||
		    json_object_object_get_ex(seen, key, NULL))
			continue;
		if (json_object_object_add(seen, key, NULL) != 0) {
			result = map_no_memory(ctx);
			break;
		}
		if (opt->product_known != NULL &&
		    opt->product_known(opt->ctx, key))
			continue;
		deleted = strcmp(key, DELETED_KEY) == 0;
		result = batch_record(ctx, &products,
		    map_record_new(MAP_PRODUCT_KEY, "", key),
		    deleted ? stub_deleted_fields : stub_product_fields,
		    deleted ? MAP_NELEM(stub_deleted_fields) :
		    MAP_NELEM(stub_product_fields), line);
		if (result != WC2SF_OK)
			break;
		rec = map_record_new(MAP_PRICE_KEY, MAP_PRICE_PREFIX, key);
		if (rec != NULL && map_record_ref(rec, "Product2",
		    MAP_PRODUCT_KEY, key) != WC2SF_OK) {
			json_object_put(rec);
			rec = NULL;
		}
		result = batch_record(ctx, &entries, rec, stub_entry_fields,
		    MAP_NELEM(stub_entry_fields), line);
	}
	ctx->where = "";
	json_object_put(seen);
	if (result == WC2SF_OK)
		result = batch_step(ctx, plan, &products, MAP_UPSERT,
		    "Product2", MAP_PRODUCT_KEY);
	if (result == WC2SF_OK)
		result = batch_step(ctx, plan, &entries, MAP_UPSERT,
		    "PricebookEntry", MAP_PRICE_KEY);
	json_object_put(products.records);
	json_object_put(entries.records);
	return result;
}

/* A line whose product is gone says so where people read it. */
static enum wc2sf_result
mark_deleted(struct map_ctx *ctx, struct json_object *rec)
{
	struct json_object *desc, *text;
	char buf[1100];

	if (json_object_object_get_ex(rec, "Description", &desc))
		snprintf(buf, sizeof(buf), DELETED_NAME ": %s",
		    json_object_get_string(desc));
	else
		snprintf(buf, sizeof(buf), DELETED_NAME);
	text_truncate(buf, 255);
	text = json_object_new_string(buf);
	if (text == NULL || json_object_object_add(rec, "Description",
	    text) != 0) {
		json_object_put(text);
		return map_no_memory(ctx);
	}
	return WC2SF_OK;
}

/*
 * One OrderItem: keyed by line id, naming its Order (order_ref, shared
 * by every line: records are only read once built) and its standard
 * price book entry by external ID.
 */
static enum wc2sf_result
line_record(struct map_ctx *ctx, struct json_object *order_ref,
    struct json_object *line, struct json_object *ids, struct batch *b)
{
	struct json_object *rec = NULL;
	enum wc2sf_result result;
	char id[MAP_ID_MAX], key[MAP_ID_MAX], price_key[MAP_ID_MAX + 8];

	if (!json_object_is_type(line, json_type_object))
		return map_wrong_type(ctx, "", "an object", line);
	result = map_read_id(ctx, line, "id", false, id, sizeof(id));
	if (result == WC2SF_OK)
		result = line_product_key(ctx, line, key, sizeof(key));
	if (result != WC2SF_OK)
		return result;
	memcpy(price_key, MAP_PRICE_PREFIX, sizeof(MAP_PRICE_PREFIX) - 1);
	memcpy(price_key + sizeof(MAP_PRICE_PREFIX) - 1, key,
	    strlen(key) + 1);
	if (json_object_object_add(ids, id, NULL) != 0 ||
	    (rec = map_record_new(LINE_KEY, "", id)) == NULL ||
	    map_record_set(rec, "Order", json_object_get(order_ref)) !=
	    WC2SF_OK ||
	    map_record_ref(rec, "PricebookEntry", MAP_PRICE_KEY,
	    price_key) != WC2SF_OK ||
	    map_record_set(rec, MAP_PRODUCT_KEY,
	    json_object_new_string(key)) != WC2SF_OK) {
		json_object_put(rec);
		return map_no_memory(ctx);
	}
	result = map_fill(ctx, rec, line_fields, MAP_NELEM(line_fields),
	    line);
	if (result == WC2SF_OK && strcmp(key, DELETED_KEY) == 0)
		result = mark_deleted(ctx, rec);
	if (result != WC2SF_OK) {
		json_object_put(rec);
		return result;
	}
	return batch_add(ctx, b, rec);
}

/*
 * Line items of prev (the version last synced) missing from ids. prev
 * was accepted once, so anything odd in it is skipped, not reported.
 */
static enum wc2sf_result
removed_lines(struct map_ctx *ctx, struct json_object *prev,
    struct json_object *ids, struct batch *b)
{
	struct json_object *lines, *line, *v;
	enum wc2sf_result result = WC2SF_OK;
	char id[MAP_ID_MAX];
	size_t i, n;

	if (prev == NULL || !json_object_is_type(prev, json_type_object) ||
	    !json_object_object_get_ex(prev, "line_items", &lines) ||
	    !json_object_is_type(lines, json_type_array))
		return WC2SF_OK;
	n = json_object_array_length(lines);
	for (i = 0; i < n && result == WC2SF_OK; i++) {
		line = json_object_array_get_idx(lines, i);
		if (!json_object_is_type(line, json_type_object) ||
		    !json_object_object_get_ex(line, "id", &v) ||
		    !map_id_text(v, id, sizeof(id)) ||
		    strcmp(id, "0") == 0 ||
		    json_object_object_get_ex(ids, id, NULL))
			continue;
		if (json_object_object_add(ids, id, NULL) != 0)
			return map_no_memory(ctx);
		result = batch_add(ctx, b, map_record_new(LINE_KEY, "", id));
	}
	return result;
}

/* The Order record itself, its Account named by the buyer's key. */
static enum wc2sf_result
order_step(struct map_ctx *ctx, struct map_plan *plan, const char *id,
    const struct buyer *buyer)
{
	struct batch b = { NULL };
	struct json_object *rec;
	enum wc2sf_result result;

	rec = map_record_new(ORDER_KEY, "", id);
	if (rec != NULL && map_record_ref(rec, "Account", buyer->field,
	    buyer->key) != WC2SF_OK) {
		json_object_put(rec);
		rec = NULL;
	}
	result = batch_record(ctx, &b, rec, order_fields,
	    MAP_NELEM(order_fields), ctx->root);
	if (result == WC2SF_OK)
		result = batch_step(ctx, plan, &b, MAP_UPSERT, "Order",
		    ORDER_KEY);
	json_object_put(b.records);
	return result;
}

/* All line items in one step; salesforce.c cuts it into 200s. */
static enum wc2sf_result
line_steps(struct map_ctx *ctx, struct map_plan *plan, const char *id,
    struct json_object *lines, struct json_object *prev)
{
	struct batch items = { NULL }, gone = { NULL };
	struct json_object *ids, *order_ref;
	enum wc2sf_result result = WC2SF_OK;
	char where[48];
	size_t i, n = json_object_array_length(lines);

	if ((ids = json_object_new_object()) == NULL)
		return map_no_memory(ctx);
	if ((order_ref = map_record_new(ORDER_KEY, "", id)) == NULL) {
		json_object_put(ids);
		return map_no_memory(ctx);
	}
	for (i = 0; i < n && result == WC2SF_OK; i++) {
		snprintf(where, sizeof(where), "line_items[%zu]", i);
		ctx->where = where;
		result = line_record(ctx, order_ref,
		    json_object_array_get_idx(lines, i), ids, &items);
	}
	json_object_put(order_ref);
	ctx->where = "";
	if (result == WC2SF_OK)
		result = removed_lines(ctx, prev, ids, &gone);
	if (result == WC2SF_OK)
		result = batch_step(ctx, plan, &items, MAP_UPSERT, "OrderItem",
		    LINE_KEY);
	if (result == WC2SF_OK)
		result = batch_step(ctx, plan, &gone, MAP_DELETE, "OrderItem",
		    LINE_KEY);
	json_object_put(items.records);
	json_object_put(gone.records);
	json_object_put(ids);
	return result;
}

/*
 * The status is read first, so an order not synced costs nothing more
 * and an odd body with such a status is ignored, not refused.
 */
enum wc2sf_result
map_order_build(struct map_ctx *ctx, struct map_plan *plan,
    const char *id, struct json_object *prev)
{
	struct json_object *lines, *billing, *v;
	struct buyer buyer = { NULL, NULL, false };
	enum wc2sf_result result;
	char fallback[96];
	char *status = NULL;

	if (!json_object_object_get_ex(ctx->root, "status", &v)) {
		result = map_fail(ctx, WC2SF_BAD_PAYLOAD,
		    "missing field status");
		goto out;
	}
	if (!json_object_is_type(v, json_type_string)) {
		result = map_wrong_type(ctx, "status", "a string", v);
		goto out;
	}
	result = map_read_text(ctx, ctx->root, "status", &status);
	if (result != WC2SF_OK)
		goto out;
	if (!status_synced(ctx->opt, status)) {
		result = map_fail(ctx, WC2SF_IGNORED,
		    "order status %.60s is not synced", status);
		goto out;
	}
	if (!json_object_object_get_ex(ctx->root, "billing", &billing) ||
	    !json_object_is_type(billing, json_type_object)) {
		result = map_wrong_type(ctx, "billing", "an object", billing);
		goto out;
	}
	if (!json_object_object_get_ex(ctx->root, "line_items", &lines) ||
	    !json_object_is_type(lines, json_type_array)) {
		result = map_wrong_type(ctx, "line_items", "an array", lines);
		goto out;
	}
	result = buyer_read(ctx, id, &buyer);
	if (result != WC2SF_OK)
		goto out;
	if (buyer.guest)
		snprintf(fallback, sizeof(fallback), "Guest of order %s", id);
	else
		snprintf(fallback, sizeof(fallback), "Customer %s", buyer.key);
	ctx->person = billing;
	ctx->person_path = "billing";
	ctx->fallback_name = fallback;
	result = map_buyer_steps(ctx, plan, buyer.field, buyer.key,
	    !buyer.guest);
	/*
	 * A known customer's steps are built all the same, so a body gets
	 * the same verdict whatever Salesforce has, and then dropped.
	 */
	if (result == WC2SF_OK && !buyer.guest &&
	    ctx->opt->customer_known != NULL &&
	    ctx->opt->customer_known(ctx->opt->ctx, buyer.key))
		map_plan_truncate(plan, plan->n - 2);
	if (result == WC2SF_OK)
		result = stub_products(ctx, plan, lines);
	if (result == WC2SF_OK)
		result = order_step(ctx, plan, id, &buyer);
	if (result == WC2SF_OK)
		result = line_steps(ctx, plan, id, lines, prev);
out:
	free(status);
	free(buyer.key);
	return result;
}

enum wc2sf_result
map_order_deleted(struct map_ctx *ctx, struct map_plan *plan,
    const char *id, struct json_object *prev)
{
	return map_step_record(ctx, plan, MAP_UPDATE_ONLY, &deleted_step, id,
	    ctx->root);
}
