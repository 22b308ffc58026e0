/*
 * webhook.c: header names in wire and CGI form, the ping on the real
 * captured pings and its near misses, topic checks on every real
 * delivery and on malformed topics.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "webhook.h"

#define MAX_HEADERS 32

/* A captured delivery: its header lines split in place, and its body. */
struct capture {
	char *raw;
	const char *names[MAX_HEADERS];
	const char *values[MAX_HEADERS];
	int count;
	unsigned char *body;
	size_t body_len;
};

static const char *
shared_dir(void)
{
	const char *d = getenv("WC2SF_SHARED");

	return d != NULL && d[0] != '\0' ? d : "tests";
}

static unsigned char *
slurp(const char *path, size_t *len)
{
	unsigned char *buf = NULL;
	long size;
	FILE *f;

	f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)size + 1);
		if (buf != NULL &&
		    fread(buf, 1, (size_t)size, f) != (size_t)size) {
			free(buf);
			buf = NULL;
		}
		if (buf != NULL) {
			buf[size] = '\0';
			*len = (size_t)size;
		}
	}
	fclose(f);
	return buf;
}

/* Read base.headers (request line, "Name: value" lines) and base.body. */
static void
load_capture(const char *dir, const char *base, struct capture *c)
{
	char path[4400];
	char *line, *end, *colon;
	size_t len;

	memset(c, 0, sizeof(*c));
	snprintf(path, sizeof(path), "%s/%s.headers", dir, base);
	c->raw = (char *)slurp(path, &len);
	assert_non_null(c->raw);
	line = strstr(c->raw, "\r\n");
	assert_non_null(line);
	for (line += 2; (end = strstr(line, "\r\n")) != NULL &&
	    end != line; line = end + 2) {
		*end = '\0';
		colon = strchr(line, ':');
		assert_non_null(colon);
		*colon = '\0';
		for (colon++; *colon == ' '; colon++)
			;
		assert_true(c->count < MAX_HEADERS);
		c->names[c->count] = line;
		c->values[c->count++] = colon;
	}
	snprintf(path, sizeof(path), "%s/%s.body", dir, base);
	c->body = slurp(path, &c->body_len);
	assert_non_null(c->body);
}

/* A request from a capture, as a front end would build it. */
static void
fill_request(struct webhook_request *req, const struct capture *c)
{
	int i;

	memset(req, 0, sizeof(*req));
	req->method = "POST";
	req->content_length = -1;
	for (i = 0; i < c->count; i++)
		webhook_set_header(req, c->names[i], c->values[i]);
	req->body = c->body;
	req->body_len = c->body_len;
}

static void
free_capture(struct capture *c)
{
	free(c->raw);
	free(c->body);
}

/*
 * Every capture in the real set: the 15 pings must be pings, the rest
 * must not be and must carry a valid topic matching the file name.
 */
static void
test_real_captures(void **state)
{
	char dir[4096], base[256], topic[256];
	struct webhook_request req;
	struct capture c;
	struct dirent *de;
	int pings = 0, deliveries = 0;
	size_t n;
	char *u;
	DIR *d;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/fixtures/woocommerce-10.0.2",
	    shared_dir());
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		if (n < 9 || n - 8 >= sizeof(base) ||
		    strcmp(de->d_name + n - 8, ".headers") != 0)
			continue;
		memcpy(base, de->d_name, n - 8);
		base[n - 8] = '\0';
		load_capture(dir, base, &c);
		fill_request(&req, &c);
		assert_int_equal(req.content_length, (long)c.body_len);
		if (strstr(base, "-ping") != NULL) {
			if (!webhook_is_ping(&req))
				fail_msg("%s is not taken for a ping", base);
			assert_false(webhook_has_wc_headers(&req));
			assert_string_equal(req.content_type,
			    "application/x-www-form-urlencoded");
			pings++;
		} else {
			if (webhook_is_ping(&req))
				fail_msg("%s is taken for a ping", base);
			if (!webhook_topic_valid(&req))
				fail_msg("%s: topic refused", base);
			snprintf(topic, sizeof(topic), "%s",
			    strchr(base, '-') + 1);
			u = strchr(topic, '_');
			assert_non_null(u);
			*u = '.';
			assert_string_equal(req.topic, topic);
			assert_non_null(req.signature);
			assert_non_null(req.webhook_id);
			assert_non_null(req.delivery_id);
			assert_non_null(req.source);
			assert_string_equal(req.content_type,
			    "application/json");
			deliveries++;
		}
		free_capture(&c);
	}
	closedir(d);
	assert_int_equal(pings, 15);
	assert_int_equal(deliveries, 105);
}

static bool
ping_body(const char *body, size_t len)
{
	struct webhook_request req;

	memset(&req, 0, sizeof(req));
	req.content_length = -1;
	req.body = (const unsigned char *)body;
	req.body_len = len;
	return webhook_is_ping(&req);
}

#define PING(s) ping_body((s), sizeof(s) - 1)

static void
test_ping_near_misses(void **state)
{
	struct webhook_request req;
	static const char *const wc[] = {
		"X-WC-Webhook-Topic", "X-WC-Webhook-Resource",
		"X-WC-Webhook-Event", "X-WC-Webhook-Signature",
		"X-WC-Webhook-ID", "X-WC-Webhook-Delivery-ID",
		"X-WC-Webhook-Source"
	};
	size_t i;

	(void)state;
	assert_true(PING("webhook_id=9"));
	assert_true(PING("webhook_id=0"));
	assert_true(PING("webhook_id=1234567890123"));
	assert_false(PING("webhook_id="));
	assert_false(PING("webhook_id=1&x=2"));
	assert_false(PING("x=2&webhook_id=1"));
	assert_false(PING("webhook_id=12\n"));
	assert_false(PING("webhook_id=12\r\n"));
	assert_false(PING(" webhook_id=12"));
	assert_false(PING("webhook_id= 12"));
	assert_false(PING("webhook_id=-1"));
	assert_false(PING("webhook_id=1a"));
	assert_false(PING("webhook_id=0x1f"));
	assert_false(PING("Webhook_id=1"));
	assert_false(PING("webhook_id%3D1"));
	assert_false(PING("webhook_id=12\0"));
	assert_false(PING("{\"webhook_id\":12}"));
	assert_false(PING(""));
	assert_false(ping_body(NULL, 0));
	/* A prefix of the body is not the body. */
	assert_false(ping_body("webhook_id=12", 11));
	assert_true(ping_body("webhook_id=12&more", 13));

	/* The ping body with any one X-WC-Webhook-* header is not one. */
	for (i = 0; i < sizeof(wc) / sizeof(wc[0]); i++) {
		memset(&req, 0, sizeof(req));
		req.body = (const unsigned char *)"webhook_id=3";
		req.body_len = 12;
		assert_true(webhook_is_ping(&req));
		assert_true(webhook_set_header(&req, wc[i], ""));
		assert_true(webhook_has_wc_headers(&req));
		if (webhook_is_ping(&req))
			fail_msg("a ping body with %s passed", wc[i]);
	}
}

/* Each name form sets the right field, and only that one. */
static void
test_header_forms(void **state)
{
	static const struct {
		const char *name;
		size_t field;
	} forms[] = {
#define W(n, m) { n, offsetof(struct webhook_request, m) }
		W("X-WC-Webhook-Topic", topic),
		W("HTTP_X_WC_WEBHOOK_TOPIC", topic),
		W("x-wc-webhook-topic", topic),
		W("X-wC-wEbHoOk-ToPiC", topic),
		W("http_x_wc_webhook_topic", topic),
		W("X-WC-Webhook-Resource", resource),
		W("HTTP_X_WC_WEBHOOK_RESOURCE", resource),
		W("X-WC-Webhook-Event", event),
		W("HTTP_X_WC_WEBHOOK_EVENT", event),
		W("X-WC-Webhook-Signature", signature),
		W("HTTP_X_WC_WEBHOOK_SIGNATURE", signature),
		W("x-wc-webhook-signature", signature),
		W("X-WC-Webhook-ID", webhook_id),
		W("HTTP_X_WC_WEBHOOK_ID", webhook_id),
		W("X-WC-Webhook-Delivery-ID", delivery_id),
		W("HTTP_X_WC_WEBHOOK_DELIVERY_ID", delivery_id),
		W("X-WC-Webhook-Source", source),
		W("HTTP_X_WC_WEBHOOK_SOURCE", source),
		W("Content-Type", content_type),
		W("CONTENT_TYPE", content_type),
		W("content-type", content_type),
		W("HTTP_CONTENT_TYPE", content_type),
#undef W
	};
	struct webhook_request req, blank;
	const char *got;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		memset(&req, 0, sizeof(req));
		assert_true(webhook_set_header(&req, forms[i].name, "v"));
		memcpy(&got, (char *)&req + forms[i].field, sizeof(got));
		if (got == NULL || strcmp(got, "v") != 0)
			fail_msg("%s did not set its field", forms[i].name);
		/* Nothing else was touched. */
		memcpy((char *)&req + forms[i].field, &(const char *){ NULL },
		    sizeof(got));
		memset(&blank, 0, sizeof(blank));
		if (memcmp(&req, &blank, sizeof(req)) != 0)
			fail_msg("%s set another field", forms[i].name);
	}
	/* A NULL value unsets, so the header counts as absent again. */
	memset(&req, 0, sizeof(req));
	webhook_set_header(&req, "X-WC-Webhook-Topic", "order.created");
	assert_true(webhook_has_wc_headers(&req));
	webhook_set_header(&req, "X-WC-Webhook-Topic", NULL);
	assert_null(req.topic);
	assert_false(webhook_has_wc_headers(&req));
}

static void
test_content_length(void **state)
{
	static const struct {
		const char *value;
		long want;
	} cases[] = {
		{ "12", 12 }, { "0", 0 }, { "0012", 12 },
		{ "1995", 1995 }, { "123456789012345678", 123456789012345678L },
		{ "", -1 }, { "abc", -1 }, { "-5", -1 }, { "+5", -1 },
		{ " 5", -1 }, { "5 ", -1 }, { "1e3", -1 },
		{ "1234567890123456789", -1 }, { NULL, -1 },
	};
	static const char *const names[] = {
		"Content-Length", "CONTENT_LENGTH", "content-length",
		"HTTP_CONTENT_LENGTH"
	};
	struct webhook_request req;
	size_t i, j;

	(void)state;
	for (j = 0; j < sizeof(names) / sizeof(names[0]); j++) {
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			memset(&req, 0, sizeof(req));
			req.content_length = 77;
			assert_true(webhook_set_header(&req, names[j],
			    cases[i].value));
			if (req.content_length != cases[i].want)
				fail_msg("%s: \"%s\" gave %ld", names[j],
				    cases[i].value ? cases[i].value : "NULL",
				    req.content_length);
		}
	}
}

/* Names wc2sf does not read are ignored and change nothing. */
static void
test_other_headers(void **state)
{
	static const char *const names[] = {
		"Host", "User-Agent", "REQUEST_METHOD", "HTTP_HOST",
		"X-WC-Webhook", "X-WC-Webhook-Topics", "X-WC-Webhook-Topi",
		"HTTP_X_WC_WEBHOOK_TOPIC_", "X-WC-Delivery-ID",
		"X_WC_Webhook_Topic ", "HTTP__X_WC_WEBHOOK_TOPIC",
		"Content-Type-X", "", "HTTP_", "X-WC-Webhook-Foo"
	};
	struct webhook_request req, blank;
	size_t i;

	(void)state;
	memset(&blank, 0, sizeof(blank));
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		memset(&req, 0, sizeof(req));
		if (webhook_set_header(&req, names[i], "x"))
			fail_msg("\"%s\" was taken", names[i]);
		assert_memory_equal(&req, &blank, sizeof(req));
	}
	assert_false(webhook_set_header(&req, NULL, "x"));
}

static bool
topic_ok(const char *topic, const char *resource, const char *event)
{
	struct webhook_request req;

	memset(&req, 0, sizeof(req));
	req.topic = topic;
	req.resource = resource;
	req.event = event;
	return webhook_topic_valid(&req);
}

static void
test_topics(void **state)
{
	(void)state;
	assert_true(topic_ok("order.created", NULL, NULL));
	assert_true(topic_ok("order.created", "order", "created"));
	assert_true(topic_ok("order.created", "order", NULL));
	assert_true(topic_ok("order.created", NULL, "created"));
	assert_true(topic_ok("product.published", "product", "published"));
	assert_true(topic_ok("action.woocommerce_order_status_completed",
	    "action", "woocommerce_order_status_completed"));
	assert_true(topic_ok("a1_.b2_", NULL, NULL));

	assert_false(topic_ok(NULL, NULL, NULL));
	assert_false(topic_ok(NULL, "order", "created"));
	assert_false(topic_ok("", NULL, NULL));
	assert_false(topic_ok("order", NULL, NULL));
	assert_false(topic_ok(".created", NULL, NULL));
	assert_false(topic_ok("order.", NULL, NULL));
	assert_false(topic_ok(".", NULL, NULL));
	assert_false(topic_ok("order.created.x", NULL, NULL));
	assert_false(topic_ok("order..created", NULL, NULL));
	assert_false(topic_ok("Order.created", NULL, NULL));
	assert_false(topic_ok("order.Created", NULL, NULL));
	assert_false(topic_ok("order created", NULL, NULL));
	assert_false(topic_ok("order.created ", NULL, NULL));
	assert_false(topic_ok("order-x.created", NULL, NULL));
	assert_false(topic_ok("order.cr\xc3\xa9\xc3\xa9", NULL, NULL));
	/* Resource and Event must agree with the topic when present. */
	assert_false(topic_ok("order.created", "product", "created"));
	assert_false(topic_ok("order.created", "order", "updated"));
	assert_false(topic_ok("order.created", "orde", NULL));
	assert_false(topic_ok("order.created", "orders", NULL));
	assert_false(topic_ok("order.created", "", NULL));
	assert_false(topic_ok("order.created", NULL, ""));
	assert_false(topic_ok("order.created", "Order", "created"));
	assert_false(topic_ok("order.created", NULL, "created "));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_captures),
		cmocka_unit_test(test_ping_near_misses),
		cmocka_unit_test(test_header_forms),
		cmocka_unit_test(test_content_length),
		cmocka_unit_test(test_other_headers),
		cmocka_unit_test(test_topics),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
