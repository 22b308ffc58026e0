#ifndef WC2SF_MAP_H
#define WC2SF_MAP_H

#include <stdbool.h>
#include <stddef.h>

#include "result.h"

struct json_object;

/*
 * Mapping turns one WooCommerce body into a plan: an ordered list of
 * steps, each an upsert by external ID of one or more records of one
 * sObject type. The plan knows nothing of HTTP; salesforce.c packs it
 * into as few composite requests as Salesforce's limits allow.
 *
 * Children name their parents by external ID inside the record
 * ("Account": {"WC_Customer_Id__c": "42"}), never by a reference to an
 * earlier step, so any step can be retried or sent in a later request.
 * A plan may hold any external ID value: sf_wire.c puts only plain
 * words (ids such as "42", "std-12") in URL paths and everything else
 * (a guest's e-mail) in request bodies, so any character round-trips.
 */
#define MAP_MAX_STEPS 16

enum map_conv {
	CONV_TEXT = 0,		/* string: entities decoded, cut to max_len */
	CONV_ID,		/* integer or digit string -> "42"; 0 empty */
	CONV_MONEY,		/* "12.50" or 12.5 -> JSON number */
	CONV_NUMBER,		/* number -> JSON number */
	CONV_BOOL,		/* true/false */
	CONV_DATE,		/* "2026-12-03T16:30:37" -> "2026-12-03" */
	CONV_STREET,		/* path names an address object: 1 + "\n" + 2 */
	CONV_ACCOUNT_NAME,	/* company, else "first last", else e-mail */
	CONV_LAST_NAME,		/* last name, else first, else e-mail */
	CONV_FIRST_NAME,	/* empty when it moved to LastName */
	CONV_EMAIL,		/* text, kept if it looks like an address */
	CONV_HTML,		/* tags stripped, entities decoded, spaces
				   collapsed, cut to max_len */
	CONV_DATETIME,		/* GMT "2026-12-03T15:30:56" -> "...56Z" */
	CONV_COUNTRY,		/* text, or <sf_field>Code with picklists */
	CONV_STATE,		/* text, or <sf_field>Code with picklists */
	CONV_PUBLISHED,		/* status string -> true when "publish" */
	CONV_FIRST_NAME_OF,	/* array of objects -> the first one's name */
	CONV_PRICE,		/* like CONV_MONEY, 0 when empty */
	CONV_REFUNDS,		/* refunds array -> sum of |total| */
	CONV_ORDER_NAME,	/* "WooCommerce order <value>" */
	CONV_PRODUCT_NAME,	/* name; a variation's options added */
	CONV_TRUE,		/* the constant true; path unused */
	CONV_FALSE,		/* the constant false; path unused */
	CONV_LITERAL		/* the path itself, as a string */
};

/* map_field.flags */
#define MAP_OPTIONAL	0x1	/* an absent path is no error */
#define MAP_REQUIRED	0x2	/* an empty value is an error */

/*
 * One row of a static field table: where the value is in the WooCommerce
 * JSON ("billing.city"; the empty path is the whole body), which
 * Salesforce field receives it, how it is converted, and the field's
 * length in characters (0: not a text field).
 *
 * A path may list alternatives, "payment_method_title|payment_method":
 * the first that converts to a non-empty value wins. A path starting
 * with "@" is read from the person object (the customer itself, or an
 * order's billing address) instead of the table's source object. A
 * field whose converted value is empty is left out of the record.
 */
struct map_field {
	const char *path;
	const char *sf_field;
	enum map_conv conv;
	unsigned max_len;
	unsigned flags;			/* MAP_OPTIONAL, MAP_REQUIRED */
};

/*
 * What a step asks of Salesforce:
 *  MAP_UPSERT       create or update each record, matched on ext_field
 *                   (sObject Collections upsert).
 *  MAP_UPDATE_ONLY  update each record whose ext_field value exists and
 *                   create nothing (deletes of products, orders,
 *                   customers); a record that does not exist is no error.
 *  MAP_DELETE       delete the records whose ext_field values are listed
 *                   (records are {"<ext_field>": "value"}); one already
 *                   gone is no error.
 */
enum map_op {
	MAP_UPSERT = 0,
	MAP_UPDATE_ONLY,
	MAP_DELETE
};

struct map_step {
	enum map_op op;
	const char *sobject;		/* "Account" (static) */
	const char *ext_field;		/* "WC_Customer_Id__c" (static) */
	struct json_object *records;	/* array of records, owned */
};

/*
 * A record field whose value must be the standard price book's Id holds
 * this string; salesforce.c looks the Id up once, caches it, and puts it
 * in before sending.
 */
#define MAP_STANDARD_PRICEBOOK "$standard_pricebook"

struct map_plan {
	const char *resource;		/* "customer" (static) */
	char resource_id[64];		/* the WooCommerce id, "42" */
	char modified_gmt[32];		/* date_modified_gmt or "" */
	size_t n;
	struct map_step steps[MAP_MAX_STEPS];
};

/*
 * sync_statuses is NULL-ended; NULL means every status but
 * "checkout-draft". product_known(ctx, key) tells whether Salesforce
 * already has the product keyed key ("15", "deleted"); an order adds a
 * minimal Product2 and PricebookEntry upsert for every product it uses
 * that is not known, so its lines can land. A NULL product_known counts
 * every product as unknown.
 *
 * customer_known(ctx, key) tells whether Salesforce has the registered
 * customer keyed key ("2") from a customer.* event. An order of a known
 * customer leaves the customer's Account and Contact alone; otherwise
 * it upserts them with the names and e-mail of its billing address
 * only, so the Order can name its Account while the customer's own
 * address and phone, which customer.* events bring, are never
 * overwritten by an order's older copy. NULL: nobody is known.
 */
struct map_options {
	bool state_picklists;		/* write BillingCountryCode ... */
	const char *const *sync_statuses; /* order statuses synced */
	bool (*product_known)(void *ctx, const char *key);
	void *ctx;			/* passed to both callbacks */
	bool (*customer_known)(void *ctx, const char *key);
};

/*
 * Build the plan for topic from body. Returns WC2SF_OK with plan filled;
 * WC2SF_IGNORED for a topic, status or REST-error body not synced (why
 * says which); WC2SF_BAD_PAYLOAD when fields a table needs are missing or
 * of the wrong type (why names them). The plan is always safe to pass to
 * map_plan_free(), whatever was returned.
 *
 * plan is overwritten, not freed, and holds no steps unless WC2SF_OK;
 * opt may be NULL for the defaults. Records are plain field objects
 * (sf_wire.c adds "attributes" as it writes them), empty fields left
 * out; every record of an upsert carries a non-empty external ID. Text
 * is valid UTF-8, its entities decoded once, cut to the field's length.
 * WC2SF_NO_MEMORY when an allocation fails; body and prev are never
 * changed. To spare copies, records hold references to values of body
 * (text already clean) and share values with each other (an order's
 * lines name their Order with one object): read them, never change them.
 */
enum wc2sf_result map_build(const char *topic, struct json_object *body,
    const struct map_options *opt, struct map_plan *plan, char *why,
    size_t whylen);

/*
 * Like map_build, given prev, the body last synced for the same resource
 * (NULL when none): an order's line items that were in prev and are gone
 * from body become a MAP_DELETE step.
 */
enum wc2sf_result map_build_since(const char *topic,
    struct json_object *body, struct json_object *prev,
    const struct map_options *opt, struct map_plan *plan, char *why,
    size_t whylen);

/*
 * Whether map_build_since() reads prev for topic: when it does not, the
 * caller need not fetch and parse the last synced body.
 */
bool map_uses_prev(const char *topic);

void map_plan_free(struct map_plan *plan);

/*
 * True when body is a REST error object that WooCommerce sent in place
 * of the resource ({"code":...,"message":...,"data":{"status":...}});
 * its code, cut to fit, goes to code (size > 0). map_build answers such
 * a body WC2SF_IGNORED; the caller may use this to log a warning that
 * names the code.
 */
bool map_rest_error(struct json_object *body, char *code, size_t size);

/*
 * Extract the resource id and date_modified_gmt of a body without mapping
 * it (for the journal); "" when absent. Returns false if body is not an
 * object.
 */
bool map_identify(struct json_object *body, char *id, size_t idlen,
    char *modified, size_t modlen);

#endif
