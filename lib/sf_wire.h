#ifndef WC2SF_SF_WIRE_H
#define WC2SF_SF_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>

#include "config.h"
#include "map.h"
#include "result.h"
#include "salesforce.h"

/*
 * The half of the Salesforce client that touches no network: what goes
 * on the wire and how to read what comes back. salesforce.c moves the
 * bytes; these functions build bodies, read responses and classify
 * errors, so tests can check them byte for byte.
 *
 *   sf_wire.c  path encoding, packing a plan into composite requests
 *   sf_read.c  reading composite and error responses, classification
 *   sf_auth.c  OAuth form bodies, JWT assertions, token responses
 *
 * Strings written into caller buffers are always NUL-terminated and cut
 * to fit. No function here logs a token, secret or body.
 */

/* Salesforce's composite limits (reference §4.1, §4.2). */
#define SF_WIRE_MAX_SUBREQUESTS	25
#define SF_WIRE_MAX_COLLECTIONS	5
#define SF_WIRE_MAX_RECORDS	200

/* Room for an access or refresh token and for an instance URL. */
#define SF_TOKEN_MAX		4096
#define SF_URL_MAX		512

/*
 * Percent-encode in for one URL path segment or form value: every byte
 * outside RFC 3986's unreserved set (A-Z a-z 0-9 - . _ ~) becomes %XX,
 * so "a/b c%+" is "a%2Fb%20c%25%2B". Returns false, with out empty, if
 * the result does not fit in size bytes.
 */
bool sf_wire_pct_encode(const char *in, char *out, size_t size);

/*
 * Parse exactly len bytes as one JSON value (white space around it
 * allowed); the caller puts the result. NULL for an empty, truncated or
 * non-JSON body, such as the HTML page Salesforce's edge sends with a
 * 503, and for the literal null, which no caller wants either.
 */
struct json_object *sf_wire_parse(const char *body, size_t len);

/*
 * Drop an incomplete UTF-8 sequence from the end of s, as left by
 * cutting a longer text to fit a buffer.
 */
void sf_wire_utf8_cut(char *s);

/*
 * Small readers and writers both halves share. sf_wire_member() is
 * o[key] when o is an object that has it, else NULL;
 * sf_wire_member_str() the same when the value is a string. The caller
 * does not own what they return. sf_wire_copy_str() copies s (NULL: "")
 * into buf, cut to fit on a character boundary.
 */
struct json_object *sf_wire_member(struct json_object *o, const char *key);
const char *sf_wire_member_str(struct json_object *o, const char *key);
bool sf_wire_is_array(struct json_object *o);
void sf_wire_copy_str(char *buf, size_t size, const char *s);

/* What one subrequest of a composite stands for. */
enum sf_sub_kind {
	SF_SUB_UPSERT = 0,	/* sObject Collections upsert, <= 200 records */
	SF_SUB_LOOKUP,		/* GET by external ID before an update */
	SF_SUB_UPDATE,		/* PATCH by the Id its lookup found */
	SF_SUB_DELETE,		/* DELETE by external ID */
	SF_SUB_UPSERT_ONE	/* one record's upsert by external ID URL */
};

struct sf_sub {
	enum sf_sub_kind kind;
	const char *sobject;		/* the plan's static strings */
	const char *ext_field;
	size_t step;			/* index into plan->steps */
	size_t records;			/* records it carries */
};

/*
 * One POST /composite: the request body and, per subrequest, what it
 * was for, so the response can be read in the same order. Upserts go
 * in composites with allOrNone true; updates and deletes, where a
 * missing record is no error, in composites with allOrNone false.
 * The body is JSON text written straight from the plan's records.
 */
struct sf_composite {
	bool all_or_none;
	size_t nsubs;
	size_t ncollections;
	struct sf_sub subs[SF_WIRE_MAX_SUBREQUESTS];
	char *body;			/* owned, NUL-terminated */
	size_t len;			/* strlen(body) */
	size_t cap;			/* bytes allocated */
};

struct sf_pack {
	size_t n;
	size_t cap;
	struct sf_composite *parts;	/* owned */
};

/* True when some record value of the plan is MAP_STANDARD_PRICEBOOK. */
bool sf_wire_needs_pricebook(const struct map_plan *plan);

/*
 * True when an external ID value can travel in a URL path as it is:
 * 1 to 80 characters of A-Z a-z 0-9 '-' '_' (WooCommerce ids, "std-12",
 * "order-7"). Anything else (e-mails, '/', '%', '+', spaces, non-ASCII,
 * a dot that Salesforce may take for a file type) only goes in bodies.
 */
bool sf_wire_key_safe(const char *value);

/*
 * Pack the plan into as few composites as the limits allow, in step
 * order: consecutive upsert steps share allOrNone composites;
 * consecutive update-only and delete steps share allOrNone-false
 * composites (two subrequests per updated record, one per deleted
 * record). An upsert step of one record whose key sf_wire_key_safe()
 * is one sObject upsert subrequest (PATCH .../{Type}/{Field}/{value}),
 * which does not count against the 5 collections; other steps are cut
 * into collections of 200 records, and a chunk that finds the
 * composite's collections used up goes as single upserts when its keys
 * are safe and the 25 subrequests allow, else to the next composite.
 * version is "62.0". Every string value equal to
 * MAP_STANDARD_PRICEBOOK is replaced with pricebook_id, which may be
 * NULL only when the plan holds none. The plan is not changed.
 *
 * Returns WC2SF_OK; WC2SF_SF_REJECTED when a record cannot be sent (an
 * update or delete without a usable key value; why says which);
 * WC2SF_NO_MEMORY. pack is always safe to pass to sf_pack_free().
 */
enum wc2sf_result sf_wire_pack(const struct map_plan *plan,
    const char *version, const char *pricebook_id, struct sf_pack *pack,
    char *why, size_t whylen);

void sf_pack_free(struct sf_pack *pack);

/*
 * The request body of c as compact JSON, byte for byte what json-c
 * would print for it (JSON_C_TO_STRING_PLAIN, '/' left alone); owned
 * by c.
 */
const char *sf_wire_body(const struct sf_composite *c);

/*
 * Read the answer to composite c. Ids written are appended to out->ids
 * (created when NULL) by sObject type. The first error that is not a
 * rollback echo (PROCESSING_HALTED, ALL_OR_NONE_OPERATION_ROLLED_BACK)
 * fills out->code and out->message and is classified; a lookup that
 * found nothing, the update halted behind it, and a delete of a record
 * already gone are no errors. A body that is not JSON, or not shaped
 * like a composite answer, is WC2SF_SF_UNAVAILABLE. status is the HTTP
 * status of the whole response.
 */
enum wc2sf_result sf_wire_read_composite(const struct sf_composite *c,
    long status, const char *body, size_t len, struct sf_outcome *out);

/*
 * Read a response that is not a success: a REST error array, a 300
 * list of URLs, HTML or nothing. Fills out->code, out->message and
 * out->daily_limit and returns the classification (never WC2SF_OK).
 */
enum wc2sf_result sf_wire_read_error(long status, const char *body,
    size_t len, struct sf_outcome *out);

/*
 * Read the answer to the standard price book query into id. A book that
 * is missing or inactive is WC2SF_SF_REJECTED with a message saying
 * what to do; errors as sf_wire_read_error().
 */
enum wc2sf_result sf_wire_read_pricebook(long status, const char *body,
    size_t len, char *id, size_t idlen, struct sf_outcome *out);

/*
 * sf_classify() with the upsert key known: DUPLICATE_VALUE counts as a
 * racing create (unavailable, the retry updates) only when the message
 * names key_field; with key_field NULL any "duplicate value found"
 * clash on a unique field counts.
 */
enum wc2sf_result sf_wire_classify(long status, const char *code,
    const char *message, const char *key_field);

/*
 * Parse a Sforce-Limit-Info value ("api-usage=25/5000;
 * per-app-api-usage=17/250(appName=x)") for the org-wide api-usage pair.
 */
bool sf_wire_limit_info(const char *value, long *used, long *max);

/* sf_auth.c */

/* The credentials one token request needs; NULL when absent. */
struct sf_auth_creds {
	enum sf_auth flow;
	const char *client_id;
	const char *client_secret;
	const char *username;
	const char *password;
	const char *refresh_token;
	const char *assertion;		/* signed JWT, for SF_AUTH_JWT */
};

/*
 * The form body of a token request (application/x-www-form-urlencoded,
 * values percent-encoded). *form is malloc'd; the caller wipes and frees
 * it, since it holds secrets. WC2SF_SF_AUTH with why naming the missing
 * setting when a credential the flow needs is absent; WC2SF_NO_MEMORY.
 */
enum wc2sf_result sf_auth_form(const struct sf_auth_creds *creds,
    char **form, char *why, size_t whylen);

/*
 * The JWT audience: cfg->audience when set; https://test.salesforce.com
 * when login_url's host is test.salesforce.com or a sandbox My Domain
 * (name--sandbox.sandbox.my.salesforce.com); else
 * https://login.salesforce.com.
 */
void sf_auth_audience(const char *login_url, const char *audience,
    char *out, size_t size);

/* Read a PEM private key; NULL with err filled (no key material). */
EVP_PKEY *sf_auth_load_key(const char *path, char *err, size_t errlen);

/*
 * A JWT bearer assertion: header {"alg":"RS256"}, claims iss, sub, aud
 * and exp = now + 180 s, each part base64url without padding, signed
 * RS256 with key. Returns a malloc'd string or NULL.
 */
char *sf_auth_jwt(EVP_PKEY *key, const char *iss, const char *sub,
    const char *aud, time_t now);

/* base64url without padding of len bytes; false if out is too small. */
bool sf_auth_b64url(const unsigned char *in, size_t len, char *out,
    size_t size);

/* "password", "client_credentials", "jwt", "refresh_token". */
const char *sf_auth_flow_name(enum sf_auth flow);

/* A token endpoint answer. */
struct sf_token {
	char access[SF_TOKEN_MAX];
	char instance_url[SF_URL_MAX];
	char refresh[SF_TOKEN_MAX];	/* "" unless Salesforce rotated it */
};

/*
 * Read a token endpoint response. WC2SF_OK with tok filled (instance_url
 * checked to be https); WC2SF_SF_AUTH for errors only a person can fix
 * (invalid_grant, invalid_client_id, invalid_client,
 * unsupported_grant_type, invalid_app_access, any other 4xx) with
 * Salesforce's words and what to do in out->message;
 * WC2SF_SF_UNAVAILABLE for 5xx, 429, unknown_error, HTML or nothing.
 */
enum wc2sf_result sf_auth_read_token(long status, const char *body,
    size_t len, struct sf_token *tok, struct sf_outcome *out);

#endif
