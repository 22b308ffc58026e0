#include "sf_wire.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

/* How to print the request bodies: compact, and "/" left alone. */
#define SF_JSON_FLAGS \
	(JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* Room for a percent-encoded external ID value in a URL path. */
#define SF_KEY_MAX	256
#define SF_PATH_MAX	(3 * SF_KEY_MAX + 256)

/* The longest key sf_wire_key_safe() lets into a URL path. */
#define SF_SAFE_KEY_MAX	80

static const char hex_upper[] = "0123456789ABCDEF";

static bool
unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

bool
sf_wire_pct_encode(const char *in, char *out, size_t size)
{
	const unsigned char *p;
	size_t o = 0;

	if (size == 0)
		return false;
	for (p = (const unsigned char *)in; *p != '\0'; p++) {
		if (unreserved(*p)) {
			if (o + 1 >= size)
				goto full;
			out[o++] = (char)*p;
		} else {
			if (o + 3 >= size)
				goto full;
			out[o++] = '%';
			out[o++] = hex_upper[*p >> 4];
			out[o++] = hex_upper[*p & 0x0f];
		}
	}
	out[o] = '\0';
	return true;
full:
	out[0] = '\0';
	return false;
}

struct json_object *
sf_wire_parse(const char *body, size_t len)
{
	struct json_tokener *tok;
	struct json_object *root = NULL;
	size_t end;

	if (body == NULL || len == 0 || len > (size_t)INT32_MAX)
		return NULL;
	tok = json_tokener_new();
	if (tok == NULL)
		return NULL;
	root = json_tokener_parse_ex(tok, body, (int)len);
	if (json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(root);
		root = NULL;
		goto out;
	}
	for (end = json_tokener_get_parse_end(tok); end < len; end++) {
		if (body[end] == '\0' ||
		    strchr(" \t\r\n", body[end]) == NULL) {
			json_object_put(root);
			root = NULL;
			break;
		}
	}
out:
	json_tokener_free(tok);
	return root;
}

struct json_object *
sf_wire_member(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

const char *
sf_wire_member_str(struct json_object *o, const char *key)
{
	struct json_object *v = sf_wire_member(o, key);

	if (v == NULL || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

bool
sf_wire_is_array(struct json_object *o)
{
	return o != NULL && json_object_is_type(o, json_type_array);
}

void
sf_wire_utf8_cut(char *s)
{
	size_t n = strlen(s), i = n, need;
	unsigned char c;

	while (i > 0 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
		i--;
	if (i == 0 || (c = (unsigned char)s[i - 1]) < 0xc0)
		return;
	need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
	if (n - (i - 1) < need)
		s[i - 1] = '\0';
}

void
sf_wire_copy_str(char *buf, size_t size, const char *s)
{
	if (size == 0)
		return;
	snprintf(buf, size, "%s", s != NULL ? s : "");
	sf_wire_utf8_cut(buf);
}

/* obj[key] = value (a new string); false when out of memory. */
static bool
add_str(struct json_object *obj, const char *key, const char *value)
{
	struct json_object *v = json_object_new_string(value);

	if (v == NULL || json_object_object_add(obj, key, v) != 0) {
		json_object_put(v);
		return false;
	}
	return true;
}

/* obj[key] = flag; false when out of memory. */
static bool
add_bool(struct json_object *obj, const char *key, bool flag)
{
	struct json_object *v = json_object_new_boolean(flag);

	if (v == NULL || json_object_object_add(obj, key, v) != 0) {
		json_object_put(v);
		return false;
	}
	return true;
}

static bool
holds_placeholder(struct json_object *v)
{
	size_t i, n;

	switch (json_object_get_type(v)) {
	case json_type_string:
		return strcmp(json_object_get_string(v),
		    MAP_STANDARD_PRICEBOOK) == 0;
	case json_type_object: {
		json_object_object_foreach(v, key, val) {
			(void)key;
			if (holds_placeholder(val))
				return true;
		}
		return false;
	}
	case json_type_array:
		n = json_object_array_length(v);
		for (i = 0; i < n; i++)
			if (holds_placeholder(json_object_array_get_idx(v, i)))
				return true;
		return false;
	default:
		return false;
	}
}

bool
sf_wire_needs_pricebook(const struct map_plan *plan)
{
	size_t i;

	for (i = 0; i < plan->n && i < MAP_MAX_STEPS; i++)
		if (plan->steps[i].records != NULL &&
		    holds_placeholder(plan->steps[i].records))
			return true;
	return false;
}

/*
 * A deep copy of v into *copy (NULL for JSON null) with every string
 * equal to MAP_STANDARD_PRICEBOOK replaced by pricebook. A placeholder
 * without a pricebook is a caller's bug: WC2SF_INTERNAL.
 */
static enum wc2sf_result
copy_value(struct json_object *v, const char *pricebook,
    struct json_object **copy)
{
	struct json_object *c = NULL, *item;
	enum wc2sf_result result = WC2SF_NO_MEMORY;
	const char *s;
	size_t i, n;

	*copy = NULL;
	if (v == NULL)
		return WC2SF_OK;
	switch (json_object_get_type(v)) {
	case json_type_string:
		s = json_object_get_string(v);
		if (strcmp(s, MAP_STANDARD_PRICEBOOK) == 0) {
			if (pricebook == NULL)
				return WC2SF_INTERNAL;
			c = json_object_new_string(pricebook);
		} else {
			c = json_object_new_string_len(s,
			    json_object_get_string_len(v));
		}
		break;
	case json_type_object:
		if ((c = json_object_new_object()) == NULL)
			goto out;
		json_object_object_foreach(v, key, val) {
			if ((result = copy_value(val, pricebook, &item)) !=
			    WC2SF_OK)
				goto out;
			if (json_object_object_add(c, key, item) != 0) {
				json_object_put(item);
				result = WC2SF_NO_MEMORY;
				goto out;
			}
		}
		break;
	case json_type_array:
		if ((c = json_object_new_array()) == NULL)
			goto out;
		n = json_object_array_length(v);
		for (i = 0; i < n; i++) {
			if ((result = copy_value(json_object_array_get_idx(v,
			    i), pricebook, &item)) != WC2SF_OK)
				goto out;
			if (json_object_array_add(c, item) != 0) {
				json_object_put(item);
				result = WC2SF_NO_MEMORY;
				goto out;
			}
		}
		break;
	default:
		if (json_object_deep_copy(v, &c, NULL) != 0)
			c = NULL;
		break;
	}
	result = c != NULL ? WC2SF_OK : WC2SF_NO_MEMORY;
out:
	if (result != WC2SF_OK)
		json_object_put(c);
	else
		*copy = c;
	return result;
}

/*
 * The record as Salesforce wants it: a new object with, first,
 * "attributes":{"type":sobject} when typed is set, then every field of
 * rec except "attributes" and except skip (the key of an update).
 */
static enum wc2sf_result
copy_record(struct json_object *rec, const char *sobject, bool typed,
    const char *skip, const char *pricebook, struct json_object **copy)
{
	struct json_object *c, *attrs, *item;
	enum wc2sf_result result = WC2SF_NO_MEMORY;

	*copy = NULL;
	if ((c = json_object_new_object()) == NULL)
		return WC2SF_NO_MEMORY;
	if (typed) {
		if ((attrs = json_object_new_object()) == NULL)
			goto out;
		if (!add_str(attrs, "type", sobject) ||
		    json_object_object_add(c, "attributes", attrs) != 0) {
			json_object_put(attrs);
			goto out;
		}
	}
	json_object_object_foreach(rec, key, val) {
		if (strcmp(key, "attributes") == 0 ||
		    (skip != NULL && strcmp(key, skip) == 0))
			continue;
		if ((result = copy_value(val, pricebook, &item)) != WC2SF_OK)
			goto out;
		if (json_object_object_add(c, key, item) != 0) {
			json_object_put(item);
			result = WC2SF_NO_MEMORY;
			goto out;
		}
	}
	result = WC2SF_OK;
out:
	if (result != WC2SF_OK)
		json_object_put(c);
	else
		*copy = c;
	return result;
}

/* The state of one packing run. */
struct packer {
	const struct map_plan *plan;
	const char *version;
	const char *pricebook;
	struct sf_pack *pack;
	char *why;
	size_t whylen;
};

static struct sf_composite *
current(struct packer *pk)
{
	return pk->pack->n > 0 ? &pk->pack->parts[pk->pack->n - 1] : NULL;
}

static enum wc2sf_result
open_part(struct packer *pk, bool all_or_none)
{
	struct sf_pack *pack = pk->pack;
	struct sf_composite *parts, *c;
	struct json_object *body, *list;
	size_t cap;

	if (pack->n == pack->cap) {
		cap = pack->cap == 0 ? 2 : pack->cap * 2;
		parts = reallocarray(pack->parts, cap, sizeof(*parts));
		if (parts == NULL)
			return WC2SF_NO_MEMORY;
		pack->parts = parts;
		pack->cap = cap;
	}
	if ((body = json_object_new_object()) == NULL)
		return WC2SF_NO_MEMORY;
	if ((list = json_object_new_array()) == NULL ||
	    !add_bool(body, "allOrNone", all_or_none) ||
	    !add_bool(body, "collateSubrequests", false) ||
	    json_object_object_add(body, "compositeRequest", list) != 0) {
		json_object_put(list);
		json_object_put(body);
		return WC2SF_NO_MEMORY;
	}
	c = &pack->parts[pack->n++];
	memset(c, 0, sizeof(*c));
	c->all_or_none = all_or_none;
	c->body = body;
	return WC2SF_OK;
}

/*
 * Make sure the current composite can take subs more subrequests of
 * this kind, else start a new one.
 */
static enum wc2sf_result
make_room(struct packer *pk, bool all_or_none, size_t subs,
    bool collection)
{
	struct sf_composite *c = current(pk);

	if (c == NULL || c->all_or_none != all_or_none ||
	    c->nsubs + subs > SF_WIRE_MAX_SUBREQUESTS ||
	    (collection && c->ncollections >= SF_WIRE_MAX_COLLECTIONS))
		return open_part(pk, all_or_none);
	return WC2SF_OK;
}

/*
 * Append one subrequest to the current composite; body (which may be
 * NULL) is taken over in every case. Its referenceId is "r" and its
 * index, so an update can name the lookup just before it.
 */
static enum wc2sf_result
add_sub(struct packer *pk, const struct sf_sub *sub, const char *method,
    const char *url, struct json_object *body)
{
	struct sf_composite *c = current(pk);
	struct json_object *req, *list;
	char ref[16];

	snprintf(ref, sizeof(ref), "r%zu", c->nsubs);
	if ((req = json_object_new_object()) == NULL) {
		json_object_put(body);
		return WC2SF_NO_MEMORY;
	}
	if (!add_str(req, "method", method) || !add_str(req, "url", url) ||
	    !add_str(req, "referenceId", ref)) {
		json_object_put(body);
		json_object_put(req);
		return WC2SF_NO_MEMORY;
	}
	if (body != NULL &&
	    json_object_object_add(req, "body", body) != 0) {
		json_object_put(body);
		json_object_put(req);
		return WC2SF_NO_MEMORY;
	}
	list = sf_wire_member(c->body, "compositeRequest");
	if (json_object_array_add(list, req) != 0) {
		json_object_put(req);
		return WC2SF_NO_MEMORY;
	}
	c->subs[c->nsubs++] = *sub;
	return WC2SF_OK;
}

/*
 * The external ID value of rec as text, percent-encoded for a URL path.
 * Strings and integers only; an empty value would change the meaning
 * of the URL (reference §2.3), so it is refused.
 */
static enum wc2sf_result
key_segment(struct packer *pk, struct json_object *rec,
    const struct map_step *step, char *out, size_t size)
{
	struct json_object *v = sf_wire_member(rec, step->ext_field);
	const char *s;

	if (v == NULL || (!json_object_is_type(v, json_type_string) &&
	    !json_object_is_type(v, json_type_int))) {
		snprintf(pk->why, pk->whylen, "%s record without a text or "
		    "number %s to find it by", step->sobject, step->ext_field);
		return WC2SF_SF_REJECTED;
	}
	s = json_object_get_string(v);
	if (*s == '\0' || strlen(s) >= SF_KEY_MAX) {
		snprintf(pk->why, pk->whylen, "%s record with an empty or "
		    "over-long %s", step->sobject, step->ext_field);
		return WC2SF_SF_REJECTED;
	}
	if (!sf_wire_pct_encode(s, out, size))
		return WC2SF_INTERNAL;
	return WC2SF_OK;
}

bool
sf_wire_key_safe(const char *value)
{
	size_t n;

	if (value == NULL)
		return false;
	n = strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_");
	return n > 0 && n <= SF_SAFE_KEY_MAX && value[n] == '\0';
}

/* The record's external ID as text when sf_wire_key_safe(), or NULL. */
static const char *
safe_key(struct json_object *rec, const char *ext_field)
{
	struct json_object *v = sf_wire_member(rec, ext_field);
	const char *s;

	if (v == NULL || (!json_object_is_type(v, json_type_string) &&
	    !json_object_is_type(v, json_type_int)))
		return NULL;
	s = json_object_get_string(v);
	return sf_wire_key_safe(s) ? s : NULL;
}

/* True when records [off, off + n) of the step all have safe keys. */
static bool
all_safe(const struct map_step *step, size_t off, size_t n)
{
	size_t i;

	for (i = off; i < off + n; i++)
		if (safe_key(json_object_array_get_idx(step->records, i),
		    step->ext_field) == NULL)
			return false;
	return true;
}

/*
 * One record as one sObject upsert subrequest: PATCH by its external
 * ID in the URL, the record without that field in the body. The
 * caller made room and checked the key.
 */
static enum wc2sf_result
add_upsert_one(struct packer *pk, size_t si, struct json_object *rec)
{
	const struct map_step *step = &pk->plan->steps[si];
	struct sf_sub sub = { SF_SUB_UPSERT_ONE, step->sobject,
	    step->ext_field, si, 1 };
	struct json_object *body;
	enum wc2sf_result result;
	char url[SF_PATH_MAX];

	if ((result = copy_record(rec, step->sobject, false, step->ext_field,
	    pk->pricebook, &body)) != WC2SF_OK)
		return result;
	snprintf(url, sizeof(url), "/services/data/v%s/sobjects/%s/%s/%s",
	    pk->version, step->sobject, step->ext_field,
	    safe_key(rec, step->ext_field));
	return add_sub(pk, &sub, "PATCH", url, body);
}

/*
 * Where the chunk [off, off + n) goes: true for single upserts in the
 * current composite, false for one collection (room made for it).
 */
static enum wc2sf_result
place_chunk(struct packer *pk, const struct map_step *step, size_t off,
    size_t n, bool *singles)
{
	struct sf_composite *c = current(pk);

	*singles = false;
	if (c != NULL && c->all_or_none) {
		if (n == 1 && c->nsubs < SF_WIRE_MAX_SUBREQUESTS &&
		    all_safe(step, off, 1)) {
			*singles = true;
			return WC2SF_OK;
		}
		if (c->ncollections < SF_WIRE_MAX_COLLECTIONS &&
		    c->nsubs < SF_WIRE_MAX_SUBREQUESTS)
			return WC2SF_OK;
		if (c->nsubs + n <= SF_WIRE_MAX_SUBREQUESTS &&
		    all_safe(step, off, n)) {
			*singles = true;
			return WC2SF_OK;
		}
	}
	if (open_part(pk, true) != WC2SF_OK)
		return WC2SF_NO_MEMORY;
	*singles = n == 1 && all_safe(step, off, 1);
	return WC2SF_OK;
}

static enum wc2sf_result
pack_upsert(struct packer *pk, size_t si)
{
	const struct map_step *step = &pk->plan->steps[si];
	struct sf_sub sub = { SF_SUB_UPSERT, step->sobject, step->ext_field,
	    si, 0 };
	struct json_object *body, *list, *rec;
	enum wc2sf_result result;
	char url[SF_PATH_MAX];
	size_t n, off, i, len;
	bool singles;

	n = json_object_array_length(step->records);
	snprintf(url, sizeof(url), "/services/data/v%s/composite/sobjects/"
	    "%s/%s", pk->version, step->sobject, step->ext_field);
	for (off = 0; off < n; off += SF_WIRE_MAX_RECORDS) {
		len = n - off < SF_WIRE_MAX_RECORDS ? n - off :
		    SF_WIRE_MAX_RECORDS;
		if ((result = place_chunk(pk, step, off, len, &singles)) !=
		    WC2SF_OK)
			return result;
		for (i = off; singles && i < off + len; i++)
			if ((result = add_upsert_one(pk, si,
			    json_object_array_get_idx(step->records, i))) !=
			    WC2SF_OK)
				return result;
		if (singles)
			continue;
		body = json_object_new_object();
		list = json_object_new_array();
		if (body == NULL || list == NULL ||
		    !add_bool(body, "allOrNone", true) ||
		    json_object_object_add(body, "records", list) != 0) {
			json_object_put(list);
			json_object_put(body);
			return WC2SF_NO_MEMORY;
		}
		for (i = off; i < n && i < off + SF_WIRE_MAX_RECORDS; i++) {
			result = copy_record(json_object_array_get_idx(
			    step->records, i), step->sobject, true, NULL,
			    pk->pricebook, &rec);
			if (result == WC2SF_OK &&
			    json_object_array_add(list, rec) != 0) {
				json_object_put(rec);
				result = WC2SF_NO_MEMORY;
			}
			if (result != WC2SF_OK) {
				json_object_put(body);
				return result;
			}
		}
		sub.records = i - off;
		if ((result = add_sub(pk, &sub, "PATCH", url, body)) !=
		    WC2SF_OK)
			return result;
		current(pk)->ncollections++;
	}
	return WC2SF_OK;
}

/*
 * An update that must not create: GET the record by external ID, then
 * PATCH the Id that GET found (@{rN.Id}). In a composite without
 * allOrNone a missing record makes the GET 404 and halts only its PATCH.
 */
static enum wc2sf_result
pack_update(struct packer *pk, size_t si, struct json_object *rec)
{
	const struct map_step *step = &pk->plan->steps[si];
	struct sf_sub sub = { SF_SUB_LOOKUP, step->sobject, step->ext_field,
	    si, 1 };
	struct json_object *body;
	enum wc2sf_result result;
	char key[3 * SF_KEY_MAX + 1], url[SF_PATH_MAX];

	if ((result = key_segment(pk, rec, step, key, sizeof(key))) !=
	    WC2SF_OK)
		return result;
	if ((result = make_room(pk, false, 2, false)) != WC2SF_OK)
		return result;
	snprintf(url, sizeof(url), "/services/data/v%s/sobjects/%s/%s/%s",
	    pk->version, step->sobject, step->ext_field, key);
	if ((result = add_sub(pk, &sub, "GET", url, NULL)) != WC2SF_OK)
		return result;
	if ((result = copy_record(rec, step->sobject, false, step->ext_field,
	    pk->pricebook, &body)) != WC2SF_OK)
		return result;
	snprintf(url, sizeof(url), "/services/data/v%s/sobjects/%s/@{r%zu.Id}",
	    pk->version, step->sobject, current(pk)->nsubs - 1);
	sub.kind = SF_SUB_UPDATE;
	return add_sub(pk, &sub, "PATCH", url, body);
}

static enum wc2sf_result
pack_delete(struct packer *pk, size_t si, struct json_object *rec)
{
	const struct map_step *step = &pk->plan->steps[si];
	struct sf_sub sub = { SF_SUB_DELETE, step->sobject, step->ext_field,
	    si, 1 };
	enum wc2sf_result result;
	char key[3 * SF_KEY_MAX + 1], url[SF_PATH_MAX];

	if ((result = key_segment(pk, rec, step, key, sizeof(key))) !=
	    WC2SF_OK)
		return result;
	if ((result = make_room(pk, false, 1, false)) != WC2SF_OK)
		return result;
	snprintf(url, sizeof(url), "/services/data/v%s/sobjects/%s/%s/%s",
	    pk->version, step->sobject, step->ext_field, key);
	return add_sub(pk, &sub, "DELETE", url, NULL);
}

static enum wc2sf_result
pack_step(struct packer *pk, size_t si)
{
	const struct map_step *step = &pk->plan->steps[si];
	struct json_object *rec;
	enum wc2sf_result result = WC2SF_OK;
	size_t i, n;

	if (step->sobject == NULL || step->ext_field == NULL) {
		snprintf(pk->why, pk->whylen, "plan step %zu names no sObject "
		    "or external ID field", si);
		return WC2SF_INTERNAL;
	}
	if (!sf_wire_is_array(step->records))
		return WC2SF_OK;
	n = json_object_array_length(step->records);
	for (i = 0; i < n; i++) {
		rec = json_object_array_get_idx(step->records, i);
		if (rec == NULL || !json_object_is_type(rec,
		    json_type_object)) {
			snprintf(pk->why, pk->whylen, "%s record %zu is not a "
			    "JSON object", step->sobject, i);
			return WC2SF_INTERNAL;
		}
	}
	if (step->op == MAP_UPSERT)
		return n > 0 ? pack_upsert(pk, si) : WC2SF_OK;
	for (i = 0; i < n && result == WC2SF_OK; i++) {
		rec = json_object_array_get_idx(step->records, i);
		if (step->op == MAP_UPDATE_ONLY)
			result = pack_update(pk, si, rec);
		else
			result = pack_delete(pk, si, rec);
	}
	return result;
}

enum wc2sf_result
sf_wire_pack(const struct map_plan *plan, const char *version,
    const char *pricebook_id, struct sf_pack *pack, char *why,
    size_t whylen)
{
	struct packer pk = { plan, version, pricebook_id, pack, why, whylen };
	enum wc2sf_result result = WC2SF_OK;
	size_t i;

	memset(pack, 0, sizeof(*pack));
	sf_wire_copy_str(why, whylen, "");
	for (i = 0; i < plan->n && i < MAP_MAX_STEPS; i++)
		if ((result = pack_step(&pk, i)) != WC2SF_OK)
			break;
	if (result == WC2SF_INTERNAL && why[0] == '\0')
		sf_wire_copy_str(why, whylen, "a price book placeholder "
		    "without a price book Id, or an over-long key");
	if (result == WC2SF_NO_MEMORY)
		sf_wire_copy_str(why, whylen, "out of memory");
	if (result != WC2SF_OK)
		sf_pack_free(pack);
	return result;
}

void
sf_pack_free(struct sf_pack *pack)
{
	size_t i;

	for (i = 0; i < pack->n; i++)
		json_object_put(pack->parts[i].body);
	free(pack->parts);
	memset(pack, 0, sizeof(*pack));
}

const char *
sf_wire_body(const struct sf_composite *c)
{
	return json_object_to_json_string_ext(c->body, SF_JSON_FLAGS);
}
