#ifndef WC2SF_SALESFORCE_H
#define WC2SF_SALESFORCE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "map.h"
#include "result.h"

struct json_object;
struct sf_session;

/*
 * What one call to Salesforce came to, beside its result code. code and
 * message carry Salesforce's own errorCode (or statusCode, or OAuth
 * error) and words; they are empty on success. ids is owned by the
 * outcome: {"Account":["001..."],"Contact":["003..."]}.
 */
struct sf_outcome {
	char code[64];
	char message[512];
	struct json_object *ids;
	long sf_ms;			/* time spent waiting for Salesforce */
	long sf_us;			/* the same in microseconds */
	int requests;			/* HTTP requests made, token included */
	int token_requests;		/* of which to the token endpoint */
	int http_status;		/* of the last response; 0 if none */
	bool daily_limit;		/* TotalRequests limit exceeded */
};

void sf_outcome_clear(struct sf_outcome *out);

/*
 * A session keeps one libcurl handle (connections reused across
 * requests) and the current access token. It makes no request until the
 * first call. cfg is borrowed and must outlive the session. NULL on
 * failure with err filled.
 */
struct sf_session *sf_open(const struct config *cfg, char *err,
    size_t errlen);
void sf_close(struct sf_session *sf);

/*
 * Where worker processes share an access token (lib/tokens.c keeps it
 * in the journal). load copies a token and its instance URL into the
 * buffers and returns 0, or returns -1 when there is none; save returns
 * 0 or -1. A session with a store loads from it before signing in and
 * saves every token it obtains; a failed save is logged and otherwise
 * ignored.
 *
 * The other members are optional (NULL when the store has none):
 *  lock, unlock   serialize sign-in across processes. lock returns 0
 *                 once this process may sign in, -1 when another one
 *                 held the lock too long (the caller then gives up for
 *                 now: Salesforce unavailable). Under the lock the
 *                 session looks at the store again and takes a token
 *                 another process saved meanwhile instead of asking for
 *                 one, so a cold start of many workers and a 401 seen
 *                 by all of them each cost one token request.
 *  load_refresh   the current refresh token, when Salesforce rotated
 *                 the configured one (0), or -1 to use the configured.
 *  save_refresh   keep a rotated refresh token durably before anything
 *                 else happens; 0 or -1.
 *  release        called once when the session stops using the store
 *                 (sf_close, or another sf_set_token_store).
 */
struct sf_token_store {
	int (*load)(void *ctx, char *token, size_t n, char *instance_url,
	    size_t m);
	int (*save)(void *ctx, const char *token, const char *instance_url);
	void *ctx;
	int (*lock)(void *ctx);
	void (*unlock)(void *ctx);
	int (*load_refresh)(void *ctx, char *token, size_t n);
	int (*save_refresh)(void *ctx, const char *token);
	void (*release)(void *ctx);
};

/*
 * Use store (copied) from now on; NULL stops using one. The previous
 * store, if any, is released.
 */
void sf_set_token_store(struct sf_session *sf,
    const struct sf_token_store *store);

/* The configuration the session was opened with. */
const struct config *sf_session_config(const struct sf_session *sf);

/* The instance URL of the current token; "" before any sign-in. */
const char *sf_instance_url(const struct sf_session *sf);

/*
 * Called with the new refresh token whenever Salesforce rotates it
 * (refresh_token flow), after the store's save_refresh (if any) kept
 * it; the session keeps using it in memory either way. NULL removes the
 * hook.
 */
void sf_set_refresh_hook(struct sf_session *sf,
    void (*hook)(void *ctx, const char *refresh_token), void *ctx);

/*
 * The org's API usage from the last Sforce-Limit-Info header seen.
 * Returns false, leaving used and max alone, when none was seen yet.
 */
bool sf_api_usage(const struct sf_session *sf, long *used, long *max);

/*
 * Send the plan: one composite request with allOrNone when it fits
 * Salesforce's limits (25 subrequests, 5 collections, 200 records each),
 * otherwise as few as needed, in step order. A 401 renews the token and
 * repeats the request: a renewal may only reload another process's
 * token from the store, and when that is refused too the next renewal
 * signs in; a token this session signed in for and that is refused
 * needs a person (WC2SF_SF_AUTH). Update-only and delete steps, where a
 * missing record is no error, go in composites without allOrNone. out
 * must be zeroed (or cleared with sf_outcome_clear()) before the call;
 * on failure the requests before the failing one stay written, which a
 * retry repeats harmlessly. Returns
 *   WC2SF_OK             every record written; out->ids filled
 *   WC2SF_SF_UNAVAILABLE network, timeout, 5xx, 429, HTML, lock, limits
 *   WC2SF_SF_REJECTED    Salesforce refused the data (code, message)
 *   WC2SF_SF_AUTH        sign-in failed in a way only a person can fix
 *   WC2SF_NO_MEMORY      out of memory
 *   WC2SF_INTERNAL       the plan breaks map.h's contract (message says)
 */
enum wc2sf_result sf_execute(struct sf_session *sf,
    const struct map_plan *plan, struct sf_outcome *out);

/*
 * Sign in now with the configured flow, whatever token the session or
 * the store holds (for `wc2sf check`); the new token is shared like any
 * other. Same results as sf_execute.
 */
enum wc2sf_result sf_login(struct sf_session *sf, struct sf_outcome *out);

/*
 * GET path (below /services/data/vNN.N, such as "/sobjects/Order/
 * describe") with the session's token, renewed on a 401 as for
 * sf_execute. WC2SF_OK
 * with *answer (the caller puts it) for a 200 JSON answer; otherwise
 * *answer is NULL and out holds Salesforce's error, classified as
 * sf_execute's results are (a 404 NOT_FOUND is WC2SF_SF_REJECTED).
 */
enum wc2sf_result sf_get(struct sf_session *sf, const char *path,
    struct json_object **answer, struct sf_outcome *out);

/*
 * Ask for the standard price book now. WC2SF_OK when it exists and is
 * active; WC2SF_SF_REJECTED with out->code WC2SF_NO_STANDARD_PRICEBOOK
 * or WC2SF_STANDARD_PRICEBOOK_INACTIVE and a sentence saying what to do;
 * other results as sf_execute.
 */
enum wc2sf_result sf_standard_pricebook(struct sf_session *sf,
    struct sf_outcome *out);

/* The API version in every URL, "62.0" (the default when unset). */
const char *sf_api_version(const struct sf_session *sf);

/*
 * Whether the org serves the session's API version, from the version
 * list GET /services/data/ on the instance (it needs no token, but the
 * instance is known only after a sign-in, which this does when the
 * session has no token). WC2SF_OK with *served set and newest holding
 * the newest version listed ("66.0"; "" for an empty list);
 * WC2SF_SF_UNAVAILABLE when the list cannot be had or read, other
 * results as sf_execute.
 */
enum wc2sf_result sf_version_served(struct sf_session *sf, bool *served,
    char *newest, size_t size, struct sf_outcome *out);

/*
 * sf_auth.c, beside what sf_wire.h declares: client_auth = basic.
 * sf_auth_form_basic() is sf_auth_form() that, with basic, checks the
 * client id and secret of the client_credentials and refresh_token
 * flows but leaves them out of the form; sf_auth_basic() writes the
 * header value "Basic " + base64(client_id ":" client_secret) into out
 * (false when either is NULL or out is too small; the caller wipes out).
 */
struct sf_auth_creds;
enum wc2sf_result sf_auth_form_basic(const struct sf_auth_creds *creds,
    bool basic, char **form, char *why, size_t whylen);
bool sf_auth_basic(const char *client_id, const char *client_secret,
    char *out, size_t size);

/*
 * Classify a Salesforce REST error (errorCode or statusCode) and HTTP
 * status as WC2SF_SF_UNAVAILABLE (status 0, 5xx, 429,
 * UNABLE_TO_LOCK_ROW, REQUEST_LIMIT_EXCEEDED, SERVER_UNAVAILABLE,
 * UNKNOWN_EXCEPTION, and a "duplicate value found" DUPLICATE_VALUE,
 * which is a racing create the retry turns into an update) or
 * WC2SF_SF_REJECTED (everything else). Exposed for tests.
 */
enum wc2sf_result sf_classify(int http_status, const char *code,
    const char *message);

#endif
