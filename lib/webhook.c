#include "webhook.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

#define PING_PREFIX "webhook_id="

/*
 * The headers wc2sf reads, named in CGI form without "HTTP_". A wire
 * name matches when it equals this ignoring case, with '-' for '_'.
 */
static const struct {
	const char *name;
	size_t field;		/* offsetof a const char * member */
} string_headers[] = {
	{ "CONTENT_TYPE", offsetof(struct webhook_request, content_type) },
	{ "X_WC_WEBHOOK_TOPIC", offsetof(struct webhook_request, topic) },
	{ "X_WC_WEBHOOK_RESOURCE",
	    offsetof(struct webhook_request, resource) },
	{ "X_WC_WEBHOOK_EVENT", offsetof(struct webhook_request, event) },
	{ "X_WC_WEBHOOK_SIGNATURE",
	    offsetof(struct webhook_request, signature) },
	{ "X_WC_WEBHOOK_ID", offsetof(struct webhook_request, webhook_id) },
	{ "X_WC_WEBHOOK_DELIVERY_ID",
	    offsetof(struct webhook_request, delivery_id) },
	{ "X_WC_WEBHOOK_SOURCE", offsetof(struct webhook_request, source) }
};

static int
upper(int c)
{
	return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

/* True if name (wire or CGI form, "HTTP_" already removed) is cgi. */
static bool
name_is(const char *name, const char *cgi)
{
	for (; *name != '\0' && *cgi != '\0'; name++, cgi++) {
		if (*name == '-' && *cgi == '_')
			continue;
		if (upper((unsigned char)*name) != *cgi)
			return false;
	}
	return *name == '\0' && *cgi == '\0';
}

/*
 * A decimal Content-Length, or -1 when it is empty, signed, padded or too
 * long to be a body size; the web server has checked it already.
 */
static long
parse_length(const char *s)
{
	long n = 0;
	size_t i;

	if (s == NULL || *s == '\0')
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 18)
			return -1;
		n = n * 10 + (s[i] - '0');
	}
	return n;
}

bool
webhook_set_header(struct webhook_request *req, const char *name,
    const char *value)
{
	size_t i;

	if (req == NULL || name == NULL)
		return false;
	if (strncasecmp(name, "HTTP_", 5) == 0)
		name += 5;
	if (name_is(name, "CONTENT_LENGTH")) {
		req->content_length = parse_length(value);
		return true;
	}
	for (i = 0; i < sizeof(string_headers) / sizeof(string_headers[0]);
	    i++) {
		if (name_is(name, string_headers[i].name)) {
			memcpy((char *)req + string_headers[i].field, &value,
			    sizeof(value));
			return true;
		}
	}
	return false;
}

bool
webhook_has_wc_headers(const struct webhook_request *req)
{
	return req->topic != NULL || req->resource != NULL ||
	    req->event != NULL || req->signature != NULL ||
	    req->webhook_id != NULL || req->delivery_id != NULL ||
	    req->source != NULL;
}

/*
 * Exactly what WooCommerce's deliver_ping() posts: no trailing newline,
 * no other form field, at least one digit.
 */
bool
webhook_is_ping(const struct webhook_request *req)
{
	size_t plen = sizeof(PING_PREFIX) - 1;
	size_t i;

	if (req->body == NULL || req->body_len <= plen ||
	    webhook_has_wc_headers(req))
		return false;
	if (memcmp(req->body, PING_PREFIX, plen) != 0)
		return false;
	for (i = plen; i < req->body_len; i++)
		if (req->body[i] < '0' || req->body[i] > '9')
			return false;
	return true;
}

/* A non-empty run of [a-z0-9_] of exactly len bytes. */
static bool
topic_word(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

/*
 * WooCommerce sends Resource and Event as the two halves of the topic;
 * a disagreement means the request was not made by WooCommerce as it is
 * documented, so it is refused rather than guessed at.
 */
bool
webhook_topic_valid(const struct webhook_request *req)
{
	const char *dot, *event;
	size_t rlen;

	if (req->topic == NULL)
		return false;
	dot = strchr(req->topic, '.');
	if (dot == NULL)
		return false;
	rlen = (size_t)(dot - req->topic);
	event = dot + 1;
	if (!topic_word(req->topic, rlen) ||
	    !topic_word(event, strlen(event)))
		return false;
	if (req->resource != NULL && (strlen(req->resource) != rlen ||
	    memcmp(req->resource, req->topic, rlen) != 0))
		return false;
	if (req->event != NULL && strcmp(req->event, event) != 0)
		return false;
	return true;
}
