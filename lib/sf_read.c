/*
 * Reading what Salesforce answers: composite responses (ids written,
 * the first real error), REST error bodies, the standard price book
 * query, and the classification of an error into a wc2sf result. The
 * bodies these answer are built in sf_wire.c.
 */
#include "sf_wire.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

/*
 * Reading responses. A reader walks the results of one composite and
 * keeps the first real error; rollback echoes are only counted.
 */
struct reader {
	struct sf_outcome *out;
	size_t noted;			/* errors seen, echoes included */
	bool have_error;
	bool saw_halt;
	long err_status;
	const char *err_key;
	enum wc2sf_result result;	/* WC2SF_NO_MEMORY once it happens */
	bool lookup_found;		/* the last lookup found a record */
	char lookup_id[32];
};

static bool
rollback_echo(const char *code)
{
	return code != NULL && (strcmp(code, "PROCESSING_HALTED") == 0 ||
	    strcmp(code, "ALL_OR_NONE_OPERATION_ROLLED_BACK") == 0);
}

static void
note_error(struct reader *rd, long status, const char *code,
    const char *message, const char *sobject, const char *key)
{
	rd->noted++;
	if (rollback_echo(code)) {
		rd->saw_halt = true;
		return;
	}
	if (rd->have_error)
		return;
	rd->have_error = true;
	rd->err_status = status;
	rd->err_key = key;
	sf_wire_copy_str(rd->out->code, sizeof(rd->out->code), code);
	if (message == NULL || *message == '\0')
		message = "no message";
	if (sobject != NULL) {
		snprintf(rd->out->message, sizeof(rd->out->message), "%s: %s",
		    sobject, message);
		sf_wire_utf8_cut(rd->out->message);
	} else
		sf_wire_copy_str(rd->out->message, sizeof(rd->out->message),
		    message);
}

/* One element of an error list: an error object or a 300 record URL. */
static void
note_element(struct reader *rd, long status, struct json_object *e,
    const char *sobject, const char *key)
{
	const char *code, *msg;
	char buf[400];

	if (e != NULL && json_object_is_type(e, json_type_string)) {
		snprintf(buf, sizeof(buf), "the external ID matches more "
		    "than one record, e.g. %s", json_object_get_string(e));
		note_error(rd, status, "MULTIPLE_CHOICES", buf, sobject, key);
		return;
	}
	code = sf_wire_member_str(e, "errorCode");
	if (code == NULL)
		code = sf_wire_member_str(e, "statusCode");
	msg = sf_wire_member_str(e, "message");
	if (code == NULL && msg == NULL)
		return;
	note_error(rd, status, code != NULL ? code : "", msg, sobject, key);
}

/* A whole error body: an array of errors, one error object, or junk. */
static void
note_body(struct reader *rd, long status, struct json_object *b,
    const char *sobject, const char *key)
{
	char buf[64];
	size_t i, n, before = rd->noted;

	if (sf_wire_is_array(b)) {
		n = json_object_array_length(b);
		for (i = 0; i < n; i++)
			note_element(rd, status, json_object_array_get_idx(b,
			    i), sobject, key);
	} else if (b != NULL && json_object_is_type(b, json_type_object)) {
		note_element(rd, status, b, sobject, key);
	}
	if (rd->noted == before) {
		snprintf(buf, sizeof(buf), "HTTP %ld without an error code",
		    status);
		note_error(rd, status, "", buf, sobject, key);
	}
}

/* Append id to out->ids[sobject], creating both as needed. */
static void
add_id(struct reader *rd, const char *sobject, const char *id)
{
	struct json_object *list, *s;

	if (rd->out->ids == NULL &&
	    (rd->out->ids = json_object_new_object()) == NULL)
		goto oom;
	if (!json_object_object_get_ex(rd->out->ids, sobject, &list)) {
		if ((list = json_object_new_array()) == NULL)
			goto oom;
		if (json_object_object_add(rd->out->ids, sobject, list) != 0) {
			json_object_put(list);
			goto oom;
		}
	}
	if ((s = json_object_new_string(id)) == NULL)
		goto oom;
	if (json_object_array_add(list, s) != 0) {
		json_object_put(s);
		goto oom;
	}
	return;
oom:
	rd->result = WC2SF_NO_MEMORY;
}

/*
 * A 404 on a lookup or delete means the record is not there, which the
 * plan allows, unless Salesforce says the external ID field itself does
 * not exist: that is a setup problem a person must see.
 */
static bool
record_absent(long status, struct json_object *b)
{
	struct json_object *e;
	const char *msg;
	size_t i, n;

	if (status != 404)
		return false;
	n = sf_wire_is_array(b) ? json_object_array_length(b) : 0;
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(b, i);
		msg = sf_wire_member_str(e, "message");
		if (msg != NULL && strcasestr(msg, "external ID field") != NULL)
			return false;
	}
	return true;
}

static void
read_upsert(struct reader *rd, const struct sf_sub *sub, long status,
    struct json_object *b)
{
	struct json_object *e, *ok, *errs;
	const char *id;
	size_t i, n, before = rd->noted;

	n = sf_wire_is_array(b) ? json_object_array_length(b) : 0;
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(b, i);
		if ((ok = sf_wire_member(e, "success")) == NULL) {
			note_element(rd, status, e, sub->sobject,
			    sub->ext_field);
		} else if (json_object_get_boolean(ok)) {
			if ((id = sf_wire_member_str(e, "id")) != NULL)
				add_id(rd, sub->sobject, id);
		} else if (sf_wire_is_array(errs = sf_wire_member(e,
		    "errors")) && json_object_array_length(errs) > 0) {
			note_body(rd, status, errs, sub->sobject,
			    sub->ext_field);
		} else {
			note_error(rd, status, "", "record not written",
			    sub->sobject, sub->ext_field);
		}
	}
	if (rd->noted != before)
		return;
	if (status < 200 || status > 299)
		note_body(rd, status, b, sub->sobject, sub->ext_field);
	else if (n != sub->records)
		note_error(rd, status, "", "result count differs from the "
		    "records sent", sub->sobject, sub->ext_field);
}

static void
read_item(struct reader *rd, const struct sf_sub *sub, long status,
    struct json_object *b)
{
	const char *id;
	bool ok = status >= 200 && status <= 299;

	switch (sub->kind) {
	case SF_SUB_UPSERT:
		read_upsert(rd, sub, status, b);
		break;
	case SF_SUB_UPSERT_ONE:
		id = sf_wire_member_str(b, "id");
		if (ok && id != NULL)
			add_id(rd, sub->sobject, id);
		else if (ok)
			note_error(rd, status, "", "upsert answered without "
			    "an id", sub->sobject, sub->ext_field);
		else
			note_body(rd, status, b, sub->sobject, sub->ext_field);
		break;
	case SF_SUB_LOOKUP:
		rd->lookup_found = false;
		rd->lookup_id[0] = '\0';
		id = sf_wire_member_str(b, "Id");
		if (ok && id != NULL) {
			rd->lookup_found = true;
			sf_wire_copy_str(rd->lookup_id, sizeof(rd->lookup_id),
			    id);
		} else if (!record_absent(status, b)) {
			note_body(rd, status, b, sub->sobject, sub->ext_field);
		}
		break;
	case SF_SUB_UPDATE:
		if (ok && rd->lookup_found)
			add_id(rd, sub->sobject, rd->lookup_id);
		else if (!ok && rd->lookup_found)
			note_body(rd, status, b, sub->sobject, sub->ext_field);
		break;
	case SF_SUB_DELETE:
		if (!ok && !record_absent(status, b))
			note_body(rd, status, b, sub->sobject, sub->ext_field);
		break;
	}
}

static void
set_daily_limit(struct sf_outcome *out)
{
	if (strcmp(out->code, "REQUEST_LIMIT_EXCEEDED") == 0 &&
	    strstr(out->message, "TotalRequests") != NULL)
		out->daily_limit = true;
}

enum wc2sf_result
sf_wire_read_composite(const struct sf_composite *c, long status,
    const char *body, size_t len, struct sf_outcome *out)
{
	struct reader rd;
	struct json_object *root, *items, *item, *st;
	enum wc2sf_result result;
	const char *ref;
	char want[24];
	size_t i;

	if (status != 200)
		return sf_wire_read_error(status, body, len, out);
	memset(&rd, 0, sizeof(rd));
	rd.out = out;
	rd.result = WC2SF_OK;
	root = sf_wire_parse(body, len);
	items = sf_wire_member(root, "compositeResponse");
	if (!sf_wire_is_array(items) ||
	    json_object_array_length(items) != c->nsubs) {
		sf_wire_copy_str(out->code, sizeof(out->code), "");
		snprintf(out->message, sizeof(out->message), "Salesforce "
		    "answered HTTP 200 with %s", root == NULL ? "a body that "
		    "is not JSON" : "no result for every subrequest");
		result = WC2SF_SF_UNAVAILABLE;
		goto out;
	}
	for (i = 0; i < c->nsubs; i++) {
		item = json_object_array_get_idx(items, i);
		ref = sf_wire_member_str(item, "referenceId");
		snprintf(want, sizeof(want), "r%zu", i);
		st = sf_wire_member(item, "httpStatusCode");
		if ((ref != NULL && strcmp(ref, want) != 0) || st == NULL) {
			snprintf(out->message, sizeof(out->message),
			    "Salesforce answered subrequest results out of "
			    "order");
			result = WC2SF_SF_UNAVAILABLE;
			goto out;
		}
		read_item(&rd, &c->subs[i], (long)json_object_get_int(st),
		    sf_wire_member(item, "body"));
	}
	if (rd.result != WC2SF_OK) {
		result = rd.result;
	} else if (rd.have_error) {
		result = sf_wire_classify(rd.err_status, out->code,
		    out->message, rd.err_key);
		set_daily_limit(out);
	} else if (rd.saw_halt && c->all_or_none) {
		sf_wire_copy_str(out->message, sizeof(out->message),
		    "Salesforce rolled the request back without saying why");
		result = WC2SF_SF_UNAVAILABLE;
	} else {
		result = WC2SF_OK;
	}
out:
	json_object_put(root);
	return result;
}

enum wc2sf_result
sf_wire_read_error(long status, const char *body, size_t len,
    struct sf_outcome *out)
{
	struct reader rd;
	struct json_object *root;
	enum wc2sf_result result;
	const char *s;

	memset(&rd, 0, sizeof(rd));
	rd.out = out;
	sf_wire_copy_str(out->code, sizeof(out->code), "");
	root = sf_wire_parse(body, len);
	if (root == NULL) {
		snprintf(out->message, sizeof(out->message), "Salesforce "
		    "answered HTTP %ld with %s", status, len == 0 ?
		    "an empty body" : "a body that is not JSON");
		return WC2SF_SF_UNAVAILABLE;
	}
	if ((s = sf_wire_member_str(root, "error")) != NULL)
		note_error(&rd, status, s, sf_wire_member_str(root,
		    "error_description"), NULL, NULL);
	else
		note_body(&rd, status, root, NULL, NULL);
	if (!rd.have_error)
		snprintf(out->message, sizeof(out->message), "Salesforce "
		    "answered HTTP %ld", status);
	json_object_put(root);
	result = sf_wire_classify(status, out->code, out->message, NULL);
	set_daily_limit(out);
	return result;
}

/* A Salesforce record Id: 15 or 18 letters and digits, nothing else. */
static bool
record_id_valid(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return false;
	for (; s[n] != '\0'; n++)
		if (!isalnum((unsigned char)s[n]))
			return false;
	return n == 15 || n == 18;
}

enum wc2sf_result
sf_wire_read_pricebook(long status, const char *body, size_t len,
    char *id, size_t idlen, struct sf_outcome *out)
{
	struct json_object *root, *recs, *rec, *active;
	enum wc2sf_result result = WC2SF_SF_REJECTED;
	const char *s;

	sf_wire_copy_str(id, idlen, "");
	if (status != 200)
		return sf_wire_read_error(status, body, len, out);
	if ((root = sf_wire_parse(body, len)) == NULL)
		return sf_wire_read_error(status, body, len, out);
	recs = sf_wire_member(root, "records");
	rec = sf_wire_is_array(recs) && json_object_array_length(recs) > 0 ?
	    json_object_array_get_idx(recs, 0) : NULL;
	s = sf_wire_member_str(rec, "Id");
	if (!record_id_valid(s) || strlen(s) >= idlen) {
		sf_wire_copy_str(out->code, sizeof(out->code),
		    "WC2SF_NO_STANDARD_PRICEBOOK");
		sf_wire_copy_str(out->message, sizeof(out->message),
		    "Salesforce shows no standard price book (Pricebook2 with "
		    "IsStandard = true); let the integration user read "
		    "price books");
		goto out;
	}
	active = sf_wire_member(rec, "IsActive");
	if (active != NULL && !json_object_get_boolean(active)) {
		sf_wire_copy_str(out->code, sizeof(out->code),
		    "WC2SF_STANDARD_PRICEBOOK_INACTIVE");
		sf_wire_copy_str(out->message, sizeof(out->message),
		    "the standard price book is inactive; activate it in "
		    "Salesforce (Price Books) so products and orders can "
		    "use it");
		goto out;
	}
	sf_wire_copy_str(id, idlen, s);
	result = WC2SF_OK;
out:
	json_object_put(root);
	return result;
}

/*
 * A unique-index clash of a racing create: "duplicate value found:
 * <field> duplicates value on record with id: ...". Two workers created
 * the same external ID at once; the retry will find and update it.
 */
static bool
racing_create(const char *message, const char *key)
{
	static const char lead[] = "duplicate value found: ";
	const char *p, *end;

	if (message == NULL || (p = strstr(message, lead)) == NULL)
		return false;
	if (key == NULL)
		return true;
	p += sizeof(lead) - 1;
	end = strchr(p, ' ');
	if (end == NULL)
		end = p + strlen(p);
	return (size_t)(end - p) == strlen(key) &&
	    strncasecmp(p, key, (size_t)(end - p)) == 0;
}

enum wc2sf_result
sf_wire_classify(long status, const char *code, const char *message,
    const char *key_field)
{
	static const char *const busy[] = {
		"UNABLE_TO_LOCK_ROW", "REQUEST_LIMIT_EXCEEDED",
		"SERVER_UNAVAILABLE", "UNKNOWN_EXCEPTION"
	};
	size_t i;

	if (code != NULL) {
		for (i = 0; i < sizeof(busy) / sizeof(busy[0]); i++)
			if (strcmp(code, busy[i]) == 0)
				return WC2SF_SF_UNAVAILABLE;
		if (strcmp(code, "DUPLICATE_VALUE") == 0 &&
		    racing_create(message, key_field))
			return WC2SF_SF_UNAVAILABLE;
	}
	if (status <= 0 || status >= 500 || status == 429)
		return WC2SF_SF_UNAVAILABLE;
	return WC2SF_SF_REJECTED;
}

enum wc2sf_result
sf_classify(int http_status, const char *code, const char *message)
{
	return sf_wire_classify(http_status, code, message, NULL);
}

bool
sf_wire_limit_info(const char *value, long *used, long *max)
{
	static const char word[] = "api-usage=";
	const char *p = value;
	char *end;
	long u, m;

	while ((p = strstr(p, word)) != NULL) {
		if (p == value || p[-1] == ';' || p[-1] == ' ' ||
		    p[-1] == '\t')
			break;
		p += sizeof(word) - 1;
	}
	if (p == NULL)
		return false;
	p += sizeof(word) - 1;
	u = strtol(p, &end, 10);
	if (end == p || *end != '/' || u < 0)
		return false;
	p = end + 1;
	m = strtol(p, &end, 10);
	if (end == p || m < 0)
		return false;
	*used = u;
	*max = m;
	return true;
}
