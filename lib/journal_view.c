/*
 * The journal's read side and upkeep: reading events back (one, or a
 * filtered list for `wc2sf events`), the counts and summary `wc2sf
 * status` shows, the last synced body and whether Salesforce knows a
 * resource, pruning, requeueing dead events, and the small shared state
 * (kv). Connection and statements live in journal.c.
 */
#include "journal_impl.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_LIST_LIMIT 50

/* A copy of a text column; "" for NULL. NULL only when out of memory. */
static char *
col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return strdup(s == NULL ? "" : (const char *)s);
}

/* A copy of a blob column with a NUL after it; NULL when out of memory. */
static unsigned char *
col_blob(sqlite3_stmt *st, int i, size_t *len)
{
	const void *p = sqlite3_column_blob(st, i);
	int n = sqlite3_column_bytes(st, i);
	unsigned char *copy;

	copy = malloc((size_t)n + 1);
	if (copy == NULL)
		return NULL;
	if (n > 0)
		memcpy(copy, p, (size_t)n);
	copy[n] = '\0';
	*len = (size_t)n;
	return copy;
}

/*
 * Fill ev from a row of EVENT_COLS (and the body after them when
 * with_body). ev is overwritten, not freed; -1 when out of memory.
 */
static int
event_read(sqlite3_stmt *st, struct journal_event *ev, bool with_body)
{
	memset(ev, 0, sizeof(*ev));
	ev->id = sqlite3_column_int64(st, 0);
	ev->topic = col_dup(st, 1);
	ev->resource = col_dup(st, 2);
	ev->resource_id = col_dup(st, 3);
	ev->modified_gmt = col_dup(st, 4);
	ev->received_ms = sqlite3_column_int64(st, 5);
	ev->state = (enum journal_state)sqlite3_column_int(st, 6);
	ev->attempts = sqlite3_column_int(st, 7);
	ev->next_attempt_ms = sqlite3_column_int64(st, 8);
	ev->last_code = col_dup(st, 9);
	ev->last_error = col_dup(st, 10);
	ev->sf_ids = col_dup(st, 11);
	ev->updated_ms = sqlite3_column_int64(st, 12);
	ev->claimed_by = (long)sqlite3_column_int64(st, 13);
	ev->claimed_ms = sqlite3_column_int64(st, 14);
	ev->body_len = (size_t)sqlite3_column_int64(st, 15);
	if (with_body)
		ev->body = col_blob(st, 16, &ev->body_len);
	if (ev->topic == NULL || ev->resource == NULL ||
	    ev->resource_id == NULL || ev->modified_gmt == NULL ||
	    ev->last_code == NULL || ev->last_error == NULL ||
	    ev->sf_ids == NULL || (with_body && ev->body == NULL)) {
		journal_event_clear(ev);
		return -1;
	}
	return 0;
}

void
journal_event_clear(struct journal_event *ev)
{
	if (ev == NULL)
		return;
	free(ev->topic);
	free(ev->resource);
	free(ev->resource_id);
	free(ev->modified_gmt);
	free(ev->body);
	free(ev->last_code);
	free(ev->last_error);
	free(ev->sf_ids);
	memset(ev, 0, sizeof(*ev));
}

/* The claim walks of journal_write.c read the event they took here. */
int
journal_event_load(struct journal *j, int64_t id, struct journal_event *ev,
    bool *found)
{
	static const char what[] = "cannot read an event";
	sqlite3_stmt *st;
	int r;

	*found = false;
	st = journal_stmt_on(j, ST_GET, id, what);
	if (st == NULL)
		return -1;
	r = journal_row(j, st, what);
	if (r <= 0)
		return r;
	if (event_read(st, ev, true) == -1) {
		sqlite3_reset(st);
		return journal_fail_msg(j, "out of memory reading event "
		    "%" PRId64, id);
	}
	sqlite3_reset(st);
	*found = true;
	return 0;
}

int
journal_get(struct journal *j, int64_t id, struct journal_event *ev,
    bool *found)
{
	return journal_event_load(j, id, ev, found);
}

int
journal_last_synced_body(struct journal *j, const char *resource,
    const char *resource_id, unsigned char **body, size_t *len,
    bool *found)
{
	static const char what[] = "cannot read the last synced body";
	sqlite3_stmt *st;
	int r;

	*body = NULL;
	*len = 0;
	*found = false;
	st = journal_stmt(j, ST_LAST_SYNCED_BODY, what);
	if (st == NULL)
		return -1;
	journal_bind_text(st, 1, resource);
	journal_bind_text(st, 2, resource_id);
	r = journal_row(j, st, what);
	if (r <= 0)
		return r;
	*body = col_blob(st, 0, len);
	sqlite3_reset(st);
	if (*body == NULL) {
		*len = 0;
		return journal_fail_msg(j, "%s: out of memory", what);
	}
	*found = true;
	return 0;
}

int
journal_resource_known(struct journal *j, const char *resource,
    const char *key, bool *known)
{
	static const char what[] = "cannot look up a resource";
	sqlite3_stmt *st;

	*known = false;
	st = journal_stmt(j, ST_RESOURCE_KNOWN, what);
	if (st == NULL)
		return -1;
	journal_bind_text(st, 1, resource);
	journal_bind_text(st, 2, key);
	return journal_query_exists(j, st, what, known);
}

int
journal_product_synced(struct journal *j, const char *key, bool *synced)
{
	return journal_resource_known(j, "product", key, synced);
}

int
journal_counts(struct journal *j, int64_t counts[JOURNAL_NSTATES])
{
	static const char what[] = "cannot count events";
	sqlite3_stmt *st;
	int r, state;

	memset(counts, 0, sizeof(int64_t) * JOURNAL_NSTATES);
	st = journal_stmt(j, ST_COUNTS, what);
	if (st == NULL)
		return -1;
	while ((r = journal_row(j, st, what)) == 1) {
		state = sqlite3_column_int(st, 0);
		if (state >= 0 && state < JOURNAL_NSTATES)
			counts[state] = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return r < 0 ? -1 : 0;
}

/*
 * Prepare a statement without parameters and step it to its first row:
 * 1 with *st on the row, 0 with none, -1 on failure.
 */
static int
query(struct journal *j, enum journal_stmt_id id, const char *what,
    sqlite3_stmt **st)
{
	*st = journal_stmt(j, id, what);
	if (*st == NULL)
		return -1;
	return journal_row(j, *st, what);
}

/* Copy text column i into a bounded buffer. */
static void
col_copy(sqlite3_stmt *st, int i, char *buf, size_t size)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	snprintf(buf, size, "%s", s == NULL ? "" : (const char *)s);
}

/*
 * Everything `wc2sf status` shows, read in one read transaction so the
 * numbers agree with each other.
 */
int
journal_summary(struct journal *j, struct journal_summary *s)
{
	static const char what[] = "cannot read the summary";
	sqlite3_stmt *st;
	int rc = -1, r;

	memset(s, 0, sizeof(*s));
	if (sqlite3_exec(j->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return journal_fail_db(j, what);
	if (journal_counts(j, s->counts) == -1)
		goto out;
	if ((r = query(j, ST_OLDEST_PENDING, what, &st)) < 0)
		goto out;
	if (r == 1) {
		s->oldest_pending_id = sqlite3_column_int64(st, 0);
		s->oldest_pending_ms = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if ((r = query(j, ST_LAST_ERROR, what, &st)) < 0)
		goto out;
	if (r == 1) {
		s->last_error_id = sqlite3_column_int64(st, 0);
		s->last_error_ms = sqlite3_column_int64(st, 1);
		col_copy(st, 2, s->last_error_topic,
		    sizeof(s->last_error_topic));
		col_copy(st, 3, s->last_error_code,
		    sizeof(s->last_error_code));
		col_copy(st, 4, s->last_error, sizeof(s->last_error));
	}
	sqlite3_reset(st);
	if ((st = journal_stmt(j, ST_LAST_SYNCED, what)) == NULL ||
	    journal_query_int64(j, st, what, &s->last_synced_ms) == -1)
		goto out;
	rc = 0;
out:
	if (rc == -1) {
		journal_tx_abort(j);
		return -1;
	}
	if (sqlite3_exec(j->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		return journal_fail_db(j, what);
	return 0;
}

void
journal_events_free(struct journal_event *events, size_t n)
{
	size_t i;

	if (events == NULL)
		return;
	for (i = 0; i < n; i++)
		journal_event_clear(&events[i]);
	free(events);
}

int
journal_list(struct journal *j, const struct journal_filter *f,
    struct journal_event **events, size_t *n)
{
	static const char what[] = "cannot list events";
	struct journal_event *evs = NULL, *grown;
	sqlite3_stmt *st;
	size_t cap = 0, count = 0, limit;
	int rc = -1, r;

	*events = NULL;
	*n = 0;
	limit = f->limit == 0 ? DEFAULT_LIST_LIMIT : f->limit;
	if (limit > INT32_MAX)
		limit = INT32_MAX;
	st = journal_stmt(j, ST_LIST, what);
	if (st == NULL)
		return -1;
	sqlite3_bind_int(st, 1, f->state);
	journal_bind_text(st, 2, f->topic);
	journal_bind_text(st, 3, f->resource_id);
	sqlite3_bind_int64(st, 4, f->since_ms);
	sqlite3_bind_int64(st, 5, (int64_t)limit);
	while ((r = journal_row(j, st, what)) == 1) {
		if (count == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			grown = realloc(evs, cap * sizeof(*evs));
			if (grown == NULL)
				goto nomem;
			evs = grown;
		}
		memset(&evs[count], 0, sizeof(evs[count]));
		if (event_read(st, &evs[count], false) == -1)
			goto nomem;
		count++;
	}
	if (r < 0)
		goto out;
	*events = evs;
	*n = count;
	evs = NULL;
	rc = 0;
	goto out;
nomem:
	journal_fail_msg(j, "%s: out of memory", what);
out:
	sqlite3_reset(st);
	journal_events_free(evs, count);
	return rc;
}

int
journal_prune(struct journal *j, int64_t before_ms, int64_t *removed)
{
	static const char what[] = "cannot prune";
	sqlite3_stmt *st;
	int64_t n, total = 0;

	if (removed != NULL)
		*removed = 0;
	if (journal_durable(j, true, what) == -1)
		return -1;
	st = journal_stmt(j, ST_PRUNE, what);
	if (st == NULL)
		return -1;
	/*
	 * One DELETE of half a million events held the write lock for 9 s,
	 * and a delivery waiting behind it got 503. In batches, each its own
	 * commit, a worker waits for one batch at most.
	 */
	sqlite3_bind_int64(st, 1, before_ms);
	sqlite3_bind_int64(st, 2, j->prune_batch);
	do {
		if (journal_run_changes(j, st, what, &n) == -1)
			return -1;
		total += n;
		if (removed != NULL)
			*removed = total;
	} while (n == j->prune_batch);
	return 0;
}

int
journal_requeue(struct journal *j, int64_t id, int64_t *count)
{
	static const char what[] = "cannot requeue";
	sqlite3_stmt *st;

	if (count != NULL)
		*count = 0;
	if (journal_durable(j, true, what) == -1)
		return -1;
	st = journal_stmt(j, id > 0 ? ST_REQUEUE_ONE : ST_REQUEUE_DEAD, what);
	if (st == NULL)
		return -1;
	if (id > 0) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, journal_now(j));
	} else {
		sqlite3_bind_int64(st, 1, journal_now(j));
	}
	return journal_run_changes(j, st, what, count);
}

int
journal_kv_get(struct journal *j, const char *key, char *value,
    size_t size, bool *found)
{
	static const char what[] = "cannot read a setting";
	sqlite3_stmt *st;
	const unsigned char *v;
	int r, len;

	*found = false;
	if (size > 0)
		value[0] = '\0';
	st = journal_stmt(j, ST_KV_GET, what);
	if (st == NULL)
		return -1;
	journal_bind_text(st, 1, key);
	r = journal_row(j, st, what);
	if (r <= 0)
		return r;
	v = sqlite3_column_text(st, 0);
	len = sqlite3_column_bytes(st, 0);
	if (v == NULL || (size_t)len >= size) {
		sqlite3_reset(st);
		return journal_fail_msg(j, "setting %s: %d bytes do not fit "
		    "in %zu", key, len, size);
	}
	memcpy(value, v, (size_t)len + 1);
	sqlite3_reset(st);
	*found = true;
	return 0;
}

int
journal_kv_set(struct journal *j, const char *key, const char *value)
{
	static const char what[] = "cannot save a setting";
	sqlite3_stmt *st;

	/* A rotated refresh token must survive a power cut. */
	if (journal_durable(j, true, what) == -1)
		return -1;
	st = journal_stmt(j, value != NULL ? ST_KV_SET : ST_KV_DELETE, what);
	if (st == NULL)
		return -1;
	journal_bind_text(st, 1, key);
	if (value != NULL) {
		journal_bind_text(st, 2, value);
		sqlite3_bind_int64(st, 3, journal_now(j));
	}
	return journal_run(j, st, what);
}
