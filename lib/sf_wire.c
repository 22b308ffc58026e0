#include "sf_wire.h"

#include <inttypes.h>
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

/* True when v is the string MAP_STANDARD_PRICEBOOK. */
static bool
is_placeholder(struct json_object *v)
{
	return json_object_get_string_len(v) ==
	    (int)sizeof(MAP_STANDARD_PRICEBOOK) - 1 &&
	    memcmp(json_object_get_string(v), MAP_STANDARD_PRICEBOOK,
	    sizeof(MAP_STANDARD_PRICEBOOK) - 1) == 0;
}

static bool
holds_placeholder(struct json_object *v)
{
	size_t i, n;

	switch (json_object_get_type(v)) {
	case json_type_string:
		return is_placeholder(v);
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
 * The state of one packing run. Bodies are written as text straight
 * from the plan's records, into the composite being filled (out): no
 * copy of a record is made, and the plan is only read. A failed
 * allocation sets oom, after which writing does nothing; the
 * subrequest being written then fails as a whole.
 */
struct packer {
	const struct map_plan *plan;
	const char *version;
	const char *pricebook;
	struct sf_pack *pack;
	char *why;
	size_t whylen;
	bool oom;
};

/* The first size of a body; a two-line order's is about 3 kB. */
#define SF_BODY_START	4096

static struct sf_composite *
current(struct packer *pk)
{
	return pk->pack->n > 0 ? &pk->pack->parts[pk->pack->n - 1] : NULL;
}

/*
 * Room for n more bytes and a NUL at the end of the current body: where
 * to write them, or NULL with pk->oom set.
 */
static char *
reserve(struct packer *pk, size_t n)
{
	struct sf_composite *c = current(pk);
	size_t cap;
	char *p;

	if (pk->oom)
		return NULL;
	if (c->cap - c->len <= n) {
		cap = c->cap == 0 ? SF_BODY_START : c->cap;
		while (cap - c->len <= n) {
			if (cap > SIZE_MAX / 2)
				goto oom;
			cap *= 2;
		}
		if ((p = realloc(c->body, cap)) == NULL)
			goto oom;
		c->body = p;
		c->cap = cap;
	}
	return c->body + c->len;
oom:
	pk->oom = true;
	return NULL;
}

/* The current body now ends at end, inside what reserve() gave. */
static void
commit(struct packer *pk, char *end)
{
	struct sf_composite *c = current(pk);

	c->len = (size_t)(end - c->body);
	*end = '\0';
}

/* Append n bytes to the current body. */
static void
put(struct packer *pk, const char *s, size_t n)
{
	char *p;

	if ((p = reserve(pk, n)) != NULL) {
		memcpy(p, s, n);
		commit(pk, p + n);
	}
}

/* A string literal, its length known at compile time. */
#define PUT_LIT(pk, lit)	put((pk), (lit), sizeof(lit) - 1)

/*
 * s (n bytes, NULs included) as a JSON string, escaped as json-c
 * escapes it with SF_JSON_FLAGS: '"', '\\' and the short forms \b \f
 * \n \r \t, other bytes below 0x20 as \u00xx, everything else (UTF-8,
 * '/', DEL) as it is. Tests compare bodies with json-c's output.
 * Room is made for the string as it is; at the first escape, for six
 * bytes per byte left.
 */
static void
put_str(struct packer *pk, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char ch;
	bool grown = false;
	size_t i;
	char *p;

	if ((p = reserve(pk, n + 2)) == NULL)
		return;
	*p++ = '"';
	for (i = 0; i < n; i++) {
		ch = (unsigned char)s[i];
		if (ch >= 0x20 && ch != '"' && ch != '\\') {
			*p++ = (char)ch;
			continue;
		}
		if (!grown) {
			commit(pk, p);
			if (n - i > (SIZE_MAX - 2) / 6) {
				pk->oom = true;
				return;
			}
			if ((p = reserve(pk, 6 * (n - i) + 2)) == NULL)
				return;
			grown = true;
		}
		*p++ = '\\';
		switch (ch) {
		case '"':
		case '\\':
			*p++ = (char)ch;
			break;
		case '\b':
			*p++ = 'b';
			break;
		case '\f':
			*p++ = 'f';
			break;
		case '\n':
			*p++ = 'n';
			break;
		case '\r':
			*p++ = 'r';
			break;
		case '\t':
			*p++ = 't';
			break;
		default:
			*p++ = 'u';
			*p++ = '0';
			*p++ = '0';
			*p++ = hex[ch >> 4];
			*p++ = hex[ch & 0x0f];
			break;
		}
	}
	*p++ = '"';
	commit(pk, p);
}

static void
put_cstr(struct packer *pk, const char *s)
{
	put_str(pk, s, strlen(s));
}

/*
 * A number as json-c prints it. A double made from text (by the
 * mapping's json_object_new_double_s(), or parsed) keeps that text in
 * its userdata, which is what json-c prints for it (json_object.h says
 * so): the exact amount WooCommerce sent, "12.50" staying "12.50".
 * Other doubles go through json-c itself.
 */
static void
put_number(struct packer *pk, struct json_object *v)
{
	const char *s;
	char buf[32];
	size_t n;
	int64_t i;
	int len;

	if (json_object_is_type(v, json_type_int)) {
		i = json_object_get_int64(v);
		if (i == INT64_MAX)
			len = snprintf(buf, sizeof(buf), "%" PRIu64,
			    json_object_get_uint64(v));
		else
			len = snprintf(buf, sizeof(buf), "%" PRId64, i);
		put(pk, buf, (size_t)len);
		return;
	}
	if ((s = json_object_get_userdata(v)) != NULL) {
		put(pk, s, strlen(s));
		return;
	}
	if ((s = json_object_to_json_string_length(v, SF_JSON_FLAGS,
	    &n)) == NULL) {
		pk->oom = true;
		return;
	}
	put(pk, s, n);
}

/*
 * v as JSON text, every string equal to MAP_STANDARD_PRICEBOOK written
 * as the price book Id. A placeholder without a price book is a
 * caller's bug: WC2SF_INTERNAL. Out of memory shows in pk->oom.
 */
static enum wc2sf_result
put_value(struct packer *pk, struct json_object *v)
{
	enum wc2sf_result result;
	bool first = true;
	size_t i, n;

	switch (json_object_get_type(v)) {
	case json_type_null:
		PUT_LIT(pk, "null");
		break;
	case json_type_boolean:
		if (json_object_get_boolean(v))
			PUT_LIT(pk, "true");
		else
			PUT_LIT(pk, "false");
		break;
	case json_type_int:
	case json_type_double:
		put_number(pk, v);
		break;
	case json_type_string:
		if (!is_placeholder(v))
			put_str(pk, json_object_get_string(v),
			    (size_t)json_object_get_string_len(v));
		else if (pk->pricebook != NULL)
			put_cstr(pk, pk->pricebook);
		else
			return WC2SF_INTERNAL;
		break;
	case json_type_object:
		PUT_LIT(pk, "{");
		json_object_object_foreach(v, key, val) {
			if (!first)
				PUT_LIT(pk, ",");
			first = false;
			put_cstr(pk, key);
			PUT_LIT(pk, ":");
			if ((result = put_value(pk, val)) != WC2SF_OK)
				return result;
		}
		PUT_LIT(pk, "}");
		break;
	case json_type_array:
		PUT_LIT(pk, "[");
		n = json_object_array_length(v);
		for (i = 0; i < n; i++) {
			if (i > 0)
				PUT_LIT(pk, ",");
			if ((result = put_value(pk,
			    json_object_array_get_idx(v, i))) != WC2SF_OK)
				return result;
		}
		PUT_LIT(pk, "]");
		break;
	}
	return WC2SF_OK;
}

/*
 * The record as Salesforce wants it: first "attributes":{"type":
 * sobject} when typed is set, then every field of rec except
 * "attributes" and except skip (the key of an update).
 */
static enum wc2sf_result
put_record(struct packer *pk, struct json_object *rec, const char *sobject,
    bool typed, const char *skip)
{
	enum wc2sf_result result;
	bool first = true;

	PUT_LIT(pk, "{");
	if (typed) {
		PUT_LIT(pk, "\"attributes\":{\"type\":");
		put_cstr(pk, sobject);
		PUT_LIT(pk, "}");
		first = false;
	}
	json_object_object_foreach(rec, key, val) {
		if (strcmp(key, "attributes") == 0 ||
		    (skip != NULL && strcmp(key, skip) == 0))
			continue;
		if (!first)
			PUT_LIT(pk, ",");
		first = false;
		put_cstr(pk, key);
		PUT_LIT(pk, ":");
		if ((result = put_value(pk, val)) != WC2SF_OK)
			return result;
	}
	PUT_LIT(pk, "}");
	return WC2SF_OK;
}

/* End the current composite's body: its subrequest list and itself. */
static void
close_part(struct packer *pk)
{
	if (current(pk) != NULL)
		PUT_LIT(pk, "]}");
}

static enum wc2sf_result
open_part(struct packer *pk, bool all_or_none)
{
	struct sf_pack *pack = pk->pack;
	struct sf_composite *parts, *c;
	size_t cap;

	close_part(pk);
	if (pack->n == pack->cap) {
		cap = pack->cap == 0 ? 2 : pack->cap * 2;
		parts = reallocarray(pack->parts, cap, sizeof(*parts));
		if (parts == NULL)
			return WC2SF_NO_MEMORY;
		pack->parts = parts;
		pack->cap = cap;
	}
	c = &pack->parts[pack->n++];
	memset(c, 0, sizeof(*c));
	c->all_or_none = all_or_none;
	if (all_or_none)
		PUT_LIT(pk, "{\"allOrNone\":true,");
	else
		PUT_LIT(pk, "{\"allOrNone\":false,");
	PUT_LIT(pk, "\"collateSubrequests\":false,\"compositeRequest\":[");
	return pk->oom ? WC2SF_NO_MEMORY : WC2SF_OK;
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
 * Start one subrequest of the current composite: its method, url and
 * referenceId, which is "r" and its index, so an update can name the
 * lookup just before it. The caller may write ,"body":... and then
 * calls end_sub().
 */
static void
begin_sub(struct packer *pk, const struct sf_sub *sub, const char *method,
    const char *url)
{
	struct sf_composite *c = current(pk);
	char ref[24];
	int n;

	n = snprintf(ref, sizeof(ref), "r%zu", c->nsubs);
	if (c->nsubs > 0)
		PUT_LIT(pk, ",");
	PUT_LIT(pk, "{\"method\":");
	put_cstr(pk, method);
	PUT_LIT(pk, ",\"url\":");
	put_cstr(pk, url);
	PUT_LIT(pk, ",\"referenceId\":");
	put_str(pk, ref, (size_t)n);
	c->subs[c->nsubs++] = *sub;
}

static enum wc2sf_result
end_sub(struct packer *pk, enum wc2sf_result result)
{
	PUT_LIT(pk, "}");
	if (result == WC2SF_OK && pk->oom)
		result = WC2SF_NO_MEMORY;
	return result;
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
	char url[SF_PATH_MAX];

	snprintf(url, sizeof(url), "/services/data/v%s/sobjects/%s/%s/%s",
	    pk->version, step->sobject, step->ext_field,
	    safe_key(rec, step->ext_field));
	begin_sub(pk, &sub, "PATCH", url);
	PUT_LIT(pk, ",\"body\":");
	return end_sub(pk, put_record(pk, rec, step->sobject, false,
	    step->ext_field));
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

/* Records [off, off + n) of step si as one sObject Collections upsert. */
static enum wc2sf_result
add_collection(struct packer *pk, size_t si, size_t off, size_t n)
{
	const struct map_step *step = &pk->plan->steps[si];
	struct sf_sub sub = { SF_SUB_UPSERT, step->sobject, step->ext_field,
	    si, n };
	enum wc2sf_result result = WC2SF_OK;
	char url[SF_PATH_MAX];
	size_t i;

	snprintf(url, sizeof(url), "/services/data/v%s/composite/sobjects/"
	    "%s/%s", pk->version, step->sobject, step->ext_field);
	begin_sub(pk, &sub, "PATCH", url);
	PUT_LIT(pk, ",\"body\":{\"allOrNone\":true,\"records\":[");
	for (i = off; i < off + n && result == WC2SF_OK; i++) {
		if (i > off)
			PUT_LIT(pk, ",");
		result = put_record(pk, json_object_array_get_idx(
		    step->records, i), step->sobject, true, NULL);
	}
	PUT_LIT(pk, "]}");
	current(pk)->ncollections++;
	return end_sub(pk, result);
}

static enum wc2sf_result
pack_upsert(struct packer *pk, size_t si)
{
	const struct map_step *step = &pk->plan->steps[si];
	enum wc2sf_result result;
	size_t n, off, i, len;
	bool singles;

	n = json_object_array_length(step->records);
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
		if (!singles &&
		    (result = add_collection(pk, si, off, len)) != WC2SF_OK)
			return result;
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
	enum wc2sf_result result;
	char key[3 * SF_KEY_MAX + 1], url[SF_PATH_MAX];

	if ((result = key_segment(pk, rec, step, key, sizeof(key))) !=
	    WC2SF_OK)
		return result;
	if ((result = make_room(pk, false, 2, false)) != WC2SF_OK)
		return result;
	snprintf(url, sizeof(url), "/services/data/v%s/sobjects/%s/%s/%s",
	    pk->version, step->sobject, step->ext_field, key);
	begin_sub(pk, &sub, "GET", url);
	if ((result = end_sub(pk, WC2SF_OK)) != WC2SF_OK)
		return result;
	snprintf(url, sizeof(url), "/services/data/v%s/sobjects/%s/@{r%zu.Id}",
	    pk->version, step->sobject, current(pk)->nsubs - 1);
	sub.kind = SF_SUB_UPDATE;
	begin_sub(pk, &sub, "PATCH", url);
	PUT_LIT(pk, ",\"body\":");
	return end_sub(pk, put_record(pk, rec, step->sobject, false,
	    step->ext_field));
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
	begin_sub(pk, &sub, "DELETE", url);
	return end_sub(pk, WC2SF_OK);
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
	struct packer pk = { plan, version, pricebook_id, pack, why, whylen,
	    false };
	enum wc2sf_result result = WC2SF_OK;
	size_t i;

	memset(pack, 0, sizeof(*pack));
	sf_wire_copy_str(why, whylen, "");
	for (i = 0; i < plan->n && i < MAP_MAX_STEPS; i++)
		if ((result = pack_step(&pk, i)) != WC2SF_OK)
			break;
	if (result == WC2SF_OK) {
		close_part(&pk);
		if (pk.oom)
			result = WC2SF_NO_MEMORY;
	}
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
		free(pack->parts[i].body);
	free(pack->parts);
	memset(pack, 0, sizeof(*pack));
}

const char *
sf_wire_body(const struct sf_composite *c)
{
	return c->body;
}
