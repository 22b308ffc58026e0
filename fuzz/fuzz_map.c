/*
 * The mapping of every topic into Salesforce requests: a body (and the
 * version last synced, for an order's removed lines) through
 * map_build_since(), then the plan packed into composite requests.
 *
 * Input: a topic byte, an options byte, then the body's JSON; a NUL
 * byte, if any, ends the body and starts prev's JSON. Options:
 *   0x01 state picklists          0x02 sync only processing,completed
 *   0x04 every product known      0x08 no product known (else: by key)
 *
 * Checked, from map.h and sf_wire.h: a plan only when WC2SF_OK, with
 * upsert records that carry a non-empty external ID; every string valid
 * UTF-8; composites within Salesforce's limits, their bodies JSON.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common.h"
#include "map.h"
#include "sf_wire.h"
#include "text.h"

/* Nesting sync.c accepts; deeper bodies never reach the mapping. */
#define JSON_MAX_DEPTH 64

static const char *const topics[] = {
	"customer.created", "customer.updated", "customer.deleted",
	"product.created", "product.updated", "product.restored",
	"product.deleted", "order.created", "order.updated",
	"order.restored", "order.deleted", "coupon.created",
	"customer.restored", "action.woocommerce_x", "order", ""
};

static const char *const some_statuses[] = {
	"processing", "completed", NULL
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* As sync.c reads a body: strict JSON, nothing after it, no NUL. */
static struct json_object *
parse(const uint8_t *p, size_t len)
{
	struct json_tokener *tok;
	struct json_object *o;

	if (len == 0 || len > INT32_MAX)
		return NULL;
	tok = json_tokener_new_ex(JSON_MAX_DEPTH);
	if (tok == NULL)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, (const char *)p, (int)len);
	if (o != NULL && (json_tokener_get_error(tok) !=
	    json_tokener_success || json_tokener_get_parse_end(tok) != len)) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/* Known by key: the fuzzer decides through the key's last digit. */
static bool
known_by_key(void *ctx, const char *key)
{
	size_t n = strlen(key);

	(void)ctx;
	return n > 0 && (key[n - 1] - '0') % 2 == 0;
}

static bool
known_all(void *ctx, const char *key)
{
	(void)ctx;
	(void)key;
	return true;
}

/* Every string under v, keys included, is valid UTF-8. */
static void
check_utf8(struct json_object *v)
{
	const char *s;
	size_t i, n;

	switch (json_object_get_type(v)) {
	case json_type_string:
		s = json_object_get_string(v);
		FUZZ_CHECK(text_utf8_valid(s,
		    (size_t)json_object_get_string_len(v)));
		break;
	case json_type_array:
		n = json_object_array_length(v);
		for (i = 0; i < n; i++)
			check_utf8(json_object_array_get_idx(v, i));
		break;
	case json_type_object: {
		json_object_object_foreach(v, key, val) {
			FUZZ_CHECK(text_utf8_valid(key, strlen(key)));
			check_utf8(val);
		}
		break;
	}
	default:
		break;
	}
}

static void
check_plan(const struct map_plan *plan)
{
	const struct map_step *st;
	struct json_object *rec, *key;
	size_t i, j, n;

	FUZZ_CHECK(plan->n > 0 && plan->n <= MAP_MAX_STEPS);
	for (i = 0; i < plan->n; i++) {
		st = &plan->steps[i];
		FUZZ_CHECK(st->sobject != NULL && st->ext_field != NULL);
		FUZZ_CHECK(json_object_is_type(st->records, json_type_array));
		n = json_object_array_length(st->records);
		FUZZ_CHECK(n > 0);
		for (j = 0; j < n; j++) {
			rec = json_object_array_get_idx(st->records, j);
			FUZZ_CHECK(json_object_is_type(rec, json_type_object));
			if (st->op != MAP_UPSERT)
				continue;
			FUZZ_CHECK(json_object_object_get_ex(rec,
			    st->ext_field, &key));
			FUZZ_CHECK(json_object_is_type(key,
			    json_type_string));
			FUZZ_CHECK(json_object_get_string_len(key) > 0);
		}
		check_utf8(st->records);
	}
}

/* Pack the plan as salesforce.c would and read the bodies back. */
static void
check_pack(const struct map_plan *plan)
{
	struct sf_pack pack;
	struct sf_composite *c;
	struct json_object *back;
	enum wc2sf_result r;
	const char *body;
	char why[256];
	size_t i;

	memset(&pack, 0, sizeof(pack));
	r = sf_wire_pack(plan, "62.0", sf_wire_needs_pricebook(plan) ?
	    "01s000000000001AAA" : NULL, &pack, why, sizeof(why));
	FUZZ_CHECK(r == WC2SF_OK || r == WC2SF_SF_REJECTED ||
	    r == WC2SF_NO_MEMORY);
	for (i = 0; r == WC2SF_OK && i < pack.n; i++) {
		c = &pack.parts[i];
		FUZZ_CHECK(c->nsubs > 0 && c->nsubs <= SF_WIRE_MAX_SUBREQUESTS);
		FUZZ_CHECK(c->ncollections <= SF_WIRE_MAX_COLLECTIONS);
		body = sf_wire_body(c);
		FUZZ_CHECK(body != NULL);
		back = json_tokener_parse(body);
		FUZZ_CHECK(back != NULL);
		json_object_put(back);
	}
	sf_pack_free(&pack);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *body, *prev = NULL;
	struct map_options opt;
	struct map_plan plan;
	enum wc2sf_result r;
	const uint8_t *nul;
	const char *topic;
	char why[256], id[64], modified[32];
	size_t blen;

	if (size < 2)
		return 0;
	topic = topics[data[0] % (sizeof(topics) / sizeof(topics[0]))];
	memset(&opt, 0, sizeof(opt));
	opt.state_picklists = (data[1] & 0x01) != 0;
	if (data[1] & 0x02)
		opt.sync_statuses = some_statuses;
	if (data[1] & 0x04)
		opt.product_known = known_all;
	else if (!(data[1] & 0x08))
		opt.product_known = known_by_key;
	data += 2;
	size -= 2;
	nul = memchr(data, '\0', size);
	blen = nul != NULL ? (size_t)(nul - data) : size;
	body = parse(data, blen);
	if (body == NULL)
		return 0;
	if (nul != NULL)
		prev = parse(nul + 1, size - blen - 1);

	(void)map_identify(body, id, sizeof(id), modified, sizeof(modified));
	FUZZ_CHECK(strlen(id) < sizeof(id));
	r = map_build_since(topic, body, prev, &opt, &plan, why, sizeof(why));
	FUZZ_CHECK(strnlen(why, sizeof(why)) < sizeof(why));
	if (r == WC2SF_OK) {
		check_plan(&plan);
		check_pack(&plan);
	} else {
		FUZZ_CHECK(r == WC2SF_IGNORED || r == WC2SF_BAD_PAYLOAD ||
		    r == WC2SF_NO_MEMORY);
		FUZZ_CHECK(plan.n == 0);
		FUZZ_CHECK(why[0] != '\0');
	}
	map_plan_free(&plan);
	json_object_put(body);
	json_object_put(prev);
	return 0;
}
