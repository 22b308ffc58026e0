/*
 * map.c with orders: a registered customer's order, guest orders, the
 * products an order brings along, statuses not synced, line items that
 * disappear between versions, and bodies of the wrong shape.
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
#include "sf_wire.h"
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

static const char *
compact(struct json_object *o)
{
	return json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

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

static struct json_object *
record(const struct map_plan *plan, size_t step, size_t i)
{
	assert_true(step < plan->n);
	return json_object_array_get_idx(plan->steps[step].records, i);
}

static const char *
text_of(struct json_object *rec, const char *name)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(rec, name, &v) || v == NULL)
		return NULL;
	return json_object_get_string(v);
}

static void
set(struct json_object *obj, const char *key, struct json_object *v)
{
	assert_int_equal(json_object_object_add(obj, key, v), 0);
}

static struct json_object *
member(struct json_object *obj, const char *key)
{
	struct json_object *v = NULL;

	assert_true(json_object_object_get_ex(obj, key, &v));
	return v;
}

/*
 * The buyer, products, order and items of the real order 51. The buyer
 * is a registered customer: the order says who it is and nothing more,
 * so the customer's own address and phone are never overwritten.
 */
static const char order51_account[] =
    "[{\"WC_Customer_Id__c\":\"2\",\"Name\":\"Jane Doe\"}]";

static const char order51_contact[] =
    "[{\"WC_Customer_Id__c\":\"2\","
    "\"Account\":{\"WC_Customer_Id__c\":\"2\"},"
    "\"FirstName\":\"Jane\",\"LastName\":\"Doe\","
    "\"Email\":\"jane.doe@example.test\"}]";

static const char order51_products[] =
    "[{\"WC_Product_Id__c\":\"12\",\"Name\":\"Realwc T-Shirt\","
    "\"ProductCode\":\"RW-TSHIRT\",\"IsActive\":true},"
    "{\"WC_Product_Id__c\":\"15\",\"Name\":\"Realwc Hoodie - M, Red\","
    "\"ProductCode\":\"RW-HOODIE-M-Red\",\"IsActive\":true}]";

static const char order51_entries[] =
    "[{\"WC_Price_Key__c\":\"std-12\","
    "\"Product2\":{\"WC_Product_Id__c\":\"12\"},"
    "\"Pricebook2Id\":\"$standard_pricebook\",\"UnitPrice\":13.495,"
    "\"IsActive\":true},"
    "{\"WC_Price_Key__c\":\"std-15\","
    "\"Product2\":{\"WC_Product_Id__c\":\"15\"},"
    "\"Pricebook2Id\":\"$standard_pricebook\",\"UnitPrice\":35.09,"
    "\"IsActive\":true}]";

static const char order51_order[] =
    "[{\"WC_Order_Id__c\":\"51\","
    "\"Account\":{\"WC_Customer_Id__c\":\"2\"},"
    "\"EffectiveDate\":\"2026-12-03\",\"Status\":\"Draft\","
    "\"Pricebook2Id\":\"$standard_pricebook\","
    "\"Name\":\"WooCommerce order 51\","
    "\"BillingStreet\":\"100 Market Street\\nSuite 5\","
    "\"BillingCity\":\"San Francisco\",\"BillingState\":\"CA\","
    "\"BillingPostalCode\":\"94105\",\"BillingCountry\":\"US\","
    "\"ShippingStreet\":\"100 Market Street\\nSuite 5\","
    "\"ShippingCity\":\"San Francisco\",\"ShippingState\":\"CA\","
    "\"ShippingPostalCode\":\"94105\",\"ShippingCountry\":\"US\","
    "\"WC_Number__c\":\"51\",\"WC_Status__c\":\"completed\","
    "\"WC_Currency__c\":\"USD\",\"WC_Total__c\":71.94,"
    "\"WC_Discount_Total__c\":6.90,\"WC_Shipping_Total__c\":5.00,"
    "\"WC_Total_Tax__c\":4.86,\"WC_Refunded__c\":14.48,"
    "\"WC_Payment_Method__c\":\"Direct bank transfer\","
    "\"WC_Customer_Note__c\":\"Please leave at the door.\","
    "\"WC_Date_Paid__c\":\"2026-12-03T15:30:56Z\","
    "\"WC_Deleted__c\":false}]";

#define ORDER51_ITEM1 \
    "{\"WC_Line_Id__c\":\"1\",\"Order\":{\"WC_Order_Id__c\":\"51\"}," \
    "\"PricebookEntry\":{\"WC_Price_Key__c\":\"std-12\"}," \
    "\"WC_Product_Id__c\":\"12\",\"Quantity\":2,\"UnitPrice\":13.495," \
    "\"Description\":\"Realwc T-Shirt\",\"WC_Sku__c\":\"RW-TSHIRT\"," \
    "\"WC_Line_Total__c\":26.99,\"WC_Line_Tax__c\":1.96}"
#define ORDER51_ITEM2 \
    "{\"WC_Line_Id__c\":\"2\",\"Order\":{\"WC_Order_Id__c\":\"51\"}," \
    "\"PricebookEntry\":{\"WC_Price_Key__c\":\"std-15\"}," \
    "\"WC_Product_Id__c\":\"15\",\"Quantity\":1,\"UnitPrice\":35.09," \
    "\"Description\":\"Realwc Hoodie - M, Red\"," \
    "\"WC_Sku__c\":\"RW-HOODIE-M-Red\",\"WC_Line_Total__c\":35.09," \
    "\"WC_Line_Tax__c\":2.54}"

/* Completed, partly refunded, two lines, one a variation. */
static void
test_order_registered(void **state)
{
	struct json_object *body = load(REAL "071-order_updated.body");
	struct map_plan plan;
	char why[256];

	assert_int_equal(map_build("order.updated", body, NULL, &plan, why,
	    sizeof(why)), WC2SF_OK);
	assert_string_equal(plan.resource, "order");
	assert_string_equal(plan.resource_id, "51");
	assert_string_equal(plan.modified_gmt, "2026-12-03T15:31:01");
	assert_int_equal(plan.n, 6);
	check_step(&plan, 0, MAP_UPSERT, "Account", "WC_Customer_Id__c",
	    order51_account);
	check_step(&plan, 1, MAP_UPSERT, "Contact", "WC_Customer_Id__c",
	    order51_contact);
	check_step(&plan, 2, MAP_UPSERT, "Product2", "WC_Product_Id__c",
	    order51_products);
	check_step(&plan, 3, MAP_UPSERT, "PricebookEntry", "WC_Price_Key__c",
	    order51_entries);
	check_step(&plan, 4, MAP_UPSERT, "Order", "WC_Order_Id__c",
	    order51_order);
	check_step(&plan, 5, MAP_UPSERT, "OrderItem", "WC_Line_Id__c",
	    "[" ORDER51_ITEM1 "," ORDER51_ITEM2 "]");
	map_plan_free(&plan);
	json_object_put(body);
}

/* Several lines, two selling one product: one Product2 for both. */
static void
test_order_several_lines(void **state)
{
	struct json_object *body = load(WIRE "order.created.json");
	struct json_object *lines, *copy = NULL;
	struct map_plan plan;
	char why[256];

	lines = member(body, "line_items");
	assert_int_equal(json_object_deep_copy(json_object_array_get_idx(
	    lines, 0), &copy, NULL), 0);
	set(copy, "id", json_object_new_int(9399));
	set(copy, "quantity", json_object_new_int(5));
	json_object_array_add(lines, copy);
	assert_int_equal(map_build("order.created", body, NULL, &plan, why,
	    sizeof(why)), WC2SF_OK);
	assert_int_equal(plan.n, 6);
	assert_string_equal(text_of(record(&plan, 0, 0), "Name"),
	    "Example Studio LLC");
	check_step(&plan, 2, MAP_UPSERT, "Product2", "WC_Product_Id__c",
	    "[{\"WC_Product_Id__c\":\"501\","
	    "\"Name\":\"Organic Cotton T-Shirt\","
	    "\"ProductCode\":\"TSHIRT-ORG-M\",\"IsActive\":true},"
	    "{\"WC_Product_Id__c\":\"612\","
	    "\"Name\":\"Canvas Tote Bag - Navy\","
	    "\"ProductCode\":\"TOTE-NAVY\",\"IsActive\":true}]");
	check_step(&plan, 5, MAP_UPSERT, "OrderItem", "WC_Line_Id__c",
	    "[{\"WC_Line_Id__c\":\"9301\","
	    "\"Order\":{\"WC_Order_Id__c\":\"1187\"},"
	    "\"PricebookEntry\":{\"WC_Price_Key__c\":\"std-501\"},"
	    "\"WC_Product_Id__c\":\"501\",\"Quantity\":2,\"UnitPrice\":18,"
	    "\"Description\":\"Organic Cotton T-Shirt\","
	    "\"WC_Sku__c\":\"TSHIRT-ORG-M\",\"WC_Line_Total__c\":36.00,"
	    "\"WC_Line_Tax__c\":3.60},"
	    "{\"WC_Line_Id__c\":\"9302\","
	    "\"Order\":{\"WC_Order_Id__c\":\"1187\"},"
	    "\"PricebookEntry\":{\"WC_Price_Key__c\":\"std-612\"},"
	    "\"WC_Product_Id__c\":\"612\",\"Quantity\":1,\"UnitPrice\":22.5,"
	    "\"Description\":\"Canvas Tote Bag - Navy\","
	    "\"WC_Sku__c\":\"TOTE-NAVY\",\"WC_Line_Total__c\":22.50,"
	    "\"WC_Line_Tax__c\":2.25},"
	    "{\"WC_Line_Id__c\":\"9399\","
	    "\"Order\":{\"WC_Order_Id__c\":\"1187\"},"
	    "\"PricebookEntry\":{\"WC_Price_Key__c\":\"std-501\"},"
	    "\"WC_Product_Id__c\":\"501\",\"Quantity\":5,\"UnitPrice\":18,"
	    "\"Description\":\"Organic Cotton T-Shirt\","
	    "\"WC_Sku__c\":\"TSHIRT-ORG-M\",\"WC_Line_Total__c\":36.00,"
	    "\"WC_Line_Tax__c\":3.60}]");
	assert_string_equal(text_of(record(&plan, 4, 0),
	    "WC_Payment_Method__c"), "Credit / Debit Card");
	map_plan_free(&plan);
	json_object_put(body);
}

/* A guest with a company and non-ASCII names; a line cut to 255. */
static void
test_order_guest(void **state)
{
	struct json_object *body = load(REAL "082-order_restored.body");
	struct json_object *lines;
	struct map_plan plan;
	const char *name, *desc;
	char why[256];

	assert_int_equal(map_build("order.restored", body, NULL, &plan, why,
	    sizeof(why)), WC2SF_OK);
	assert_int_equal(plan.n, 6);
	check_step(&plan, 0, MAP_UPSERT, "Account", "WC_Guest_Email__c",
	    "[{\"WC_Guest_Email__c\":\"guest.juergen@example.test\","
	    "\"Name\":\"\xC3\x84rzte & S\xC3\xB6hne GmbH\","
	    "\"BillingStreet\":\"100 Market Street\\nSuite 5\","
	    "\"BillingCity\":\"San Francisco\",\"BillingState\":\"CA\","
	    "\"BillingPostalCode\":\"94105\",\"BillingCountry\":\"US\","
	    "\"ShippingStreet\":\"100 Market Street\\nSuite 5\","
	    "\"ShippingCity\":\"San Francisco\",\"ShippingState\":\"CA\","
	    "\"ShippingPostalCode\":\"94105\",\"ShippingCountry\":\"US\","
	    "\"Phone\":\"+1 415 555 0100\",\"WC_Deleted__c\":false}]");
	check_step(&plan, 1, MAP_UPSERT, "Contact", "WC_Guest_Email__c",
	    "[{\"WC_Guest_Email__c\":\"guest.juergen@example.test\","
	    "\"Account\":{\"WC_Guest_Email__c\":"
	    "\"guest.juergen@example.test\"},"
	    "\"FirstName\":\"J\xC3\xBCrgen\","
	    "\"LastName\":\"M\xC3\xBCller-\xC5\x81ukasiewicz "
	    "\xF0\x9F\x98\x80\","
	    "\"Email\":\"guest.juergen@example.test\","
	    "\"Phone\":\"+1 415 555 0100\","
	    "\"MailingStreet\":\"100 Market Street\\nSuite 5\","
	    "\"MailingCity\":\"San Francisco\",\"MailingState\":\"CA\","
	    "\"MailingPostalCode\":\"94105\",\"MailingCountry\":\"US\","
	    "\"OtherStreet\":\"100 Market Street\\nSuite 5\","
	    "\"OtherCity\":\"San Francisco\",\"OtherState\":\"CA\","
	    "\"OtherPostalCode\":\"94105\",\"OtherCountry\":\"US\","
	    "\"WC_Deleted__c\":false}]");
	check_step(&plan, 4, MAP_UPSERT, "Order", "WC_Order_Id__c",
	    "[{\"WC_Order_Id__c\":\"54\","
	    "\"Account\":{\"WC_Guest_Email__c\":"
	    "\"guest.juergen@example.test\"},"
	    "\"EffectiveDate\":\"2026-12-03\",\"Status\":\"Draft\","
	    "\"Pricebook2Id\":\"$standard_pricebook\","
	    "\"Name\":\"WooCommerce order 54\","
	    "\"BillingStreet\":\"100 Market Street\\nSuite 5\","
	    "\"BillingCity\":\"San Francisco\",\"BillingState\":\"CA\","
	    "\"BillingPostalCode\":\"94105\",\"BillingCountry\":\"US\","
	    "\"ShippingStreet\":\"100 Market Street\\nSuite 5\","
	    "\"ShippingCity\":\"San Francisco\",\"ShippingState\":\"CA\","
	    "\"ShippingPostalCode\":\"94105\",\"ShippingCountry\":\"US\","
	    "\"WC_Number__c\":\"54\",\"WC_Status__c\":\"processing\","
	    "\"WC_Currency__c\":\"USD\",\"WC_Total__c\":37.00,"
	    "\"WC_Discount_Total__c\":0.00,\"WC_Shipping_Total__c\":5.00,"
	    "\"WC_Total_Tax__c\":2.50,\"WC_Refunded__c\":0,"
	    "\"WC_Payment_Method__c\":\"Cash on delivery\","
	    "\"WC_Customer_Note__c\":\"Multi-line note:\\nline 2 "
	    "\xE2\x80\x94 with \xE2\x80\x9Cquotes\xE2\x80\x9D and emoji "
	    "\xF0\x9F\x93\xA6\","
	    "\"WC_Date_Paid__c\":\"2026-12-03T15:31:08Z\","
	    "\"WC_Deleted__c\":false}]");
	assert_int_equal(json_object_array_length(plan.steps[5].records), 2);
	/* The Unicode name arrives whole, entities and all, as text. */
	lines = member(body, "line_items");
	name = json_object_get_string(member(json_object_array_get_idx(
	    lines, 0), "name"));
	assert_string_equal(text_of(record(&plan, 5, 0), "Description"),
	    name);
	assert_string_equal(text_of(record(&plan, 2, 0), "Name"), name);
	/* The 2,000-character name: cut to 255 units, a clean prefix. */
	name = json_object_get_string(member(json_object_array_get_idx(
	    lines, 1), "name"));
	desc = text_of(record(&plan, 5, 1), "Description");
	assert_true(text_utf16_len(desc) <= 255);
	assert_true(text_utf16_len(desc) >= 253);
	assert_true(text_utf8_valid(desc, strlen(desc)));
	assert_memory_equal(desc, name, strlen(desc));
	assert_string_equal(text_of(record(&plan, 5, 1), "WC_Sku__c"),
	    "RW-LONG");
	map_plan_free(&plan);
	json_object_put(body);
}

/* Guest keys: e-mail in lower case, or the order when there is none. */
static void
test_order_guest_keys(void **state)
{
	struct json_object *body = load(WIRE "order.created.guest.json");
	struct json_object *billing = member(body, "billing");
	struct map_plan plan;
	char why[256];

	set(billing, "email", json_object_new_string(" Alex.Sample@"
	    "Example.COM "));
	assert_int_equal(map_build("order.created", body, NULL, &plan, why,
	    sizeof(why)), WC2SF_OK);
	assert_string_equal(text_of(record(&plan, 0, 0),
	    "WC_Guest_Email__c"), "alex.sample@example.com");
	assert_string_equal(text_of(record(&plan, 1, 0), "Email"),
	    "Alex.Sample@Example.COM");
	assert_string_equal(compact(member(record(&plan, 4, 0), "Account")),
	    "{\"WC_Guest_Email__c\":\"alex.sample@example.com\"}");
	map_plan_free(&plan);

	set(billing, "email", json_object_new_string(""));
	set(billing, "first_name", json_object_new_string(""));
	set(billing, "last_name", json_object_new_string(""));
	assert_int_equal(map_build("order.created", body, NULL, &plan, why,
	    sizeof(why)), WC2SF_OK);
	check_step(&plan, 0, MAP_UPSERT, "Account", "WC_Guest_Email__c",
	    "[{\"WC_Guest_Email__c\":\"order-1188\","
	    "\"Name\":\"Guest of order 1188\","
	    "\"BillingStreet\":\"77 Sample Road\","
	    "\"BillingCity\":\"San Jos\xC3\xA9\",\"BillingState\":\"CA\","
	    "\"BillingPostalCode\":\"95112\",\"BillingCountry\":\"US\","
	    "\"ShippingStreet\":\"77 Sample Road\","
	    "\"ShippingCity\":\"San Jos\xC3\xA9\",\"ShippingState\":\"CA\","
	    "\"ShippingPostalCode\":\"95112\",\"ShippingCountry\":\"US\","
	    "\"Phone\":\"+1 408 555 0199\",\"WC_Deleted__c\":false}]");
	assert_string_equal(text_of(record(&plan, 1, 0), "LastName"),
	    "Guest of order 1188");
	assert_null(text_of(record(&plan, 1, 0), "Email"));
	assert_null(text_of(record(&plan, 1, 0), "FirstName"));
	assert_string_equal(compact(member(record(&plan, 4, 0), "Account")),
	    "{\"WC_Guest_Email__c\":\"order-1188\"}");
	map_plan_free(&plan);
	json_object_put(body);
}

/* A guest e-mail that does not fit the key field keeps a hashed tail. */
static void
test_order_guest_long_email(void **state)
{
	struct json_object *body = load(WIRE "order.created.guest.json");
	struct json_object *billing = member(body, "billing");
	struct map_plan plan;
	char email[160], other[160], why[256], first[96];
	const char *key;

	/* 70 letters, "@", 9 more: 80 units fit as they are. */
	memset(email, 'x', 70);
	snprintf(email + 70, sizeof(email) - 70, "@ex.test1");
	assert_int_equal(strlen(email), 79);
	set(billing, "email", json_object_new_string(email));
	assert_int_equal(map_build("order.created", body, NULL, &plan, why,
	    sizeof(why)), WC2SF_OK);
	assert_string_equal(text_of(record(&plan, 0, 0),
	    "WC_Guest_Email__c"), email);
	map_plan_free(&plan);

	/* 100 units: 63 kept, "~", 16 hex digits. */
	memset(email, 'y', 90);
	snprintf(email + 90, sizeof(email) - 90, "@ex.test1");
	set(billing, "email", json_object_new_string(email));
	assert_int_equal(map_build("order.created", body, NULL, &plan, why,
	    sizeof(why)), WC2SF_OK);
	key = text_of(record(&plan, 0, 0), "WC_Guest_Email__c");
	assert_int_equal(strlen(key), 80);
	assert_memory_equal(key, email, 63);
	assert_int_equal(key[63], '~');
	assert_int_equal(strspn(key + 64, "0123456789abcdef"), 16);
	snprintf(first, sizeof(first), "%s", key);
	/* Same on every delivery, and names the Order's Account. */
	assert_string_equal(text_of(member(record(&plan, 4, 0), "Account"),
	    "WC_Guest_Email__c"), first);
	map_plan_free(&plan);
	assert_int_equal(map_build("order.created", body, NULL, &plan, why,
	    sizeof(why)), WC2SF_OK);
	assert_string_equal(text_of(record(&plan, 0, 0),
	    "WC_Guest_Email__c"), first);
	map_plan_free(&plan);

	/* Another long address with the same start: another key. */
	snprintf(other, sizeof(other), "%s", email);
	other[80] = 'z';
	set(billing, "email", json_object_new_string(other));
	assert_int_equal(map_build("order.created", body, NULL, &plan, why,
	    sizeof(why)), WC2SF_OK);
	key = text_of(record(&plan, 0, 0), "WC_Guest_Email__c");
	assert_memory_equal(key, first, 64);
	assert_string_not_equal(key, first);
	map_plan_free(&plan);
	json_object_put(body);
}

/*
 * Keys with '/', '%', '+', spaces and non-ASCII are kept exactly (only
 * ASCII letters go to lower case); the Contact gets no Email field,
 * which Salesforce would refuse, but the key still names the guest.
 */
static void
test_order_guest_odd_email(void **state)
{
	struct json_object *body = load(WIRE "order.created.guest.json");
	struct json_object *billing = member(body, "billing");
	struct map_plan plan;
	char why[256];

	set(billing, "email", json_object_new_string(
	    "\xC3\x9C" "bel/50% +Off@Example.test"));
	assert_int_equal(map_build("order.created", body, NULL, &plan, why,
	    sizeof(why)), WC2SF_OK);
	assert_string_equal(text_of(record(&plan, 0, 0),
	    "WC_Guest_Email__c"), "\xC3\x9C" "bel/50% +off@example.test");
	assert_string_equal(text_of(record(&plan, 1, 0),
	    "WC_Guest_Email__c"), "\xC3\x9C" "bel/50% +off@example.test");
	assert_null(text_of(record(&plan, 1, 0), "Email"));
	map_plan_free(&plan);
	json_object_put(body);
}

static bool
known_customer_2(void *ctx, const char *key)
{
	int *calls = ctx;

	(*calls)++;
	return strcmp(key, "2") == 0;
}

/*
 * A registered customer Salesforce has from customer.* events: the
 * order leaves the Account and Contact alone; a guest is always sent.
 */
static void
test_order_known_customer(void **state)
{
	struct json_object *body = load(REAL "071-order_updated.body");
	struct map_options opt = { 0 };
	struct map_plan plan;
	char why[256];
	int calls = 0;

	opt.customer_known = known_customer_2;
	opt.ctx = &calls;
	assert_int_equal(map_build("order.updated", body, &opt, &plan, why,
	    sizeof(why)), WC2SF_OK);
	assert_int_equal(calls, 1);
	assert_int_equal(plan.n, 4);
	assert_string_equal(plan.steps[0].sobject, "Product2");
	check_step(&plan, 2, MAP_UPSERT, "Order", "WC_Order_Id__c",
	    order51_order);
	map_plan_free(&plan);

	/* Known or not, a body gets the same verdict. */
	set(member(body, "billing"), "email", json_object_new_object());
	assert_int_equal(map_build("order.updated", body, &opt, &plan, why,
	    sizeof(why)), WC2SF_BAD_PAYLOAD);
	assert_string_equal(why, "field billing.email: expected a string, "
	    "got an object");
	assert_int_equal(plan.n, 0);
	set(member(body, "billing"), "email",
	    json_object_new_string("jane.doe@example.test"));

	/* Customer 3 is not known: its names and e-mail only. */
	set(body, "customer_id", json_object_new_int(3));
	assert_int_equal(map_build("order.updated", body, &opt, &plan, why,
	    sizeof(why)), WC2SF_OK);
	assert_int_equal(calls, 2);
	assert_int_equal(plan.n, 6);
	check_step(&plan, 0, MAP_UPSERT, "Account", "WC_Customer_Id__c",
	    "[{\"WC_Customer_Id__c\":\"3\",\"Name\":\"Jane Doe\"}]");
	map_plan_free(&plan);
	json_object_put(body);

	/* Guests are never asked about. */
	body = load(REAL "082-order_restored.body");
	assert_int_equal(map_build("order.restored", body, &opt, &plan, why,
	    sizeof(why)), WC2SF_OK);
	assert_int_equal(calls, 2);
	assert_string_equal(plan.steps[0].ext_field, "WC_Guest_Email__c");
	map_plan_free(&plan);
	json_object_put(body);
}

static bool
known_12(void *ctx, const char *key)
{
	int *calls = ctx;

	(*calls)++;
	return strcmp(key, "12") == 0;
}

/* Products Salesforce has are left alone; each asked about once. */
static void
test_order_known_products(void **state)
{
	struct json_object *body = load(REAL "071-order_updated.body");
	struct map_options opt = { 0 };
	struct map_plan plan;
	char why[256];
	int calls = 0;

	opt.product_known = known_12;
	opt.ctx = &calls;
	assert_int_equal(map_build("order.updated", body, &opt, &plan, why,
	    sizeof(why)), WC2SF_OK);
	assert_int_equal(calls, 2);
	check_step(&plan, 2, MAP_UPSERT, "Product2", "WC_Product_Id__c",
	    "[{\"WC_Product_Id__c\":\"15\","
	    "\"Name\":\"Realwc Hoodie - M, Red\","
	    "\"ProductCode\":\"RW-HOODIE-M-Red\",\"IsActive\":true}]");
	check_step(&plan, 3, MAP_UPSERT, "PricebookEntry", "WC_Price_Key__c",
	    "[{\"WC_Price_Key__c\":\"std-15\","
	    "\"Product2\":{\"WC_Product_Id__c\":\"15\"},"
	    "\"Pricebook2Id\":\"$standard_pricebook\",\"UnitPrice\":35.09,"
	    "\"IsActive\":true}]");
	map_plan_free(&plan);
	json_object_put(body);
}

static bool
known_all(void *ctx, const char *key)
{
	return true;
}

/* A line whose product was deleted lands on a placeholder product. */
static void
test_order_deleted_product(void **state)
{
	struct json_object *body = load(REAL "071-order_updated.body");
	struct json_object *line;
	struct map_options opt = { 0 };
	struct map_plan plan;
	char why[256];

	line = json_object_array_get_idx(member(body, "line_items"), 0);
	set(line, "product_id", json_object_new_int(0));
	assert_int_equal(map_build("order.updated", body, NULL, &plan, why,
	    sizeof(why)), WC2SF_OK);
	assert_string_equal(compact(record(&plan, 2, 0)),
	    "{\"WC_Product_Id__c\":\"deleted\","
	    "\"Name\":\"Deleted WooCommerce product\",\"IsActive\":true}");
	assert_string_equal(compact(record(&plan, 3, 0)),
	    "{\"WC_Price_Key__c\":\"std-deleted\","
	    "\"Product2\":{\"WC_Product_Id__c\":\"deleted\"},"
	    "\"Pricebook2Id\":\"$standard_pricebook\",\"UnitPrice\":13.495,"
	    "\"IsActive\":true}");
	assert_string_equal(compact(record(&plan, 5, 0)),
	    "{\"WC_Line_Id__c\":\"1\",\"Order\":{\"WC_Order_Id__c\":\"51\"},"
	    "\"PricebookEntry\":{\"WC_Price_Key__c\":\"std-deleted\"},"
	    "\"WC_Product_Id__c\":\"deleted\",\"Quantity\":2,"
	    "\"UnitPrice\":13.495,\"Description\":\"Deleted WooCommerce "
	    "product: Realwc T-Shirt\",\"WC_Sku__c\":\"RW-TSHIRT\","
	    "\"WC_Line_Total__c\":26.99,\"WC_Line_Tax__c\":1.96}");
	map_plan_free(&plan);

	/* With every product known there are no product steps at all. */
	opt.product_known = known_all;
	assert_int_equal(map_build("order.updated", body, &opt, &plan, why,
	    sizeof(why)), WC2SF_OK);
	assert_int_equal(plan.n, 4);
	assert_string_equal(plan.steps[2].sobject, "Order");
	assert_string_equal(plan.steps[3].sobject, "OrderItem");
	map_plan_free(&plan);
	json_object_put(body);
}

static void
test_order_statuses(void **state)
{
	static const char *const paid[] = { "processing", "completed", NULL };
	struct json_object *body = load(REAL "071-order_updated.body");
	struct map_options opt = { 0 };
	struct map_plan plan;
	char why[256];

	set(body, "status", json_object_new_string("checkout-draft"));
	assert_int_equal(map_build("order.updated", body, NULL, &plan, why,
	    sizeof(why)), WC2SF_IGNORED);
	assert_string_equal(why, "order status checkout-draft is not synced");
	assert_int_equal(plan.n, 0);

	opt.sync_statuses = paid;
	assert_int_equal(map_build("order.updated", body, &opt, &plan, why,
	    sizeof(why)), WC2SF_IGNORED);
	set(body, "status", json_object_new_string("failed"));
	assert_int_equal(map_build("order.updated", body, &opt, &plan, why,
	    sizeof(why)), WC2SF_IGNORED);
	assert_string_equal(why, "order status failed is not synced");
	set(body, "status", json_object_new_string("completed"));
	assert_int_equal(map_build("order.updated", body, &opt, &plan, why,
	    sizeof(why)), WC2SF_OK);
	assert_int_equal(plan.n, 6);
	map_plan_free(&plan);

	/* With no list, every status but checkout-draft: even failed. */
	json_object_put(body);
	body = load(REAL "083-order_created.body");
	assert_int_equal(map_build("order.created", body, NULL, &plan, why,
	    sizeof(why)), WC2SF_OK);
	assert_string_equal(text_of(record(&plan, 4, 0), "WC_Status__c"),
	    "failed");
	assert_null(text_of(record(&plan, 4, 0), "WC_Date_Paid__c"));
	map_plan_free(&plan);
	json_object_put(body);
}

static void
test_order_deleted(void **state)
{
	struct json_object *body = load(REAL "081-order_deleted.body");
	struct map_plan plan;
	char why[256];

	assert_int_equal(map_build("order.deleted", body, NULL, &plan, why,
	    sizeof(why)), WC2SF_OK);
	assert_int_equal(plan.n, 1);
	check_step(&plan, 0, MAP_UPDATE_ONLY, "Order", "WC_Order_Id__c",
	    "[{\"WC_Order_Id__c\":\"54\",\"WC_Deleted__c\":true,"
	    "\"WC_Status__c\":\"trash\"}]");
	map_plan_free(&plan);
	json_object_put(body);
}

/* 300 lines over 7 products: one OrderItem step of 300 records. */
static void
test_order_300_lines(void **state)
{
	struct json_object *body = load(REAL "071-order_updated.body");
	struct json_object *lines, *line, *rec;
	struct map_plan plan;
	char why[256], id[16];
	int i;

	lines = json_object_new_array();
	for (i = 0; i < 300; i++) {
		line = json_object_new_object();
		set(line, "id", json_object_new_int(1000 + i));
		set(line, "name", json_object_new_string("Bulk item"));
		set(line, "product_id", json_object_new_int(100 + i % 7));
		set(line, "variation_id", json_object_new_int(0));
		set(line, "quantity", json_object_new_int(1 + i % 3));
		set(line, "sku", json_object_new_string(""));
		set(line, "total", json_object_new_string("2.50"));
		set(line, "total_tax", json_object_new_string("0.00"));
		set(line, "price", json_object_new_double_s(2.5, "2.5"));
		json_object_array_add(lines, line);
	}
	set(body, "line_items", lines);
	assert_int_equal(map_build("order.updated", body, NULL, &plan, why,
	    sizeof(why)), WC2SF_OK);
	assert_int_equal(plan.n, 6);
	assert_int_equal(json_object_array_length(plan.steps[2].records), 7);
	assert_int_equal(json_object_array_length(plan.steps[3].records), 7);
	assert_string_equal(plan.steps[5].sobject, "OrderItem");
	assert_int_equal(json_object_array_length(plan.steps[5].records),
	    300);
	for (i = 0; i < 300; i++) {
		rec = record(&plan, 5, (size_t)i);
		snprintf(id, sizeof(id), "%d", 1000 + i);
		assert_string_equal(text_of(rec, "WC_Line_Id__c"), id);
		snprintf(id, sizeof(id), "std-%d", 100 + i % 7);
		assert_string_equal(text_of(member(rec, "PricebookEntry"),
		    "WC_Price_Key__c"), id);
		assert_int_equal(json_object_get_int(member(rec, "Quantity")),
		    1 + i % 3);
	}
	map_plan_free(&plan);
	json_object_put(body);
}

/* A line gone since the version last synced is deleted. */
static void
test_order_since_removes_line(void **state)
{
	struct json_object *prev = load(REAL "071-order_updated.body");
	struct json_object *body = load(REAL "071-order_updated.body");
	struct map_plan plan;
	char why[256];

	assert_int_equal(json_object_array_del_idx(member(body,
	    "line_items"), 1, 1), 0);
	assert_int_equal(map_build_since("order.updated", body, prev, NULL,
	    &plan, why, sizeof(why)), WC2SF_OK);
	assert_int_equal(plan.n, 7);
	check_step(&plan, 5, MAP_UPSERT, "OrderItem", "WC_Line_Id__c",
	    "[" ORDER51_ITEM1 "]");
	check_step(&plan, 6, MAP_DELETE, "OrderItem", "WC_Line_Id__c",
	    "[{\"WC_Line_Id__c\":\"2\"}]");
	map_plan_free(&plan);

	/* Nothing gone: no delete step. */
	assert_int_equal(map_build_since("order.updated", prev, prev, NULL,
	    &plan, why, sizeof(why)), WC2SF_OK);
	assert_int_equal(plan.n, 6);
	assert_int_equal(plan.steps[5].op, MAP_UPSERT);
	map_plan_free(&plan);

	/* Every line gone: only the deletes, no empty upsert. */
	assert_int_equal(json_object_array_del_idx(member(body,
	    "line_items"), 0, 1), 0);
	assert_int_equal(map_build_since("order.updated", body, prev, NULL,
	    &plan, why, sizeof(why)), WC2SF_OK);
	assert_int_equal(plan.n, 4);
	assert_string_equal(plan.steps[2].sobject, "Order");
	check_step(&plan, 3, MAP_DELETE, "OrderItem", "WC_Line_Id__c",
	    "[{\"WC_Line_Id__c\":\"1\"},{\"WC_Line_Id__c\":\"2\"}]");
	map_plan_free(&plan);
	json_object_put(body);
	json_object_put(prev);
}

/*
 * Order 51 with key of the body, of its object outer, or of its second
 * line ("line") set to the JSON text value; with no key, the second line
 * itself replaced.
 */
static struct json_object *
broken(const char *outer, const char *key, const char *value)
{
	struct json_object *body = load(REAL "071-order_updated.body");
	struct json_object *obj = body, *v = json_tokener_parse(value);

	if (strcmp(value, "null") != 0)
		assert_non_null(v);
	if (outer != NULL && strcmp(outer, "line") == 0)
		obj = json_object_array_get_idx(member(body, "line_items"), 1);
	else if (outer != NULL)
		obj = member(body, outer);
	if (key == NULL)
		json_object_array_put_idx(member(body, "line_items"), 1, v);
	else
		set(obj, key, v);
	return body;
}

static void
test_order_wrong_types(void **state)
{
	static const struct {
		const char *outer;
		const char *key;
		const char *value;
		const char *why;
	} cases[] = {
		{ NULL, "status", "null",
		    "field status: expected a string, got null" },
		{ NULL, "status", "7",
		    "field status: expected a string, got a number" },
		{ NULL, "billing", "\"x\"",
		    "field billing: expected an object, got a string" },
		{ "billing", "city", "{\"x\":1}",
		    "field billing.city: expected a string, got an object" },
		{ "billing", "email", "[]",
		    "field billing.email: expected a string, got an array" },
		{ NULL, "customer_id", "\"guest\"",
		    "field customer_id: expected an id, got a string" },
		{ NULL, "line_items", "{}",
		    "field line_items: expected an array, got an object" },
		{ NULL, "total", "\"12,50\"",
		    "field total: expected an amount, got \"12,50\"" },
		{ NULL, "refunds", "[{\"id\":1}]",
		    "missing field refunds[0].total" },
		{ NULL, "date_created", "null",
		    "field date_created is empty" },
		{ NULL, "date_created", "\"03/12/2026\"",
		    "field date_created: expected a date, got \"03/12/2026\"" },
		{ NULL, "date_paid_gmt", "true",
		    "field date_paid_gmt: expected a date, got a boolean" },
		{ "line", "price", "[1]", "field line_items[1].price: "
		    "expected an amount, got an array" },
		{ "line", "quantity", "\"two\"", "field line_items[1]."
		    "quantity: expected an amount, got \"two\"" },
		{ "line", "quantity", "null",
		    "field line_items[1].quantity is empty" },
		{ "line", "id", "0",
		    "field line_items[1].id: expected an id, got 0" },
		{ "line", "variation_id", "{}", "field line_items[1]."
		    "variation_id: expected an id, got an object" },
		{ "line", "id", "-4",
		    "field line_items[1].id: expected an id, got a number" },
		{ "line", "id", "9223372036854775807",
		    "field line_items[1].id: expected an id, got a number" },
		{ "line", "id", "18446744073709551615",
		    "field line_items[1].id: expected an id, got a number" },
		{ "line", "id", "4.0",
		    "field line_items[1].id: expected an id, got a number" },
		{ NULL, NULL, "\"a line\"",
		    "field line_items[1]: expected an object, got a string" },
	};
	struct json_object *body;
	struct map_plan plan;
	char why[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		body = broken(cases[i].outer, cases[i].key, cases[i].value);
		assert_int_equal(map_build("order.updated", body, NULL, &plan,
		    why, sizeof(why)), WC2SF_BAD_PAYLOAD);
		assert_string_equal(why, cases[i].why);
		assert_int_equal(plan.n, 0);
		map_plan_free(&plan);
		json_object_put(body);
	}
}

/*
 * The composite body carries the amount's text as it is: the mapping's
 * value, not a double printed again ("12.50" stays "12.50").
 */
static void
wire_has_total(const struct map_plan *plan, const char *text)
{
	struct sf_pack pack;
	char want[128], why[128];

	assert_int_equal(sf_wire_pack(plan, "62.0", "01sXX0000001AbcYAE",
	    &pack, why, sizeof(why)), WC2SF_OK);
	assert_true(pack.n > 0);
	snprintf(want, sizeof(want), "\"WC_Total__c\":%s,", text);
	assert_non_null(strstr(sf_wire_body(&pack.parts[0]), want));
	sf_pack_free(&pack);
}

/* Amount texts kept exactly, odd but valid ones made valid JSON. */
static void
test_order_amounts(void **state)
{
	static const char *const amounts[][2] = {
		{ "\"76.45\"", "76.45" },
		{ "\" 12. \"", "12" },
		{ "\".5\"", "0.5" },
		{ "\"007.10\"", "7.10" },
		{ "\"-0.00\"", "-0.00" },
		{ "18", "18" },
		{ "13.495", "13.495" },
		{ "1e2", "1e2" },
		{ "12.50", "12.50" },
		{ "-3", "-3" },
		{ "-9223372036854775808", "-9223372036854775808" },
		{ "18446744073709551615", "18446744073709551615" },
		{ "\"\\t12.50\\n\"", "12.50" },
	};
	struct json_object *body;
	struct map_plan plan;
	char why[256];
	size_t i;

	for (i = 0; i < sizeof(amounts) / sizeof(amounts[0]); i++) {
		body = broken(NULL, "total", amounts[i][0]);
		assert_int_equal(map_build("order.updated", body, NULL, &plan,
		    why, sizeof(why)), WC2SF_OK);
		assert_string_equal(compact(member(record(&plan, 4, 0),
		    "WC_Total__c")), amounts[i][1]);
		wire_has_total(&plan, amounts[i][1]);
		map_plan_free(&plan);
		json_object_put(body);
	}
	/* 63 bytes of blank are nothing; past that no amount is so long. */
	body = broken(NULL, "total", "\"                                    "
	    "                                    1\"");
	assert_int_equal(map_build("order.updated", body, NULL, &plan, why,
	    sizeof(why)), WC2SF_OK);
	assert_null(text_of(record(&plan, 4, 0), "WC_Total__c"));
	map_plan_free(&plan);
	json_object_put(body);
	body = broken(NULL, "total", "\"1234567890123456789012345678901234"
	    "5678901234567890123456789012345.5\"");
	assert_int_equal(map_build("order.updated", body, NULL, &plan, why,
	    sizeof(why)), WC2SF_BAD_PAYLOAD);
	assert_string_equal(why,
	    "field total: expected an amount, got \"?\"");
	map_plan_free(&plan);
	json_object_put(body);
	body = broken(NULL, "total", "\"\"");
	assert_int_equal(map_build("order.updated", body, NULL, &plan, why,
	    sizeof(why)), WC2SF_OK);
	assert_null(text_of(record(&plan, 4, 0), "WC_Total__c"));
	map_plan_free(&plan);
	json_object_put(body);
}

/*
 * Text fields, whether already clean (taken as they are) or not
 * (repaired, decoded, trimmed, cut): BillingCity holds 40 units.
 */
static void
test_order_text_fields(void **state)
{
	static const struct {
		const char *value;
		const char *want;	/* NULL: left out */
	} cases[] = {
		{ "\"Paris\"", "Paris" },
		{ "\" Paris\\t\"", "Paris" },
		{ "\"A &amp; B\"", "A & B" },
		{ "\"a\\u0000b\"", "a" },
		{ "\"X\xffY\"", "X\xef\xbf\xbdY" },
		{ "\"\"", NULL },
		{ "\"   \"", NULL },
		{ "12", "12" },
	};
	struct json_object *body;
	struct map_plan plan;
	const char *got;
	char why[256], value[1024], want[1024];
	size_t i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		body = broken("billing", "city", cases[i].value);
		assert_int_equal(map_build("order.updated", body, NULL, &plan,
		    why, sizeof(why)), WC2SF_OK);
		got = text_of(record(&plan, 4, 0), "BillingCity");
		if (cases[i].want == NULL)
			assert_null(got);
		else
			assert_string_equal(got, cases[i].want);
		map_plan_free(&plan);
		json_object_put(body);
	}
	/* Units of 1, 2, 3 and 4 bytes, just fitting and one too many. */
	static const char *const units[] = { "a", "\xc3\xa9", "\xe2\x82\xac",
	    "\xf0\x9f\x98\x80" };
	for (i = 0; i < 4; i++) {
		size_t per = i == 3 ? 2 : 1, each = strlen(units[i]), k;

		for (n = 40 / per; n <= 40 / per + 1; n++) {
			value[0] = '"';
			for (k = 0; k < n; k++)
				memcpy(value + 1 + k * each, units[i], each);
			memcpy(value + 1 + n * each, "\"", 2);
			for (k = 0; k < 40 / per; k++)
				memcpy(want + k * each, units[i], each);
			want[40 / per * each] = '\0';
			body = broken("billing", "city", value);
			assert_int_equal(map_build("order.updated", body, NULL,
			    &plan, why, sizeof(why)), WC2SF_OK);
			assert_string_equal(text_of(record(&plan, 4, 0),
			    "BillingCity"), want);
			map_plan_free(&plan);
			json_object_put(body);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_registered),
		cmocka_unit_test(test_order_several_lines),
		cmocka_unit_test(test_order_guest),
		cmocka_unit_test(test_order_guest_keys),
		cmocka_unit_test(test_order_guest_long_email),
		cmocka_unit_test(test_order_guest_odd_email),
		cmocka_unit_test(test_order_known_customer),
		cmocka_unit_test(test_order_known_products),
		cmocka_unit_test(test_order_deleted_product),
		cmocka_unit_test(test_order_statuses),
		cmocka_unit_test(test_order_deleted),
		cmocka_unit_test(test_order_300_lines),
		cmocka_unit_test(test_order_since_removes_line),
		cmocka_unit_test(test_order_wrong_types),
		cmocka_unit_test(test_order_amounts),
		cmocka_unit_test(test_order_text_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
