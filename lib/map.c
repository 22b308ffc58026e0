#include "map.h"
#include "map_impl.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "text.h"

/* Record keys are static names (map_impl.h): json-c need not copy them. */
#define MAP_KEY_FLAGS	JSON_C_OBJECT_KEY_IS_CONSTANT

/*
 * The mapping core: which builder a topic goes to, the shape checks
 * every body passes first, the one loop that walks a field table, and
 * the converters that any table may use. The tables themselves, and the
 * converters only they need, are in map_customer.c, map_product.c and
 * map_order.c.
 */

/*
 * The topics wc2sf syncs and who builds their plan. Anything else
 * (coupon.*, action.*, customer.restored ...) is ignored.
 */
static const struct topic_builder {
	const char *topic;
	const char *resource;
	enum wc2sf_result (*build)(struct map_ctx *, struct map_plan *,
	    const char *, struct json_object *);
	bool uses_prev;		/* compares with the last synced body */
} builders[] = {
	{ "customer.created", "customer", map_customer_build, false },
	{ "customer.updated", "customer", map_customer_build, false },
	{ "customer.deleted", "customer", map_customer_deleted, false },
	{ "product.created", "product", map_product_build, false },
	{ "product.updated", "product", map_product_build, false },
	{ "product.restored", "product", map_product_build, false },
	{ "product.deleted", "product", map_product_deleted, false },
	{ "order.created", "order", map_order_build, true },
	{ "order.updated", "order", map_order_build, true },
	{ "order.restored", "order", map_order_build, true },
	{ "order.deleted", "order", map_order_deleted, false },
};

bool
map_uses_prev(const char *topic)
{
	size_t i;

	for (i = 0; topic != NULL && i < MAP_NELEM(builders); i++)
		if (strcmp(topic, builders[i].topic) == 0)
			return builders[i].uses_prev;
	return false;
}

/* Keys that wrap the resource in bodies of the legacy REST API. */
static const char *const legacy_wrappers[] = {
	"order", "customer", "product"
};

enum wc2sf_result
map_fail(struct map_ctx *ctx, enum wc2sf_result result, const char *fmt,
    ...)
{
	va_list ap;

	if (ctx->why != NULL && ctx->whylen > 0) {
		va_start(ap, fmt);
		vsnprintf(ctx->why, ctx->whylen, fmt, ap);
		va_end(ap);
	}
	return result;
}

enum wc2sf_result
map_no_memory(struct map_ctx *ctx)
{
	return map_fail(ctx, WC2SF_NO_MEMORY, "out of memory while mapping");
}

static const char *
type_word(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return "null";
	case json_type_boolean:
		return "a boolean";
	case json_type_int:
	case json_type_double:
		return "a number";
	case json_type_object:
		return "an object";
	case json_type_array:
		return "an array";
	case json_type_string:
		return "a string";
	}
	return "an unknown type";
}

/*
 * How a person reading the body names the first len bytes of path:
 * "line_items[2].price", "billing.email" (an "@" path of an order),
 * "body" for the whole of it.
 */
const char *
map_label(struct map_ctx *ctx, const char *path, size_t len, char *buf,
    size_t size)
{
	const char *base = ctx->where;

	if (len > 0 && path[0] == '@') {
		base = ctx->person_path;
		path++;
		len--;
		if (len > 0 && path[0] == '.') {
			path++;
			len--;
		}
	}
	if (len == 0)
		snprintf(buf, size, "%s", base[0] != '\0' ? base : "body");
	else if (base[0] != '\0')
		snprintf(buf, size, "%s.%.*s", base, (int)len, path);
	else
		snprintf(buf, size, "%.*s", (int)len, path);
	return buf;
}

enum wc2sf_result
map_wrong_type(struct map_ctx *ctx, const char *path, const char *want,
    struct json_object *v)
{
	char name[MAP_LABEL_MAX];

	return map_fail(ctx, WC2SF_BAD_PAYLOAD, "field %s: expected %s, got %s",
	    map_label(ctx, path, strlen(path), name, sizeof(name)), want,
	    type_word(v));
}

/*
 * Find one path (no '|') from src, "@" paths from the person. *out is
 * the value, or NULL when it is null, below a null, or absent; absent
 * is BAD_PAYLOAD unless optional.
 */
static enum wc2sf_result
lookup(struct map_ctx *ctx, struct json_object *src, const char *path,
    bool optional, struct json_object **out)
{
	char seg[MAP_LABEL_MAX], name[MAP_LABEL_MAX];
	const char *p = path, *dot;
	struct json_object *cur = src, *next;
	size_t n;

	*out = NULL;
	if (*p == '@') {
		cur = ctx->person != NULL ? ctx->person : ctx->root;
		p++;
		if (*p == '.')
			p++;
	}
	while (*p != '\0') {
		dot = strchr(p, '.');
		n = dot != NULL ? (size_t)(dot - p) : strlen(p);
		if (n >= sizeof(seg))
			return map_fail(ctx, WC2SF_INTERNAL, "path too long");
		memcpy(seg, p, n);
		seg[n] = '\0';
		if (cur == NULL)
			return WC2SF_OK;
		if (!json_object_is_type(cur, json_type_object)) {
			n = (size_t)(p - path);
			if (n > 0 && path[n - 1] == '.')
				n--;
			return map_fail(ctx, WC2SF_BAD_PAYLOAD,
			    "field %s: expected an object, got %s",
			    map_label(ctx, path, n, name, sizeof(name)),
			    type_word(cur));
		}
		if (!json_object_object_get_ex(cur, seg, &next)) {
			if (optional)
				return WC2SF_OK;
			return map_fail(ctx, WC2SF_BAD_PAYLOAD,
			    "missing field %s", map_label(ctx, path,
			    (size_t)(p - path) + n, name, sizeof(name)));
		}
		cur = next;
		p += n;
		if (*p == '.')
			p++;
	}
	*out = cur;
	return WC2SF_OK;
}

/* n as decimal text, written backwards from the end of buf[24]. */
static const char *
decimal(uint64_t n, bool neg, char buf[24])
{
	char *p = buf + 23;

	*p = '\0';
	do {
		*--p = (char)('0' + n % 10);
		n /= 10;
	} while (n > 0);
	if (neg)
		*--p = '-';
	return p;
}

/*
 * The JSON text json-c prints for the number v, without json-c
 * printing it: that costs an allocation kept in v and a snprintf. An
 * integer as json-c prints it (int64, or uint64 past INT64_MAX); a
 * double made from text (parsed, or json_object_new_double_s()) is that
 * text, as json_object.h documents; any other double goes to json-c.
 * buf (MAP_NUMBER_MAX) may hold the result.
 */
static const char *
json_number_text(struct json_object *v, char *buf)
{
	const char *s;
	int64_t i;

	if (json_object_is_type(v, json_type_int)) {
		i = json_object_get_int64(v);
		if (i == INT64_MAX)
			return decimal(json_object_get_uint64(v), false, buf);
		if (i < 0)
			return decimal((uint64_t)-(i + 1) + 1, true, buf);
		return decimal((uint64_t)i, false, buf);
	}
	if ((s = json_object_get_userdata(v)) != NULL)
		return s;
	return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
}

/*
 * v as clean text: UTF-8 repaired, entities decoded once, trimmed.
 * Numbers are taken as their JSON text. *s is malloc'd, or NULL when v
 * is NULL. Anything else is BAD_PAYLOAD naming path.
 */
enum wc2sf_result
map_clean_text(struct map_ctx *ctx, const char *path, struct json_object *v,
    char **s)
{
	char buf[MAP_NUMBER_MAX], *fixed;
	const char *num;

	*s = NULL;
	if (v == NULL)
		return WC2SF_OK;
	switch (json_object_get_type(v)) {
	case json_type_string:
		fixed = text_utf8_repair(json_object_get_string(v),
		    (size_t)json_object_get_string_len(v));
		if (fixed == NULL)
			return map_no_memory(ctx);
		/* Most text has no entity: no second copy for it. */
		if (strchr(fixed, '&') == NULL) {
			*s = fixed;
			break;
		}
		*s = text_decode_entities(fixed);
		free(fixed);
		break;
	case json_type_int:
	case json_type_double:
		if ((num = json_number_text(v, buf)) != NULL)
			*s = strdup(num);
		break;
	default:
		return map_wrong_type(ctx, path, "a string", v);
	}
	if (*s == NULL)
		return map_no_memory(ctx);
	text_trim(*s);
	return WC2SF_OK;
}

/* Member key of object obj as clean text ("" when absent or null). */
enum wc2sf_result
map_member_text(struct map_ctx *ctx, struct json_object *obj, const char *path,
    const char *key, char **s)
{
	char full[MAP_LABEL_MAX];
	struct json_object *v = NULL;
	enum wc2sf_result result;

	snprintf(full, sizeof(full), "%s%s%s", path, path[0] != '\0' &&
	    strcmp(path, "@") != 0 ? "." : "", key);
	json_object_object_get_ex(obj, key, &v);
	result = map_clean_text(ctx, full, v, s);
	if (result == WC2SF_OK && *s == NULL && (*s = strdup("")) == NULL)
		result = map_no_memory(ctx);
	return result;
}

/*
 * The value of a text field: s cut to max units (0: no limit) and
 * trimmed; NULL when that leaves nothing. Frees s.
 */
enum wc2sf_result
map_text_value(struct map_ctx *ctx, char *s, unsigned max,
    struct json_object **out)
{
	*out = NULL;
	if (s == NULL)
		return WC2SF_OK;
	if (max > 0)
		text_truncate(s, max);
	text_trim(s);
	if (s[0] != '\0' && (*out = json_object_new_string(s)) == NULL) {
		free(s);
		return map_no_memory(ctx);
	}
	free(s);
	return WC2SF_OK;
}

/*
 * v as decimal text: an integer, or a digit string without its leading
 * zeros. False for anything else (negative numbers, fractions, words).
 */
bool
map_id_text(struct json_object *v, char *out, size_t size)
{
	char buf[24];
	const char *s;
	size_t n;
	int64_t i;

	/*
	 * json-c turns an integer that does not fit 64 bits into the
	 * largest one it has, so two different huge ids would become one
	 * key: refuse INT64_MAX, which they all read as here, and what is
	 * above it (no WooCommerce id comes near them).
	 */
	if (json_object_is_type(v, json_type_int)) {
		i = json_object_get_int64(v);
		if (i < 0 || i == INT64_MAX)
			return false;
		s = decimal((uint64_t)i, false, buf);
	} else if (json_object_is_type(v, json_type_string))
		s = json_object_get_string(v);
	else
		return false;
	n = strspn(s, "0123456789");
	if (n == 0 || s[n] != '\0')
		return false;
	while (n > 1 && *s == '0') {
		s++;
		n--;
	}
	if (n >= size)
		return false;
	memcpy(out, s, n + 1);
	return true;
}

/*
 * s as the text of a JSON number: optional '-', digits with an optional
 * fraction and exponent. A bare '.' gets its zero and leading zeros go
 * ("12." is 12, ".5" is 0.5, "007" is 7), since shops' settings can
 * write amounts so. False when s is anything else or out is too small.
 */
static bool
number_text(const char *s, char *out, size_t size)
{
	const char *p = s, *ip, *fp = "", *ep = "";
	size_t il, fl = 0, el = 0;
	bool neg = false;

	if (*p == '-') {
		neg = true;
		p++;
	}
	ip = p;
	il = strspn(p, "0123456789");
	p += il;
	if (*p == '.') {
		fp = ++p;
		fl = strspn(p, "0123456789");
		p += fl;
	}
	if (il == 0 && fl == 0)
		return false;
	if (*p == 'e' || *p == 'E') {
		ep = p++;
		if (*p == '+' || *p == '-')
			p++;
		if (strspn(p, "0123456789") == 0)
			return false;
		p += strspn(p, "0123456789");
		el = (size_t)(p - ep);
	}
	if (*p != '\0')
		return false;
	while (il > 1 && *ip == '0') {
		ip++;
		il--;
	}
	if (il == 0) {
		ip = "0";
		il = 1;
	}
	if ((neg ? 1 : 0) + il + (fl > 0 ? 1 + fl : 0) + el >= size)
		return false;
	if (neg)
		*out++ = '-';
	memcpy(out, ip, il);
	out += il;
	if (fl > 0) {
		*out++ = '.';
		memcpy(out, fp, fl);
		out += fl;
	}
	memcpy(out, ep, el);
	out[el] = '\0';
	return true;
}

/*
 * v (a number or an amount string) as number text; empty: "". Amounts
 * are on every line of an order, so no snprintf: the string is trimmed
 * in a copy of its first MAP_NUMBER_MAX - 1 bytes (a longer one is no
 * amount, unless that much is all blank).
 */
enum wc2sf_result
map_amount_text(struct map_ctx *ctx, const char *path, struct json_object *v,
    char *out, size_t size)
{
	char raw[MAP_NUMBER_MAX], name[MAP_LABEL_MAX];
	const char *s;
	size_t n;

	out[0] = '\0';
	switch (json_object_get_type(v)) {
	case json_type_null:
		return WC2SF_OK;
	case json_type_int:
	case json_type_double:
		if ((s = json_number_text(v, raw)) == NULL)
			return map_no_memory(ctx);
		break;
	case json_type_string:
		s = json_object_get_string(v);
		n = strlen(s);
		memcpy(raw, s, n < sizeof(raw) ? n : sizeof(raw) - 1);
		raw[n < sizeof(raw) ? n : sizeof(raw) - 1] = '\0';
		s = text_trim(raw);
		if (s[0] == '\0')
			return WC2SF_OK;
		if (n >= sizeof(raw))
			s = "?";
		break;
	default:
		return map_wrong_type(ctx, path, "an amount", v);
	}
	if (!number_text(s, out, size))
		return map_fail(ctx, WC2SF_BAD_PAYLOAD,
		    "field %s: expected an amount, got \"%.40s\"",
		    map_label(ctx, path, strlen(path), name, sizeof(name)), s);
	return WC2SF_OK;
}

/* Money and counts: JSON numbers whose text is exactly WooCommerce's. */
static enum wc2sf_result
conv_money(struct map_ctx *ctx, const struct map_field *f, const char *path,
    struct json_object *v, struct json_object **out)
{
	char text[MAP_NUMBER_MAX];
	enum wc2sf_result result;

	result = map_amount_text(ctx, path, v, text, sizeof(text));
	if (result != WC2SF_OK || text[0] == '\0')
		return result;
	*out = json_object_new_double_s(strtod(text, NULL), text);
	return *out == NULL ? map_no_memory(ctx) : WC2SF_OK;
}

static bool
ascii_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	    c == '\v';
}

/*
 * True when the string v is already clean: valid UTF-8 without NUL or
 * '&' (which repair and entity decoding would leave as they are), no
 * blank at either end, and no longer than max units (0: any length).
 * Most names and SKUs are.
 */
static bool
clean_as_is(struct json_object *v, unsigned max)
{
	const unsigned char *s;
	size_t i, n;
	bool ascii = true;

	s = (const unsigned char *)json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (n == 0 || ascii_space(s[0]) || ascii_space(s[n - 1]))
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] == '&' || s[i] == '\0')
			return false;
		if (s[i] >= 0x80)
			ascii = false;
	}
	if (ascii)
		return max == 0 || n <= max;
	/* A UTF-16 unit takes one to three bytes of UTF-8. */
	if (max > 0 && n / 3 > max)
		return false;
	if (!text_utf8_valid((const char *)s, n))
		return false;
	return max == 0 || n <= max || text_utf16_len((const char *)s) <= max;
}

/*
 * Text that is already clean goes into the record as the body's own
 * string object (a reference, not a copy): the plan only reads it.
 */
static enum wc2sf_result
conv_text(struct map_ctx *ctx, const struct map_field *f, const char *path,
    struct json_object *v, struct json_object **out)
{
	enum wc2sf_result result;
	char *s;

	if (v != NULL && json_object_is_type(v, json_type_string) &&
	    clean_as_is(v, f->max_len)) {
		*out = json_object_get(v);
		return WC2SF_OK;
	}
	result = map_clean_text(ctx, path, v, &s);
	if (result != WC2SF_OK)
		return result;
	return map_text_value(ctx, s, f->max_len, out);
}

static enum wc2sf_result
conv_id(struct map_ctx *ctx, const struct map_field *f, const char *path,
    struct json_object *v, struct json_object **out)
{
	char id[64];

	if (v == NULL)
		return WC2SF_OK;
	if (!map_id_text(v, id, sizeof(id)))
		return map_wrong_type(ctx, path, "an id", v);
	if (strcmp(id, "0") == 0)
		return WC2SF_OK;
	*out = json_object_new_string(id);
	return *out == NULL ? map_no_memory(ctx) : WC2SF_OK;
}

static enum wc2sf_result
conv_bool(struct map_ctx *ctx, const struct map_field *f, const char *path,
    struct json_object *v, struct json_object **out)
{
	if (v == NULL)
		return WC2SF_OK;
	if (!json_object_is_type(v, json_type_boolean))
		return map_wrong_type(ctx, path, "true or false", v);
	*out = json_object_new_boolean(json_object_get_boolean(v));
	return *out == NULL ? map_no_memory(ctx) : WC2SF_OK;
}

/* True if s starts with pattern, where '9' stands for any digit. */
static bool
shaped(const char *s, const char *pattern)
{
	for (; *pattern != '\0'; s++, pattern++) {
		if (*pattern == '9' ? !(*s >= '0' && *s <= '9') :
		    *s != *pattern)
			return false;
	}
	return true;
}

/*
 * Dates: "2026-12-03T16:30:53" gives the date "2026-12-03"; for
 * CONV_DATETIME (a GMT value) the instant "2026-12-03T16:30:53Z".
 */
static enum wc2sf_result
conv_date(struct map_ctx *ctx, const struct map_field *f, const char *path,
    struct json_object *v, struct json_object **out)
{
	char text[24], name[MAP_LABEL_MAX];
	const char *s;
	bool instant = f->conv == CONV_DATETIME;

	if (v == NULL)
		return WC2SF_OK;
	if (!json_object_is_type(v, json_type_string))
		return map_wrong_type(ctx, path, "a date", v);
	s = json_object_get_string(v);
	if (s[0] == '\0')
		return WC2SF_OK;
	if (!shaped(s, instant ? "9999-99-99T99:99:99" : "9999-99-99"))
		return map_fail(ctx, WC2SF_BAD_PAYLOAD,
		    "field %s: expected a date, got \"%.40s\"",
		    map_label(ctx, path, strlen(path), name, sizeof(name)), s);
	if (instant)
		snprintf(text, sizeof(text), "%.19sZ", s);
	else
		snprintf(text, sizeof(text), "%.10s", s);
	*out = json_object_new_string(text);
	return *out == NULL ? map_no_memory(ctx) : WC2SF_OK;
}

/* Tags first, so an encoded "&lt;b&gt;" stays text, then entities. */
static enum wc2sf_result
conv_html(struct map_ctx *ctx, const struct map_field *f, const char *path,
    struct json_object *v, struct json_object **out)
{
	char *fixed, *bare, *s;

	if (v == NULL)
		return WC2SF_OK;
	if (!json_object_is_type(v, json_type_string))
		return map_wrong_type(ctx, path, "a string", v);
	fixed = text_utf8_repair(json_object_get_string(v),
	    (size_t)json_object_get_string_len(v));
	bare = text_strip_tags(fixed);
	s = text_decode_entities(bare);
	free(fixed);
	free(bare);
	if (s == NULL)
		return map_no_memory(ctx);
	text_collapse_space(s);
	return map_text_value(ctx, s, f->max_len, out);
}

static enum wc2sf_result
conv_const(struct map_ctx *ctx, const struct map_field *f, const char *path,
    struct json_object *v, struct json_object **out)
{
	if (f->conv == CONV_LITERAL)
		*out = json_object_new_string(f->path);
	else
		*out = json_object_new_boolean(f->conv == CONV_TRUE);
	return *out == NULL ? map_no_memory(ctx) : WC2SF_OK;
}

/* Every converter, by enum map_conv; each sets *out NULL when empty. */
static enum wc2sf_result (*const converters[])(struct map_ctx *,
    const struct map_field *, const char *, struct json_object *,
    struct json_object **) = {
	[CONV_TEXT] = conv_text,
	[CONV_ID] = conv_id,
	[CONV_MONEY] = conv_money,
	[CONV_NUMBER] = conv_money,
	[CONV_BOOL] = conv_bool,
	[CONV_DATE] = conv_date,
	[CONV_STREET] = map_conv_street,
	[CONV_ACCOUNT_NAME] = map_conv_person,
	[CONV_LAST_NAME] = map_conv_person,
	[CONV_FIRST_NAME] = map_conv_person,
	[CONV_EMAIL] = map_conv_email,
	[CONV_HTML] = conv_html,
	[CONV_DATETIME] = conv_date,
	[CONV_COUNTRY] = conv_text,
	[CONV_STATE] = conv_text,
	[CONV_PUBLISHED] = map_conv_published,
	[CONV_FIRST_NAME_OF] = map_conv_first_name_of,
	[CONV_PRICE] = conv_money,
	[CONV_REFUNDS] = map_conv_refunds,
	[CONV_ORDER_NAME] = map_conv_order_name,
	[CONV_PRODUCT_NAME] = map_conv_product_name,
	[CONV_TRUE] = conv_const,
	[CONV_FALSE] = conv_const,
	[CONV_LITERAL] = conv_const,
};

_Static_assert(MAP_NELEM(converters) == CONV_LITERAL + 1,
    "a converter for every enum map_conv");

/*
 * One row: try each alternative of the path in turn until one converts
 * to a value. An empty CONV_PRICE is 0; an empty MAP_REQUIRED row is
 * BAD_PAYLOAD.
 */
static enum wc2sf_result
convert_row(struct map_ctx *ctx, const struct map_field *f,
    struct json_object *src, struct json_object **out)
{
	char alt[MAP_LABEL_MAX], name[MAP_LABEL_MAX];
	const char *p = f->path, *bar;
	struct json_object *v;
	enum wc2sf_result result = WC2SF_OK;
	size_t n;

	*out = NULL;
	if ((unsigned)f->conv >= MAP_NELEM(converters) ||
	    converters[f->conv] == NULL)
		return map_fail(ctx, WC2SF_INTERNAL, "no converter for %s",
		    f->sf_field);
	if (f->conv == CONV_TRUE || f->conv == CONV_FALSE ||
	    f->conv == CONV_LITERAL)
		return conv_const(ctx, f, f->path, NULL, out);
	while (p != NULL && *out == NULL) {
		bar = strchr(p, '|');
		n = bar != NULL ? (size_t)(bar - p) : strlen(p);
		if (n >= sizeof(alt))
			return map_fail(ctx, WC2SF_INTERNAL, "path too long");
		memcpy(alt, p, n);
		alt[n] = '\0';
		p = bar != NULL ? bar + 1 : NULL;
		result = lookup(ctx, src, alt, (f->flags & MAP_OPTIONAL) != 0,
		    &v);
		if (result == WC2SF_OK)
			result = converters[f->conv](ctx, f, alt, v, out);
		if (result != WC2SF_OK)
			return result;
	}
	if (*out == NULL && f->conv == CONV_PRICE &&
	    (*out = json_object_new_int(0)) == NULL)
		return map_no_memory(ctx);
	if (*out == NULL && (f->flags & MAP_REQUIRED) != 0)
		return map_fail(ctx, WC2SF_BAD_PAYLOAD, "field %s is empty",
		    map_label(ctx, f->path, strcspn(f->path, "|"), name,
		    sizeof(name)));
	return WC2SF_OK;
}

enum wc2sf_result
map_fill(struct map_ctx *ctx, struct json_object *rec,
    const struct map_field *table, size_t n, struct json_object *src)
{
	struct json_object *value;
	enum wc2sf_result result = WC2SF_OK;
	char code_name[MAP_LABEL_MAX];
	const char *name;
	unsigned flags;
	size_t i;

	for (i = 0; i < n; i++) {
		result = convert_row(ctx, &table[i], src, &value);
		if (result != WC2SF_OK)
			goto out;
		if (value == NULL)
			continue;
		name = table[i].sf_field;
		flags = MAP_KEY_FLAGS;
		if ((table[i].conv == CONV_COUNTRY ||
		    table[i].conv == CONV_STATE) && ctx->opt->state_picklists) {
			snprintf(code_name, sizeof(code_name), "%sCode", name);
			name = code_name;
			flags = 0;
		}
		if (json_object_object_add_ex(rec, name, value, flags) != 0) {
			json_object_put(value);
			result = map_no_memory(ctx);
			goto out;
		}
	}
out:
	return result;
}

struct json_object *
map_record_new(const char *ext_field, const char *prefix, const char *value)
{
	struct json_object *rec, *key;
	size_t pn = strlen(prefix), vn = strlen(value);
	char buf[MAP_ID_MAX + 16], *text = buf;

	if (pn == 0) {
		key = json_object_new_string_len(value, (int)vn);
	} else {
		if (pn + vn >= sizeof(buf) &&
		    (text = malloc(pn + vn + 1)) == NULL)
			return NULL;
		memcpy(text, prefix, pn);
		memcpy(text + pn, value, vn);
		key = json_object_new_string_len(text, (int)(pn + vn));
		if (text != buf)
			free(text);
	}
	rec = json_object_new_object();
	if (rec == NULL || key == NULL ||
	    json_object_object_add_ex(rec, ext_field, key, MAP_KEY_FLAGS |
	    JSON_C_OBJECT_ADD_KEY_IS_NEW) != 0) {
		json_object_put(rec);
		json_object_put(key);
		return NULL;
	}
	return rec;
}

enum wc2sf_result
map_record_set(struct json_object *rec, const char *field,
    struct json_object *value)
{
	if (value == NULL || json_object_object_add_ex(rec, field, value,
	    MAP_KEY_FLAGS) != 0) {
		json_object_put(value);
		return WC2SF_NO_MEMORY;
	}
	return WC2SF_OK;
}

enum wc2sf_result
map_record_ref(struct json_object *rec, const char *field,
    const char *ext_field, const char *value)
{
	return map_record_set(rec, field, map_record_new(ext_field, "",
	    value));
}

enum wc2sf_result
map_step_add(struct map_ctx *ctx, struct map_plan *plan, enum map_op op,
    const char *sobject, const char *ext_field, struct json_object *records)
{
	struct map_step *step;

	if (records == NULL)
		return map_no_memory(ctx);
	if (plan->n >= MAP_MAX_STEPS) {
		json_object_put(records);
		return map_fail(ctx, WC2SF_INTERNAL, "plan has too many steps");
	}
	step = &plan->steps[plan->n++];
	step->op = op;
	step->sobject = sobject;
	step->ext_field = ext_field;
	step->records = records;
	return WC2SF_OK;
}

enum wc2sf_result
map_step_record(struct map_ctx *ctx, struct map_plan *plan, enum map_op op,
    const struct map_record_spec *spec, const char *key,
    struct json_object *src)
{
	struct json_object *rec, *records = NULL;
	enum wc2sf_result result;

	rec = map_record_new(spec->ext_field, spec->key_prefix, key);
	if (rec == NULL)
		return map_no_memory(ctx);
	result = WC2SF_OK;
	if (spec->ref_field != NULL &&
	    map_record_ref(rec, spec->ref_field, spec->ref_ext_field,
	    key) != WC2SF_OK)
		result = map_no_memory(ctx);
	if (result == WC2SF_OK)
		result = map_fill(ctx, rec, spec->fields, spec->nfields, src);
	if (result == WC2SF_OK) {
		records = json_object_new_array();
		if (records == NULL || json_object_array_add(records, rec) != 0)
			result = map_no_memory(ctx);
		else
			rec = NULL;
	}
	if (result != WC2SF_OK) {
		json_object_put(rec);
		json_object_put(records);
		return result;
	}
	return map_step_add(ctx, plan, op, spec->sobject, spec->ext_field,
	    records);
}

enum wc2sf_result
map_read_id(struct map_ctx *ctx, struct json_object *src, const char *path,
    bool allow_zero, char *out, size_t size)
{
	struct json_object *v;
	enum wc2sf_result result;
	char name[MAP_LABEL_MAX];

	result = lookup(ctx, src, path, false, &v);
	if (result != WC2SF_OK)
		return result;
	if (v == NULL || !map_id_text(v, out, size))
		return map_wrong_type(ctx, path, "an id", v);
	if (!allow_zero && strcmp(out, "0") == 0)
		return map_fail(ctx, WC2SF_BAD_PAYLOAD,
		    "field %s: expected an id, got 0",
		    map_label(ctx, path, strlen(path), name, sizeof(name)));
	return WC2SF_OK;
}

enum wc2sf_result
map_read_text(struct map_ctx *ctx, struct json_object *src,
    const char *path, char **out)
{
	struct json_object *v;
	enum wc2sf_result result;

	*out = NULL;
	result = lookup(ctx, src, path, true, &v);
	if (result == WC2SF_OK)
		result = map_clean_text(ctx, path, v, out);
	if (result == WC2SF_OK && *out == NULL && (*out = strdup("")) == NULL)
		result = map_no_memory(ctx);
	return result;
}

/* {"code": "...", "message": "...", "data": {"status": N}} */
static bool
rest_error(struct json_object *body, const char **code)
{
	struct json_object *c, *m, *data, *status;

	if (body == NULL || !json_object_is_type(body, json_type_object) ||
	    !json_object_object_get_ex(body, "code", &c) ||
	    !json_object_is_type(c, json_type_string) ||
	    !json_object_object_get_ex(body, "message", &m) ||
	    !json_object_object_get_ex(body, "data", &data) ||
	    !json_object_is_type(data, json_type_object) ||
	    !json_object_object_get_ex(data, "status", &status))
		return false;
	*code = json_object_get_string(c);
	return true;
}

bool
map_rest_error(struct json_object *body, char *code, size_t size)
{
	const char *c;
	size_t n;

	if (!rest_error(body, &c))
		return false;
	if (size > 0) {
		snprintf(code, size, "%s", c);
		/* A cut inside a character leaves a tail to drop. */
		n = strlen(code);
		while (n > 0 && !text_utf8_valid(code, n))
			n--;
		code[n] = '\0';
	}
	return true;
}

/* {"order": {...}} and the like, with no id of its own. */
static bool
legacy_wrapped(struct json_object *body)
{
	struct json_object *inner;
	size_t i;

	if (json_object_object_get_ex(body, "id", NULL))
		return false;
	for (i = 0; i < MAP_NELEM(legacy_wrappers); i++)
		if (json_object_object_get_ex(body, legacy_wrappers[i],
		    &inner) && json_object_is_type(inner, json_type_object))
			return true;
	return false;
}

enum wc2sf_result
map_build(const char *topic, struct json_object *body,
    const struct map_options *opt, struct map_plan *plan, char *why,
    size_t whylen)
{
	return map_build_since(topic, body, NULL, opt, plan, why, whylen);
}

/*
 * Shape checks in the order that gives the most useful reason: not an
 * object, a REST error in place of the resource, a topic not synced, a
 * legacy body, no usable id; then the resource's builder. On any result
 * but OK the plan holds no steps.
 */
enum wc2sf_result
map_build_since(const char *topic, struct json_object *body,
    struct json_object *prev, const struct map_options *opt,
    struct map_plan *plan, char *why, size_t whylen)
{
	static const struct map_options defaults;
	const struct topic_builder *b = NULL;
	enum wc2sf_result result;
	struct map_ctx ctx;
	const char *code;
	char id[64];
	size_t i;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (plan == NULL)
		return WC2SF_INTERNAL;
	memset(plan, 0, sizeof(*plan));
	memset(&ctx, 0, sizeof(ctx));
	ctx.opt = opt != NULL ? opt : &defaults;
	ctx.root = body;
	ctx.person_path = "";
	ctx.where = "";
	ctx.fallback_name = "";
	ctx.why = why;
	ctx.whylen = whylen;
	if (body == NULL || !json_object_is_type(body, json_type_object)) {
		result = map_fail(&ctx, WC2SF_BAD_PAYLOAD,
		    "the body is not a JSON object");
		goto out;
	}
	map_identify(body, plan->resource_id, sizeof(plan->resource_id),
	    plan->modified_gmt, sizeof(plan->modified_gmt));
	for (i = 0; topic != NULL && i < MAP_NELEM(builders); i++)
		if (strcmp(topic, builders[i].topic) == 0)
			b = &builders[i];
	if (rest_error(body, &code)) {
		result = map_fail(&ctx, WC2SF_IGNORED, "WooCommerce sent the "
		    "REST error %.80s instead of the resource", code);
		goto out;
	}
	if (b == NULL) {
		result = map_fail(&ctx, WC2SF_IGNORED, "topic %.80s is not "
		    "synced", topic != NULL ? topic : "(none)");
		goto out;
	}
	plan->resource = b->resource;
	if (legacy_wrapped(body)) {
		result = map_fail(&ctx, WC2SF_BAD_PAYLOAD, "legacy REST API "
		    "payload; wc2sf expects WooCommerce REST API v3 (webhook "
		    "API version wp_api_v3)");
		goto out;
	}
	result = map_read_id(&ctx, body, "id", false, id, sizeof(id));
	if (result == WC2SF_OK)
		result = b->build(&ctx, plan, id, prev);
out:
	if (result != WC2SF_OK)
		map_plan_free(plan);
	return result;
}

void
map_plan_truncate(struct map_plan *plan, size_t n)
{
	size_t i;

	for (i = n; i < plan->n && i < MAP_MAX_STEPS; i++) {
		json_object_put(plan->steps[i].records);
		memset(&plan->steps[i], 0, sizeof(plan->steps[i]));
	}
	if (n < plan->n)
		plan->n = n;
}

void
map_plan_free(struct map_plan *plan)
{
	if (plan == NULL)
		return;
	map_plan_truncate(plan, 0);
	memset(plan->steps, 0, sizeof(plan->steps));
}

bool
map_identify(struct json_object *body, char *id, size_t idlen,
    char *modified, size_t modlen)
{
	struct json_object *v;
	const char *s;

	if (idlen > 0)
		id[0] = '\0';
	if (modlen > 0)
		modified[0] = '\0';
	if (body == NULL || !json_object_is_type(body, json_type_object))
		return false;
	if (idlen > 0 && json_object_object_get_ex(body, "id", &v) &&
	    !map_id_text(v, id, idlen))
		id[0] = '\0';
	if (json_object_object_get_ex(body, "date_modified_gmt", &v) &&
	    json_object_is_type(v, json_type_string)) {
		s = json_object_get_string(v);
		if (strlen(s) < modlen)
			memcpy(modified, s, strlen(s) + 1);
	}
	return true;
}
