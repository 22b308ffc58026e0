/*
 * map.c with customers, products and the shapes a body can take, against
 * the deliveries captured from a real WooCommerce 10.0.2 shop and the
 * hand-made wire examples. Orders are in test_map_order.c.
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

#include "map.h"
#include "text.h"

#define REAL	"fixtures/woocommerce-10.0.2/"
#define WIRE	"fixtures/examples/wire/"

static struct json_object *
load(const char *name)
{
	const char *shared = getenv("WC2SF_SHARED");
	struct json_object *o;
	char path[512];

	snprintf(path, sizeof(path), "%s/%s",
	    shared != NULL ? shared : "tests", name);
	o = json_object_from_file(path);
	if (o == NULL)
		fail_msg("cannot read fixture %s", path);
	return o;
}

static struct json_object *
parse(const char *text)
{
	struct json_object *o = json_tokener_parse(text);

	assert_non_null(o);
	return o;
}

static const char *
compact(struct json_object *o)
{
	return json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* Step i is op on sobject by ext_field, with exactly these records. */
static void
check_step(const struct map_plan *plan, size_t i, enum map_op op,
    const char *sobject, const char *ext_field, const char *records)
{
	assert_true(i < plan->n);
	assert_int_equal(plan->steps[i].op, op);
	assert_string_equal(plan->steps[i].sobject, sobject);
	assert_string_equal(plan->steps[i].ext_field, ext_field);
	assert_string_equal(compact(plan->steps[i].records), records);
}

/* Map and expect result; the body is released. */
static enum wc2sf_result
build(const char *topic, struct json_object *body,
    const struct map_options *opt, struct map_plan *plan, char *why,
    size_t whylen)
{
	enum wc2sf_result r;

	r = map_build(topic, body, opt, plan, why, whylen);
	json_object_put(body);
	return r;
}

/* Field name of the first record of step i, or NULL. */
static struct json_object *
field(const struct map_plan *plan, size_t i, const char *name)
{
	struct json_object *rec, *v = NULL;

	assert_true(i < plan->n);
	rec = json_object_array_get_idx(plan->steps[i].records, 0);
	json_object_object_get_ex(rec, name, &v);
	return v;
}

static const char *
field_text(const struct map_plan *plan, size_t i, const char *name)
{
	struct json_object *v = field(plan, i, name);

	return v != NULL ? json_object_get_string(v) : NULL;
}

/* Only an order's lines are compared with the last synced body. */
static void
test_uses_prev(void **state)
{
	(void)state;
	assert_true(map_uses_prev("order.created"));
	assert_true(map_uses_prev("order.updated"));
	assert_true(map_uses_prev("order.restored"));
	assert_false(map_uses_prev("order.deleted"));
	assert_false(map_uses_prev("customer.updated"));
	assert_false(map_uses_prev("product.updated"));
	assert_false(map_uses_prev("coupon.updated"));
	assert_false(map_uses_prev(NULL));
}

static void
test_customer_created(void **state)
{
	struct map_plan plan;
	char why[256];

	assert_int_equal(build("customer.created",
	    load(REAL "055-customer_created.body"), NULL, &plan, why,
	    sizeof(why)), WC2SF_OK);
	assert_string_equal(plan.resource, "customer");
	assert_string_equal(plan.resource_id, "2");
	assert_string_equal(plan.modified_gmt, "2026-12-03T15:30:37");
	assert_int_equal(plan.n, 2);
	check_step(&plan, 0, MAP_UPSERT, "Account", "WC_Customer_Id__c",
	    "[{\"WC_Customer_Id__c\":\"2\",\"Name\":\"Jane Doe\","
	    "\"BillingStreet\":\"100 Market Street\\nSuite 5\","
	    "\"BillingCity\":\"San Francisco\",\"BillingState\":\"CA\","
	    "\"BillingPostalCode\":\"94105\",\"BillingCountry\":\"US\","
	    "\"ShippingStreet\":\"100 Market Street\\nSuite 5\","
	    "\"ShippingCity\":\"San Francisco\",\"ShippingState\":\"CA\","
	    "\"ShippingPostalCode\":\"94105\",\"ShippingCountry\":\"US\","
	    "\"Phone\":\"+1 415 555 0100\",\"WC_Deleted__c\":false}]");
	check_step(&plan, 1, MAP_UPSERT, "Contact", "WC_Customer_Id__c",
	    "[{\"WC_Customer_Id__c\":\"2\","
	    "\"Account\":{\"WC_Customer_Id__c\":\"2\"},"
	    "\"FirstName\":\"Jane\",\"LastName\":\"Doe\","
	    "\"Email\":\"jane.doe@example.test\","
	    "\"Phone\":\"+1 415 555 0100\","
	    "\"MailingStreet\":\"100 Market Street\\nSuite 5\","
	    "\"MailingCity\":\"San Francisco\",\"MailingState\":\"CA\","
	    "\"MailingPostalCode\":\"94105\",\"MailingCountry\":\"US\","
	    "\"OtherStreet\":\"100 Market Street\\nSuite 5\","
	    "\"OtherCity\":\"San Francisco\",\"OtherState\":\"CA\","
	    "\"OtherPostalCode\":\"94105\",\"OtherCountry\":\"US\","
	    "\"WC_Deleted__c\":false}]");
	map_plan_free(&plan);
	assert_int_equal(plan.n, 0);
}

/* Company first; empty fields stay out; a surrogate pair decoded. */
static void
test_customer_company_and_unicode(void **state)
{
	struct map_plan plan;
	char why[256];

	assert_int_equal(build("customer.created",
	    load(WIRE "customer.created.json"), NULL, &plan, why,
	    sizeof(why)), WC2SF_OK);
	assert_string_equal(field_text(&plan, 0, "Name"),
	    "Example Studio LLC");
	assert_string_equal(field_text(&plan, 0, "ShippingStreet"),
	    "500 Sample Avenue");
	assert_string_equal(field_text(&plan, 1, "FirstName"), "Jane");
	assert_string_equal(field_text(&plan, 1, "LastName"), "Example");
	map_plan_free(&plan);

	/* 058: names with an emoji, billing and shipping all empty. */
	assert_int_equal(build("customer.created",
	    load(REAL "058-customer_created.body"), NULL, &plan, why,
	    sizeof(why)), WC2SF_OK);
	check_step(&plan, 0, MAP_UPSERT, "Account", "WC_Customer_Id__c",
	    "[{\"WC_Customer_Id__c\":\"3\","
	    "\"Name\":\"Zo\xC3\xAB \xC3\x9Cn\xC3\xAF" "code \xF0\x9F\x9A\x80\","
	    "\"WC_Deleted__c\":false}]");
	check_step(&plan, 1, MAP_UPSERT, "Contact", "WC_Customer_Id__c",
	    "[{\"WC_Customer_Id__c\":\"3\","
	    "\"Account\":{\"WC_Customer_Id__c\":\"3\"},"
	    "\"FirstName\":\"Zo\xC3\xAB\","
	    "\"LastName\":\"\xC3\x9Cn\xC3\xAF" "code \xF0\x9F\x9A\x80\","
	    "\"Email\":\"zoe.unicode+tag@example.test\","
	    "\"WC_Deleted__c\":false}]");
	map_plan_free(&plan);
}

static void
test_customer_picklists(void **state)
{
	struct map_options opt = { .state_picklists = true };
	struct map_plan plan;
	char why[256];

	assert_int_equal(build("customer.updated",
	    load(REAL "057-customer_updated.body"), &opt, &plan, why,
	    sizeof(why)), WC2SF_OK);
	assert_string_equal(field_text(&plan, 0, "BillingCountryCode"), "US");
	assert_string_equal(field_text(&plan, 0, "BillingStateCode"), "CA");
	assert_string_equal(field_text(&plan, 0, "ShippingCountryCode"),
	    "US");
	assert_null(field(&plan, 0, "BillingCountry"));
	assert_null(field(&plan, 0, "BillingState"));
	assert_string_equal(field_text(&plan, 1, "MailingCountryCode"), "US");
	assert_string_equal(field_text(&plan, 1, "OtherStateCode"), "CA");
	assert_null(field(&plan, 1, "MailingCountry"));
	assert_string_equal(field_text(&plan, 0, "BillingCity"),
	    "San Francisco");
	map_plan_free(&plan);
}

/* A customer body with the given names, e-mails and company. */
static struct json_object *
person(const char *first, const char *last, const char *email,
    const char *bfirst, const char *blast, const char *bemail,
    const char *company)
{
	char text[1024];

	snprintf(text, sizeof(text), "{\"id\":7,\"first_name\":\"%s\","
	    "\"last_name\":\"%s\",\"email\":\"%s\",\"billing\":{"
	    "\"first_name\":\"%s\",\"last_name\":\"%s\",\"company\":\"%s\","
	    "\"address_1\":\"\",\"address_2\":\"\",\"city\":\"\","
	    "\"postcode\":\"\",\"country\":\"\",\"state\":\"\","
	    "\"email\":\"%s\",\"phone\":\"\"},\"shipping\":{"
	    "\"first_name\":\"\",\"last_name\":\"\",\"company\":\"\","
	    "\"address_1\":\"\",\"address_2\":\"\",\"city\":\"\","
	    "\"postcode\":\"\",\"country\":\"\",\"state\":\"\","
	    "\"phone\":\"\"}}", first, last, email, bfirst, blast, company,
	    bemail);
	return parse(text);
}

/* Account Name, FirstName, LastName and Email of one customer body. */
static void
expect_names(struct json_object *body, const char *name, const char *first,
    const char *last, const char *email)
{
	struct map_plan plan;
	const char *got;
	char why[256];

	assert_int_equal(build("customer.updated", body, NULL, &plan, why,
	    sizeof(why)), WC2SF_OK);
	assert_string_equal(field_text(&plan, 0, "Name"), name);
	got = field_text(&plan, 1, "FirstName");
	if (first == NULL)
		assert_null(got);
	else
		assert_string_equal(got, first);
	assert_string_equal(field_text(&plan, 1, "LastName"), last);
	got = field_text(&plan, 1, "Email");
	if (email == NULL)
		assert_null(got);
	else
		assert_string_equal(got, email);
	map_plan_free(&plan);
}

static void
test_customer_fallbacks(void **state)
{
	/* Empty company: "First Last". */
	expect_names(person("Ann", "Lee", "ann@example.test", "", "", "", ""),
	    "Ann Lee", "Ann", "Lee", "ann@example.test");
	/* A one-word name is a last name. */
	expect_names(person("Cher", "", "cher@example.test", "", "", "", ""),
	    "Cher", NULL, "Cher", "cher@example.test");
	expect_names(person("", "Prince", "p@example.test", "", "", "", ""),
	    "Prince", NULL, "Prince", "p@example.test");
	/* No names of its own: the billing names. */
	expect_names(person("", "", "b@example.test", "Bo", "Berg", "", ""),
	    "Bo Berg", "Bo", "Berg", "b@example.test");
	/* No names at all: the e-mail, from billing when needed. */
	expect_names(person("", "", "", "", "", "only@example.test", ""),
	    "only@example.test", NULL, "only@example.test",
	    "only@example.test");
	/* Nothing: "Customer <id>", and no Email field. */
	expect_names(person("", "", "", "", "", "", ""), "Customer 7", NULL,
	    "Customer 7", NULL);
	/* Not an address: kept out of Email, still a last resort name. */
	expect_names(person("", "", "not-an-address", "", "", "", ""),
	    "not-an-address", NULL, "not-an-address", NULL);
	/*
	 * Addresses Salesforce's Email field would refuse are left out:
	 * spaces, non-ASCII, a bare host, a label ending in '-'. The odd
	 * but valid local part characters stay.
	 */
	expect_names(person("A", "B", "a b@example.test", "", "", "", ""),
	    "A B", "A", "B", NULL);
	expect_names(person("A", "B", "j\\u00fcrgen@example.test", "", "", "",
	    ""), "A B", "A", "B", NULL);
	expect_names(person("A", "B", "a@localhost", "", "", "", ""),
	    "A B", "A", "B", NULL);
	expect_names(person("A", "B", "a@x-.test", "", "", "", ""),
	    "A B", "A", "B", NULL);
	expect_names(person("A", "B", "a@@x.test", "", "", "", ""),
	    "A B", "A", "B", NULL);
	expect_names(person("A", "B", "50%+off/me@x-y.example.test", "", "",
	    "", ""), "A B", "A", "B", "50%+off/me@x-y.example.test");
	/* Entities decoded once; white space trimmed. */
	expect_names(person(" Tom ", "O&amp;amp;Neil", "t@example.test", "",
	    "", "", "A &amp; B"), "A & B", "Tom", "O&amp;Neil",
	    "t@example.test");
}

/* Names cut on a character boundary, in UTF-16 units. */
static void
test_customer_truncation(void **state)
{
	char first[400], text[1024];
	struct map_plan plan;
	const char *got;
	char why[256];
	size_t i;

	/* 19 ASCII letters then 12 emoji: FirstName allows 40 units. */
	memset(first, 'a', 19);
	for (i = 0; i < 12; i++)
		memcpy(first + 19 + i * 12, "\\ud83d\\ude00", 12);
	first[19 + 12 * 12] = '\0';
	snprintf(text, sizeof(text), "{\"id\":8,\"first_name\":\"%s\","
	    "\"last_name\":\"Z\",\"email\":\"\",\"billing\":{},"
	    "\"shipping\":{}}", first);
	assert_int_equal(build("customer.updated", parse(text), NULL, &plan,
	    why, sizeof(why)), WC2SF_BAD_PAYLOAD);
	assert_string_equal(why, "missing field billing.city");

	snprintf(text, sizeof(text), "{\"id\":8,\"first_name\":\"%s\","
	    "\"last_name\":\"Z\",\"email\":\"\",\"billing\":null,"
	    "\"shipping\":null}", first);
	assert_int_equal(build("customer.updated", parse(text), NULL, &plan,
	    why, sizeof(why)), WC2SF_OK);
	got = field_text(&plan, 1, "FirstName");
	assert_non_null(got);
	/* 19 + 10 emoji = 39 units: an 11th would make 41. */
	assert_int_equal(text_utf16_len(got), 39);
	assert_int_equal(strlen(got), 19 + 10 * 4);
	assert_true(text_utf8_valid(got, strlen(got)));
	map_plan_free(&plan);
}

/* Lone surrogate escapes and raw invalid bytes arrive repaired. */
static void
test_customer_bad_utf8(void **state)
{
	static const char body[] = "{\"id\":9,\"first_name\":\"A\\ud800B\","
	    "\"last_name\":\"X\xFFY\",\"email\":\"\",\"billing\":null,"
	    "\"shipping\":null}";
	struct map_plan plan;
	const char *s;
	char why[256];

	assert_int_equal(build("customer.updated", parse(body), NULL, &plan,
	    why, sizeof(why)), WC2SF_OK);
	s = field_text(&plan, 1, "FirstName");
	assert_string_equal(s, "A\xEF\xBF\xBD" "B");
	s = field_text(&plan, 1, "LastName");
	assert_string_equal(s, "X\xEF\xBF\xBDY");
	s = field_text(&plan, 0, "Name");
	assert_true(text_utf8_valid(s, strlen(s)));
	map_plan_free(&plan);
}

static void
test_customer_deleted(void **state)
{
	struct map_plan plan;
	char why[256];

	assert_int_equal(build("customer.deleted",
	    load(REAL "096-customer_deleted.body"), NULL, &plan, why,
	    sizeof(why)), WC2SF_OK);
	assert_string_equal(plan.resource_id, "3");
	assert_int_equal(plan.n, 2);
	check_step(&plan, 0, MAP_UPDATE_ONLY, "Account", "WC_Customer_Id__c",
	    "[{\"WC_Customer_Id__c\":\"3\",\"WC_Deleted__c\":true}]");
	check_step(&plan, 1, MAP_UPDATE_ONLY, "Contact", "WC_Customer_Id__c",
	    "[{\"WC_Customer_Id__c\":\"3\",\"WC_Deleted__c\":true}]");
	map_plan_free(&plan);

	/* The id may come as a digit string. */
	assert_int_equal(build("customer.deleted", parse("{\"id\":\"042\"}"),
	    NULL, &plan, why, sizeof(why)), WC2SF_OK);
	check_step(&plan, 1, MAP_UPDATE_ONLY, "Contact", "WC_Customer_Id__c",
	    "[{\"WC_Customer_Id__c\":\"42\",\"WC_Deleted__c\":true}]");
	map_plan_free(&plan);
}

static void
test_product_simple(void **state)
{
	struct map_plan plan;
	char why[256];

	assert_int_equal(build("product.created",
	    load(REAL "016-product_created.body"), NULL, &plan, why,
	    sizeof(why)), WC2SF_OK);
	assert_string_equal(plan.resource, "product");
	assert_string_equal(plan.resource_id, "12");
	assert_int_equal(plan.n, 2);
	check_step(&plan, 0, MAP_UPSERT, "Product2", "WC_Product_Id__c",
	    "[{\"WC_Product_Id__c\":\"12\",\"Name\":\"Realwc T-Shirt\","
	    "\"ProductCode\":\"RW-TSHIRT\","
	    "\"Description\":\"Description of Realwc T-Shirt\","
	    "\"IsActive\":true,\"Family\":\"Clothing\","
	    "\"WC_Type__c\":\"simple\",\"WC_Status__c\":\"publish\"}]");
	check_step(&plan, 1, MAP_UPSERT, "PricebookEntry", "WC_Price_Key__c",
	    "[{\"WC_Price_Key__c\":\"std-12\","
	    "\"Product2\":{\"WC_Product_Id__c\":\"12\"},"
	    "\"Pricebook2Id\":\"$standard_pricebook\","
	    "\"UnitPrice\":19.99,\"IsActive\":true}]");
	map_plan_free(&plan);
}

static void
test_product_variation(void **state)
{
	struct json_object *body, *name;
	struct map_plan plan;
	char why[256];

	assert_int_equal(build("product.created",
	    load(REAL "019-product_created.body"), NULL, &plan, why,
	    sizeof(why)), WC2SF_OK);
	check_step(&plan, 0, MAP_UPSERT, "Product2", "WC_Product_Id__c",
	    "[{\"WC_Product_Id__c\":\"14\","
	    "\"Name\":\"Realwc Hoodie - S, Red\","
	    "\"ProductCode\":\"RW-HOODIE-S-Red\",\"IsActive\":true,"
	    "\"WC_Parent_Id__c\":\"13\",\"WC_Type__c\":\"variation\","
	    "\"WC_Status__c\":\"publish\"}]");
	check_step(&plan, 1, MAP_UPSERT, "PricebookEntry", "WC_Price_Key__c",
	    "[{\"WC_Price_Key__c\":\"std-14\","
	    "\"Product2\":{\"WC_Product_Id__c\":\"14\"},"
	    "\"Pricebook2Id\":\"$standard_pricebook\","
	    "\"UnitPrice\":39.00,\"IsActive\":true}]");
	map_plan_free(&plan);

	/* A variation named like its parent gets its options added. */
	body = load(REAL "019-product_created.body");
	name = json_object_new_string("Realwc Hoodie");
	json_object_object_add(body, "name", name);
	assert_int_equal(build("product.updated", body, NULL, &plan, why,
	    sizeof(why)), WC2SF_OK);
	assert_string_equal(field_text(&plan, 0, "Name"),
	    "Realwc Hoodie - S, Red");
	map_plan_free(&plan);

	/* The hand-made variation: one attribute, already in the name. */
	assert_int_equal(build("product.created",
	    load(WIRE "product.created.variation.json"), NULL, &plan, why,
	    sizeof(why)), WC2SF_OK);
	assert_string_equal(field_text(&plan, 0, "Name"),
	    "Canvas Tote Bag - Navy");
	assert_string_equal(field_text(&plan, 0, "WC_Parent_Id__c"), "610");
	map_plan_free(&plan);
}

/* A variable parent has no price: its entry still exists, at 0. */
static void
test_product_variable_parent(void **state)
{
	struct map_plan plan;
	char why[256];

	assert_int_equal(build("product.created",
	    load(REAL "018-product_created.body"), NULL, &plan, why,
	    sizeof(why)), WC2SF_OK);
	check_step(&plan, 0, MAP_UPSERT, "Product2", "WC_Product_Id__c",
	    "[{\"WC_Product_Id__c\":\"13\",\"Name\":\"Realwc Hoodie\","
	    "\"ProductCode\":\"RW-HOODIE\",\"IsActive\":true,"
	    "\"Family\":\"Clothing\",\"WC_Type__c\":\"variable\","
	    "\"WC_Status__c\":\"publish\"}]");
	check_step(&plan, 1, MAP_UPSERT, "PricebookEntry", "WC_Price_Key__c",
	    "[{\"WC_Price_Key__c\":\"std-13\","
	    "\"Product2\":{\"WC_Product_Id__c\":\"13\"},"
	    "\"Pricebook2Id\":\"$standard_pricebook\","
	    "\"UnitPrice\":0,\"IsActive\":true}]");
	map_plan_free(&plan);
}

/* Description: tags out, entities decoded, spaces collapsed, cut. */
static void
test_product_description(void **state)
{
	struct json_object *body;
	struct map_plan plan;
	const char *s;
	char why[256];
	char *long_html;
	size_t i;

	body = load(REAL "016-product_created.body");
	json_object_object_add(body, "description",
	    json_object_new_string(""));
	json_object_object_add(body, "short_description",
	    json_object_new_string("<p>Only &ndash; <b>short</b>&nbsp;one"
	    "</p>\n<ul><li>a&amp;b</li><li>&lt;i&gt;</li></ul>"));
	json_object_object_add(body, "status",
	    json_object_new_string("draft"));
	json_object_object_add(body, "price", json_object_new_string(""));
	json_object_object_add(body, "regular_price",
	    json_object_new_string("21.50"));
	assert_int_equal(build("product.updated", body, NULL, &plan, why,
	    sizeof(why)), WC2SF_OK);
	assert_string_equal(field_text(&plan, 0, "Description"),
	    "Only \xE2\x80\x93 short one a&b <i>");
	assert_false(json_object_get_boolean(field(&plan, 0, "IsActive")));
	assert_false(json_object_get_boolean(field(&plan, 1, "IsActive")));
	assert_string_equal(compact(field(&plan, 1, "UnitPrice")), "21.50");
	map_plan_free(&plan);

	/* 5000 characters of text in tags: cut to 4000 units. */
	long_html = malloc(3 + 5000 * 8 + 1);
	assert_non_null(long_html);
	memcpy(long_html, "<p>", 3);
	for (i = 0; i < 5000; i++)
		memcpy(long_html + 3 + i * 8, "x&#8364;", 8);
	long_html[3 + 5000 * 8] = '\0';
	body = load(REAL "016-product_created.body");
	json_object_object_add(body, "description",
	    json_object_new_string(long_html));
	free(long_html);
	assert_int_equal(build("product.updated", body, NULL, &plan, why,
	    sizeof(why)), WC2SF_OK);
	s = field_text(&plan, 0, "Description");
	assert_int_equal(text_utf16_len(s), 4000);
	assert_int_equal(strlen(s), 2000 * 4);
	map_plan_free(&plan);
}

static void
test_product_deleted(void **state)
{
	struct map_plan plan;
	char why[256];

	assert_int_equal(build("product.deleted",
	    load(REAL "086-product_deleted.body"), NULL, &plan, why,
	    sizeof(why)), WC2SF_OK);
	assert_int_equal(plan.n, 2);
	check_step(&plan, 0, MAP_UPDATE_ONLY, "Product2", "WC_Product_Id__c",
	    "[{\"WC_Product_Id__c\":\"17\",\"IsActive\":false,"
	    "\"WC_Status__c\":\"trash\"}]");
	check_step(&plan, 1, MAP_UPDATE_ONLY, "PricebookEntry",
	    "WC_Price_Key__c",
	    "[{\"WC_Price_Key__c\":\"std-17\",\"IsActive\":false}]");
	map_plan_free(&plan);
}

/* REST error bodies, signed and delivered in place of the resource. */
static void
test_rest_error_ignored(void **state)
{
	static const struct {
		const char *topic;
		const char *file;
		const char *code;
	} cases[] = {
		{ "order.updated", REAL "117-order_updated.body",
		    "rest_no_route" },
		{ "product.updated", REAL "119-product_updated.body",
		    "rest_no_route" },
		{ "coupon.restored", REAL "088-coupon_restored.body",
		    "woocommerce_rest_shop_coupon_invalid_id" },
		{ "product.restored", REAL "095-product_restored.body",
		    "woocommerce_rest_product_invalid_id" },
		{ "order.updated", WIRE "order.updated.error-invalid-id.json",
		    "woocommerce_rest_shop_order_invalid_id" },
	};
	struct map_plan plan;
	char why[256];
	size_t i;

	struct json_object *body;
	char code[64], tiny[8];

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		body = load(cases[i].file);
		assert_true(map_rest_error(body, code, sizeof(code)));
		assert_string_equal(code, cases[i].code);
		assert_true(map_rest_error(body, tiny, sizeof(tiny)));
		assert_memory_equal(tiny, cases[i].code, sizeof(tiny) - 1);
		assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
		assert_int_equal(build(cases[i].topic, body, NULL, &plan, why,
		    sizeof(why)), WC2SF_IGNORED);
		assert_non_null(strstr(why, cases[i].code));
		assert_int_equal(plan.n, 0);
		map_plan_free(&plan);
	}
	/* A resource, or anything but an object, is no REST error. */
	body = load(REAL "055-customer_created.body");
	assert_false(map_rest_error(body, code, sizeof(code)));
	json_object_put(body);
	assert_false(map_rest_error(NULL, code, sizeof(code)));
	body = parse("[1]");
	assert_false(map_rest_error(body, code, sizeof(code)));
	json_object_put(body);
	/* A code cut inside a character loses the whole character. */
	body = parse("{\"code\":\"ab\u00e9\u00e9\",\"message\":\"m\","
	    "\"data\":{\"status\":404}}");
	assert_true(map_rest_error(body, tiny, 6));
	assert_string_equal(tiny, "ab\xC3\xA9");
	json_object_put(body);
}

static void
test_legacy_wrapped(void **state)
{
	static const char *const wrapped[][2] = {
		{ "order.created",
		    "{\"order\":{\"id\":52,\"order_number\":52}}" },
		{ "customer.updated", "{\"customer\":{\"id\":2}}" },
		{ "product.updated",
		    "{\"product\":{\"id\":12,\"title\":\"x\"}}" },
	};
	struct map_plan plan;
	char why[256];
	size_t i;

	for (i = 0; i < sizeof(wrapped) / sizeof(wrapped[0]); i++) {
		assert_int_equal(build(wrapped[i][0], parse(wrapped[i][1]),
		    NULL, &plan, why, sizeof(why)), WC2SF_BAD_PAYLOAD);
		assert_string_equal(why, "legacy REST API payload; wc2sf "
		    "expects WooCommerce REST API v3 (webhook API version "
		    "wp_api_v3)");
		assert_int_equal(plan.n, 0);
	}
}

static void
test_topics_ignored(void **state)
{
	static const char *const topics[][2] = {
		{ "coupon.created", REAL "060-coupon_created.body" },
		{ "coupon.deleted", REAL "085-coupon_deleted.body" },
		{ "action.woocommerce_order_status_completed",
		    WIRE "action.woocommerce_order_status_completed.json" },
		{ "customer.restored", REAL "055-customer_created.body" },
	};
	struct map_plan plan;
	char why[256], want[128];
	size_t i;

	for (i = 0; i < sizeof(topics) / sizeof(topics[0]); i++) {
		assert_int_equal(build(topics[i][0], load(topics[i][1]), NULL,
		    &plan, why, sizeof(why)), WC2SF_IGNORED);
		snprintf(want, sizeof(want), "topic %s is not synced",
		    topics[i][0]);
		assert_string_equal(why, want);
		assert_int_equal(plan.n, 0);
	}
	assert_int_equal(build(NULL, parse("{\"id\":1}"), NULL, &plan, why,
	    sizeof(why)), WC2SF_IGNORED);
}

/* Missing fields and wrong types: BAD_PAYLOAD naming the field. */
static void
test_wrong_types(void **state)
{
	static const struct {
		const char *topic;
		const char *body;
		const char *why;
	} cases[] = {
		{ "customer.updated", "[1,2]",
		    "the body is not a JSON object" },
		{ "customer.updated", "{\"id\":{\"n\":1}}",
		    "field id: expected an id, got an object" },
		{ "customer.deleted", "{}", "missing field id" },
		{ "customer.deleted", "{\"id\":\"\"}",
		    "field id: expected an id, got a string" },
		{ "customer.deleted", "{\"id\":0}",
		    "field id: expected an id, got 0" },
		{ "product.deleted", "{\"id\":-4}",
		    "field id: expected an id, got a number" },
		{ "product.deleted", "{\"id\":1.5}",
		    "field id: expected an id, got a number" },
		{ "customer.updated", "{\"id\":5,\"first_name\":[\"A\"]}",
		    "field first_name: expected a string, got an array" },
		{ "customer.updated", "{\"id\":5,\"billing\":\"x\"}",
		    "field billing: expected an object, got a string" },
		{ "customer.updated", "{\"id\":5,\"billing\":{\"company\":"
		    "true}}", "field billing.company: expected a string, got "
		    "a boolean" },
		{ "product.updated", "{\"id\":5,\"name\":\"n\",\"sku\":\"\","
		    "\"description\":{},\"short_description\":\"\"}",
		    "field description: expected a string, got an object" },
		{ "product.updated", "{\"id\":5,\"name\":\"n\",\"sku\":\"\","
		    "\"description\":\"\",\"short_description\":\"\","
		    "\"status\":\"publish\",\"categories\":{\"name\":\"c\"}}",
		    "field categories: expected an array, got an object" },
		{ "product.updated", "{\"id\":5,\"name\":\"n\",\"sku\":\"\","
		    "\"description\":\"\",\"short_description\":\"\","
		    "\"status\":\"publish\",\"categories\":[],"
		    "\"parent_id\":\"p1\"}",
		    "field parent_id: expected an id, got a string" },
		{ "product.updated", "{\"id\":5,\"name\":\"n\",\"sku\":\"\","
		    "\"description\":\"\",\"short_description\":\"\","
		    "\"status\":\"publish\",\"categories\":[],"
		    "\"parent_id\":0,\"type\":\"simple\",\"price\":\"1.2.3\","
		    "\"regular_price\":\"\"}",
		    "field price: expected an amount, got \"1.2.3\"" },
		{ "product.updated", "{\"id\":5,\"name\":\"n\"}",
		    "missing field sku" },
	};
	struct map_plan plan;
	char why[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(build(cases[i].topic, parse(cases[i].body),
		    NULL, &plan, why, sizeof(why)), WC2SF_BAD_PAYLOAD);
		assert_string_equal(why, cases[i].why);
		assert_int_equal(plan.n, 0);
		map_plan_free(&plan);
	}
	assert_int_equal(map_build("customer.updated", NULL, NULL, &plan,
	    why, sizeof(why)), WC2SF_BAD_PAYLOAD);
}

static void
test_identify(void **state)
{
	struct json_object *body;
	char id[64], mod[32], small[2];

	body = load(REAL "071-order_updated.body");
	assert_true(map_identify(body, id, sizeof(id), mod, sizeof(mod)));
	assert_string_equal(id, "51");
	assert_string_equal(mod, "2026-12-03T15:31:01");
	assert_true(map_identify(body, small, sizeof(small), mod,
	    sizeof(mod)));
	assert_string_equal(small, "");
	json_object_put(body);

	body = parse("{\"id\":\"0731\"}");
	assert_true(map_identify(body, id, sizeof(id), mod, sizeof(mod)));
	assert_string_equal(id, "731");
	assert_string_equal(mod, "");
	json_object_put(body);

	body = load(REAL "117-order_updated.body");
	assert_true(map_identify(body, id, sizeof(id), mod, sizeof(mod)));
	assert_string_equal(id, "");
	json_object_put(body);

	body = parse("[]");
	assert_false(map_identify(body, id, sizeof(id), mod, sizeof(mod)));
	json_object_put(body);
	assert_false(map_identify(NULL, id, sizeof(id), mod, sizeof(mod)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uses_prev),
		cmocka_unit_test(test_customer_created),
		cmocka_unit_test(test_customer_company_and_unicode),
		cmocka_unit_test(test_customer_picklists),
		cmocka_unit_test(test_customer_fallbacks),
		cmocka_unit_test(test_customer_truncation),
		cmocka_unit_test(test_customer_bad_utf8),
		cmocka_unit_test(test_customer_deleted),
		cmocka_unit_test(test_product_simple),
		cmocka_unit_test(test_product_variation),
		cmocka_unit_test(test_product_variable_parent),
		cmocka_unit_test(test_product_description),
		cmocka_unit_test(test_product_deleted),
		cmocka_unit_test(test_rest_error_ignored),
		cmocka_unit_test(test_legacy_wrapped),
		cmocka_unit_test(test_topics_ignored),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_identify),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
