#ifndef WC2SF_WEBHOOK_H
#define WC2SF_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>

/*
 * One HTTP request as wc2sf needs it, whatever carried it (FastCGI, CGI,
 * a test). Strings point into memory the caller owns and keeps alive for
 * the request; absent headers are NULL.
 */
struct webhook_request {
	const char *method;		/* "POST" */
	const char *content_type;
	long content_length;		/* -1: not given or not digits */
	const char *topic;		/* X-WC-Webhook-Topic */
	const char *resource;		/* X-WC-Webhook-Resource */
	const char *event;		/* X-WC-Webhook-Event */
	const char *signature;		/* X-WC-Webhook-Signature */
	const char *webhook_id;		/* X-WC-Webhook-ID */
	const char *delivery_id;	/* X-WC-Webhook-Delivery-ID */
	const char *source;		/* X-WC-Webhook-Source */
	const unsigned char *body;
	size_t body_len;
};

/*
 * Set the field for a header, matching the name without regard to case
 * and accepting both the wire form ("X-WC-Webhook-Topic", "Content-Type")
 * and the CGI form ("HTTP_X_WC_WEBHOOK_TOPIC", "CONTENT_TYPE"). Returns
 * true if the name is one wc2sf reads; other names are ignored.
 */
bool webhook_set_header(struct webhook_request *req, const char *name,
    const char *value);

/* True if any X-WC-Webhook-* header is present. */
bool webhook_has_wc_headers(const struct webhook_request *req);

/*
 * The ping: a form body "webhook_id=N" (N decimal digits, nothing else)
 * and no X-WC-Webhook-* headers at all.
 */
bool webhook_is_ping(const struct webhook_request *req);

/*
 * The topic is "resource.event" with resource and event of [a-z0-9_]; a
 * topic header that disagrees with Resource/Event headers present, or a
 * missing topic, is a bad request. Returns true when usable.
 */
bool webhook_topic_valid(const struct webhook_request *req);

#endif
