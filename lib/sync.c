/*
 * The delivery path of DESIGN.md, one request at a time: read checks,
 * ping, signature, journal, order, map, Salesforce, reply; and the drain
 * that retries what Salesforce could not take. This file decides what
 * happens and in which order; the modules it calls know how.
 */
#include "sync.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "journal.h"
#include "log.h"
#include "map.h"
#include "salesforce.h"
#include "signature.h"
#include "tokens.h"

/* Nesting deeper than any WooCommerce payload; deeper is refused. */
#define JSON_MAX_DEPTH 64

/* Backoff for Salesforce trouble: 30 s doubling to 1 h, with jitter. */
#define BACKOFF_FIRST_MS (30 * 1000LL)
#define BACKOFF_MAX_MS (3600 * 1000LL)

/*
 * A drain leaves a delivery this young to the worker that recorded it
 * and is about to send it itself.
 */
#define FRESH_MS 2000

/* After a daily-limit error nothing is sent for this long. */
#define DAILY_LIMIT_PAUSE_MS (3600 * 1000LL)

/*
 * "No pause" read from the journal holds this long in a worker, which
 * then reads the journal once a second instead of three times per
 * delivery. A pause another worker starts meanwhile costs at most one
 * more refused request, which starts it here too.
 */
#define UNPAUSED_FOR_MS 1000

/*
 * Older versions of a resource sent before a new one inside a request,
 * and the time they may take (WooCommerce waits 60 s for the reply);
 * the rest is left to the drain after the reply.
 */
#define CATCH_UP_MAX 8
#define CATCH_UP_MS (15 * 1000LL)

#define PAUSED_MESSAGE "sending paused after Salesforce's daily API " \
	"limit was reached; `wc2sf replay` lifts the pause"

struct sync {
	const struct config *cfg;
	char *key;			/* the entity-decoded secret */
	size_t keylen;
	struct journal *journal;	/* NULL until it can be opened */
	struct sf_session *sf;
	bool skip_drain;		/* the request saw Salesforce fail */
	int64_t unpaused_ms;		/* the journal last said "no pause" */
	char journal_err[512];
};

/* What became of one attempt to send an event, for the reply and log. */
struct attempt {
	enum wc2sf_result result;
	struct sf_outcome out;
	char why[256];
	bool held;		/* not sent: the daily-limit pause holds */
};

static int64_t
now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* Monotonic microseconds, for the time a request takes. */
static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * The loud line for a journal that failed: what wc2sf was doing, for
 * which event (0: none), and the journal's sentence (file and cause).
 */
static void
log_journal(const char *event, int64_t id, const char *error)
{
	char quoted[1100];

	log_error("event=%s id=%lld error=%s", event, (long long)id,
	    log_quote(quoted, sizeof(quoted), error));
}

/*
 * The journal is opened lazily and again on the next request after a
 * failed open, so a worker started while the file was read-only or the
 * disk full recovers once it is not. Once open it stays open until
 * sync_close(): what keeps its state in the journal (the shared token
 * store) is attached here, right after the open, and may keep the
 * pointer.
 */
static struct journal *
sync_journal(struct sync *s)
{
	if (s->journal != NULL)
		return s->journal;
	s->journal = journal_open(s->cfg->store_path, s->journal_err,
	    sizeof(s->journal_err));
	if (s->journal == NULL) {
		log_journal("journal_open", 0, s->journal_err);
		return NULL;
	}
	journal_set_claim_ttl(s->journal,
	    ((int64_t)s->cfg->timeout + 60) * 1000);
	journal_set_fresh(s->journal, FRESH_MS);
	journal_defer_checkpoint(s->journal);
	/* All workers share one Salesforce token through the journal. */
	if (tokens_attach(s->sf, s->journal) != 0)
		log_warn("event=tokens_attach error=\"the shared token store "
		    "is not in use; each worker signs in on its own\"");
	return s->journal;
}

struct sync *
sync_open(const struct config *cfg, char *err, size_t errlen)
{
	struct sync *s;
	size_t len;
	long n;

	s = calloc(1, sizeof(*s));
	if (s == NULL)
		goto nomem;
	s->cfg = cfg;
	len = strlen(cfg->secret) + 1;
	s->key = malloc(len);
	if (s->key == NULL)
		goto nomem;
	n = signature_decode_secret(cfg->secret, s->key, len);
	if (n < 0) {
		snprintf(err, errlen, "cannot decode the webhook secret");
		goto fail;
	}
	s->keylen = (size_t)n;
	s->sf = sf_open(cfg, err, errlen);
	if (s->sf == NULL)
		goto fail;
	(void)sync_journal(s);
	return s;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	sync_close(s);
	return NULL;
}

void
sync_close(struct sync *s)
{
	if (s == NULL)
		return;
	/* The session may borrow the journal (token store): it goes first. */
	if (s->sf != NULL)
		sf_close(s->sf);
	if (s->journal != NULL)
		journal_close(s->journal);
	if (s->key != NULL) {
		explicit_bzero(s->key, s->keylen);
		free(s->key);
	}
	free(s);
}

/*
 * True if obj holds NaN or Infinity written as such: json-c takes these
 * words, JSON has none. (1e400 is valid JSON that json-c also reads as
 * infinite; json-c keeps the text it read, which tells them apart, and
 * the mapping then refuses that number as out of range.)
 */
static bool
has_non_finite(struct json_object *obj)
{
	const char *text;
	size_t i, n;

	switch (json_object_get_type(obj)) {
	case json_type_double:
		if (isfinite(json_object_get_double(obj)))
			return false;
		text = json_object_to_json_string(obj);
		text += text[0] == '-';
		return !isdigit((unsigned char)text[0]);
	case json_type_array:
		n = json_object_array_length(obj);
		for (i = 0; i < n; i++)
			if (has_non_finite(json_object_array_get_idx(obj, i)))
				return true;
		return false;
	case json_type_object: {
		json_object_object_foreach(obj, key, value) {
			(void)key;
			if (has_non_finite(value))
				return true;
		}
		return false;
	}
	default:
		return false;
	}
}

/*
 * True if a single quote stands outside every string: json-c reads
 * 'key' as a string even in strict mode, and JSON has no such thing.
 */
static bool
has_single_quote(const unsigned char *body, size_t len)
{
	bool in_string = false;
	size_t i;

	for (i = 0; i < len; i++) {
		if (in_string) {
			if (body[i] == '\\')
				i++;
			else if (body[i] == '"')
				in_string = false;
		} else if (body[i] == '"') {
			in_string = true;
		} else if (body[i] == '\'') {
			return true;
		}
	}
	return false;
}

/*
 * Parse a body as one JSON object and nothing after it. NULL when it is
 * not, with *why (may be NULL) saying what is wrong: empty, a NUL byte,
 * invalid JSON, nesting deeper than JSON_MAX_DEPTH, trailing bytes, a
 * value that is not an object, or NaN/Infinity, which json-c accepts
 * and JSON does not.
 */
static struct json_object *
parse_body_why(const unsigned char *body, size_t len, const char **why)
{
	struct json_tokener *tok;
	struct json_object *obj = NULL;
	enum json_tokener_error jerr;
	const char *reason = NULL;

	if (len == 0 || len > INT32_MAX) {
		reason = "body is empty";
		goto out;
	}
	if (memchr(body, '\0', len) != NULL) {
		reason = "body holds a NUL byte";
		goto out;
	}
	if (has_single_quote(body, len)) {
		reason = "body is not valid JSON (a single quote outside a "
		    "string)";
		goto out;
	}
	tok = json_tokener_new_ex(JSON_MAX_DEPTH);
	if (tok == NULL) {
		reason = "out of memory";
		goto out;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, (const char *)body, (int)len);
	jerr = json_tokener_get_error(tok);
	if (obj == NULL || jerr != json_tokener_success)
		reason = jerr == json_tokener_error_depth ? "body nests "
		    "deeper than 64 levels" : "body is not valid JSON";
	else if (json_tokener_get_parse_end(tok) != len)
		reason = "body has bytes after the JSON value";
	else if (!json_object_is_type(obj, json_type_object))
		reason = "body is JSON but not an object";
	else if (has_non_finite(obj))
		reason = "body holds NaN or Infinity, which JSON lacks";
	json_tokener_free(tok);
	if (reason != NULL) {
		json_object_put(obj);
		obj = NULL;
	}
out:
	if (why != NULL)
		*why = reason;
	return obj;
}

static struct json_object *
parse_body(const unsigned char *body, size_t len)
{
	return parse_body_why(body, len, NULL);
}

/* Exponential backoff with +-20% jitter, by attempts made so far. */
static int64_t
backoff_ms(int attempts)
{
	int64_t delay = BACKOFF_FIRST_MS;
	int i;

	for (i = 1; i < attempts && delay < BACKOFF_MAX_MS; i++)
		delay *= 2;
	if (delay > BACKOFF_MAX_MS)
		delay = BACKOFF_MAX_MS;
	return delay - delay / 5 + (int64_t)(random() % (delay / 5 * 2 + 1));
}

/*
 * Whether Salesforce has the record of a product or registered customer
 * an order names: a journal that cannot tell says no, and the order
 * then carries what the record needs.
 */
static bool
resource_known(struct sync *s, const char *resource, const char *key)
{
	bool known = false;

	if (s->journal == NULL ||
	    journal_resource_known(s->journal, resource, key, &known) != 0)
		return false;
	return known;
}

static bool
product_known(void *ctx, const char *key)
{
	return resource_known(ctx, "product", key);
}

static bool
customer_known(void *ctx, const char *key)
{
	return resource_known(ctx, "customer", key);
}

int
sync_pause_until(struct journal *j, int64_t *until_ms)
{
	char value[32];
	bool found = false;

	*until_ms = 0;
	if (journal_kv_get(j, SYNC_PAUSE_KEY, value, sizeof(value),
	    &found) != 0)
		return -1;
	if (found)
		*until_ms = strtoll(value, NULL, 10);
	return 0;
}

/*
 * The end of the daily-limit pause, 0 when none: from the journal, or
 * from the last read when that found none less than UNPAUSED_FOR_MS
 * ago. -1 when the journal cannot be read.
 */
static int
pause_read(struct sync *s, int64_t now, int64_t *until)
{
	*until = 0;
	if (s->unpaused_ms != 0 && now - s->unpaused_ms >= 0 &&
	    now - s->unpaused_ms < UNPAUSED_FOR_MS)
		return 0;
	if (sync_pause_until(s->journal, until) != 0)
		return -1;
	s->unpaused_ms = *until == 0 ? now : 0;
	return 0;
}

/* The daily-limit pause holds at now (a journal that fails: no pause). */
static bool
paused(struct sync *s, int64_t now)
{
	int64_t until;

	return pause_read(s, now, &until) == 0 && until > now;
}

/*
 * End the pause: a person replayed (the limit was raised or has reset),
 * or Salesforce took a write again. Says so once in the log.
 */
static void
pause_lift(struct sync *s, const char *why)
{
	int64_t until;

	if (pause_read(s, now_ms(), &until) != 0 || until == 0)
		return;
	if (journal_kv_set(s->journal, SYNC_PAUSE_KEY, NULL) != 0) {
		log_journal("pause_lift", 0, journal_error(s->journal));
		return;
	}
	s->unpaused_ms = now_ms();
	log_warn("event=pause_lifted by=%s was_until_ms=%lld", why,
	    (long long)until);
}

/* Start the pause after Salesforce said its daily limit is used up. */
static void
pause_start(struct sync *s, int64_t until)
{
	char value[32];

	snprintf(value, sizeof(value), "%lld", (long long)until);
	s->unpaused_ms = 0;
	if (journal_kv_set(s->journal, SYNC_PAUSE_KEY, value) != 0)
		log_journal("pause", 0, journal_error(s->journal));
	else
		log_error("event=paused reason=daily_api_limit until_ms=%lld",
		    (long long)until);
}

/*
 * Map one journaled event and send it to Salesforce, then record the
 * outcome. The caller holds the event's claim. Used alike by the live
 * path and by drain and replay, so a retry does exactly what the first
 * attempt did.
 */
static void
send_event(struct sync *s, const struct journal_event *ev,
    struct json_object *body, struct attempt *a)
{
	struct map_plan plan;
	struct map_options opt;
	struct json_object *prev = NULL;
	unsigned char *prev_body = NULL;
	size_t prev_len = 0;
	enum journal_state state;
	const char *ids = "";
	int64_t next = 0, now = now_ms();
	bool found = false;

	memset(a, 0, sizeof(*a));
	memset(&plan, 0, sizeof(plan));
	memset(&opt, 0, sizeof(opt));
	opt.state_picklists = s->cfg->state_picklists;
	opt.sync_statuses = (const char *const *)s->cfg->sync_statuses;
	opt.product_known = product_known;
	opt.customer_known = customer_known;
	opt.ctx = s;
	if (ev->resource_id[0] != '\0' && map_uses_prev(ev->topic) &&
	    journal_last_synced_body(s->journal, ev->resource,
	    ev->resource_id, &prev_body, &prev_len, &found) == 0 && found)
		prev = parse_body(prev_body, prev_len);
	a->result = map_build_since(ev->topic, body, prev, &opt, &plan,
	    a->why, sizeof(a->why));
	if (a->result == WC2SF_OK && paused(s, now)) {
		/* Nothing was sent: no attempt to count. */
		a->result = WC2SF_SF_UNAVAILABLE;
		a->held = true;
		snprintf(a->out.code, sizeof(a->out.code),
		    "REQUEST_LIMIT_EXCEEDED");
		snprintf(a->out.message, sizeof(a->out.message), "%s",
		    PAUSED_MESSAGE);
		if (journal_release(s->journal, ev->id) != 0)
			log_journal("journal_release", ev->id,
			    journal_error(s->journal));
		goto out;
	}
	if (a->result == WC2SF_OK)
		a->result = sf_execute(s->sf, &plan, &a->out);
	switch (a->result) {
	case WC2SF_OK:
		state = JOURNAL_SYNCED;
		if (a->out.ids != NULL)
			ids = json_object_to_json_string_ext(a->out.ids,
			    JSON_C_TO_STRING_PLAIN);
		pause_lift(s, "salesforce_accepted");
		break;
	case WC2SF_IGNORED:
		state = JOURNAL_IGNORED;
		break;
	case WC2SF_SF_UNAVAILABLE:
	case WC2SF_SF_AUTH:
	case WC2SF_NO_MEMORY:
		state = JOURNAL_PENDING;
		next = now + backoff_ms(ev->attempts + 1);
		if (a->out.daily_limit) {
			pause_start(s, now + DAILY_LIMIT_PAUSE_MS);
			next = now + DAILY_LIMIT_PAUSE_MS;
		}
		break;
	default:
		/* Rejected by Salesforce, or a body no table can use. */
		state = JOURNAL_DEAD;
		break;
	}
	if (a->result != WC2SF_OK && a->out.code[0] == '\0' &&
	    a->why[0] != '\0')
		snprintf(a->out.message, sizeof(a->out.message), "%s", a->why);
	if (journal_finish(s->journal, ev->id, state, next, a->out.code,
	    a->out.message, ids) != 0)
		log_journal("journal_finish", ev->id,
		    journal_error(s->journal));
out:
	map_plan_free(&plan);
	json_object_put(prev);
	free(prev_body);
}

/* Salesforce could not take it now; the event stays pending. */
static bool
unavailable(enum wc2sf_result r)
{
	return r == WC2SF_SF_UNAVAILABLE || r == WC2SF_SF_AUTH ||
	    r == WC2SF_NO_MEMORY;
}

/* The result a request reports for an attempt's result. */
static enum wc2sf_result
reply_result(enum wc2sf_result r)
{
	if (unavailable(r))
		return WC2SF_QUEUED;
	return r == WC2SF_SF_REJECTED ? WC2SF_DEAD : r;
}

/*
 * Write the reply body: a short JSON object that WooCommerce's delivery
 * log shows as it is. Salesforce Ids are listed when they fit, counted
 * when they do not.
 */
static void
reply_fill(struct sync_reply *reply, enum wc2sf_result result,
    const struct webhook_request *req, const char *id, int64_t event,
    const struct attempt *a, const char *error)
{
	struct json_object *o, *counts;
	const char *text;

	reply->result = result;
	reply->status = wc2sf_result_http(result);
	o = json_object_new_object();
	if (o == NULL)
		goto fallback;
	json_object_object_add(o, "result",
	    json_object_new_string(wc2sf_result_name(result)));
	if (req != NULL && req->topic != NULL && result != WC2SF_PING)
		json_object_object_add(o, "topic",
		    json_object_new_string(req->topic));
	if (id != NULL && id[0] != '\0')
		json_object_object_add(o, "id", json_object_new_string(id));
	if (event > 0)
		json_object_object_add(o, "event",
		    json_object_new_int64(event));
	if (a != NULL && a->out.code[0] != '\0')
		json_object_object_add(o, "salesforce_error",
		    json_object_new_string(a->out.code));
	if (error != NULL && error[0] != '\0')
		json_object_object_add(o, "error",
		    json_object_new_string(error));
	if (a != NULL && a->out.ids != NULL)
		json_object_object_add(o, "salesforce",
		    json_object_get(a->out.ids));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	if (strlen(text) >= sizeof(reply->body) && a != NULL &&
	    a->out.ids != NULL) {
		counts = json_object_new_object();
		json_object_object_foreach(a->out.ids, type, list)
			json_object_object_add(counts, type,
			    json_object_new_int((int)json_object_array_length(
			    list)));
		json_object_object_add(o, "salesforce", counts);
		text = json_object_to_json_string_ext(o,
		    JSON_C_TO_STRING_PLAIN);
	}
	if (strlen(text) < sizeof(reply->body)) {
		snprintf(reply->body, sizeof(reply->body), "%s", text);
		json_object_put(o);
		return;
	}
	json_object_put(o);
fallback:
	snprintf(reply->body, sizeof(reply->body), "{\"result\":\"%s\"}",
	    wc2sf_result_name(result));
}

/*
 * One line per request. ms and sf_ms are whole milliseconds for people;
 * us and sf_us the same in microseconds, for measuring wc2sf's own time
 * (us - sf_us).
 */
static void
log_request(const struct webhook_request *req, const char *id,
    int64_t event, const struct sync_reply *reply, const struct attempt *a,
    const char *error, int64_t started_us, bool warn)
{
	char topic[96], rid[96], err[300], code[80];
	int64_t us = now_us() - started_us;

	log_at(warn || reply->status >= 400 || reply->result == WC2SF_DEAD ?
	    LOG_LEVEL_WARN : LOG_LEVEL_INFO,
	    "topic=%s id=%s event=%lld result=%s status=%d sf_ms=%ld "
	    "ms=%lld sf_code=%s error=%s us=%lld sf_us=%ld",
	    log_quote(topic, sizeof(topic), req->topic),
	    log_quote(rid, sizeof(rid), id != NULL && id[0] ? id : NULL),
	    (long long)event, wc2sf_result_name(reply->result),
	    reply->status, a != NULL ? a->out.sf_ms : 0L,
	    (long long)(us / 1000),
	    log_quote(code, sizeof(code), a != NULL && a->out.code[0] ?
	    a->out.code : NULL),
	    log_quote(err, sizeof(err), error != NULL && error[0] ? error :
	    NULL), (long long)us, a != NULL ? a->out.sf_us : 0L);
}

/* The checks before anything is stored: method, size, ping, signature. */
static enum wc2sf_result
sync_precheck(struct sync *s, const struct webhook_request *req,
    const char **error)
{
	if (req->method == NULL || strcmp(req->method, "POST") != 0) {
		*error = "only POST is accepted";
		return WC2SF_BAD_METHOD;
	}
	if (req->body_len > s->cfg->max_body) {
		*error = "body larger than max_body";
		return WC2SF_TOO_LARGE;
	}
	if (webhook_is_ping(req))
		return WC2SF_PING;
	if (req->signature == NULL || req->signature[0] == '\0') {
		*error = "X-WC-Webhook-Signature missing";
		return WC2SF_BAD_SIGNATURE;
	}
	if (!signature_verify(s->key, s->keylen, req->body, req->body_len,
	    req->signature)) {
		*error = "signature does not match the configured secret";
		return WC2SF_BAD_SIGNATURE;
	}
	if (!webhook_topic_valid(req)) {
		*error = "X-WC-Webhook-Topic missing or malformed, or "
		    "X-WC-Webhook-Resource/Event disagree with it";
		return WC2SF_BAD_REQUEST;
	}
	return WC2SF_OK;
}

/*
 * Send one claimed event: body is its parsed body, or NULL to parse the
 * journaled bytes (a body that no longer parses is a dead letter).
 */
static void
send_claimed(struct sync *s, const struct journal_event *ev,
    struct json_object *body, struct attempt *a)
{
	struct json_object *parsed = NULL;

	if (body == NULL)
		body = parsed = parse_body(ev->body, ev->body_len);
	if (body == NULL) {
		memset(a, 0, sizeof(*a));
		a->result = WC2SF_BAD_PAYLOAD;
		snprintf(a->why, sizeof(a->why), "journaled body is not a "
		    "JSON object");
		if (journal_finish(s->journal, ev->id, JOURNAL_DEAD, 0, "",
		    a->why, "") != 0)
			log_journal("journal_finish", ev->id,
			    journal_error(s->journal));
		return;
	}
	send_event(s, ev, body, a);
	json_object_put(parsed);
}

/*
 * Send one claimed event from the journal again; returns its result.
 * held (may be NULL) tells whether the daily-limit pause kept it back.
 */
static enum wc2sf_result
resend(struct sync *s, struct journal_event *ev, bool *held)
{
	struct attempt a;
	enum wc2sf_result r;
	char topic[96], code[80];

	send_claimed(s, ev, NULL, &a);
	log_at(a.result == WC2SF_OK || a.result == WC2SF_IGNORED ?
	    LOG_LEVEL_INFO : LOG_LEVEL_WARN,
	    "event=retry id=%lld topic=%s result=%s attempts=%d sf_ms=%ld "
	    "sf_code=%s", (long long)ev->id, log_quote(topic, sizeof(topic),
	    ev->topic), wc2sf_result_name(a.result), ev->attempts +
	    (a.held ? 0 : 1), a.out.sf_ms, log_quote(code, sizeof(code),
	    a.out.code[0] != '\0' ? a.out.code : NULL));
	r = a.result;
	if (held != NULL)
		*held = a.held;
	sf_outcome_clear(&a.out);
	return r;
}

/*
 * Send event id after any older pending version of its resource, so a
 * resource's versions reach Salesforce in the order they came: the live
 * path and `replay --id`. Older ones go whatever their backoff, at most
 * CATCH_UP_MAX of them, and the first Salesforce cannot take ends it
 * (sending a newer version over it would leave Salesforce with a state
 * WooCommerce never had, for instance a delete before the create).
 * body is id's parsed body, or NULL to parse the journaled one. True
 * with *a filled when id itself was sent. False when it was not, with a
 * sentence in *why: another worker holds the resource, an older version
 * failed, or id is no longer pending.
 */
static bool
send_in_order(struct sync *s, int64_t id, struct json_object *body,
    struct attempt *a, const char **why)
{
	struct journal_event ev;
	enum wc2sf_result r;
	int64_t deadline = now_ms() + CATCH_UP_MS;
	bool found, held = false;
	int n;

	for (n = 0; n <= CATCH_UP_MAX && now_ms() < deadline; n++) {
		memset(&ev, 0, sizeof(ev));
		if (journal_claim_first(s->journal, id, &ev, &found) != 0) {
			log_journal("journal_claim", id,
			    journal_error(s->journal));
			*why = "the journal cannot be read; the event is kept";
			return false;
		}
		if (!found) {
			*why = "another worker is sending this resource; this "
			    "version follows in order";
			return false;
		}
		if (ev.id == id) {
			send_claimed(s, &ev, body, a);
			journal_event_clear(&ev);
			return true;
		}
		r = resend(s, &ev, &held);
		journal_event_clear(&ev);
		if (held) {
			*why = PAUSED_MESSAGE;
			return false;
		}
		if (unavailable(r)) {
			*why = "an older version of this resource could not "
			    "be sent yet; this one follows it";
			return false;
		}
	}
	*why = "older versions of this resource go first; the rest follow "
	    "after the reply";
	return false;
}

void
sync_handle(struct sync *s, const struct webhook_request *req,
    struct sync_reply *reply)
{
	struct journal_event ev;
	struct json_object *body = NULL;
	struct attempt a;
	struct journal *j;
	enum wc2sf_result r;
	const char *error = NULL;
	char id[64] = "", modified[32] = "", resource[32], topic[128];
	char wc_code[64], wc_error[160];
	const char *dot;
	int64_t started_us = now_us(), received = now_ms();
	bool sent = false, rest_error = false, claimed = false;

	memset(&ev, 0, sizeof(ev));
	memset(&a, 0, sizeof(a));
	memset(reply, 0, sizeof(*reply));
	s->skip_drain = false;
	r = sync_precheck(s, req, &error);
	if (r != WC2SF_OK)
		goto out;
	body = parse_body_why(req->body, req->body_len, &error);
	if (body == NULL) {
		r = WC2SF_BAD_PAYLOAD;
		goto out;
	}
	map_identify(body, id, sizeof(id), modified, sizeof(modified));
	/*
	 * WooCommerce signs and sends a REST error object when it could
	 * not build the payload (resource gone, owner without rights): the
	 * event is kept and ignored, but a person should hear of it.
	 */
	rest_error = map_rest_error(body, wc_code, sizeof(wc_code));
	if (rest_error && error == NULL) {
		snprintf(wc_error, sizeof(wc_error), "WooCommerce sent a REST "
		    "error (%s) instead of the %s", wc_code, req->topic);
		error = wc_error;
	}
	dot = strchr(req->topic, '.');
	snprintf(resource, sizeof(resource), "%.*s",
	    (int)(dot - req->topic), req->topic);

	j = sync_journal(s);
	if (j == NULL) {
		r = WC2SF_JOURNAL_FAILED;
		error = "the journal cannot be opened";
		goto out;
	}
	/* The event owns its strings; the request's are read-only. */
	snprintf(topic, sizeof(topic), "%s", req->topic);
	ev.body = malloc(req->body_len);
	if (ev.body == NULL) {
		r = WC2SF_NO_MEMORY;
		goto out;
	}
	memcpy(ev.body, req->body, req->body_len);
	ev.topic = topic;
	ev.resource = resource;
	ev.resource_id = id;
	ev.modified_gmt = modified;
	ev.received_ms = received;
	ev.body_len = req->body_len;
	if (journal_record_claim(j, &ev, &claimed) != 0) {
		log_journal("journal_record", 0, journal_error(j));
		ev.id = 0;	/* nothing was recorded: no number to show */
		r = WC2SF_JOURNAL_FAILED;
		error = "the journal cannot be written";
		goto out;
	}
	if (ev.state == JOURNAL_DUPLICATE) {
		r = WC2SF_DUPLICATE;
		goto out;
	}
	if (ev.state == JOURNAL_STALE) {
		r = WC2SF_STALE;
		goto out;
	}
	/*
	 * Claimed with the record when no older version waits: send it.
	 * Otherwise the older versions go first.
	 */
	if (claimed) {
		send_claimed(s, &ev, body, &a);
	} else if (!send_in_order(s, ev.id, body, &a, &error)) {
		/* It stays journaled for the drain or whoever holds it. */
		r = WC2SF_QUEUED;
		goto out;
	}
	sent = true;
	s->skip_drain = unavailable(a.result);
	r = reply_result(a.result);
	if (a.result != WC2SF_OK)
		error = a.out.message[0] != '\0' ? a.out.message : a.why;
	if (a.result == WC2SF_BAD_PAYLOAD)
		r = WC2SF_BAD_PAYLOAD;
out:
	reply_fill(reply, r, req, id, ev.id, sent ? &a : NULL, error);
	log_request(req, id, ev.id, reply, sent ? &a : NULL, error, started_us,
	    rest_error);
	sf_outcome_clear(&a.out);
	json_object_put(body);
	free(ev.body);
}

bool
sync_stats_add(struct sync_stats *st, enum wc2sf_result r)
{
	if (unavailable(r)) {
		st->queued++;
		return true;
	}
	if (r == WC2SF_OK)
		st->synced++;
	else if (r == WC2SF_IGNORED)
		st->ignored++;
	else
		st->dead++;
	return false;
}

/*
 * Send due events until none is left, the time is up, or Salesforce
 * turns out to be unavailable. With all (replay), every pending event is
 * due whatever its backoff, and the daily-limit pause is lifted first: a
 * person replaying says the limit has reset or was raised. Without it
 * (a worker's drain, `replay --due` from cron), the pause holds.
 */
static int
drain(struct sync *s, double seconds, bool all, struct sync_stats *stats)
{
	struct journal_event ev;
	struct sync_stats local;
	struct sync_stats *st = stats != NULL ? stats : &local;
	int64_t deadline = now_ms() + (int64_t)(seconds * 1000);
	bool found;
	int handled = 0;

	memset(st, 0, sizeof(*st));
	if (sync_journal(s) == NULL)
		return -1;
	if (all)
		pause_lift(s, "replay");
	while (now_ms() < deadline) {
		if (paused(s, now_ms())) {
			st->paused = true;
			st->stopped = true;
			break;
		}
		/*
		 * The request just answered found Salesforce failing: a
		 * drain now would only hold the worker for another timeout
		 * while deliveries wait in the web server's queue.
		 */
		if (!all && s->skip_drain) {
			st->stopped = true;
			break;
		}
		memset(&ev, 0, sizeof(ev));
		found = false;
		if (journal_claim_next(s->journal, all, &ev, &found) != 0) {
			log_journal("drain", 0, journal_error(s->journal));
			return -1;
		}
		if (!found)
			break;
		handled++;
		if (sync_stats_add(st, resend(s, &ev, NULL))) {
			st->stopped = true;
			st->paused = paused(s, now_ms());
			journal_event_clear(&ev);
			break;
		}
		journal_event_clear(&ev);
	}
	return handled;
}

void
sync_checkpoint(struct sync *s)
{
	if (s->journal != NULL && journal_checkpoint(s->journal) != 0)
		log_journal("journal_checkpoint", 0,
		    journal_error(s->journal));
}

int
sync_drain(struct sync *s, double seconds, struct sync_stats *stats)
{
	return drain(s, seconds, false, stats);
}

int
sync_replay(struct sync *s, double seconds, struct sync_stats *stats)
{
	return drain(s, seconds, true, stats);
}

int
sync_replay_one(struct sync *s, int64_t id, enum wc2sf_result *result)
{
	struct journal_event ev;
	struct attempt a;
	const char *why = NULL;
	char quoted[300];
	bool found = false;

	*result = WC2SF_INTERNAL;
	if (sync_journal(s) == NULL)
		return -1;
	memset(&ev, 0, sizeof(ev));
	if (journal_get(s->journal, id, &ev, &found) != 0)
		return -1;
	if (!found || ev.state != JOURNAL_PENDING)
		goto out;
	pause_lift(s, "replay");
	memset(&a, 0, sizeof(a));
	if (send_in_order(s, id, NULL, &a, &why)) {
		*result = a.result;
		log_info("event=retry id=%lld topic=%s result=%s by=replay "
		    "sf_ms=%ld", (long long)id, ev.topic,
		    wc2sf_result_name(a.result), a.out.sf_ms);
	} else {
		*result = WC2SF_QUEUED;
		log_warn("event=retry id=%lld result=queued by=replay "
		    "error=%s", (long long)id, log_quote(quoted,
		    sizeof(quoted), why));
	}
	sf_outcome_clear(&a.out);
out:
	journal_event_clear(&ev);
	return 0;
}
