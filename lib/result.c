#include "result.h"

/*
 * The table of DESIGN.md "Reply codes". A verified, journaled delivery
 * never gets a failure code: Salesforce trouble is 202, because
 * WooCommerce never retries and disables a webhook after a few failures.
 */
static const struct {
	const char *name;
	int http;
} results[] = {
	[WC2SF_OK] = { "synced", 200 },
	[WC2SF_PING] = { "ping", 200 },
	[WC2SF_DUPLICATE] = { "duplicate", 200 },
	[WC2SF_STALE] = { "stale", 200 },
	[WC2SF_IGNORED] = { "ignored", 200 },
	[WC2SF_QUEUED] = { "queued", 202 },
	[WC2SF_DEAD] = { "dead", 202 },
	[WC2SF_BAD_METHOD] = { "bad_method", 405 },
	[WC2SF_TOO_LARGE] = { "too_large", 413 },
	[WC2SF_BAD_REQUEST] = { "bad_request", 400 },
	[WC2SF_BAD_PAYLOAD] = { "bad_payload", 400 },
	[WC2SF_BAD_SIGNATURE] = { "bad_signature", 401 },
	[WC2SF_SF_UNAVAILABLE] = { "sf_unavailable", 202 },
	[WC2SF_SF_REJECTED] = { "sf_rejected", 202 },
	[WC2SF_SF_AUTH] = { "sf_auth", 202 },
	[WC2SF_JOURNAL_FAILED] = { "journal_failed", 503 },
	[WC2SF_NO_MEMORY] = { "no_memory", 503 },
	[WC2SF_CONFIG] = { "config", 503 },
	[WC2SF_INTERNAL] = { "internal", 500 },
};

int
wc2sf_result_http(enum wc2sf_result result)
{
	if ((unsigned)result >= sizeof(results) / sizeof(results[0]))
		return 500;
	return results[result].http;
}

const char *
wc2sf_result_name(enum wc2sf_result result)
{
	if ((unsigned)result >= sizeof(results) / sizeof(results[0]))
		return "internal";
	return results[result].name;
}
