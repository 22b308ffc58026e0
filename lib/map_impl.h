#ifndef WC2SF_MAP_IMPL_H
#define WC2SF_MAP_IMPL_H

/*
 * Private to map.c, map_customer.c, map_product.c and map_order.c: the
 * state one build shares, the one loop that walks a field table, and
 * the builders of each resource. Nothing outside map*.c includes this.
 */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "map.h"

#define MAP_NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define MAP_LABEL_MAX	160	/* a field's name in a message */
#define MAP_NUMBER_MAX	64	/* the text of an amount */
#define MAP_ID_MAX	64	/* a WooCommerce id as text */

/* External ID fields that more than one table names. */
#define MAP_CUSTOMER_KEY	"WC_Customer_Id__c"
#define MAP_PRODUCT_KEY		"WC_Product_Id__c"
#define MAP_PRICE_KEY		"WC_Price_Key__c"
#define MAP_PRICE_PREFIX	"std-"	/* standard price book entry */

struct map_ctx {
	const struct map_options *opt;	/* never NULL */
	struct json_object *root;	/* the body */
	struct json_object *person;	/* what "@" paths read; NULL: root */
	const char *person_path;	/* its path, for messages */
	const char *where;		/* "" or "line_items[2]" */
	const char *fallback_name;	/* a name when a record has none */
	char *why;
	size_t whylen;
};

/*
 * One single-record step: the record is {ext_field: key_prefix + key},
 * then {ref_field: {ref_ext_field: key}} when ref_field is set, then
 * the table's fields read from the source object.
 */
struct map_record_spec {
	const char *sobject;
	const char *ext_field;
	const char *key_prefix;		/* "std-" or "" */
	const char *ref_field;		/* "Product2" or NULL */
	const char *ref_ext_field;	/* "WC_Product_Id__c" */
	const struct map_field *fields;
	size_t nfields;
};

/* Write why and return result (WC2SF_BAD_PAYLOAD, WC2SF_IGNORED ...). */
enum wc2sf_result map_fail(struct map_ctx *ctx, enum wc2sf_result result,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * The one loop: convert every row of table from src and add the
 * non-empty values to rec. BAD_PAYLOAD names the field at fault.
 * Records keep the table's sf_field strings as their keys, without a
 * copy: tables are static.
 */
enum wc2sf_result map_fill(struct map_ctx *ctx, struct json_object *rec,
    const struct map_field *table, size_t n, struct json_object *src);

/*
 * A new record {ext_field: prefix + value}; NULL if out of memory.
 * ext_field (and field below) become keys without a copy, so they must
 * be static strings, as every sObject and field name here is.
 */
struct json_object *map_record_new(const char *ext_field,
    const char *prefix, const char *value);

/*
 * rec[field] = value; takes value (NULL: out of memory) whatever
 * happens. WC2SF_NO_MEMORY or WC2SF_OK.
 */
enum wc2sf_result map_record_set(struct json_object *rec,
    const char *field, struct json_object *value);

/* Add {field: {ext_field: value}} to rec: a parent by external ID. */
enum wc2sf_result map_record_ref(struct json_object *rec,
    const char *field, const char *ext_field, const char *value);

/* Append a step; takes records (an array) whatever happens. */
enum wc2sf_result map_step_add(struct map_ctx *ctx, struct map_plan *plan,
    enum map_op op, const char *sobject, const char *ext_field,
    struct json_object *records);

/* Drop (and free) the steps of plan from index n on. */
void map_plan_truncate(struct map_plan *plan, size_t n);

/* Build the record spec describes from src and append it as a step. */
enum wc2sf_result map_step_record(struct map_ctx *ctx,
    struct map_plan *plan, enum map_op op,
    const struct map_record_spec *spec, const char *key,
    struct json_object *src);

/*
 * Read the id at path of src (an integer or a digit string) into out as
 * decimal text. A missing, null or malformed id, or 0 unless allow_zero,
 * is BAD_PAYLOAD.
 */
enum wc2sf_result map_read_id(struct map_ctx *ctx, struct json_object *src,
    const char *path, bool allow_zero, char *out, size_t size);

/*
 * The text at path of src, cleaned as CONV_TEXT cleans it (UTF-8
 * repaired, entities decoded, trimmed; not cut), into *out (malloc'd;
 * "" when absent or null). A value that is not text is BAD_PAYLOAD.
 */
enum wc2sf_result map_read_text(struct map_ctx *ctx,
    struct json_object *src, const char *path, char **out);

/*
 * Helpers the converters share. map_label() names the first len bytes
 * of path as a person reading the body would ("line_items[2].price").
 * map_clean_text() gives v as text: UTF-8 repaired, entities decoded
 * once, trimmed (numbers as their JSON text; *s NULL when v is NULL).
 * map_member_text() does that for obj's member key, "" when absent.
 * map_text_value() cuts s to max units, trims it, frees it, and sets
 * *out to the JSON string or to NULL when nothing is left.
 * map_amount_text() gives an amount (number or string) as the text of a
 * JSON number, "" when empty. map_id_text() gives an integer or digit
 * string as decimal text without leading zeros; false for anything else.
 */
enum wc2sf_result map_no_memory(struct map_ctx *ctx);
bool map_id_text(struct json_object *v, char *out, size_t size);
const char *map_label(struct map_ctx *ctx, const char *path, size_t len,
    char *buf, size_t size);
enum wc2sf_result map_wrong_type(struct map_ctx *ctx, const char *path,
    const char *want, struct json_object *v);
enum wc2sf_result map_clean_text(struct map_ctx *ctx, const char *path,
    struct json_object *v, char **s);
enum wc2sf_result map_member_text(struct map_ctx *ctx,
    struct json_object *obj, const char *path, const char *key, char **s);
enum wc2sf_result map_text_value(struct map_ctx *ctx, char *s,
    unsigned max, struct json_object **out);
enum wc2sf_result map_amount_text(struct map_ctx *ctx, const char *path,
    struct json_object *v, char *out, size_t size);

/*
 * Converters that live beside the tables that use them. Each gets the
 * row, the path alternative it came from and the value found there
 * (NULL when null or absent), and sets *out to the Salesforce value or
 * leaves it NULL when empty.
 */
enum wc2sf_result map_conv_street(struct map_ctx *ctx,
    const struct map_field *f, const char *path, struct json_object *v,
    struct json_object **out);
enum wc2sf_result map_conv_person(struct map_ctx *ctx,
    const struct map_field *f, const char *path, struct json_object *v,
    struct json_object **out);
enum wc2sf_result map_conv_email(struct map_ctx *ctx,
    const struct map_field *f, const char *path, struct json_object *v,
    struct json_object **out);
enum wc2sf_result map_conv_published(struct map_ctx *ctx,
    const struct map_field *f, const char *path, struct json_object *v,
    struct json_object **out);
enum wc2sf_result map_conv_first_name_of(struct map_ctx *ctx,
    const struct map_field *f, const char *path, struct json_object *v,
    struct json_object **out);
enum wc2sf_result map_conv_product_name(struct map_ctx *ctx,
    const struct map_field *f, const char *path, struct json_object *v,
    struct json_object **out);
enum wc2sf_result map_conv_refunds(struct map_ctx *ctx,
    const struct map_field *f, const char *path, struct json_object *v,
    struct json_object **out);
enum wc2sf_result map_conv_order_name(struct map_ctx *ctx,
    const struct map_field *f, const char *path, struct json_object *v,
    struct json_object **out);

/* The builders, by resource; id is the resource's own id, checked. */
enum wc2sf_result map_customer_build(struct map_ctx *ctx,
    struct map_plan *plan, const char *id, struct json_object *prev);
enum wc2sf_result map_customer_deleted(struct map_ctx *ctx,
    struct map_plan *plan, const char *id, struct json_object *prev);
enum wc2sf_result map_product_build(struct map_ctx *ctx,
    struct map_plan *plan, const char *id, struct json_object *prev);
enum wc2sf_result map_product_deleted(struct map_ctx *ctx,
    struct map_plan *plan, const char *id, struct json_object *prev);
enum wc2sf_result map_order_build(struct map_ctx *ctx,
    struct map_plan *plan, const char *id, struct json_object *prev);
enum wc2sf_result map_order_deleted(struct map_ctx *ctx,
    struct map_plan *plan, const char *id, struct json_object *prev);

/*
 * The Account and Contact upserts of a buyer keyed key_field = key,
 * read from ctx->root with names and e-mail from ctx->person. Shared by
 * customers and orders; identity_only sends only the names and e-mail.
 */
enum wc2sf_result map_buyer_steps(struct map_ctx *ctx,
    struct map_plan *plan, const char *key_field, const char *key,
    bool identity_only);

#endif
