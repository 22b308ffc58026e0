#ifndef WC2SF_JOURNAL_IMPL_H
#define WC2SF_JOURNAL_IMPL_H

/*
 * Private to journal.c (the connection: schema, statements, helpers),
 * journal_write.c (record, claim, finish) and journal_view.c (reads,
 * upkeep and the small shared state). Nothing else includes this; the
 * rest of wc2sf sees only journal.h.
 */

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "journal.h"

/* Every statement, prepared on first use and kept for the connection. */
enum journal_stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_RESOURCE_GET,
	ST_DEDUPE,
	ST_INSERT,
	ST_BODY_INSERT,
	ST_RESOURCE_NEWEST,
	ST_CLAIM_INFO,
	ST_CLAIM_OLDER,
	ST_CLAIM_FIRST,
	ST_CLAIM_SIBLINGS,
	ST_CLAIM_SET,
	ST_SUPERSEDED,
	ST_CANDIDATES,
	ST_FINISH,
	ST_SYNCED_MARK,
	ST_UPSERTED_MARK,
	ST_SUPERSEDE_OLDER,
	ST_RELEASE,
	ST_GET,
	ST_LAST_SYNCED_BODY,
	ST_RESOURCE_KNOWN,
	ST_COUNTS,
	ST_OLDEST_PENDING,
	ST_LAST_ERROR,
	ST_LAST_SYNCED,
	ST_LIST,
	ST_PRUNE,
	ST_REQUEUE_ONE,
	ST_REQUEUE_DEAD,
	ST_KV_GET,
	ST_KV_SET,
	ST_KV_DELETE,
	ST_PENDING_OF,
	ST_SYNC_NORMAL,
	ST_SYNC_FULL,
	ST_COUNT
};

struct journal {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *stmt[ST_COUNT];
	int64_t claim_ttl_ms;
	int64_t fresh_ms;		/* see journal_set_fresh() */
	int64_t fixed_now_ms;		/* tests; 0: the real clock */
	int busy_ms;
	int prune_batch;		/* see journal_set_prune_batch() */
	int64_t busy_since_us;		/* when the current lock wait began */
	bool durable;			/* synchronous=FULL now, else NORMAL */
	bool defer_checkpoint;		/* see journal_defer_checkpoint() */
	int wal_pages;			/* in the WAL after our last commit */
	int64_t restart_after_us;	/* no RESTART checkpoint before */
	char error[1024];
};

/* Now in ms since the epoch, or the time set by journal_set_time(). */
int64_t journal_now(const struct journal *j);

/*
 * Set j->error and return -1 for the caller to pass on. fail_db names
 * what we were doing, the file and SQLite's own words (run it before a
 * ROLLBACK, which would replace them); fail_msg says the rest.
 */
int journal_fail_db(struct journal *j, const char *what);
int journal_fail_msg(struct journal *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * The statement for id, prepared on first use and reset, bindings
 * cleared, for reuse. NULL with the error set if SQLite cannot prepare
 * it.
 */
sqlite3_stmt *journal_stmt(struct journal *j, enum journal_stmt_id id,
    const char *what);

/* journal_stmt() with ?1 bound to an event id. */
sqlite3_stmt *journal_stmt_on(struct journal *j, enum journal_stmt_id id,
    int64_t event_id, const char *what);

/* Step a statement that returns no row, then reset it; 0 or -1. */
int journal_run(struct journal *j, sqlite3_stmt *st, const char *what);

/*
 * Step a query: 1 with a row to read, 0 at the end, -1 on error (the
 * statement is reset then, so the caller only reads).
 */
int journal_row(struct journal *j, sqlite3_stmt *st, const char *what);

/*
 * One-row queries, stepped and reset: journal_query_exists() sets *yes
 * when there is a row; journal_query_int64() sets *v to its first
 * column, or 0 when there is none. 0 or -1.
 */
int journal_query_exists(struct journal *j, sqlite3_stmt *st,
    const char *what, bool *yes);
int journal_query_int64(struct journal *j, sqlite3_stmt *st,
    const char *what, int64_t *v);

/*
 * Run a statement, then put the number of rows it changed in *changed
 * (may be NULL; 0 on failure).
 */
int journal_run_changes(struct journal *j, sqlite3_stmt *st,
    const char *what, int64_t *changed);

/* Bind s as text, or NULL for s NULL; s must outlive the step. */
int journal_bind_text(sqlite3_stmt *st, int i, const char *s);

/*
 * Make the next commits durable (synchronous=FULL: fsync'd before they
 * return) or not (NORMAL: written, fsync'd by the next durable commit
 * or checkpoint). Outside a transaction only; 0 or -1.
 */
int journal_durable(struct journal *j, bool durable, const char *what);

/* journal_durable(), then BEGIN IMMEDIATE; 0 or -1. */
int journal_begin(struct journal *j, bool durable, const char *what);

/* Run ST_BEGIN, ST_COMMIT or ST_ROLLBACK; 0 or -1. */
int journal_tx(struct journal *j, enum journal_stmt_id id,
    const char *what);

/* Undo a failed transaction, keeping the error that caused it. */
void journal_tx_abort(struct journal *j);

/*
 * End the transaction a function began: commit when rc is 0, roll back
 * when rc or the commit is -1. Returns the outcome, 0 or -1.
 */
int journal_tx_end(struct journal *j, int rc, const char *what);

/*
 * Read event id, body included, into ev (overwritten, not freed);
 * *found false when there is none. journal_view.c.
 */
int journal_event_load(struct journal *j, int64_t id,
    struct journal_event *ev, bool *found);

#endif
