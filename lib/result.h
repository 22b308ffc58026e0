#ifndef WC2SF_RESULT_H
#define WC2SF_RESULT_H

/*
 * One result code for everything that can happen to a delivery. Every
 * module returns these; wc2sf_result_http() is the one place that turns
 * them into an HTTP status, wc2sf_result_name() into the word used in
 * replies, logs and the journal. The human sentence travels beside the
 * code in a caller's buffer, never inside it.
 */
enum wc2sf_result {
	WC2SF_OK = 0,		/* synced to Salesforce */
	WC2SF_PING,		/* WooCommerce checking the URL */
	WC2SF_DUPLICATE,	/* same body already journaled */
	WC2SF_STALE,		/* older than the version applied */
	WC2SF_IGNORED,		/* topic, status or body not synced */
	WC2SF_QUEUED,		/* journaled, Salesforce to be retried */
	WC2SF_DEAD,		/* journaled, Salesforce refused it */
	WC2SF_BAD_METHOD,	/* not POST */
	WC2SF_TOO_LARGE,	/* body over max_body */
	WC2SF_BAD_REQUEST,	/* a required header missing or malformed */
	WC2SF_BAD_PAYLOAD,	/* body not JSON or not the expected shape */
	WC2SF_BAD_SIGNATURE,	/* signature missing or wrong */
	WC2SF_SF_UNAVAILABLE,	/* network, 5xx, limits, lock: retry later */
	WC2SF_SF_REJECTED,	/* Salesforce refused the data: dead letter */
	WC2SF_SF_AUTH,		/* sign-in needs a person; keep pending */
	WC2SF_JOURNAL_FAILED,	/* the journal cannot be written */
	WC2SF_NO_MEMORY,
	WC2SF_CONFIG,		/* configuration missing or invalid */
	WC2SF_INTERNAL		/* a bug; never expected */
};

/* The HTTP status WooCommerce gets for a delivery that ended so. */
int wc2sf_result_http(enum wc2sf_result result);

/* A short lower_snake word: "synced", "bad_signature", ... */
const char *wc2sf_result_name(enum wc2sf_result result);

#endif
