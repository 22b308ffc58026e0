/*
 * Unit tests of the Salesforce wire layer (lib/sf_wire.c): packing plans
 * into composite requests, reading composite and error responses, and
 * classifying errors. No network.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "log.h"
#include "sf_wire.h"

#define V "/services/data/v62.0"

static struct json_object *
parse(const char *text)
{
	struct json_object *o = json_tokener_parse(text);

	assert_non_null(o);
	return o;
}

static void
plan_add(struct map_plan *plan, enum map_op op, const char *sobject,
    const char *ext_field, const char *records)
{
	struct map_step *s;

	assert_true(plan->n < MAP_MAX_STEPS);
	s = &plan->steps[plan->n++];
	s->op = op;
	s->sobject = sobject;
	s->ext_field = ext_field;
	s->records = parse(records);
}

static void tree_drop(void);

static void
plan_clear(struct map_plan *plan)
{
	size_t i;

	for (i = 0; i < plan->n; i++)
		json_object_put(plan->steps[i].records);
	memset(plan, 0, sizeof(*plan));
	tree_drop();
}

/* n records {"<key>":"<prefix><i>","Quantity":1} as JSON text. */
static char *
many_records(const char *key, const char *prefix, size_t n)
{
	size_t size = n * 80 + 16, o = 0, i;
	char *buf = malloc(size);

	assert_non_null(buf);
	o += (size_t)snprintf(buf + o, size - o, "[");
	for (i = 0; i < n; i++)
		o += (size_t)snprintf(buf + o, size - o,
		    "%s{\"%s\":\"%s%zu\",\"Quantity\":1}", i ? "," : "", key,
		    prefix, i);
	snprintf(buf + o, size - o, "]");
	return buf;
}

/*
 * The body of c parsed back, kept until the next call asks for another
 * body (or tree_drop()), so what the helpers below return stays valid
 * for one assertion.
 */
static struct json_object *tree_cache;
static char *tree_text;

static void
tree_drop(void)
{
	json_object_put(tree_cache);
	free(tree_text);
	tree_cache = NULL;
	tree_text = NULL;
}

static struct json_object *
tree(const struct sf_composite *c)
{
	const char *body = sf_wire_body(c);

	assert_non_null(body);
	assert_int_equal(strlen(body), c->len);
	if (tree_text == NULL || strcmp(tree_text, body) != 0) {
		tree_drop();
		tree_cache = parse(body);
		tree_text = strdup(body);
		assert_non_null(tree_text);
	}
	return tree_cache;
}

static struct json_object *
sub_request(const struct sf_composite *c, size_t i)
{
	struct json_object *list, *req;

	assert_true(json_object_object_get_ex(tree(c), "compositeRequest",
	    &list));
	req = json_object_array_get_idx(list, i);
	assert_non_null(req);
	return req;
}

static const char *
sub_field(const struct sf_composite *c, size_t i, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(sub_request(c, i), key, &v))
		return NULL;
	return json_object_get_string(v);
}

static size_t
sub_records(const struct sf_composite *c, size_t i)
{
	struct json_object *body, *recs;

	assert_true(json_object_object_get_ex(sub_request(c, i), "body",
	    &body));
	assert_true(json_object_object_get_ex(body, "records", &recs));
	return json_object_array_length(recs);
}

static void
test_pct_encode(void **state)
{
	char out[64], small[8];

	assert_true(sf_wire_pct_encode("a/b c%+\xc3\xa9", out,
	    sizeof(out)));
	assert_string_equal(out, "a%2Fb%20c%25%2B%C3%A9");
	assert_true(sf_wire_pct_encode("AZaz09-._~", out, sizeof(out)));
	assert_string_equal(out, "AZaz09-._~");
	assert_true(sf_wire_pct_encode("?#&=@:", out, sizeof(out)));
	assert_string_equal(out, "%3F%23%26%3D%40%3A");
	/* "abcdefg" needs 8 bytes; a '/' at the end does not fit. */
	assert_true(sf_wire_pct_encode("abcdefg", small, sizeof(small)));
	assert_false(sf_wire_pct_encode("abcdef/", small, sizeof(small)));
	assert_string_equal(small, "");
}

/*
 * Two upsert steps fit one composite with allOrNone, byte for byte.
 * Keys that are no plain words (a guest's e-mail) go in collections.
 */
static void
test_pack_two_steps(void **state)
{
	struct map_plan plan = { 0 };
	struct sf_pack pack;
	char why[128];

	plan_add(&plan, MAP_UPSERT, "Account", "WC_Guest_Email__c",
	    "[{\"WC_Guest_Email__c\":\"a/b c%+@x.test\",\"Name\":\"Jane Doe\"}]");
	plan_add(&plan, MAP_UPSERT, "Contact", "WC_Guest_Email__c",
	    "[{\"WC_Guest_Email__c\":\"a/b c%+@x.test\",\"LastName\":\"Doe\","
	    "\"Account\":{\"WC_Guest_Email__c\":\"a/b c%+@x.test\"}}]");
	assert_int_equal(sf_wire_pack(&plan, "62.0", NULL, &pack, why,
	    sizeof(why)), WC2SF_OK);
	assert_int_equal(pack.n, 1);
	assert_true(pack.parts[0].all_or_none);
	assert_int_equal(pack.parts[0].nsubs, 2);
	assert_string_equal(sf_wire_body(&pack.parts[0]),
	    "{\"allOrNone\":true,\"collateSubrequests\":false,"
	    "\"compositeRequest\":["
	    "{\"method\":\"PATCH\",\"url\":\"" V "/composite/sobjects/"
	    "Account/WC_Guest_Email__c\",\"referenceId\":\"r0\","
	    "\"body\":{\"allOrNone\":true,\"records\":[{\"attributes\":"
	    "{\"type\":\"Account\"},\"WC_Guest_Email__c\":\"a/b c%+@x.test\","
	    "\"Name\":\"Jane Doe\"}]}},"
	    "{\"method\":\"PATCH\",\"url\":\"" V "/composite/sobjects/"
	    "Contact/WC_Guest_Email__c\",\"referenceId\":\"r1\","
	    "\"body\":{\"allOrNone\":true,\"records\":[{\"attributes\":"
	    "{\"type\":\"Contact\"},\"WC_Guest_Email__c\":\"a/b c%+@x.test\","
	    "\"LastName\":\"Doe\",\"Account\":{\"WC_Guest_Email__c\":"
	    "\"a/b c%+@x.test\"}}]}}]}");
	assert_int_equal(pack.parts[0].subs[0].kind, SF_SUB_UPSERT);
	assert_string_equal(pack.parts[0].subs[1].sobject, "Contact");
	assert_int_equal(pack.parts[0].subs[1].step, 1);
	sf_pack_free(&pack);
	plan_clear(&plan);
}

/*
 * One-record steps with plain keys are sObject upserts by URL, the key
 * out of the body; they leave the 5 collections to bigger steps.
 */
static void
test_pack_single_upserts(void **state)
{
	struct map_plan plan = { 0 };
	struct sf_pack pack;
	char why[128];

	assert_true(sf_wire_key_safe("42"));
	assert_true(sf_wire_key_safe("std-12"));
	assert_true(sf_wire_key_safe("order_7-x"));
	assert_false(sf_wire_key_safe(""));
	assert_false(sf_wire_key_safe(NULL));
	assert_false(sf_wire_key_safe("a.b"));
	assert_false(sf_wire_key_safe("a b"));
	assert_false(sf_wire_key_safe("a/b"));
	assert_false(sf_wire_key_safe("a%2F"));
	assert_false(sf_wire_key_safe("a+b"));
	assert_false(sf_wire_key_safe("\xc3\xa9"));
	assert_false(sf_wire_key_safe("x@y"));
	assert_true(sf_wire_key_safe("1234567890123456789012345678901234567890"
	    "1234567890123456789012345678901234567890"));
	assert_false(sf_wire_key_safe("1234567890123456789012345678901234567890"
	    "12345678901234567890123456789012345678901"));

	plan_add(&plan, MAP_UPSERT, "Account", "WC_Customer_Id__c",
	    "[{\"WC_Customer_Id__c\":\"42\",\"Name\":\"Jane Doe\"}]");
	plan_add(&plan, MAP_UPSERT, "Contact", "WC_Customer_Id__c",
	    "[{\"WC_Customer_Id__c\":42,\"LastName\":\"Doe\","
	    "\"Account\":{\"WC_Customer_Id__c\":\"42\"}}]");
	assert_int_equal(sf_wire_pack(&plan, "62.0", NULL, &pack, why,
	    sizeof(why)), WC2SF_OK);
	assert_int_equal(pack.n, 1);
	assert_int_equal(pack.parts[0].nsubs, 2);
	assert_int_equal(pack.parts[0].ncollections, 0);
	assert_string_equal(sf_wire_body(&pack.parts[0]),
	    "{\"allOrNone\":true,\"collateSubrequests\":false,"
	    "\"compositeRequest\":["
	    "{\"method\":\"PATCH\",\"url\":\"" V "/sobjects/"
	    "Account/WC_Customer_Id__c/42\",\"referenceId\":\"r0\","
	    "\"body\":{\"Name\":\"Jane Doe\"}},"
	    "{\"method\":\"PATCH\",\"url\":\"" V "/sobjects/"
	    "Contact/WC_Customer_Id__c/42\",\"referenceId\":\"r1\","
	    "\"body\":{\"LastName\":\"Doe\",\"Account\":"
	    "{\"WC_Customer_Id__c\":\"42\"}}}]}");
	assert_int_equal(pack.parts[0].subs[0].kind, SF_SUB_UPSERT_ONE);
	assert_int_equal(pack.parts[0].subs[1].records, 1);
	sf_pack_free(&pack);
	plan_clear(&plan);

	/* Two records of one step are one collection, whatever the keys. */
	plan_add(&plan, MAP_UPSERT, "Product2", "WC_Product_Id__c",
	    "[{\"WC_Product_Id__c\":\"1\"},{\"WC_Product_Id__c\":\"2\"}]");
	assert_int_equal(sf_wire_pack(&plan, "62.0", NULL, &pack, why,
	    sizeof(why)), WC2SF_OK);
	assert_int_equal(pack.parts[0].ncollections, 1);
	assert_int_equal(pack.parts[0].subs[0].kind, SF_SUB_UPSERT);
	sf_pack_free(&pack);
	plan_clear(&plan);
}

/* 300 line items: two collections (200 + 100) in one composite. */
static void
test_pack_300_items(void **state)
{
	struct map_plan plan = { 0 };
	struct sf_pack pack;
	char why[128], *recs;

	plan_add(&plan, MAP_UPSERT, "Order", "WC_Order_Id__c",
	    "[{\"WC_Order_Id__c\":\"731\",\"Status\":\"Draft\"}]");
	recs = many_records("WC_Line_Id__c", "L", 300);
	plan_add(&plan, MAP_UPSERT, "OrderItem", "WC_Line_Id__c", recs);
	free(recs);
	assert_int_equal(sf_wire_pack(&plan, "62.0", NULL, &pack, why,
	    sizeof(why)), WC2SF_OK);
	assert_int_equal(pack.n, 1);
	assert_int_equal(pack.parts[0].nsubs, 3);
	assert_int_equal(pack.parts[0].ncollections, 2);
	assert_int_equal(pack.parts[0].subs[0].kind, SF_SUB_UPSERT_ONE);
	assert_string_equal(sub_field(&pack.parts[0], 0, "url"),
	    V "/sobjects/Order/WC_Order_Id__c/731");
	assert_int_equal(sub_records(&pack.parts[0], 1), 200);
	assert_int_equal(sub_records(&pack.parts[0], 2), 100);
	assert_int_equal(pack.parts[0].subs[1].records, 200);
	assert_string_equal(sub_field(&pack.parts[0], 2, "url"),
	    V "/composite/sobjects/OrderItem/WC_Line_Id__c");
	sf_pack_free(&pack);
	plan_clear(&plan);
}

/*
 * Seven one-record steps keyed by e-mails: 5 collections, then 2, in
 * step order. Keyed by plain words, all seven fit one composite.
 */
static void
test_pack_many_steps(void **state)
{
	static const char *const types[] = { "Account", "Contact",
	    "Product2", "PricebookEntry", "Order", "OrderItem", "Case" };
	struct map_plan plan = { 0 };
	struct sf_pack pack;
	char why[128];
	size_t i, k = 0, p;

	for (i = 0; i < 7; i++)
		plan_add(&plan, MAP_UPSERT, types[i], "Key__c",
		    "[{\"Key__c\":\"1\"}]");
	assert_int_equal(sf_wire_pack(&plan, "62.0", NULL, &pack, why,
	    sizeof(why)), WC2SF_OK);
	assert_int_equal(pack.n, 1);
	assert_int_equal(pack.parts[0].nsubs, 7);
	assert_int_equal(pack.parts[0].ncollections, 0);
	sf_pack_free(&pack);
	plan_clear(&plan);

	for (i = 0; i < 7; i++)
		plan_add(&plan, MAP_UPSERT, types[i], "Key__c",
		    "[{\"Key__c\":\"a@b.test\"}]");
	assert_int_equal(sf_wire_pack(&plan, "62.0", NULL, &pack, why,
	    sizeof(why)), WC2SF_OK);
	assert_int_equal(pack.n, 2);
	assert_int_equal(pack.parts[0].nsubs, 5);
	assert_int_equal(pack.parts[1].nsubs, 2);
	for (p = 0; p < pack.n; p++) {
		for (i = 0; i < pack.parts[p].nsubs; i++, k++) {
			assert_int_equal(pack.parts[p].subs[i].step, k);
			assert_string_equal(pack.parts[p].subs[i].sobject,
			    types[k]);
		}
	}
	sf_pack_free(&pack);
	plan_clear(&plan);
}

/* 1200 records of one type: 6 collections, so two composites. */
static void
test_pack_collection_limit(void **state)
{
	struct map_plan plan = { 0 };
	struct sf_pack pack;
	char why[128], *recs;

	recs = many_records("WC_Line_Id__c", "L", 1200);
	plan_add(&plan, MAP_UPSERT, "OrderItem", "WC_Line_Id__c", recs);
	free(recs);
	assert_int_equal(sf_wire_pack(&plan, "62.0", NULL, &pack, why,
	    sizeof(why)), WC2SF_OK);
	assert_int_equal(pack.n, 2);
	assert_int_equal(pack.parts[0].ncollections, 5);
	assert_int_equal(pack.parts[1].ncollections, 1);
	assert_int_equal(sub_records(&pack.parts[1], 0), 200);
	sf_pack_free(&pack);
	plan_clear(&plan);
}

static void
test_pack_update_only(void **state)
{
	struct map_plan plan = { 0 };
	struct sf_pack pack;
	struct json_object *body;
	char why[128], *recs;

	plan_add(&plan, MAP_UPSERT, "Account", "WC_Customer_Id__c",
	    "[{\"WC_Customer_Id__c\":\"1\"}]");
	plan_add(&plan, MAP_UPDATE_ONLY, "Product2", "WC_Product_Id__c",
	    "[{\"WC_Product_Id__c\":\"a/b c%+\xc3\xa9\",\"IsActive\":false},"
	    "{\"WC_Product_Id__c\":77,\"IsActive\":false}]");
	assert_int_equal(sf_wire_pack(&plan, "62.0", NULL, &pack, why,
	    sizeof(why)), WC2SF_OK);
	/* allOrNone differs, so the update needs its own composite. */
	assert_int_equal(pack.n, 2);
	assert_true(pack.parts[0].all_or_none);
	assert_false(pack.parts[1].all_or_none);
	assert_int_equal(pack.parts[1].nsubs, 4);
	assert_string_equal(sub_field(&pack.parts[1], 0, "method"), "GET");
	assert_string_equal(sub_field(&pack.parts[1], 0, "url"),
	    V "/sobjects/Product2/WC_Product_Id__c/a%2Fb%20c%25%2B%C3%A9");
	assert_null(sub_field(&pack.parts[1], 0, "body"));
	assert_string_equal(sub_field(&pack.parts[1], 1, "method"), "PATCH");
	assert_string_equal(sub_field(&pack.parts[1], 1, "url"),
	    V "/sobjects/Product2/@{r0.Id}");
	assert_true(json_object_object_get_ex(sub_request(&pack.parts[1], 1),
	    "body", &body));
	assert_string_equal(json_object_to_json_string_ext(body,
	    JSON_C_TO_STRING_PLAIN), "{\"IsActive\":false}");
	assert_string_equal(sub_field(&pack.parts[1], 2, "url"),
	    V "/sobjects/Product2/WC_Product_Id__c/77");
	assert_string_equal(sub_field(&pack.parts[1], 3, "url"),
	    V "/sobjects/Product2/@{r2.Id}");
	assert_int_equal(pack.parts[1].subs[0].kind, SF_SUB_LOOKUP);
	assert_int_equal(pack.parts[1].subs[1].kind, SF_SUB_UPDATE);
	assert_true(strstr(sf_wire_body(&pack.parts[1]),
	    "\"allOrNone\":false") != NULL);
	sf_pack_free(&pack);
	plan_clear(&plan);

	/* 13 updates: 12 pairs fill 24 subrequests, the 13th goes next. */
	recs = many_records("WC_Product_Id__c", "P", 13);
	plan_add(&plan, MAP_UPDATE_ONLY, "Product2", "WC_Product_Id__c",
	    recs);
	free(recs);
	assert_int_equal(sf_wire_pack(&plan, "62.0", NULL, &pack, why,
	    sizeof(why)), WC2SF_OK);
	assert_int_equal(pack.n, 2);
	assert_int_equal(pack.parts[0].nsubs, 24);
	assert_int_equal(pack.parts[1].nsubs, 2);
	assert_string_equal(sub_field(&pack.parts[1], 1, "url"),
	    V "/sobjects/Product2/@{r0.Id}");
	sf_pack_free(&pack);
	plan_clear(&plan);
}

static void
test_pack_delete(void **state)
{
	struct map_plan plan = { 0 };
	struct sf_pack pack;
	char why[128], *recs;

	recs = many_records("WC_Line_Id__c", "x/", 30);
	plan_add(&plan, MAP_DELETE, "OrderItem", "WC_Line_Id__c", recs);
	free(recs);
	/* Deletes share composites with updates: both allow misses. */
	plan_add(&plan, MAP_UPDATE_ONLY, "Order", "WC_Order_Id__c",
	    "[{\"WC_Order_Id__c\":\"9\",\"WC_Deleted__c\":true}]");
	assert_int_equal(sf_wire_pack(&plan, "62.0", NULL, &pack, why,
	    sizeof(why)), WC2SF_OK);
	assert_int_equal(pack.n, 2);
	assert_false(pack.parts[0].all_or_none);
	assert_int_equal(pack.parts[0].nsubs, 25);
	assert_int_equal(pack.parts[1].nsubs, 7);
	assert_string_equal(sub_field(&pack.parts[0], 0, "method"),
	    "DELETE");
	assert_string_equal(sub_field(&pack.parts[0], 0, "url"),
	    V "/sobjects/OrderItem/WC_Line_Id__c/x%2F0");
	assert_null(sub_field(&pack.parts[0], 0, "body"));
	assert_int_equal(pack.parts[0].subs[3].kind, SF_SUB_DELETE);
	assert_int_equal(pack.parts[1].subs[5].kind, SF_SUB_LOOKUP);
	assert_int_equal(pack.parts[1].subs[5].step, 1);
	sf_pack_free(&pack);
	plan_clear(&plan);
}

static void
test_pack_bad_keys(void **state)
{
	static const char *const bad[] = {
		"[{\"IsActive\":false}]",
		"[{\"WC_Product_Id__c\":\"\"}]",
		"[{\"WC_Product_Id__c\":1.5}]",
		"[{\"WC_Product_Id__c\":null}]",
	};
	struct map_plan plan = { 0 };
	struct sf_pack pack;
	char why[128];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		plan_add(&plan, i % 2 ? MAP_DELETE : MAP_UPDATE_ONLY,
		    "Product2", "WC_Product_Id__c", bad[i]);
		assert_int_equal(sf_wire_pack(&plan, "62.0", NULL, &pack,
		    why, sizeof(why)), WC2SF_SF_REJECTED);
		assert_non_null(strstr(why, "WC_Product_Id__c"));
		assert_int_equal(pack.n, 0);
		plan_clear(&plan);
	}
	/* Empty and absent record lists send nothing. */
	plan_add(&plan, MAP_UPSERT, "Account", "WC_Customer_Id__c", "[]");
	plan.steps[plan.n++] = (struct map_step){ MAP_UPSERT, "Contact",
	    "WC_Customer_Id__c", NULL };
	assert_int_equal(sf_wire_pack(&plan, "62.0", NULL, &pack, why,
	    sizeof(why)), WC2SF_OK);
	assert_int_equal(pack.n, 0);
	plan_clear(&plan);
}

static void
test_pack_pricebook(void **state)
{
	struct map_plan plan = { 0 };
	struct sf_pack pack;
	const char *body;
	char why[128];

	plan_add(&plan, MAP_UPSERT, "Product2", "WC_Product_Id__c",
	    "[{\"WC_Product_Id__c\":\"77\",\"Name\":\"$standard_pricebook"
	    " is not a placeholder\"}]");
	assert_false(sf_wire_needs_pricebook(&plan));
	plan_add(&plan, MAP_UPSERT, "PricebookEntry", "WC_Price_Key__c",
	    "[{\"WC_Price_Key__c\":\"std-77\",\"Pricebook2Id\":"
	    "\"$standard_pricebook\",\"Product2\":{\"WC_Product_Id__c\":"
	    "\"77\"},\"Deep\":[{\"x\":\"$standard_pricebook\"}]}]");
	assert_true(sf_wire_needs_pricebook(&plan));
	assert_int_equal(sf_wire_pack(&plan, "62.0", NULL, &pack, why,
	    sizeof(why)), WC2SF_INTERNAL);
	assert_int_equal(sf_wire_pack(&plan, "62.0", "01sXX0000001AbcYAE",
	    &pack, why, sizeof(why)), WC2SF_OK);
	body = sf_wire_body(&pack.parts[0]);
	assert_non_null(strstr(body, "\"Pricebook2Id\":"
	    "\"01sXX0000001AbcYAE\""));
	assert_non_null(strstr(body, "{\"x\":\"01sXX0000001AbcYAE\"}"));
	assert_non_null(strstr(body, "\"$standard_pricebook is not a"));
	assert_null(strstr(body, "\"$standard_pricebook\""));
	/* The plan itself is left as it was. */
	assert_true(sf_wire_needs_pricebook(&plan));
	sf_pack_free(&pack);
	plan_clear(&plan);
}

/*
 * Bodies are written as text straight from the plan; they must be what
 * json-c prints for the same tree, value type by value type: escapes
 * (control bytes, quotes, backslashes, '/', DEL, UTF-8, a NUL), integers
 * at both ends of 64 bits, doubles with and without their text, null,
 * booleans, nested objects and arrays. "attributes" in a record is
 * replaced by the step's type.
 */
static void
test_pack_as_json_c(void **state)
{
	struct map_plan plan = { 0 };
	struct json_object *rec, *want, *attrs, *recs, *body, *req, *list;
	struct sf_pack pack;
	char why[128], ctl[40], big[9000];
	size_t i;

	plan_add(&plan, MAP_UPSERT, "Thing__c", "Key__c",
	    "[{\"attributes\":{\"type\":\"Other\"},\"Key__c\":\"a@b.test\","
	    "\"S\":\"q\\\" b\\\\ s/ d\\u007f e\\u00e9 l\\u2028 z\\u0000.\","
	    "\"I\":[-5,0,9223372036854775807,18446744073709551615,"
	    "-9223372036854775808],\"D\":[12.50,1e2,-0.0,1E-7],"
	    "\"N\":null,\"T\":true,\"F\":false,"
	    "\"O\":{\"k/\\\"\\n\":[[],{}],\"e\":\"\"}},"
	    "{\"Key__c\":\"c@d.test\"}]");
	rec = json_object_array_get_idx(plan.steps[0].records, 0);
	for (i = 1; i < 32; i++)
		ctl[i - 1] = (char)i;
	ctl[31] = '\0';
	json_object_object_add(rec, "C", json_object_new_string(ctl));
	/* Escapes late in a long string, past the room made at first. */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[5000] = '\n';
	big[sizeof(big) - 2] = '"';
	json_object_object_add(rec, "L", json_object_new_string(big));
	json_object_object_add(rec, "X", json_object_new_double(0.1));
	json_object_object_add(rec, "Y", json_object_new_double(3));
	json_object_object_add(rec, "Z", json_object_new_double_s(12.5,
	    "12.50"));
	assert_int_equal(sf_wire_pack(&plan, "62.0", NULL, &pack, why,
	    sizeof(why)), WC2SF_OK);
	assert_int_equal(pack.n, 1);

	/* The same composite built as a json-c tree. */
	recs = json_object_new_array();
	for (i = 0; i < 2; i++) {
		rec = json_object_array_get_idx(plan.steps[0].records, i);
		body = json_object_new_object();
		attrs = json_object_new_object();
		json_object_object_add(attrs, "type",
		    json_object_new_string("Thing__c"));
		json_object_object_add(body, "attributes", attrs);
		json_object_object_foreach(rec, key, val) {
			if (strcmp(key, "attributes") != 0)
				json_object_object_add(body, key,
				    json_object_get(val));
		}
		json_object_array_add(recs, body);
	}
	body = json_object_new_object();
	json_object_object_add(body, "allOrNone",
	    json_object_new_boolean(true));
	json_object_object_add(body, "records", recs);
	req = json_object_new_object();
	json_object_object_add(req, "method", json_object_new_string("PATCH"));
	json_object_object_add(req, "url", json_object_new_string(
	    V "/composite/sobjects/Thing__c/Key__c"));
	json_object_object_add(req, "referenceId",
	    json_object_new_string("r0"));
	json_object_object_add(req, "body", body);
	list = json_object_new_array();
	json_object_array_add(list, req);
	want = json_object_new_object();
	json_object_object_add(want, "allOrNone",
	    json_object_new_boolean(true));
	json_object_object_add(want, "collateSubrequests",
	    json_object_new_boolean(false));
	json_object_object_add(want, "compositeRequest", list);
	assert_string_equal(sf_wire_body(&pack.parts[0]),
	    json_object_to_json_string_ext(want, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	assert_non_null(strstr(sf_wire_body(&pack.parts[0]),
	    "\"Z\":12.50}"));
	json_object_put(want);
	sf_pack_free(&pack);
	plan_clear(&plan);
}

/* A pack of the given steps; each test reads answers against it. */
static void
pack_of(struct map_plan *plan, struct sf_pack *pack)
{
	char why[128];

	assert_int_equal(sf_wire_pack(plan, "62.0", NULL, pack, why,
	    sizeof(why)), WC2SF_OK);
}

static enum wc2sf_result
read_answer(const struct sf_composite *c, long status, const char *body,
    struct sf_outcome *out)
{
	sf_outcome_clear(out);
	return sf_wire_read_composite(c, status, body, strlen(body), out);
}

static const char *
ids_text(const struct sf_outcome *out)
{
	if (out->ids == NULL)
		return "";
	return json_object_to_json_string_ext(out->ids,
	    JSON_C_TO_STRING_PLAIN);
}

/* Two one-record collections (keys no URL can carry as they are). */
static void
account_contact(struct map_plan *plan, struct sf_pack *pack)
{
	plan_add(plan, MAP_UPSERT, "Account", "WC_Customer_Id__c",
	    "[{\"WC_Customer_Id__c\":\"4.2\",\"Name\":\"A\"}]");
	plan_add(plan, MAP_UPSERT, "Contact", "WC_Customer_Id__c",
	    "[{\"WC_Customer_Id__c\":\"4.2\",\"LastName\":\"B\"}]");
	pack_of(plan, pack);
	assert_int_equal(pack->parts[0].ncollections, 2);
}

/* The answers of single upserts: 201/200 bodies, errors, 300. */
static void
test_read_single_upserts(void **state)
{
	struct map_plan plan = { 0 };
	struct sf_pack pack;
	struct sf_outcome out = { 0 };

	plan_add(&plan, MAP_UPSERT, "Account", "WC_Customer_Id__c",
	    "[{\"WC_Customer_Id__c\":\"42\",\"Name\":\"A\"}]");
	plan_add(&plan, MAP_UPSERT, "Contact", "WC_Customer_Id__c",
	    "[{\"WC_Customer_Id__c\":\"42\",\"LastName\":\"B\"}]");
	pack_of(&plan, &pack);
	assert_int_equal(pack.parts[0].subs[1].kind, SF_SUB_UPSERT_ONE);
	assert_int_equal(read_answer(&pack.parts[0], 200,
	    "{\"compositeResponse\":["
	    "{\"body\":{\"id\":\"001XX000003DHP0YAO\",\"success\":true,"
	    "\"errors\":[],\"created\":true},\"httpHeaders\":{\"Location\":"
	    "\"/x\"},\"httpStatusCode\":201,\"referenceId\":\"r0\"},"
	    "{\"body\":{\"id\":\"003XX000004TmiQYAS\",\"success\":true,"
	    "\"errors\":[],\"created\":false},\"httpHeaders\":{},"
	    "\"httpStatusCode\":200,\"referenceId\":\"r1\"}]}", &out),
	    WC2SF_OK);
	assert_string_equal(ids_text(&out), "{\"Account\":"
	    "[\"001XX000003DHP0YAO\"],\"Contact\":[\"003XX000004TmiQYAS\"]}");
	/* The error after its echo; Salesforce's words kept. */
	assert_int_equal(read_answer(&pack.parts[0], 200,
	    "{\"compositeResponse\":["
	    "{\"body\":[{\"errorCode\":\"PROCESSING_HALTED\",\"message\":"
	    "\"x\"}],\"httpStatusCode\":400,\"referenceId\":\"r0\"},"
	    "{\"body\":[{\"message\":\"Required fields are missing: "
	    "[LastName]\",\"errorCode\":\"REQUIRED_FIELD_MISSING\","
	    "\"fields\":[\"LastName\"]}],\"httpHeaders\":{},"
	    "\"httpStatusCode\":400,\"referenceId\":\"r1\"}]}", &out),
	    WC2SF_SF_REJECTED);
	assert_string_equal(out.code, "REQUIRED_FIELD_MISSING");
	assert_string_equal(out.message,
	    "Contact: Required fields are missing: [LastName]");
	/* Several records match the key: 300 with their URLs. */
	assert_int_equal(read_answer(&pack.parts[0], 200,
	    "{\"compositeResponse\":["
	    "{\"body\":[\"/services/data/v62.0/sobjects/Account/001A\","
	    "\"/services/data/v62.0/sobjects/Account/001B\"],"
	    "\"httpStatusCode\":300,\"referenceId\":\"r0\"},"
	    "{\"body\":[{\"errorCode\":\"PROCESSING_HALTED\",\"message\":"
	    "\"x\"}],\"httpStatusCode\":400,\"referenceId\":\"r1\"}]}",
	    &out), WC2SF_SF_REJECTED);
	assert_string_equal(out.code, "MULTIPLE_CHOICES");
	/* A success without an id is no success. */
	assert_int_equal(read_answer(&pack.parts[0], 200,
	    "{\"compositeResponse\":["
	    "{\"body\":null,\"httpStatusCode\":204,\"referenceId\":\"r0\"},"
	    "{\"body\":{\"id\":\"003X\",\"success\":true},"
	    "\"httpStatusCode\":200,\"referenceId\":\"r1\"}]}", &out),
	    WC2SF_SF_REJECTED);
	sf_outcome_clear(&out);
	sf_pack_free(&pack);
	plan_clear(&plan);
}

static void
test_read_success(void **state)
{
	struct map_plan plan = { 0 };
	struct sf_pack pack;
	struct sf_outcome out = { 0 };

	account_contact(&plan, &pack);
	assert_int_equal(read_answer(&pack.parts[0], 200,
	    "{\"compositeResponse\":["
	    "{\"body\":[{\"id\":\"001XX000003DHP0YAO\",\"success\":true,"
	    "\"errors\":[],\"created\":true}],\"httpHeaders\":{},"
	    "\"httpStatusCode\":200,\"referenceId\":\"r0\"},"
	    "{\"body\":[{\"id\":\"003XX000004TmiQYAS\",\"success\":true,"
	    "\"errors\":[],\"created\":false}],\"httpHeaders\":{},"
	    "\"httpStatusCode\":200,\"referenceId\":\"r1\"}]}", &out),
	    WC2SF_OK);
	assert_string_equal(ids_text(&out), "{\"Account\":"
	    "[\"001XX000003DHP0YAO\"],\"Contact\":[\"003XX000004TmiQYAS\"]}");
	assert_string_equal(out.code, "");
	assert_string_equal(out.message, "");
	sf_outcome_clear(&out);
	sf_pack_free(&pack);
	plan_clear(&plan);
}

static void
test_read_collection_error(void **state)
{
	struct map_plan plan = { 0 };
	struct sf_pack pack;
	struct sf_outcome out = { 0 };

	account_contact(&plan, &pack);
	assert_int_equal(read_answer(&pack.parts[0], 200,
	    "{\"compositeResponse\":["
	    "{\"body\":[{\"success\":false,\"errors\":[{\"statusCode\":"
	    "\"REQUIRED_FIELD_MISSING\",\"message\":\"Required fields are "
	    "missing: [Name]\",\"fields\":[\"Name\"]}]}],"
	    "\"httpHeaders\":{},\"httpStatusCode\":200,"
	    "\"referenceId\":\"r0\"},"
	    "{\"body\":[{\"errorCode\":\"PROCESSING_HALTED\",\"message\":"
	    "\"The transaction was rolled back since another operation in "
	    "the same transaction failed.\"}],\"httpHeaders\":{},"
	    "\"httpStatusCode\":400,\"referenceId\":\"r1\"}]}", &out),
	    WC2SF_SF_REJECTED);
	assert_string_equal(out.code, "REQUIRED_FIELD_MISSING");
	assert_string_equal(out.message,
	    "Account: Required fields are missing: [Name]");
	assert_false(out.daily_limit);
	sf_outcome_clear(&out);
	sf_pack_free(&pack);
	plan_clear(&plan);
}

/* The real error comes after its echoes; the echoes are skipped. */
static void
test_read_rollback(void **state)
{
	struct map_plan plan = { 0 };
	struct sf_pack pack;
	struct sf_outcome out = { 0 };

	account_contact(&plan, &pack);
	assert_int_equal(read_answer(&pack.parts[0], 200,
	    "{\"compositeResponse\":["
	    "{\"body\":[{\"errorCode\":\"PROCESSING_HALTED\",\"message\":"
	    "\"The transaction was rolled back since another operation in "
	    "the same transaction failed.\"}],\"httpHeaders\":{},"
	    "\"httpStatusCode\":400,\"referenceId\":\"r0\"},"
	    "{\"body\":[{\"success\":false,\"errors\":[{\"statusCode\":"
	    "\"ALL_OR_NONE_OPERATION_ROLLED_BACK\",\"message\":\"Record "
	    "rolled back because not all records were valid and the "
	    "request was using AllOrNone header\"}]},{\"success\":false,"
	    "\"errors\":[{\"statusCode\":\"STRING_TOO_LONG\",\"message\":"
	    "\"Last Name: data value too large: \xc3\xa9\xc3\xa9 (max "
	    "length=80)\",\"fields\":[\"LastName\"]}]}],"
	    "\"httpHeaders\":{},\"httpStatusCode\":400,"
	    "\"referenceId\":\"r1\"}]}", &out), WC2SF_SF_REJECTED);
	assert_string_equal(out.code, "STRING_TOO_LONG");
	assert_string_equal(out.message, "Contact: Last Name: data value "
	    "too large: \xc3\xa9\xc3\xa9 (max length=80)");
	/* Only echoes in an allOrNone composite: no reason, so retry. */
	assert_int_equal(read_answer(&pack.parts[0], 200,
	    "{\"compositeResponse\":["
	    "{\"body\":[{\"errorCode\":\"PROCESSING_HALTED\",\"message\":"
	    "\"x\"}],\"httpStatusCode\":400,\"referenceId\":\"r0\"},"
	    "{\"body\":[{\"errorCode\":\"PROCESSING_HALTED\",\"message\":"
	    "\"x\"}],\"httpStatusCode\":400,\"referenceId\":\"r1\"}]}",
	    &out), WC2SF_SF_UNAVAILABLE);
	sf_outcome_clear(&out);
	sf_pack_free(&pack);
	plan_clear(&plan);
}

static void
test_read_transient(void **state)
{
	struct map_plan plan = { 0 };
	struct sf_pack pack;
	struct sf_outcome out = { 0 };

	account_contact(&plan, &pack);
	/* A racing create on the upsert key: the retry will update. */
	assert_int_equal(read_answer(&pack.parts[0], 200,
	    "{\"compositeResponse\":["
	    "{\"body\":[{\"success\":false,\"errors\":[{\"statusCode\":"
	    "\"DUPLICATE_VALUE\",\"message\":\"duplicate value found: "
	    "WC_Customer_Id__c duplicates value on record with id: "
	    "001XX000003DHP0YAO\"}]}],\"httpStatusCode\":200,"
	    "\"referenceId\":\"r0\"},"
	    "{\"body\":[{\"errorCode\":\"PROCESSING_HALTED\",\"message\":"
	    "\"x\"}],\"httpStatusCode\":400,\"referenceId\":\"r1\"}]}",
	    &out), WC2SF_SF_UNAVAILABLE);
	assert_string_equal(out.code, "DUPLICATE_VALUE");
	/* The same clash on another unique field will not go away. */
	assert_int_equal(read_answer(&pack.parts[0], 200,
	    "{\"compositeResponse\":["
	    "{\"body\":[{\"success\":false,\"errors\":[{\"statusCode\":"
	    "\"DUPLICATE_VALUE\",\"message\":\"duplicate value found: "
	    "WC_Guest_Email__c duplicates value on record with id: "
	    "001XX000003DHP0YAO\"}]}],\"httpStatusCode\":200,"
	    "\"referenceId\":\"r0\"},"
	    "{\"body\":[{\"errorCode\":\"PROCESSING_HALTED\",\"message\":"
	    "\"x\"}],\"httpStatusCode\":400,\"referenceId\":\"r1\"}]}",
	    &out), WC2SF_SF_REJECTED);
	/* Lock contention, reported as a 500 subrequest. */
	assert_int_equal(read_answer(&pack.parts[0], 200,
	    "{\"compositeResponse\":["
	    "{\"body\":[{\"errorCode\":\"UNABLE_TO_LOCK_ROW\",\"message\":"
	    "\"unable to obtain exclusive access to this record\"}],"
	    "\"httpStatusCode\":500,\"referenceId\":\"r0\"},"
	    "{\"body\":[{\"errorCode\":\"PROCESSING_HALTED\",\"message\":"
	    "\"x\"}],\"httpStatusCode\":400,\"referenceId\":\"r1\"}]}",
	    &out), WC2SF_SF_UNAVAILABLE);
	assert_string_equal(out.code, "UNABLE_TO_LOCK_ROW");
	/* A result list shorter than the subrequests is no answer. */
	assert_int_equal(read_answer(&pack.parts[0], 200,
	    "{\"compositeResponse\":[{\"body\":[{\"id\":\"001\","
	    "\"success\":true}],\"httpStatusCode\":200,"
	    "\"referenceId\":\"r0\"}]}", &out), WC2SF_SF_UNAVAILABLE);
	sf_outcome_clear(&out);
	sf_pack_free(&pack);
	plan_clear(&plan);
}

static void
test_read_top_level(void **state)
{
	struct map_plan plan = { 0 };
	struct sf_pack pack;
	struct sf_outcome out = { 0 };

	account_contact(&plan, &pack);
	assert_int_equal(read_answer(&pack.parts[0], 400,
	    "[{\"message\":\"No such column 'Foo__c' on sobject of type "
	    "Account\",\"errorCode\":\"INVALID_FIELD\"}]", &out),
	    WC2SF_SF_REJECTED);
	assert_string_equal(out.code, "INVALID_FIELD");
	assert_string_equal(out.message, "No such column 'Foo__c' on "
	    "sobject of type Account");
	assert_int_equal(read_answer(&pack.parts[0], 403,
	    "[{\"message\":\"TotalRequests Limit exceeded.\","
	    "\"errorCode\":\"REQUEST_LIMIT_EXCEEDED\"}]", &out),
	    WC2SF_SF_UNAVAILABLE);
	assert_true(out.daily_limit);
	assert_int_equal(read_answer(&pack.parts[0], 403,
	    "[{\"message\":\"ConcurrentPerOrgLongTxn Limit exceeded.\","
	    "\"errorCode\":\"REQUEST_LIMIT_EXCEEDED\"}]", &out),
	    WC2SF_SF_UNAVAILABLE);
	assert_false(out.daily_limit);
	assert_int_equal(read_answer(&pack.parts[0], 503,
	    "<html><head><title>Service Not Available</title></head>"
	    "<body>Maintenance</body></html>", &out), WC2SF_SF_UNAVAILABLE);
	assert_string_equal(out.code, "");
	assert_non_null(strstr(out.message, "not JSON"));
	/* HTML with a 200 is no answer either. */
	assert_int_equal(read_answer(&pack.parts[0], 200,
	    "<html>login</html>", &out), WC2SF_SF_UNAVAILABLE);
	assert_int_equal(read_answer(&pack.parts[0], 200, "", &out),
	    WC2SF_SF_UNAVAILABLE);
	assert_int_equal(read_answer(&pack.parts[0], 406, "", &out),
	    WC2SF_SF_UNAVAILABLE);
	assert_non_null(strstr(out.message, "empty body"));
	assert_int_equal(read_answer(&pack.parts[0], 200,
	    "{\"compositeResponse\":[", &out), WC2SF_SF_UNAVAILABLE);
	assert_int_equal(read_answer(&pack.parts[0], 300,
	    "[\"" V "/sobjects/Account/001A\",\"" V "/sobjects/Account/"
	    "001B\"]", &out), WC2SF_SF_REJECTED);
	assert_string_equal(out.code, "MULTIPLE_CHOICES");
	assert_non_null(strstr(out.message, "/sobjects/Account/001A"));
	assert_int_equal(read_answer(&pack.parts[0], 500,
	    "[{\"errorCode\":\"UNKNOWN_EXCEPTION\",\"message\":\"An error "
	    "occurred when executing a flow interview.\"}]", &out),
	    WC2SF_SF_UNAVAILABLE);
	sf_outcome_clear(&out);
	sf_pack_free(&pack);
	plan_clear(&plan);
}

static void
test_read_update_only(void **state)
{
	struct map_plan plan = { 0 };
	struct sf_pack pack;
	struct sf_outcome out = { 0 };

	plan_add(&plan, MAP_UPDATE_ONLY, "Product2", "WC_Product_Id__c",
	    "[{\"WC_Product_Id__c\":\"77\",\"IsActive\":false},"
	    "{\"WC_Product_Id__c\":\"78\",\"IsActive\":false}]");
	pack_of(&plan, &pack);
	/* 77 exists and is updated; 78 is missing, which is fine. */
	assert_int_equal(read_answer(&pack.parts[0], 200,
	    "{\"compositeResponse\":["
	    "{\"body\":{\"attributes\":{\"type\":\"Product2\"},\"Id\":"
	    "\"01tXX0000008cXRYAY\",\"IsActive\":true},\"httpStatusCode\":"
	    "200,\"referenceId\":\"r0\"},"
	    "{\"body\":null,\"httpStatusCode\":204,\"referenceId\":\"r1\"},"
	    "{\"body\":[{\"errorCode\":\"NOT_FOUND\",\"message\":\"The "
	    "requested resource does not exist\"}],\"httpStatusCode\":404,"
	    "\"referenceId\":\"r2\"},"
	    "{\"body\":[{\"errorCode\":\"PROCESSING_HALTED\",\"message\":"
	    "\"Invalid reference specified. No value for r2.Id found in "
	    "r2.\"}],\"httpStatusCode\":400,\"referenceId\":\"r3\"}]}",
	    &out), WC2SF_OK);
	assert_string_equal(ids_text(&out),
	    "{\"Product2\":[\"01tXX0000008cXRYAY\"]}");
	/* The key field itself is missing: a setup problem. */
	assert_int_equal(read_answer(&pack.parts[0], 200,
	    "{\"compositeResponse\":["
	    "{\"body\":[{\"errorCode\":\"NOT_FOUND\",\"message\":\"Provided "
	    "external ID field does not exist or is not accessible: "
	    "WC_Product_Id__c\"}],\"httpStatusCode\":404,"
	    "\"referenceId\":\"r0\"},"
	    "{\"body\":[{\"errorCode\":\"PROCESSING_HALTED\",\"message\":"
	    "\"x\"}],\"httpStatusCode\":400,\"referenceId\":\"r1\"},"
	    "{\"body\":[{\"errorCode\":\"NOT_FOUND\",\"message\":\"x\"}],"
	    "\"httpStatusCode\":404,\"referenceId\":\"r2\"},"
	    "{\"body\":[{\"errorCode\":\"PROCESSING_HALTED\",\"message\":"
	    "\"x\"}],\"httpStatusCode\":400,\"referenceId\":\"r3\"}]}",
	    &out), WC2SF_SF_REJECTED);
	assert_string_equal(out.code, "NOT_FOUND");
	/* Found, but the update fails. */
	assert_int_equal(read_answer(&pack.parts[0], 200,
	    "{\"compositeResponse\":["
	    "{\"body\":{\"Id\":\"01tXX0000008cXRYAY\"},\"httpStatusCode\":"
	    "200,\"referenceId\":\"r0\"},"
	    "{\"body\":[{\"errorCode\":\"FIELD_CUSTOM_VALIDATION_EXCEPTION\","
	    "\"message\":\"no\"}],\"httpStatusCode\":400,"
	    "\"referenceId\":\"r1\"},"
	    "{\"body\":[{\"errorCode\":\"NOT_FOUND\",\"message\":\"x\"}],"
	    "\"httpStatusCode\":404,\"referenceId\":\"r2\"},"
	    "{\"body\":[{\"errorCode\":\"PROCESSING_HALTED\",\"message\":"
	    "\"x\"}],\"httpStatusCode\":400,\"referenceId\":\"r3\"}]}",
	    &out), WC2SF_SF_REJECTED);
	assert_string_equal(out.code, "FIELD_CUSTOM_VALIDATION_EXCEPTION");
	/* Several records carry the key: 300 with a list of URLs. */
	assert_int_equal(read_answer(&pack.parts[0], 200,
	    "{\"compositeResponse\":["
	    "{\"body\":[\"" V "/sobjects/Product2/01tA\",\"" V
	    "/sobjects/Product2/01tB\"],\"httpStatusCode\":300,"
	    "\"referenceId\":\"r0\"},"
	    "{\"body\":[{\"errorCode\":\"PROCESSING_HALTED\",\"message\":"
	    "\"x\"}],\"httpStatusCode\":400,\"referenceId\":\"r1\"},"
	    "{\"body\":{\"Id\":\"01tC\"},\"httpStatusCode\":200,"
	    "\"referenceId\":\"r2\"},"
	    "{\"body\":null,\"httpStatusCode\":204,\"referenceId\":\"r3\"}]}",
	    &out), WC2SF_SF_REJECTED);
	assert_string_equal(out.code, "MULTIPLE_CHOICES");
	sf_outcome_clear(&out);
	sf_pack_free(&pack);
	plan_clear(&plan);
}

static void
test_read_delete(void **state)
{
	struct map_plan plan = { 0 };
	struct sf_pack pack;
	struct sf_outcome out = { 0 };

	plan_add(&plan, MAP_DELETE, "OrderItem", "WC_Line_Id__c",
	    "[{\"WC_Line_Id__c\":\"1\"},{\"WC_Line_Id__c\":\"2\"},"
	    "{\"WC_Line_Id__c\":\"3\"}]");
	pack_of(&plan, &pack);
	assert_int_equal(read_answer(&pack.parts[0], 200,
	    "{\"compositeResponse\":["
	    "{\"body\":null,\"httpStatusCode\":204,\"referenceId\":\"r0\"},"
	    "{\"body\":[{\"errorCode\":\"NOT_FOUND\",\"message\":\"The "
	    "requested resource does not exist\"}],\"httpStatusCode\":404,"
	    "\"referenceId\":\"r1\"},"
	    "{\"body\":[{\"errorCode\":\"ENTITY_IS_DELETED\",\"message\":"
	    "\"entity is deleted\",\"fields\":[]}],\"httpStatusCode\":404,"
	    "\"referenceId\":\"r2\"}]}", &out), WC2SF_OK);
	assert_int_equal(read_answer(&pack.parts[0], 200,
	    "{\"compositeResponse\":["
	    "{\"body\":null,\"httpStatusCode\":204,\"referenceId\":\"r0\"},"
	    "{\"body\":[{\"errorCode\":\"ENTITY_IS_LOCKED\",\"message\":"
	    "\"Unable to modify activated Order\"}],\"httpStatusCode\":400,"
	    "\"referenceId\":\"r1\"},"
	    "{\"body\":null,\"httpStatusCode\":204,\"referenceId\":\"r2\"}"
	    "]}", &out), WC2SF_SF_REJECTED);
	assert_string_equal(out.code, "ENTITY_IS_LOCKED");
	assert_string_equal(out.message, "OrderItem: Unable to modify "
	    "activated Order");
	/* Results out of order are no answer to trust. */
	assert_int_equal(read_answer(&pack.parts[0], 200,
	    "{\"compositeResponse\":["
	    "{\"body\":null,\"httpStatusCode\":204,\"referenceId\":\"r1\"},"
	    "{\"body\":null,\"httpStatusCode\":204,\"referenceId\":\"r0\"},"
	    "{\"body\":null,\"httpStatusCode\":204,\"referenceId\":\"r2\"}"
	    "]}", &out), WC2SF_SF_UNAVAILABLE);
	sf_outcome_clear(&out);
	sf_pack_free(&pack);
	plan_clear(&plan);
}

/* Answers of the wrong shape are never success, and never crash. */
static void
test_read_malformed(void **state)
{
	static const char *const bodies[] = {
		"{\"compositeResponse\":[1,2]}",
		"{\"compositeResponse\":[{\"httpStatusCode\":\"x\",\"body\":5,"
		    "\"referenceId\":\"r0\"},{\"httpStatusCode\":200,\"body\":"
		    "{\"a\":1},\"referenceId\":\"r1\"}]}",
		"{\"compositeResponse\":[{\"httpStatusCode\":200,\"body\":"
		    "[{\"success\":true}],\"referenceId\":\"r0\"},"
		    "{\"httpStatusCode\":200,\"body\":[],\"referenceId\":"
		    "\"r1\"}]}",
		"{\"compositeResponse\":{}}",
		"[]",
		"null",
		"\"compositeResponse\"",
		"{\"compositeResponse\":[]} trailing",
		("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
		    "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"),
	};
	struct map_plan plan = { 0 };
	struct sf_pack pack;
	struct sf_outcome out = { 0 };
	size_t i;

	account_contact(&plan, &pack);
	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
		if (read_answer(&pack.parts[0], 200, bodies[i], &out) ==
		    WC2SF_OK)
			fail_msg("body %zu read as success", i);
	/* A NUL byte after the JSON is not white space. */
	sf_outcome_clear(&out);
	assert_int_equal(sf_wire_read_error(400, "[]\0", 3, &out),
	    WC2SF_SF_UNAVAILABLE);
	sf_outcome_clear(&out);
	sf_pack_free(&pack);
	plan_clear(&plan);
}

static void
test_read_pricebook(void **state)
{
	struct sf_outcome out = { 0 };
	char id[32];
	const char *ok = "{\"totalSize\":1,\"done\":true,\"records\":[{"
	    "\"attributes\":{\"type\":\"Pricebook2\"},\"Id\":"
	    "\"01sXX0000001AbcYAE\",\"IsActive\":true}]}";
	const char *off = "{\"totalSize\":1,\"done\":true,\"records\":[{"
	    "\"Id\":\"01sXX0000001AbcYAE\",\"IsActive\":false}]}";
	const char *none = "{\"totalSize\":0,\"done\":true,\"records\":[]}";
	const char *bad = "[{\"errorCode\":\"MALFORMED_QUERY\",\"message\":"
	    "\"unexpected token\"}]";

	assert_int_equal(sf_wire_read_pricebook(200, ok, strlen(ok), id,
	    sizeof(id), &out), WC2SF_OK);
	assert_string_equal(id, "01sXX0000001AbcYAE");
	assert_int_equal(sf_wire_read_pricebook(200, off, strlen(off), id,
	    sizeof(id), &out), WC2SF_SF_REJECTED);
	assert_string_equal(id, "");
	assert_non_null(strstr(out.message, "inactive"));
	assert_int_equal(sf_wire_read_pricebook(200, none, strlen(none), id,
	    sizeof(id), &out), WC2SF_SF_REJECTED);
	assert_non_null(strstr(out.message, "no standard price book"));
	assert_int_equal(sf_wire_read_pricebook(400, bad, strlen(bad), id,
	    sizeof(id), &out), WC2SF_SF_REJECTED);
	assert_string_equal(out.code, "MALFORMED_QUERY");
	assert_int_equal(sf_wire_read_pricebook(502, "<html>", 6, id,
	    sizeof(id), &out), WC2SF_SF_UNAVAILABLE);
}

static void
test_classify(void **state)
{
	static const struct {
		int status;
		const char *code;
		const char *message;
		enum wc2sf_result want;
	} rows[] = {
		{ 0, "", "Couldn't connect to server", WC2SF_SF_UNAVAILABLE },
		{ 500, "", "", WC2SF_SF_UNAVAILABLE },
		{ 502, "", "", WC2SF_SF_UNAVAILABLE },
		{ 503, "SERVER_UNAVAILABLE", "", WC2SF_SF_UNAVAILABLE },
		{ 429, "", "", WC2SF_SF_UNAVAILABLE },
		{ 400, "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive "
		    "access to this record", WC2SF_SF_UNAVAILABLE },
		{ 500, "UNABLE_TO_LOCK_ROW", "", WC2SF_SF_UNAVAILABLE },
		{ 200, "UNABLE_TO_LOCK_ROW", "", WC2SF_SF_UNAVAILABLE },
		{ 403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit "
		    "exceeded.", WC2SF_SF_UNAVAILABLE },
		{ 500, "UNKNOWN_EXCEPTION", "", WC2SF_SF_UNAVAILABLE },
		{ 400, "DUPLICATE_VALUE", "duplicate value found: "
		    "WC_Order_Id__c duplicates value on record with id: 801",
		    WC2SF_SF_UNAVAILABLE },
		{ 400, "DUPLICATE_VALUE", "This price definition already "
		    "exists in this price book", WC2SF_SF_REJECTED },
		{ 400, "REQUIRED_FIELD_MISSING", "Required fields are "
		    "missing: [Name]", WC2SF_SF_REJECTED },
		{ 400, "STRING_TOO_LONG", "", WC2SF_SF_REJECTED },
		{ 400, "INVALID_FIELD", "", WC2SF_SF_REJECTED },
		{ 400, "FIELD_INTEGRITY_EXCEPTION", "", WC2SF_SF_REJECTED },
		{ 400, "STANDARD_PRICE_NOT_DEFINED", "", WC2SF_SF_REJECTED },
		{ 400, "ENTITY_IS_LOCKED", "", WC2SF_SF_REJECTED },
		{ 404, "NOT_FOUND", "", WC2SF_SF_REJECTED },
		{ 405, "METHOD_NOT_ALLOWED", "", WC2SF_SF_REJECTED },
		{ 403, "API_DISABLED_FOR_ORG", "", WC2SF_SF_REJECTED },
		{ 300, "MULTIPLE_CHOICES", "", WC2SF_SF_REJECTED },
		{ 410, "", "", WC2SF_SF_REJECTED },
		{ 400, NULL, NULL, WC2SF_SF_REJECTED },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (sf_classify(rows[i].status, rows[i].code,
		    rows[i].message) != rows[i].want)
			fail_msg("row %zu: %d %s", i, rows[i].status,
			    rows[i].code != NULL ? rows[i].code : "(null)");
	}
	/* With the upsert key known, only a clash on it is a race. */
	assert_int_equal(sf_wire_classify(400, "DUPLICATE_VALUE",
	    "duplicate value found: wc_order_id__c duplicates value on "
	    "record with id: 801", "WC_Order_Id__c"), WC2SF_SF_UNAVAILABLE);
	assert_int_equal(sf_wire_classify(400, "DUPLICATE_VALUE",
	    "duplicate value found: WC_Number__c duplicates value on "
	    "record with id: 801", "WC_Order_Id__c"), WC2SF_SF_REJECTED);
	assert_int_equal(sf_wire_classify(400, "DUPLICATE_VALUE",
	    "duplicate value found: WC_Order_Id__cX duplicates",
	    "WC_Order_Id__c"), WC2SF_SF_REJECTED);
}

static void
test_limit_info(void **state)
{
	long used = -1, max = -1;

	assert_true(sf_wire_limit_info(" api-usage=25/5000", &used, &max));
	assert_int_equal(used, 25);
	assert_int_equal(max, 5000);
	assert_true(sf_wire_limit_info("per-app-api-usage=17/250(appName="
	    "x); api-usage=26/5000", &used, &max));
	assert_int_equal(used, 26);
	assert_true(sf_wire_limit_info("api-usage=27/5000; per-app-api-"
	    "usage=17/250(appName=sample-connected-app)", &used, &max));
	assert_int_equal(used, 27);
	assert_false(sf_wire_limit_info("per-app-api-usage=17/250(appName="
	    "x)", &used, &max));
	assert_false(sf_wire_limit_info("api-usage=x/5000", &used, &max));
	assert_false(sf_wire_limit_info("", &used, &max));
	assert_int_equal(used, 27);
}

static void
test_utf8_cut(void **state)
{
	char a[] = "ab\xc3", b[] = "ab\xe2\x82", c[] = "ab\xe2\x82\xac",
	    d[] = "ab\xf0\x9f\x98";

	sf_wire_utf8_cut(a);
	sf_wire_utf8_cut(b);
	sf_wire_utf8_cut(c);
	sf_wire_utf8_cut(d);
	assert_string_equal(a, "ab");
	assert_string_equal(b, "ab");
	assert_string_equal(c, "ab\xe2\x82\xac");
	assert_string_equal(d, "ab");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pct_encode),
		cmocka_unit_test(test_pack_two_steps),
		cmocka_unit_test(test_pack_single_upserts),
		cmocka_unit_test(test_pack_300_items),
		cmocka_unit_test(test_pack_many_steps),
		cmocka_unit_test(test_pack_collection_limit),
		cmocka_unit_test(test_pack_update_only),
		cmocka_unit_test(test_pack_delete),
		cmocka_unit_test(test_pack_bad_keys),
		cmocka_unit_test(test_pack_pricebook),
		cmocka_unit_test(test_pack_as_json_c),
		cmocka_unit_test(test_read_success),
		cmocka_unit_test(test_read_single_upserts),
		cmocka_unit_test(test_read_collection_error),
		cmocka_unit_test(test_read_rollback),
		cmocka_unit_test(test_read_transient),
		cmocka_unit_test(test_read_top_level),
		cmocka_unit_test(test_read_update_only),
		cmocka_unit_test(test_read_delete),
		cmocka_unit_test(test_read_malformed),
		cmocka_unit_test(test_read_pricebook),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_limit_info),
		cmocka_unit_test(test_utf8_cut),
	};

	log_init("test_sf_wire", LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
