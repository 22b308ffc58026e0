/*
 * The journal against real SQLite files in a temporary directory: what
 * record decides (new, duplicate, stale), claims between connections and
 * processes, the per-resource order of claim_next, outcomes, prune,
 * requeue, settings, and the failures a worker must turn into 503.
 *
 * The last test leaves a small journal next to this binary
 * (journal-sample.db) to try `wc2sf status` and friends on by hand.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "journal.h"

#define DAY_MS (24 * 3600 * 1000LL)
#define T0 1780000000000LL	/* a fixed "now" for tests that set it */

static char sample_dir[512] = ".";

struct fx {
	char dir[256];
	char path[320];
	struct journal *j;
};

static int
setup(void **state)
{
	struct fx *f;
	char err[512];
	const char *tmp = getenv("TMPDIR");

	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/wc2sf-journal-XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/journal.db", f->dir);
	f->j = journal_open(f->path, err, sizeof(err));
	if (f->j == NULL) {
		print_error("journal_open: %s\n", err);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char p[400];
	static const char *const files[] = {
		"journal.db", "journal.db-wal", "journal.db-shm",
		"journal.db-journal"
	};
	size_t i;

	journal_close(f->j);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", f->dir, files[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

static struct journal *
open_again(const struct fx *f)
{
	char err[512];
	struct journal *j;

	j = journal_open(f->path, err, sizeof(err));
	if (j == NULL)
		print_error("journal_open: %s\n", err);
	assert_non_null(j);
	return j;
}

/*
 * An event to record, as a caller builds it: the strings are the
 * caller's (copies here, since the struct's members are not const).
 */
static void
event_fill(struct journal_event *ev, const char *topic, const char *rid,
    const char *modified, const char *body, size_t len)
{
	memset(ev, 0, sizeof(*ev));
	ev->topic = strdup(topic);
	ev->resource_id = strdup(rid);
	ev->modified_gmt = strdup(modified);
	ev->body = malloc(len + 1);
	assert_non_null(ev->topic);
	assert_non_null(ev->resource_id);
	assert_non_null(ev->modified_gmt);
	assert_non_null(ev->body);
	memcpy(ev->body, body, len);
	ev->body_len = len;
}

/* Record one delivery; returns its id and puts its state in *state. */
static int64_t
record(struct journal *j, const char *topic, const char *rid,
    const char *modified, const char *body, size_t len,
    enum journal_state *state)
{
	struct journal_event ev;
	int64_t id;

	event_fill(&ev, topic, rid, modified, body, len);
	if (journal_record(j, &ev) != 0)
		print_error("journal_record: %s\n", journal_error(j));
	assert_true(ev.id > 0);
	assert_null(ev.resource);	/* taken from the topic, not set */
	*state = ev.state;
	id = ev.id;
	journal_event_clear(&ev);
	return id;
}

/* Record a text body and check the state it got. */
static int64_t
expect(struct journal *j, const char *topic, const char *rid,
    const char *modified, const char *body, enum journal_state want)
{
	enum journal_state got;
	int64_t id;

	id = record(j, topic, rid, modified, body, strlen(body), &got);
	if (got != want)
		print_error("%s %s: got %s, want %s\n", topic, body,
		    journal_state_name(got), journal_state_name(want));
	assert_int_equal(got, want);
	return id;
}

static enum journal_state
state_of(struct journal *j, int64_t id)
{
	struct journal_event ev;
	enum journal_state s;
	bool found;

	memset(&ev, 0, sizeof(ev));
	assert_int_equal(journal_get(j, id, &ev, &found), 0);
	assert_true(found);
	s = ev.state;
	journal_event_clear(&ev);
	return s;
}

static void
claim_ok(struct journal *j, int64_t id, bool want)
{
	bool claimed = !want;

	if (journal_claim(j, id, &claimed) != 0)
		print_error("journal_claim: %s\n", journal_error(j));
	assert_int_equal(claimed, want);
}

/* The id claim_next returns, or 0 when none; the claim is kept. */
static int64_t
next(struct journal *j, bool all)
{
	struct journal_event ev;
	bool found = true;
	int64_t id;

	memset(&ev, 0, sizeof(ev));
	if (journal_claim_next(j, all, &ev, &found) != 0)
		print_error("journal_claim_next: %s\n", journal_error(j));
	if (!found)
		return 0;
	assert_non_null(ev.body);
	id = ev.id;
	journal_event_clear(&ev);
	return id;
}

static void
finish(struct journal *j, int64_t id, enum journal_state state,
    int64_t next_ms)
{
	int rc;

	rc = journal_finish(j, id, state, next_ms, state == JOURNAL_DEAD ?
	    "REQUIRED_FIELD_MISSING" : "", state == JOURNAL_DEAD ?
	    "Required fields are missing: [Name]" : "",
	    state == JOURNAL_SYNCED ? "{\"Order\":\"8010000001\"}" : "");
	if (rc != 0)
		print_error("journal_finish: %s\n", journal_error(j));
	assert_int_equal(rc, 0);
}

/* The id claim_first gives for id, or 0 when none; the claim is kept. */
static int64_t
first(struct journal *j, int64_t id)
{
	struct journal_event ev;
	bool found = true;
	int64_t got;

	memset(&ev, 0, sizeof(ev));
	if (journal_claim_first(j, id, &ev, &found) != 0)
		print_error("journal_claim_first: %s\n", journal_error(j));
	if (!found)
		return 0;
	assert_non_null(ev.body);
	got = ev.id;
	journal_event_clear(&ev);
	return got;
}

/* A fixture body from the captured WooCommerce 10.0.2 deliveries. */
static char *
fixture(const char *name, size_t *len)
{
	const char *shared = getenv("WC2SF_SHARED");
	char path[512];
	char *buf;
	FILE *fp;
	long n;

	snprintf(path, sizeof(path), "%s/fixtures/woocommerce-10.0.2/%s",
	    shared != NULL ? shared : "tests", name);
	fp = fopen(path, "rb");
	if (fp == NULL)
		print_error("cannot open %s: %s\n", path, strerror(errno));
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	assert_true(n > 0);
	rewind(fp);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	buf[n] = '\0';
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

static int64_t
fixture_record(struct journal *j, const char *name, const char *topic,
    const char *rid, const char *modified, enum journal_state want)
{
	enum journal_state got;
	size_t len;
	char *body;
	int64_t id;

	body = fixture(name, &len);
	id = record(j, topic, rid, modified, body, len, &got);
	free(body);
	if (got != want)
		print_error("%s: got %s, want %s\n", name,
		    journal_state_name(got), journal_state_name(want));
	assert_int_equal(got, want);
	return id;
}

static void
test_open_creates_private_wal_file(void **state)
{
	struct fx *f = *state;
	struct stat sb;
	sqlite3 *db;
	sqlite3_stmt *st;
	char side[400];

	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	/* SQLite gives its side files the database file's mode. */
	snprintf(side, sizeof(side), "%s-wal", f->path);
	assert_int_equal(stat(side, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	snprintf(side, sizeof(side), "%s-shm", f->path);
	assert_int_equal(stat(side, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1,
	    &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1,
	    &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 4);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void
test_open_missing_directory_fails(void **state)
{
	struct fx *f = *state;
	char path[400], err[512] = "";
	struct journal *j;

	snprintf(path, sizeof(path), "%s/missing/journal.db", f->dir);
	j = journal_open(path, err, sizeof(err));
	assert_null(j);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "does not exist"));
	snprintf(path, sizeof(path), "%s/missing", f->dir);
	assert_int_equal(access(path, F_OK), -1);

	snprintf(path, sizeof(path), "%s/other.db", f->dir);
	j = journal_open_existing(path, err, sizeof(err));
	assert_null(j);
	assert_non_null(strstr(err, path));
	assert_int_equal(access(path, F_OK), -1);
}

static void
test_open_newer_schema_refused(void **state)
{
	struct fx *f = *state;
	char err[512] = "";
	sqlite3 *db;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_null(journal_open(f->path, err, sizeof(err)));
	assert_non_null(strstr(err, "99"));
	assert_non_null(strstr(err, f->path));
}

static void
test_record_round_trip(void **state)
{
	struct fx *f = *state;
	struct journal_event ev;
	static const char body[] = "{\"id\":731,\"a\":\"\\u00e9\"}";
	enum journal_state st;
	bool found;
	int64_t id;

	id = record(f->j, "order.updated", "731", "2026-12-03T15:31:31",
	    body, sizeof(body) - 1, &st);
	assert_int_equal(st, JOURNAL_PENDING);
	memset(&ev, 0, sizeof(ev));
	assert_int_equal(journal_get(f->j, id, &ev, &found), 0);
	assert_true(found);
	assert_int_equal(ev.id, id);
	assert_string_equal(ev.topic, "order.updated");
	assert_string_equal(ev.resource, "order");
	assert_string_equal(ev.resource_id, "731");
	assert_string_equal(ev.modified_gmt, "2026-12-03T15:31:31");
	assert_int_equal(ev.body_len, sizeof(body) - 1);
	assert_memory_equal(ev.body, body, sizeof(body) - 1);
	assert_int_equal(ev.body[ev.body_len], '\0');
	assert_int_equal(ev.state, JOURNAL_PENDING);
	assert_int_equal(ev.attempts, 0);
	assert_true(ev.received_ms > 1600000000000LL);
	assert_true(ev.next_attempt_ms <= ev.received_ms);
	assert_int_equal(ev.claimed_by, 0);
	assert_string_equal(ev.last_error, "");
	journal_event_clear(&ev);

	assert_int_equal(journal_get(f->j, id + 100, &ev, &found), 0);
	assert_false(found);
}

static void
test_duplicate_across_topics(void **state)
{
	struct fx *f = *state;
	struct journal_event ev;
	int64_t first, dup;
	bool found;

	/* A new order: order.created and order.updated, same bytes. */
	first = fixture_record(f->j, "063-order_created.body",
	    "order.created", "51", "", JOURNAL_PENDING);
	dup = fixture_record(f->j, "064-order_updated.body",
	    "order.updated", "51", "", JOURNAL_DUPLICATE);
	memset(&ev, 0, sizeof(ev));
	assert_int_equal(journal_get(f->j, dup, &ev, &found), 0);
	assert_int_equal(ev.state, JOURNAL_DUPLICATE);
	assert_non_null(strstr(ev.last_error, "same body"));
	journal_event_clear(&ev);

	/* Whatever became of the first: still a duplicate once dead. */
	claim_ok(f->j, first, true);
	finish(f->j, first, JOURNAL_DEAD, 0);
	fixture_record(f->j, "064-order_updated.body", "order.updated",
	    "51", "", JOURNAL_DUPLICATE);

	/* The paid order is another body: new. */
	fixture_record(f->j, "067-order_updated.body", "order.updated",
	    "51", "", JOURNAL_PENDING);

	/* The same bytes under another resource are not a duplicate. */
	fixture_record(f->j, "063-order_created.body", "customer.updated",
	    "51", "", JOURNAL_PENDING);

	/* A customer: created then updated, same bytes. */
	fixture_record(f->j, "055-customer_created.body",
	    "customer.created", "2", "", JOURNAL_PENDING);
	fixture_record(f->j, "056-customer_updated.body",
	    "customer.updated", "2", "", JOURNAL_DUPLICATE);
}

static void
test_stale_by_modified_time(void **state)
{
	struct fx *f = *state;

	expect(f->j, "order.updated", "7", "2026-12-03T15:31:31",
	    "{\"id\":7,\"v\":2}", JOURNAL_PENDING);
	/* Older version arriving later. */
	expect(f->j, "order.updated", "7", "2026-12-03T15:30:00",
	    "{\"id\":7,\"v\":1}", JOURNAL_STALE);
	/* Same second, another body: newer by receipt. */
	expect(f->j, "order.updated", "7", "2026-12-03T15:31:31",
	    "{\"id\":7,\"v\":3}", JOURNAL_PENDING);
	/* No modified time (a delete): receipt order, never stale. */
	expect(f->j, "order.deleted", "7", "", "{\"id\":7}",
	    JOURNAL_PENDING);
	/* Still older than the newest modified time seen. */
	expect(f->j, "order.updated", "7", "2026-12-03T15:31:00",
	    "{\"id\":7,\"v\":0}", JOURNAL_STALE);
	/* The stale one again is a duplicate of itself. */
	expect(f->j, "order.updated", "7", "2026-12-03T15:31:00",
	    "{\"id\":7,\"v\":0}", JOURNAL_DUPLICATE);
	/* Another resource with the same id is independent. */
	expect(f->j, "product.updated", "7", "2026-01-01T00:00:00",
	    "{\"id\":7,\"v\":1}", JOURNAL_PENDING);
}

static void
test_delete_restore_delete_is_sent_again(void **state)
{
	struct fx *f = *state;

	expect(f->j, "product.deleted", "17", "", "{\"id\":17}",
	    JOURNAL_PENDING);
	expect(f->j, "product.deleted", "17", "", "{\"id\":17}",
	    JOURNAL_DUPLICATE);
	fixture_record(f->j, "087-product_updated.body", "product.updated",
	    "17", "2026-12-03T15:31:31", JOURNAL_PENDING);
	fixture_record(f->j, "089-product_restored.body",
	    "product.restored", "17", "2026-12-03T15:31:31",
	    JOURNAL_DUPLICATE);
	expect(f->j, "product.deleted", "17", "", "{\"id\":17}",
	    JOURNAL_PENDING);
}

static void
test_bodies_without_id(void **state)
{
	struct fx *f = *state;

	/* Signed REST error bodies carry no id: dedupe by body alone. */
	fixture_record(f->j, "117-order_updated.body", "order.updated", "",
	    "", JOURNAL_PENDING);
	fixture_record(f->j, "118-order_created.body", "order.created", "",
	    "", JOURNAL_DUPLICATE);
	fixture_record(f->j, "119-product_updated.body", "product.updated",
	    "", "", JOURNAL_PENDING);
	expect(f->j, "order.updated", "", "", "{\"code\":\"other\"}",
	    JOURNAL_PENDING);
	/* They never take part in the version marks of real ids. */
	expect(f->j, "order.updated", "51", "2026-01-01T00:00:00",
	    "{\"id\":51}", JOURNAL_PENDING);
}

static void
test_claim_is_exclusive_between_connections(void **state)
{
	struct fx *f = *state;
	struct journal *j2 = open_again(f);
	struct journal_event ev;
	bool found;
	int64_t id;

	id = expect(f->j, "order.updated", "1", "", "{\"id\":1}",
	    JOURNAL_PENDING);
	claim_ok(f->j, id, true);
	claim_ok(j2, id, false);
	claim_ok(f->j, id, false);
	assert_int_equal(next(j2, true), 0);

	memset(&ev, 0, sizeof(ev));
	assert_int_equal(journal_get(j2, id, &ev, &found), 0);
	assert_int_equal(ev.claimed_by, (long)getpid());
	journal_event_clear(&ev);

	finish(f->j, id, JOURNAL_PENDING, 0);
	claim_ok(j2, id, true);
	assert_int_equal(journal_release(j2, id), 0);
	claim_ok(f->j, id, true);
	finish(f->j, id, JOURNAL_SYNCED, 0);
	claim_ok(j2, id, false);	/* not pending any more */
	claim_ok(j2, id + 50, false);	/* no such event */
	journal_close(j2);
}

static void
test_claim_of_dead_process_is_void(void **state)
{
	struct fx *f = *state;
	struct journal_event ev;
	int64_t id;
	pid_t pid;
	bool found;
	int status;

	id = expect(f->j, "order.updated", "2", "", "{\"id\":2}",
	    JOURNAL_PENDING);
	/* No connection is carried across fork (SQLite forbids it). */
	journal_close(f->j);
	f->j = NULL;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* A worker that claims and dies before finishing. */
		char err[512];
		struct journal *cj;
		bool claimed = false;

		cj = journal_open(f->path, err, sizeof(err));
		if (cj == NULL || journal_claim(cj, id, &claimed) != 0 ||
		    !claimed)
			_exit(1);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	f->j = open_again(f);
	memset(&ev, 0, sizeof(ev));
	assert_int_equal(journal_get(f->j, id, &ev, &found), 0);
	assert_int_equal(ev.claimed_by, (long)pid);
	journal_event_clear(&ev);
	claim_ok(f->j, id, true);
}

static void
test_claim_past_ttl_is_void(void **state)
{
	struct fx *f = *state;
	struct journal *j2 = open_again(f);
	int64_t id;

	journal_set_time(f->j, T0);
	id = expect(f->j, "order.updated", "3", "", "{\"id\":3}",
	    JOURNAL_PENDING);
	claim_ok(f->j, id, true);
	journal_set_claim_ttl(j2, 60000);
	journal_set_time(j2, T0 + 59999);
	claim_ok(j2, id, false);
	journal_set_time(j2, T0 + 60000);
	claim_ok(j2, id, true);
	journal_close(j2);
}

static void
test_claim_next_keeps_order_per_resource(void **state)
{
	struct fx *f = *state;
	struct journal *j2 = open_again(f);
	int64_t a, b, c, d;

	journal_set_time(f->j, T0);
	journal_set_time(j2, T0);
	a = expect(f->j, "order.updated", "10", "2026-01-01T00:00:01",
	    "{\"id\":10,\"v\":1}", JOURNAL_PENDING);
	b = expect(f->j, "order.updated", "20", "2026-01-01T00:00:01",
	    "{\"id\":20,\"v\":1}", JOURNAL_PENDING);
	c = expect(f->j, "order.updated", "10", "2026-01-01T00:00:02",
	    "{\"id\":10,\"v\":2}", JOURNAL_PENDING);
	d = expect(f->j, "order.updated", "", "", "{\"code\":\"x\"}",
	    JOURNAL_PENDING);

	assert_int_equal(next(f->j, false), a);
	/* c waits for a; b and the id-less d are free. */
	assert_int_equal(next(j2, false), b);
	assert_int_equal(next(j2, false), d);
	assert_int_equal(next(j2, false), 0);

	/* a fails: it goes back with a backoff, and still blocks c. */
	finish(f->j, a, JOURNAL_PENDING, T0 + 30000);
	assert_int_equal(next(j2, false), 0);
	/* Replay ignores the backoff, but not the order. */
	assert_int_equal(next(j2, true), a);
	finish(j2, a, JOURNAL_SYNCED, 0);
	assert_int_equal(next(f->j, false), c);
	finish(f->j, c, JOURNAL_SYNCED, 0);
	finish(f->j, b, JOURNAL_DEAD, 0);
	finish(f->j, d, JOURNAL_IGNORED, 0);
	assert_int_equal(next(f->j, true), 0);
	assert_int_equal(state_of(f->j, a), JOURNAL_SYNCED);
	assert_int_equal(state_of(f->j, c), JOURNAL_SYNCED);
	journal_close(j2);
}

static void
test_no_claim_while_sibling_in_flight(void **state)
{
	struct fx *f = *state;
	struct journal *j2 = open_again(f);
	int64_t a, b;

	a = expect(f->j, "order.updated", "30", "2026-01-01T00:00:01",
	    "{\"id\":30,\"v\":1}", JOURNAL_PENDING);
	claim_ok(f->j, a, true);
	b = expect(j2, "order.updated", "30", "2026-01-01T00:00:02",
	    "{\"id\":30,\"v\":2}", JOURNAL_PENDING);
	claim_ok(j2, b, false);
	finish(f->j, a, JOURNAL_SYNCED, 0);
	claim_ok(j2, b, true);
	journal_close(j2);
}

static void
test_newer_sync_supersedes_older_retries(void **state)
{
	struct fx *f = *state;
	struct journal_event ev;
	unsigned char *body;
	size_t len;
	int64_t a, b, c, d, n;
	bool found;

	journal_set_time(f->j, T0);
	a = expect(f->j, "order.updated", "40", "2026-01-01T00:00:01",
	    "{\"id\":40,\"v\":1}", JOURNAL_PENDING);
	claim_ok(f->j, a, true);
	finish(f->j, a, JOURNAL_PENDING, T0 + 60000);
	/* A newer version waits for the older one, whatever its backoff. */
	b = expect(f->j, "order.updated", "40", "2026-01-01T00:00:02",
	    "{\"id\":40,\"v\":2}", JOURNAL_PENDING);
	claim_ok(f->j, b, false);
	assert_int_equal(first(f->j, b), a);
	finish(f->j, a, JOURNAL_SYNCED, 0);
	assert_int_equal(first(f->j, b), b);
	finish(f->j, b, JOURNAL_SYNCED, 0);

	assert_int_equal(journal_last_synced_body(f->j, "order", "40",
	    &body, &len, &found), 0);
	assert_true(found);
	assert_int_equal(len, strlen("{\"id\":40,\"v\":2}"));
	assert_memory_equal(body, "{\"id\":40,\"v\":2}", len);
	assert_int_equal(body[len], '\0');
	free(body);
	assert_int_equal(journal_last_synced_body(f->j, "order", "41",
	    &body, &len, &found), 0);
	assert_false(found);
	assert_null(body);

	/* A dead letter replayed after a newer sync is never sent. */
	c = expect(f->j, "order.updated", "50", "2026-01-01T00:00:01",
	    "{\"id\":50,\"v\":1}", JOURNAL_PENDING);
	claim_ok(f->j, c, true);
	finish(f->j, c, JOURNAL_DEAD, 0);
	d = expect(f->j, "order.updated", "50", "2026-01-01T00:00:02",
	    "{\"id\":50,\"v\":2}", JOURNAL_PENDING);
	claim_ok(f->j, d, true);
	finish(f->j, d, JOURNAL_SYNCED, 0);
	assert_int_equal(journal_requeue(f->j, c, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(state_of(f->j, c), JOURNAL_PENDING);
	claim_ok(f->j, c, false);
	assert_int_equal(state_of(f->j, c), JOURNAL_STALE);
	memset(&ev, 0, sizeof(ev));
	assert_int_equal(journal_get(f->j, c, &ev, &found), 0);
	assert_non_null(strstr(ev.last_error, "superseded"));
	journal_event_clear(&ev);
	assert_int_equal(journal_requeue(f->j, c, &n), 0);
	assert_int_equal(n, 0);
}

/*
 * claim_first: the oldest pending version of a resource goes first,
 * whatever its backoff; a held one blocks the newer; an id-less event
 * has no siblings; a version superseded on the way is skipped.
 */
static void
test_claim_first_sends_versions_in_order(void **state)
{
	struct fx *f = *state;
	struct journal *j2 = open_again(f);
	int64_t a, b, c, d, e, n;

	journal_set_time(f->j, T0);
	journal_set_time(j2, T0);
	a = expect(f->j, "product.updated", "70", "2026-01-01T00:00:01",
	    "{\"id\":70,\"v\":1}", JOURNAL_PENDING);
	b = expect(f->j, "product.deleted", "70", "", "{\"id\":70}",
	    JOURNAL_PENDING);
	c = expect(f->j, "product.updated", "70", "2026-01-01T00:00:03",
	    "{\"id\":70,\"v\":3}", JOURNAL_PENDING);
	claim_ok(f->j, a, true);
	finish(f->j, a, JOURNAL_PENDING, T0 + 3600000);
	/* b waits behind a, c behind both; a goes first despite backoff. */
	claim_ok(f->j, b, false);
	claim_ok(f->j, c, false);
	assert_int_equal(first(f->j, c), a);
	/* Held by this process: nothing for another connection. */
	assert_int_equal(first(j2, c), 0);
	finish(f->j, a, JOURNAL_SYNCED, 0);
	assert_int_equal(first(j2, c), b);
	finish(j2, b, JOURNAL_SYNCED, 0);
	assert_int_equal(first(j2, c), c);
	finish(j2, c, JOURNAL_SYNCED, 0);
	/* Nothing pending any more. */
	assert_int_equal(first(j2, c), 0);

	/* An id-less event is its own first. */
	d = expect(f->j, "order.updated", "", "", "{\"code\":\"x\"}",
	    JOURNAL_PENDING);
	expect(f->j, "order.updated", "", "", "{\"code\":\"y\"}",
	    JOURNAL_PENDING);
	assert_int_equal(first(f->j, d + 1), d + 1);
	finish(f->j, d + 1, JOURNAL_IGNORED, 0);

	/* A requeued dead letter older than a synced version is staled. */
	d = expect(f->j, "order.updated", "71", "2026-01-01T00:00:01",
	    "{\"id\":71,\"v\":1}", JOURNAL_PENDING);
	claim_ok(f->j, d, true);
	finish(f->j, d, JOURNAL_DEAD, 0);
	e = expect(f->j, "order.updated", "71", "2026-01-01T00:00:02",
	    "{\"id\":71,\"v\":2}", JOURNAL_PENDING);
	assert_int_equal(first(f->j, e), e);
	finish(f->j, e, JOURNAL_SYNCED, 0);
	n = expect(f->j, "order.updated", "71", "2026-01-01T00:00:03",
	    "{\"id\":71,\"v\":3}", JOURNAL_PENDING);
	assert_int_equal(journal_requeue(f->j, d, NULL), 0);
	assert_int_equal(first(f->j, n), n);
	assert_int_equal(state_of(f->j, d), JOURNAL_STALE);
	journal_close(j2);
}

/*
 * A resource is known to Salesforce once an event other than a delete
 * was synced: a delete only marks a record that exists. A journal of
 * schema version 1 learns it from any synced event when it is migrated.
 */
static void
test_resource_known_ignores_deletes(void **state)
{
	struct fx *f = *state;
	struct journal_event ev;
	sqlite3 *db;
	int64_t id;
	bool known = true, found = false;

	id = expect(f->j, "product.deleted", "17", "", "{\"id\":17}",
	    JOURNAL_PENDING);
	assert_int_equal(first(f->j, id), id);
	finish(f->j, id, JOURNAL_SYNCED, 0);
	assert_int_equal(journal_product_synced(f->j, "17", &known), 0);
	assert_false(known);
	id = expect(f->j, "product.restored", "17", "2026-01-01T00:00:02",
	    "{\"id\":17,\"v\":2}", JOURNAL_PENDING);
	assert_int_equal(first(f->j, id), id);
	finish(f->j, id, JOURNAL_SYNCED, 0);
	assert_int_equal(journal_product_synced(f->j, "17", &known), 0);
	assert_true(known);
	/* Another resource with the same id is not the product. */
	assert_int_equal(journal_resource_known(f->j, "customer", "17",
	    &known), 0);
	assert_false(known);

	id = expect(f->j, "customer.deleted", "5", "", "{\"id\":5}",
	    JOURNAL_PENDING);
	assert_int_equal(first(f->j, id), id);
	finish(f->j, id, JOURNAL_SYNCED, 0);
	assert_int_equal(journal_resource_known(f->j, "customer", "5",
	    &known), 0);
	assert_false(known);

	/*
	 * Back to version 1 (no resources.upserted; bodies in events; an
	 * index of every event by resource), and migrated again on the
	 * next open: the bodies move with it.
	 */
	journal_close(f->j);
	f->j = NULL;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP INDEX events_pending; DROP INDEX events_queue; "
	    "CREATE INDEX events_resource ON events (resource, resource_id, "
	    "state); CREATE INDEX events_due ON events (next_attempt_ms) "
	    "WHERE state = 0; ALTER TABLE resources DROP COLUMN "
	    "upserted; ALTER TABLE events ADD COLUMN body BLOB NOT NULL "
	    "DEFAULT x''; UPDATE events SET body = (SELECT body FROM bodies "
	    "WHERE bodies.id = events.id); ALTER TABLE events DROP COLUMN "
	    "body_len; DROP TABLE bodies; PRAGMA user_version = 1;", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	f->j = open_again(f);
	assert_int_equal(journal_resource_known(f->j, "customer", "5",
	    &known), 0);
	assert_true(known);	/* version 1 could not tell */
	assert_int_equal(journal_product_synced(f->j, "18", &known), 0);
	assert_false(known);
	assert_int_equal(journal_get(f->j, id, &ev, &found), 0);
	assert_true(found);
	assert_int_equal(ev.body_len, strlen("{\"id\":5}"));
	assert_memory_equal(ev.body, "{\"id\":5}", ev.body_len);
	journal_event_clear(&ev);
}

/* Record with journal_record_claim(); returns whether it was claimed. */
static bool
record_claim(struct journal *j, const char *topic, const char *rid,
    const char *modified, const char *body, enum journal_state want,
    int64_t *id)
{
	struct journal_event ev;
	bool claimed = false;

	event_fill(&ev, topic, rid, modified, body, strlen(body));
	if (journal_record_claim(j, &ev, &claimed) != 0)
		print_error("journal_record_claim: %s\n", journal_error(j));
	assert_true(ev.id > 0);
	assert_int_equal(ev.state, want);
	assert_int_equal(ev.claimed_by, claimed ? (long)getpid() : 0);
	*id = ev.id;
	journal_event_clear(&ev);
	return claimed;
}

/*
 * The live path records and claims in one commit: a resource's only
 * pending version is taken at once and held against every other
 * claim; a version behind an older pending one is left unclaimed, to
 * follow it; duplicates and stale versions are never claimed.
 */
static void
test_record_claim(void **state)
{
	struct fx *f = *state;
	int64_t a, b, c, d;

	assert_true(record_claim(f->j, "order.created", "90",
	    "2026-01-01T00:00:01", "{\"id\":90}", JOURNAL_PENDING, &a));
	claim_ok(f->j, a, false);
	assert_int_equal(next(f->j, true), 0);
	assert_int_equal(first(f->j, a), 0);

	assert_false(record_claim(f->j, "order.updated", "90",
	    "2026-01-01T00:00:02", "{\"id\":90,\"v\":2}", JOURNAL_PENDING,
	    &b));
	assert_false(record_claim(f->j, "order.updated", "90",
	    "2026-01-01T00:00:02", "{\"id\":90,\"v\":2}",
	    JOURNAL_DUPLICATE, &c));
	assert_false(record_claim(f->j, "order.updated", "90",
	    "2026-01-01T00:00:00", "{\"id\":90,\"v\":0}", JOURNAL_STALE,
	    &c));
	/* b follows a: free once a is done. */
	assert_int_equal(first(f->j, b), 0);
	finish(f->j, a, JOURNAL_SYNCED, 0);
	assert_int_equal(first(f->j, b), b);
	finish(f->j, b, JOURNAL_SYNCED, 0);

	/* Another resource, and a body without an id, are claimed. */
	assert_true(record_claim(f->j, "order.updated", "91", "",
	    "{\"id\":91}", JOURNAL_PENDING, &c));
	assert_true(record_claim(f->j, "action.woocommerce_x", "", "",
	    "{\"x\":1}", JOURNAL_PENDING, &d));
	finish(f->j, c, JOURNAL_SYNCED, 0);
	finish(f->j, d, JOURNAL_IGNORED, 0);
	assert_int_equal(state_of(f->j, c), JOURNAL_SYNCED);
	assert_int_equal(state_of(f->j, d), JOURNAL_IGNORED);
}

/* A claim whose worker died and was not reaped yet is void at once. */
static void
test_claim_of_zombie_is_void(void **state)
{
	struct fx *f = *state;
	char path[64];
	struct stat sb;
	int64_t id;
	pid_t pid;
	int status;

	id = expect(f->j, "order.updated", "72", "", "{\"id\":72}",
	    JOURNAL_PENDING);
	journal_close(f->j);
	f->j = NULL;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char err[512];
		struct journal *cj;
		bool claimed = false;

		cj = journal_open(f->path, err, sizeof(err));
		if (cj == NULL || journal_claim(cj, id, &claimed) != 0 ||
		    !claimed)
			_exit(1);
		_exit(0);
	}
	/* Wait for the exit without reaping: the child stays a zombie. */
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if (stat(path, &sb) != 0) {
		assert_int_equal(waitpid(pid, &status, 0), pid);
		skip();
	}
	assert_int_equal(waitid(P_PID, (id_t)pid, NULL, WEXITED | WNOWAIT),
	    0);
	f->j = open_again(f);
	assert_int_equal(kill(pid, 0), 0);	/* still there, as a zombie */
	claim_ok(f->j, id, true);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void
test_claim_next_skips_superseded(void **state)
{
	struct fx *f = *state;
	struct journal *j2 = open_again(f);
	int64_t a, b, c, n;

	journal_set_time(f->j, T0);
	a = expect(f->j, "product.updated", "60", "2026-01-01T00:00:01",
	    "{\"id\":60,\"v\":1}", JOURNAL_PENDING);
	claim_ok(f->j, a, true);
	finish(f->j, a, JOURNAL_DEAD, 0);
	b = expect(f->j, "product.updated", "60", "2026-01-01T00:00:02",
	    "{\"id\":60,\"v\":2}", JOURNAL_PENDING);
	claim_ok(f->j, b, true);
	finish(f->j, b, JOURNAL_SYNCED, 0);
	c = expect(f->j, "product.updated", "60", "2026-01-01T00:00:03",
	    "{\"id\":60,\"v\":3}", JOURNAL_PENDING);
	assert_int_equal(journal_requeue(f->j, 0, &n), 0);
	assert_int_equal(n, 1);
	/* a is older than the synced b: staled, and c behind it is next. */
	assert_int_equal(next(j2, false), c);
	assert_int_equal(state_of(f->j, a), JOURNAL_STALE);
	journal_close(j2);
}

static void
test_finish_records_outcome(void **state)
{
	struct fx *f = *state;
	struct journal_event ev;
	int64_t id;
	bool found, synced;

	journal_set_time(f->j, T0);
	id = expect(f->j, "product.updated", "12", "2026-01-01T00:00:01",
	    "{\"id\":12}", JOURNAL_PENDING);
	assert_int_equal(journal_product_synced(f->j, "12", &synced), 0);
	assert_false(synced);
	claim_ok(f->j, id, true);
	assert_int_equal(journal_finish(f->j, id, JOURNAL_PENDING,
	    T0 + 30000, "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive "
	    "access to this record", NULL), 0);
	memset(&ev, 0, sizeof(ev));
	assert_int_equal(journal_get(f->j, id, &ev, &found), 0);
	assert_int_equal(ev.attempts, 1);
	assert_int_equal(ev.state, JOURNAL_PENDING);
	assert_int_equal(ev.next_attempt_ms, T0 + 30000);
	assert_string_equal(ev.last_code, "UNABLE_TO_LOCK_ROW");
	assert_int_equal(ev.claimed_by, 0);
	assert_string_equal(ev.sf_ids, "");
	journal_event_clear(&ev);

	claim_ok(f->j, id, true);
	assert_int_equal(journal_finish(f->j, id, JOURNAL_SYNCED, 0, "", "",
	    "{\"Product2\":\"01t000000000001\"}"), 0);
	assert_int_equal(journal_get(f->j, id, &ev, &found), 0);
	assert_int_equal(ev.attempts, 2);
	assert_int_equal(ev.state, JOURNAL_SYNCED);
	assert_string_equal(ev.last_code, "");
	assert_string_equal(ev.sf_ids, "{\"Product2\":\"01t000000000001\"}");
	journal_event_clear(&ev);
	assert_int_equal(journal_product_synced(f->j, "12", &synced), 0);
	assert_true(synced);
	assert_int_equal(journal_product_synced(f->j, "13", &synced), 0);
	assert_false(synced);

	assert_int_equal(journal_finish(f->j, id + 99, JOURNAL_SYNCED, 0,
	    NULL, NULL, NULL), -1);
	assert_non_null(strstr(journal_error(f->j), f->path));
	assert_int_equal(journal_finish(f->j, id, (enum journal_state)9, 0,
	    NULL, NULL, NULL), -1);
}

/* The number a one-number query gives, from a connection of its own. */
static int64_t
count_rows(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t n;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static void
test_prune_keeps_what_is_needed(void **state)
{
	struct fx *f = *state;
	int64_t synced_old, dup, synced_new, newest, pending, dead, ignored;
	int64_t ignored_newest, recent, removed;
	unsigned char *body;
	size_t len;
	struct journal_event ev;
	bool found;

	journal_set_time(f->j, T0);
	synced_old = expect(f->j, "order.updated", "1", "2026-01-01T00:00:01",
	    "{\"id\":1,\"v\":1}", JOURNAL_PENDING);
	claim_ok(f->j, synced_old, true);
	finish(f->j, synced_old, JOURNAL_SYNCED, 0);
	dup = expect(f->j, "order.created", "1", "2026-01-01T00:00:01",
	    "{\"id\":1,\"v\":1}", JOURNAL_DUPLICATE);
	synced_new = expect(f->j, "order.updated", "1", "2026-01-01T00:00:02",
	    "{\"id\":1,\"v\":2}", JOURNAL_PENDING);
	claim_ok(f->j, synced_new, true);
	finish(f->j, synced_new, JOURNAL_SYNCED, 0);
	newest = expect(f->j, "order.updated", "1", "2026-01-01T00:00:03",
	    "{\"id\":1,\"v\":3}", JOURNAL_PENDING);
	pending = expect(f->j, "order.updated", "2", "", "{\"id\":2}",
	    JOURNAL_PENDING);
	dead = expect(f->j, "order.updated", "3", "", "{\"id\":3}",
	    JOURNAL_PENDING);
	claim_ok(f->j, dead, true);
	finish(f->j, dead, JOURNAL_DEAD, 0);
	ignored = expect(f->j, "order.updated", "", "", "{\"code\":\"x\"}",
	    JOURNAL_PENDING);
	claim_ok(f->j, ignored, true);
	finish(f->j, ignored, JOURNAL_IGNORED, 0);
	ignored_newest = expect(f->j, "order.updated", "6", "",
	    "{\"id\":6}", JOURNAL_PENDING);
	claim_ok(f->j, ignored_newest, true);
	finish(f->j, ignored_newest, JOURNAL_IGNORED, 0);

	journal_set_time(f->j, T0 + 40 * DAY_MS);
	recent = expect(f->j, "order.updated", "4", "", "{\"id\":4}",
	    JOURNAL_PENDING);
	claim_ok(f->j, recent, true);
	finish(f->j, recent, JOURNAL_IGNORED, 0);

	/* Two per commit: the three go in two commits. */
	journal_set_prune_batch(f->j, 2);
	assert_int_equal(journal_prune(f->j, T0 + 30 * DAY_MS, &removed), 0);
	assert_int_equal(removed, 3);
	/* Their bodies went with them, and only theirs. */
	assert_int_equal(count_rows(f->path, "SELECT count(*) FROM bodies "
	    "WHERE id NOT IN (SELECT id FROM events)"), 0);
	assert_int_equal(count_rows(f->path, "SELECT count(*) FROM events "
	    "WHERE id NOT IN (SELECT id FROM bodies)"), 0);
	memset(&ev, 0, sizeof(ev));
	assert_int_equal(journal_get(f->j, synced_old, &ev, &found), 0);
	assert_false(found);
	assert_int_equal(journal_get(f->j, dup, &ev, &found), 0);
	assert_false(found);
	assert_int_equal(journal_get(f->j, ignored, &ev, &found), 0);
	assert_false(found);
	assert_int_equal(state_of(f->j, synced_new), JOURNAL_SYNCED);
	assert_int_equal(state_of(f->j, newest), JOURNAL_PENDING);
	assert_int_equal(journal_last_synced_body(f->j, "order", "1", &body,
	    &len, &found), 0);
	assert_true(found);
	assert_memory_equal(body, "{\"id\":1,\"v\":2}", len);
	free(body);
	assert_int_equal(state_of(f->j, pending), JOURNAL_PENDING);
	assert_int_equal(state_of(f->j, dead), JOURNAL_DEAD);
	assert_int_equal(state_of(f->j, recent), JOURNAL_IGNORED);
	assert_int_equal(state_of(f->j, ignored_newest), JOURNAL_IGNORED);

	/* Dedupe and stale still work against what was kept. */
	expect(f->j, "order.updated", "1", "2026-01-01T00:00:03",
	    "{\"id\":1,\"v\":3}", JOURNAL_DUPLICATE);
	expect(f->j, "order.updated", "1", "2026-01-01T00:00:01",
	    "{\"id\":1,\"v\":1}", JOURNAL_STALE);
	/* Ids are never reused after a prune. */
	assert_true(expect(f->j, "order.updated", "5", "", "{\"id\":5}",
	    JOURNAL_PENDING) > recent + 2);
}

static void
test_requeue_dead(void **state)
{
	struct fx *f = *state;
	int64_t a, b, c, n;
	struct journal_event ev;
	bool found;

	journal_set_time(f->j, T0);
	a = expect(f->j, "order.updated", "1", "", "{\"id\":1}",
	    JOURNAL_PENDING);
	b = expect(f->j, "order.updated", "2", "", "{\"id\":2}",
	    JOURNAL_PENDING);
	c = expect(f->j, "order.updated", "3", "", "{\"id\":3}",
	    JOURNAL_PENDING);
	assert_int_equal(next(f->j, false), a);
	finish(f->j, a, JOURNAL_DEAD, 0);
	assert_int_equal(next(f->j, false), b);
	finish(f->j, b, JOURNAL_DEAD, 0);
	assert_int_equal(next(f->j, false), c);
	finish(f->j, c, JOURNAL_SYNCED, 0);
	assert_int_equal(next(f->j, true), 0);

	journal_set_time(f->j, T0 + 5000);
	assert_int_equal(journal_requeue(f->j, c, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(journal_requeue(f->j, b, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(state_of(f->j, a), JOURNAL_DEAD);
	assert_int_equal(journal_requeue(f->j, 0, &n), 0);
	assert_int_equal(n, 1);
	memset(&ev, 0, sizeof(ev));
	assert_int_equal(journal_get(f->j, a, &ev, &found), 0);
	assert_int_equal(ev.state, JOURNAL_PENDING);
	assert_int_equal(ev.next_attempt_ms, T0 + 5000);
	assert_int_equal(ev.attempts, 1);
	journal_event_clear(&ev);
	assert_int_equal(next(f->j, false), a);
	assert_int_equal(next(f->j, false), b);
	assert_int_equal(journal_requeue(f->j, 0, &n), 0);
	assert_int_equal(n, 0);
}

static void
test_kv(void **state)
{
	struct fx *f = *state;
	struct journal *j2 = open_again(f);
	char value[16], tiny[4];
	bool found = true;

	assert_int_equal(journal_kv_get(f->j, "sf_token", value,
	    sizeof(value), &found), 0);
	assert_false(found);
	assert_string_equal(value, "");
	assert_int_equal(journal_kv_set(f->j, "sf_token", "abc"), 0);
	assert_int_equal(journal_kv_get(j2, "sf_token", value, sizeof(value),
	    &found), 0);
	assert_true(found);
	assert_string_equal(value, "abc");
	assert_int_equal(journal_kv_set(j2, "sf_token", "defgh"), 0);
	assert_int_equal(journal_kv_get(f->j, "sf_token", value,
	    sizeof(value), &found), 0);
	assert_string_equal(value, "defgh");
	assert_int_equal(journal_kv_get(f->j, "sf_token", tiny, sizeof(tiny),
	    &found), -1);
	assert_non_null(strstr(journal_error(f->j), "sf_token"));
	assert_int_equal(journal_kv_set(f->j, "sf_token", NULL), 0);
	assert_int_equal(journal_kv_get(f->j, "sf_token", value,
	    sizeof(value), &found), 0);
	assert_false(found);
	journal_close(j2);
}

static void
test_counts_summary_list(void **state)
{
	struct fx *f = *state;
	struct journal_filter flt;
	struct journal_summary s;
	struct journal_event *evs;
	int64_t counts[JOURNAL_NSTATES];
	int64_t a, b, c;
	size_t n;

	journal_set_time(f->j, T0);
	a = expect(f->j, "order.created", "1", "", "{\"id\":1}",
	    JOURNAL_PENDING);
	expect(f->j, "order.updated", "1", "", "{\"id\":1}",
	    JOURNAL_DUPLICATE);
	journal_set_time(f->j, T0 + 1000);
	b = expect(f->j, "customer.updated", "2", "", "{\"id\":2}",
	    JOURNAL_PENDING);
	c = expect(f->j, "order.updated", "3", "", "{\"id\":3}",
	    JOURNAL_PENDING);
	claim_ok(f->j, b, true);
	finish(f->j, b, JOURNAL_SYNCED, 0);
	journal_set_time(f->j, T0 + 2000);
	claim_ok(f->j, c, true);
	finish(f->j, c, JOURNAL_DEAD, 0);

	assert_int_equal(journal_counts(f->j, counts), 0);
	assert_int_equal(counts[JOURNAL_PENDING], 1);
	assert_int_equal(counts[JOURNAL_SYNCED], 1);
	assert_int_equal(counts[JOURNAL_DUPLICATE], 1);
	assert_int_equal(counts[JOURNAL_DEAD], 1);
	assert_int_equal(counts[JOURNAL_STALE], 0);

	assert_int_equal(journal_summary(f->j, &s), 0);
	assert_int_equal(s.counts[JOURNAL_PENDING], 1);
	assert_int_equal(s.oldest_pending_id, a);
	assert_int_equal(s.oldest_pending_ms, T0);
	assert_int_equal(s.last_error_id, c);
	assert_int_equal(s.last_error_ms, T0 + 2000);
	assert_string_equal(s.last_error_code, "REQUIRED_FIELD_MISSING");
	assert_string_equal(s.last_error_topic, "order.updated");
	assert_int_equal(s.last_synced_ms, T0 + 1000);

	memset(&flt, 0, sizeof(flt));
	flt.state = -1;
	assert_int_equal(journal_list(f->j, &flt, &evs, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(evs[0].id, c);		/* newest first */
	assert_null(evs[0].body);
	assert_int_equal(evs[0].body_len, strlen("{\"id\":3}"));
	journal_events_free(evs, n);

	flt.topic = "order.updated";
	assert_int_equal(journal_list(f->j, &flt, &evs, &n), 0);
	assert_int_equal(n, 2);
	journal_events_free(evs, n);

	flt.topic = NULL;
	flt.state = JOURNAL_SYNCED;
	assert_int_equal(journal_list(f->j, &flt, &evs, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(evs[0].id, b);
	assert_string_equal(evs[0].sf_ids, "{\"Order\":\"8010000001\"}");
	journal_events_free(evs, n);

	flt.state = -1;
	flt.resource_id = "1";
	flt.limit = 1;
	assert_int_equal(journal_list(f->j, &flt, &evs, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(evs[0].topic, "order.updated");
	journal_events_free(evs, n);

	flt.resource_id = NULL;
	flt.limit = 0;
	flt.since_ms = T0 + 1;
	assert_int_equal(journal_list(f->j, &flt, &evs, &n), 0);
	assert_int_equal(n, 2);
	journal_events_free(evs, n);

	flt.since_ms = 0;
	flt.topic = "coupon.created";
	assert_int_equal(journal_list(f->j, &flt, &evs, &n), 0);
	assert_int_equal(n, 0);
	assert_null(evs);

	assert_int_equal(journal_state_parse("dead"), JOURNAL_DEAD);
	assert_int_equal(journal_state_parse("gone"), -1);
	assert_string_equal(journal_state_name(JOURNAL_STALE), "stale");
}

/*
 * In a process that cannot write the file: a worker's open fails with a
 * sentence; the CLI's open works (views stay possible) and record fails
 * with a sentence. Exit code says which check failed.
 */
static int
readonly_child(const char *path)
{
	struct journal *j;
	struct journal_event ev;
	char err[512];
	int code = 0;

	j = journal_open(path, err, sizeof(err));
	if (j != NULL) {
		journal_close(j);
		return 4;
	}
	if (strstr(err, path) == NULL || strstr(err, "read-only") == NULL) {
		print_error("open: %s\n", err);
		return 5;
	}
	j = journal_open_existing(path, err, sizeof(err));
	if (j == NULL) {
		print_error("open: %s\n", err);
		return 1;
	}
	event_fill(&ev, "order.updated", "9", "", "{\"id\":9}", 8);
	if (journal_record(j, &ev) != -1)
		code = 2;
	else if (strstr(journal_error(j), path) == NULL ||
	    strstr(journal_error(j), "readonly") == NULL) {
		print_error("message: %s\n", journal_error(j));
		code = 3;
	}
	journal_event_clear(&ev);
	journal_close(j);
	return code;
}

static void
test_readonly_file_fails_to_record(void **state)
{
	struct fx *f = *state;
	static const char *const sides[] = { "-wal", "-shm" };
	char side[400];
	pid_t pid;
	int status, i;

	expect(f->j, "order.updated", "8", "", "{\"id\":8}",
	    JOURNAL_PENDING);
	journal_close(f->j);
	f->j = NULL;
	assert_int_equal(chmod(f->path, 0444), 0);
	if (geteuid() != 0) {
		assert_int_equal(readonly_child(f->path), 0);
	} else {
		/* root writes anything: run the check as nobody. */
		assert_int_equal(chmod(f->dir, 0777), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			if (setgid(65534) != 0 || setuid(65534) != 0)
				_exit(9);
			_exit(readonly_child(f->path));
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
		assert_int_equal(chmod(f->dir, 0700), 0);
	}
	/* The reader's -wal and -shm (empty of changes) go with it. */
	for (i = 0; i < 2; i++) {
		snprintf(side, sizeof(side), "%s%s", f->path, sides[i]);
		unlink(side);
	}
	assert_int_equal(chmod(f->path, 0600), 0);
	f->j = open_again(f);
}

static void
test_locked_past_busy_timeout_fails(void **state)
{
	struct fx *f = *state;
	struct journal_event ev;
	sqlite3 *db;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL,
	    NULL), SQLITE_OK);
	journal_set_busy_timeout(f->j, 50);
	event_fill(&ev, "order.updated", "9", "", "{\"id\":9}", 8);
	assert_int_equal(journal_record(f->j, &ev), -1);
	assert_non_null(strstr(journal_error(f->j), f->path));
	assert_non_null(strstr(journal_error(f->j), "locked"));
	assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(journal_record(f->j, &ev), 0);
	assert_int_equal(ev.state, JOURNAL_PENDING);
	journal_event_clear(&ev);
}

#define WORKERS 4
#define BODIES 25

/*
 * One worker process: record every body, as when the order.created and
 * order.updated twins of each new order reach different workers at the
 * same moment, then drain. Exit 0 when every call succeeded.
 */
static int
worker(const char *path)
{
	struct journal *j;
	struct journal_event ev;
	char err[512], body[64], rid[16];
	bool found;
	int i;

	j = journal_open(path, err, sizeof(err));
	if (j == NULL)
		return 1;
	for (i = 0; i < BODIES; i++) {
		snprintf(rid, sizeof(rid), "%d", i);
		snprintf(body, sizeof(body), "{\"id\":%d}", i);
		event_fill(&ev, "order.updated", rid, "", body, strlen(body));
		if (journal_record(j, &ev) != 0)
			return 2;
		journal_event_clear(&ev);
	}
	for (;;) {
		memset(&ev, 0, sizeof(ev));
		if (journal_claim_next(j, true, &ev, &found) != 0)
			return 3;
		if (!found)
			break;
		if (journal_finish(j, ev.id, JOURNAL_SYNCED, 0, NULL, NULL,
		    NULL) != 0)
			return 4;
		journal_event_clear(&ev);
	}
	journal_close(j);
	return 0;
}

static void
test_concurrent_workers_send_each_event_once(void **state)
{
	struct fx *f = *state;
	struct journal_filter flt;
	struct journal_event *evs;
	int64_t counts[JOURNAL_NSTATES];
	pid_t pids[WORKERS];
	size_t n, i;
	int status, k;

	journal_close(f->j);
	f->j = NULL;
	for (k = 0; k < WORKERS; k++) {
		pids[k] = fork();
		assert_true(pids[k] >= 0);
		if (pids[k] == 0)
			_exit(worker(f->path));
	}
	for (k = 0; k < WORKERS; k++) {
		assert_int_equal(waitpid(pids[k], &status, 0), pids[k]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	f->j = open_again(f);
	assert_int_equal(journal_counts(f->j, counts), 0);
	/* Each body once; the copies from other workers are duplicates. */
	assert_int_equal(counts[JOURNAL_SYNCED], BODIES);
	assert_int_equal(counts[JOURNAL_DUPLICATE], (WORKERS - 1) * BODIES);
	assert_int_equal(counts[JOURNAL_PENDING], 0);
	memset(&flt, 0, sizeof(flt));
	flt.state = JOURNAL_SYNCED;
	flt.limit = 1000;
	assert_int_equal(journal_list(f->j, &flt, &evs, &n), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(evs[i].attempts, 1);
	journal_events_free(evs, n);
}

/* A journal with one event in every state, for trying the CLI by hand. */
static void
test_leave_sample_journal(void **state)
{
	char path[600], err[512];
	struct journal *j;
	int64_t id;
	size_t len;
	char *body;
	enum journal_state st;
	const char *suffixes[] = { "", "-wal", "-shm" };
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/journal-sample.db%s",
		    sample_dir, suffixes[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/journal-sample.db", sample_dir);
	j = journal_open(path, err, sizeof(err));
	if (j == NULL)
		print_error("%s\n", err);
	assert_non_null(j);
	journal_set_time(j, time(NULL) * 1000LL - 3 * 3600 * 1000LL);

	body = fixture("063-order_created.body", &len);
	id = record(j, "order.created", "51", "2026-12-03T15:31:40", body,
	    len, &st);
	claim_ok(j, id, true);
	finish(j, id, JOURNAL_SYNCED, 0);
	record(j, "order.updated", "51", "2026-12-03T15:31:40", body, len,
	    &st);
	free(body);
	body = fixture("055-customer_created.body", &len);
	id = record(j, "customer.created", "2", "", body, len, &st);
	free(body);
	claim_ok(j, id, true);
	assert_int_equal(journal_finish(j, id, JOURNAL_DEAD, 0,
	    "INVALID_EMAIL_ADDRESS", "Email: invalid email address: "
	    "jane@example", NULL), 0);
	body = fixture("117-order_updated.body", &len);
	id = record(j, "order.updated", "", "", body, len, &st);
	free(body);
	claim_ok(j, id, true);
	assert_int_equal(journal_finish(j, id, JOURNAL_IGNORED, 0, "",
	    "REST error body rest_no_route", NULL), 0);
	journal_set_time(j, 0);
	body = fixture("067-order_updated.body", &len);
	id = record(j, "order.updated", "51", "2026-12-03T15:32:10", body,
	    len, &st);
	free(body);
	claim_ok(j, id, true);
	assert_int_equal(journal_finish(j, id, JOURNAL_PENDING,
	    time(NULL) * 1000LL + 60000, "UNABLE_TO_LOCK_ROW",
	    "unable to obtain exclusive access to this record or 1 records: "
	    "8010000001", NULL), 0);
	record(j, "order.updated", "51", "2026-12-03T15:30:00",
	    "{\"id\":51}", 9, &st);
	assert_int_equal(st, JOURNAL_STALE);
	journal_close(j);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_open_creates_private_wal_file, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_open_missing_directory_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_open_newer_schema_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_round_trip,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_claim, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_across_topics,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_by_modified_time,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_delete_restore_delete_is_sent_again, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bodies_without_id,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_claim_is_exclusive_between_connections, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_claim_of_dead_process_is_void, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_past_ttl_is_void,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_claim_next_keeps_order_per_resource, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_no_claim_while_sibling_in_flight, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_newer_sync_supersedes_older_retries, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_claim_next_skips_superseded, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_claim_first_sends_versions_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_resource_known_ignores_deletes, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_claim_of_zombie_is_void, setup, teardown),
		cmocka_unit_test_setup_teardown(test_finish_records_outcome,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_prune_keeps_what_is_needed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_requeue_dead, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_kv, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counts_summary_list,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_readonly_file_fails_to_record, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_locked_past_busy_timeout_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_concurrent_workers_send_each_event_once, setup,
		    teardown),
		cmocka_unit_test(test_leave_sample_journal),
	};
	const char *slash;

	(void)argc;
	slash = strrchr(argv[0], '/');
	if (slash != NULL)
		snprintf(sample_dir, sizeof(sample_dir), "%.*s",
		    (int)(slash - argv[0]), argv[0]);
	return cmocka_run_group_tests_name("journal", tests, NULL, NULL);
}
