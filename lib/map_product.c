#include "map.h"
#include "map_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

/*
 * Products and variations become a Product2 keyed by WC_Product_Id__c
 * and its entry in the standard price book, keyed by WC_Price_Key__c
 * "std-<id>" so an order line can name it without knowing its Id.
 */

static const struct map_field product_fields[] = {
	{ "name", "Name", CONV_PRODUCT_NAME, 255, 0 },
	{ "sku", "ProductCode", CONV_TEXT, 255, 0 },
	{ "description|short_description", "Description", CONV_HTML, 4000, 0 },
	{ "status", "IsActive", CONV_PUBLISHED, 0, 0 },
	{ "categories", "Family", CONV_FIRST_NAME_OF, 40, 0 },
	{ "parent_id", "WC_Parent_Id__c", CONV_ID, 0, 0 },
	{ "type", "WC_Type__c", CONV_TEXT, 40, 0 },
	{ "status", "WC_Status__c", CONV_TEXT, 40, 0 },
};

/* A variable parent has no price of its own: its entry gets 0. */
static const struct map_field entry_fields[] = {
	{ MAP_STANDARD_PRICEBOOK, "Pricebook2Id", CONV_LITERAL, 0, 0 },
	{ "price|regular_price", "UnitPrice", CONV_PRICE, 0, 0 },
	{ "status", "IsActive", CONV_PUBLISHED, 0, 0 },
};

static const struct map_record_spec product_steps[] = {
	{ "Product2", MAP_PRODUCT_KEY, "", NULL, NULL, product_fields,
	    MAP_NELEM(product_fields) },
	{ "PricebookEntry", MAP_PRICE_KEY, MAP_PRICE_PREFIX, "Product2",
	    MAP_PRODUCT_KEY, entry_fields, MAP_NELEM(entry_fields) },
};

/* product.deleted (a trash): inactive, so no new line can use it. */
static const struct map_field deleted_product_fields[] = {
	{ "", "IsActive", CONV_FALSE, 0, 0 },
	{ "trash", "WC_Status__c", CONV_LITERAL, 0, 0 },
};

static const struct map_field deleted_entry_fields[] = {
	{ "", "IsActive", CONV_FALSE, 0, 0 },
};

static const struct map_record_spec deleted_steps[] = {
	{ "Product2", MAP_PRODUCT_KEY, "", NULL, NULL, deleted_product_fields,
	    MAP_NELEM(deleted_product_fields) },
	{ "PricebookEntry", MAP_PRICE_KEY, MAP_PRICE_PREFIX, NULL, NULL,
	    deleted_entry_fields, MAP_NELEM(deleted_entry_fields) },
};

enum wc2sf_result
map_conv_published(struct map_ctx *ctx, const struct map_field *f,
    const char *path, struct json_object *v, struct json_object **out)
{
	if (v == NULL)
		return WC2SF_OK;
	if (!json_object_is_type(v, json_type_string))
		return map_wrong_type(ctx, path, "a string", v);
	*out = json_object_new_boolean(
	    strcmp(json_object_get_string(v), "publish") == 0);
	return *out == NULL ? map_no_memory(ctx) : WC2SF_OK;
}

/* categories: [{"name": ...}, ...] gives the first name. */
enum wc2sf_result
map_conv_first_name_of(struct map_ctx *ctx, const struct map_field *f,
    const char *path, struct json_object *v, struct json_object **out)
{
	struct json_object *first;
	enum wc2sf_result result;
	char item[MAP_LABEL_MAX];
	char *s;

	if (v == NULL)
		return WC2SF_OK;
	if (!json_object_is_type(v, json_type_array))
		return map_wrong_type(ctx, path, "an array", v);
	if (json_object_array_length(v) == 0)
		return WC2SF_OK;
	first = json_object_array_get_idx(v, 0);
	snprintf(item, sizeof(item), "%s[0]", path);
	if (!json_object_is_type(first, json_type_object))
		return map_wrong_type(ctx, item, "an object", first);
	result = map_member_text(ctx, first, item, "name", &s);
	if (result != WC2SF_OK)
		return result;
	return map_text_value(ctx, s, f->max_len, out);
}

/*
 * The options of a variation joined as WooCommerce writes them in a
 * variation's title ("S, Red"); "" for anything else. Malformed
 * attributes are skipped: they only decorate the name.
 */
static enum wc2sf_result
variation_options(struct map_ctx *ctx, char **out)
{
	struct json_object *type, *attrs, *item;
	enum wc2sf_result result = WC2SF_OK;
	char *opt, *grown;
	size_t i, n, len = 0;

	if ((*out = calloc(1, 1)) == NULL)
		return map_no_memory(ctx);
	if (!json_object_object_get_ex(ctx->root, "type", &type) ||
	    !json_object_is_type(type, json_type_string) ||
	    strcmp(json_object_get_string(type), "variation") != 0 ||
	    !json_object_object_get_ex(ctx->root, "attributes", &attrs) ||
	    !json_object_is_type(attrs, json_type_array))
		return WC2SF_OK;
	n = json_object_array_length(attrs);
	for (i = 0; i < n && result == WC2SF_OK; i++) {
		item = json_object_array_get_idx(attrs, i);
		if (!json_object_is_type(item, json_type_object))
			continue;
		result = map_member_text(ctx, item, "attributes", "option",
		    &opt);
		if (result != WC2SF_OK || opt[0] == '\0') {
			free(opt);
			continue;
		}
		grown = realloc(*out, len + strlen(opt) + 3);
		if (grown == NULL) {
			free(opt);
			result = map_no_memory(ctx);
			break;
		}
		*out = grown;
		len += (size_t)snprintf(*out + len, strlen(opt) + 3, "%s%s",
		    len > 0 ? ", " : "", opt);
		free(opt);
	}
	return result;
}

/*
 * A product's name. A variation's name normally ends with its options
 * ("Hoodie - S, Red"); WooCommerce leaves them out past two attributes,
 * and then they are added here, so variations stay told apart.
 */
enum wc2sf_result
map_conv_product_name(struct map_ctx *ctx, const struct map_field *f,
    const char *path, struct json_object *v, struct json_object **out)
{
	enum wc2sf_result result;
	char *name = NULL, *opts = NULL, *full;
	size_t nlen, olen;

	result = map_clean_text(ctx, path, v, &name);
	if (result == WC2SF_OK)
		result = variation_options(ctx, &opts);
	if (result != WC2SF_OK)
		goto out;
	if (name == NULL || name[0] == '\0') {
		free(name);
		name = strdup(ctx->fallback_name);
		if (name == NULL) {
			result = map_no_memory(ctx);
			goto out;
		}
	}
	nlen = strlen(name);
	olen = strlen(opts);
	if (olen > 0 && !(nlen > olen + 3 &&
	    strcmp(name + nlen - olen, opts) == 0 &&
	    strncmp(name + nlen - olen - 3, " - ", 3) == 0)) {
		full = malloc(nlen + olen + 4);
		if (full == NULL) {
			result = map_no_memory(ctx);
			goto out;
		}
		snprintf(full, nlen + olen + 4, "%s - %s", name, opts);
		free(name);
		name = full;
	}
	result = map_text_value(ctx, name, f->max_len, out);
	name = NULL;
out:
	free(name);
	free(opts);
	return result;
}

static enum wc2sf_result
steps_of(struct map_ctx *ctx, struct map_plan *plan, enum map_op op,
    const struct map_record_spec *steps, size_t n, const char *id)
{
	enum wc2sf_result result = WC2SF_OK;
	size_t i;

	for (i = 0; i < n && result == WC2SF_OK; i++)
		result = map_step_record(ctx, plan, op, &steps[i], id,
		    ctx->root);
	return result;
}

enum wc2sf_result
map_product_build(struct map_ctx *ctx, struct map_plan *plan,
    const char *id, struct json_object *prev)
{
	char fallback[96];

	snprintf(fallback, sizeof(fallback), "WooCommerce product %s", id);
	ctx->fallback_name = fallback;
	return steps_of(ctx, plan, MAP_UPSERT, product_steps,
	    MAP_NELEM(product_steps), id);
}

enum wc2sf_result
map_product_deleted(struct map_ctx *ctx, struct map_plan *plan,
    const char *id, struct json_object *prev)
{
	return steps_of(ctx, plan, MAP_UPDATE_ONLY, deleted_steps,
	    MAP_NELEM(deleted_steps), id);
}
