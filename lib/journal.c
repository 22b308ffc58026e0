/*
 * The journal in one SQLite file, shared by every worker process and the
 * wc2sf command. WAL lets readers work beside the one writer; every
 * decision that reads and then writes (dedupe, stale, claim) runs inside
 * BEGIN IMMEDIATE, so writers are serialised and a decision cannot be
 * undone by a concurrent one.
 *
 * Durability: recording a delivery commits with synchronous=FULL, so it
 * is on disk before the reply goes out; WooCommerce never sends it
 * again. Claims and outcomes commit with synchronous=NORMAL: the WAL
 * write happens at once (a crashed process loses nothing), and the next
 * durable commit's fsync of the WAL carries them to the disk. A power
 * cut in between can only undo an outcome, leaving the event pending:
 * it is sent again, and since every write to Salesforce is an upsert by
 * external ID, or the delete of a record that may already be gone, that
 * doubles nothing. One fsync per delivery instead of three.
 *
 * Checkpoints: a worker defers them (journal_defer_checkpoint) and runs
 * one after its reply, so no delivery waits for the database file's
 * fsync.
 *
 * Schema, version 4 (PRAGMA user_version):
 *
 * events: one row per verified delivery.
 *   id               order of receipt (AUTOINCREMENT: never reused)
 *   topic            "order.updated"
 *   resource         "order", the part of the topic before the dot
 *   resource_id      the WooCommerce id as text; "" when the body has none
 *   modified_gmt     date_modified_gmt as sent; "" when absent
 *   received_ms      when wc2sf read it
 *   body_len         the length of its body (v3)
 *   body_sha256      with resource and resource_id, the dedupe key
 *   state            enum journal_state: 0 pending, 1 synced, 2 stale,
 *                    3 duplicate, 4 ignored, 5 dead
 *   attempts         finished attempts to send it
 *   next_attempt_ms  a pending event is not due before then
 *   claimed_by       pid of the worker sending it, NULL when none
 *   claimed_ms       when that claim was taken
 *   last_code        Salesforce errorCode of the last failure
 *   last_error       its message, or why the event was not sent
 *   sf_ids           JSON text of the Salesforce ids, once synced
 *   updated_ms       the last change of any of the above
 *
 * bodies: each event's body, the exact bytes as signed, under the
 * event's id; deleted with the event (v3; before, events.body).
 *
 * resources: the version marks, one row per WooCommerce resource seen
 * with an id; kept when events are pruned.
 *   newest_modified_gmt   highest date_modified_gmt of a pending event
 *   newest_event_id       last event recorded as pending (new version)
 *   last_synced_event_id  highest event id synced
 *   upserted              1 once an event other than a "*.deleted" one
 *                         was synced: Salesforce has the record (v2)
 *
 * Indexes: events_dedupe (resource, resource_id, body_sha256),
 * events_pending (resource, resource_id) and events_queue (id) of
 * pending events only (v4), events_state (state, updated_ms) for status
 * and pruning.
 * Each one is written on every delivery: add one only for a query on
 * the delivery path.
 *
 * This file holds the connection: the schema and its migrations, every
 * statement, the helpers the others share (journal_impl.h), opening and
 * closing. journal_write.c records deliveries and claims them;
 * journal_view.c reads, prunes, requeues and keeps the small shared
 * state.
 */
#include "journal_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"


#define DEFAULT_CLAIM_TTL_MS (5 * 60 * 1000LL)
#define BUSY_SLEEP_US 200
#define DEFAULT_BUSY_MS 5000
#define CHECKPOINT_PAGES 1000	/* SQLite's own auto-checkpoint default */
#define CHECKPOINT_RESTART_PAGES (4 * CHECKPOINT_PAGES)
#define CHECKPOINT_PAGES_MAX (16 * CHECKPOINT_PAGES)
#define PRUNE_BATCH 1000	/* events per commit of journal_prune() */
#define RESTART_WAIT_MS 20	/* longest a RESTART holds writers off */
#define RESTART_BACKOFF_MS 2000	/* after one that a reader made give up */
#define WAL_SIZE_LIMIT "20000000"	/* bytes kept after a restart */

static const char schema_v1[] =
	"CREATE TABLE events ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" topic TEXT NOT NULL,"
	" resource TEXT NOT NULL,"
	" resource_id TEXT NOT NULL DEFAULT '',"
	" modified_gmt TEXT NOT NULL DEFAULT '',"
	" received_ms INTEGER NOT NULL,"
	" body BLOB NOT NULL,"
	" body_sha256 BLOB NOT NULL,"
	" state INTEGER NOT NULL CHECK (state BETWEEN 0 AND 5),"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" next_attempt_ms INTEGER NOT NULL DEFAULT 0,"
	" claimed_by INTEGER,"
	" claimed_ms INTEGER,"
	" last_code TEXT NOT NULL DEFAULT '',"
	" last_error TEXT NOT NULL DEFAULT '',"
	" sf_ids TEXT NOT NULL DEFAULT '',"
	" updated_ms INTEGER NOT NULL);"
	"CREATE INDEX events_dedupe"
	" ON events (resource, resource_id, body_sha256);"
	"CREATE INDEX events_resource"
	" ON events (resource, resource_id, state);"
	"CREATE INDEX events_due ON events (next_attempt_ms) WHERE state = 0;"
	"CREATE INDEX events_state ON events (state, updated_ms);"
	"CREATE TABLE resources ("
	" resource TEXT NOT NULL,"
	" resource_id TEXT NOT NULL,"
	" newest_modified_gmt TEXT NOT NULL DEFAULT '',"
	" newest_event_id INTEGER REFERENCES events (id),"
	" last_synced_event_id INTEGER REFERENCES events (id),"
	" PRIMARY KEY (resource, resource_id)) WITHOUT ROWID;"
	"CREATE INDEX resources_newest ON resources (newest_event_id);"
	"CREATE INDEX resources_synced ON resources (last_synced_event_id);"
	"CREATE TABLE kv ("
	" key TEXT PRIMARY KEY,"
	" value TEXT NOT NULL,"
	" updated_ms INTEGER NOT NULL) WITHOUT ROWID;";

/*
 * Version 2 tells a resource whose record Salesforce has (an order's
 * lines need its products) from one only deleted: a delete marks a
 * record, it creates none. Before it any synced event counted.
 */
static const char schema_v2[] =
	"ALTER TABLE resources ADD COLUMN upserted INTEGER NOT NULL DEFAULT 0;"
	"UPDATE resources SET upserted = 1"
	" WHERE last_synced_event_id IS NOT NULL;";

/*
 * Version 3 keeps bodies in their own table, written once: an UPDATE
 * rewrites its whole row, and with the body in it every claim and
 * outcome copied kilobytes (a 300-line order: hundreds of KB) into the
 * WAL again.
 */
static const char schema_v3[] =
	"CREATE TABLE bodies ("
	" id INTEGER PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,"
	" body BLOB NOT NULL);"
	"INSERT INTO bodies (id, body) SELECT id, body FROM events;"
	"ALTER TABLE events ADD COLUMN body_len INTEGER NOT NULL DEFAULT 0;"
	"UPDATE events SET body_len = length(body);"
	"ALTER TABLE events DROP COLUMN body;";

/*
 * Version 4 writes fewer index pages per delivery. The index of a
 * resource's events keeps only the pending ones (every query of it asks
 * for state 0), so an outcome deletes an entry instead of moving it. The
 * resources table loses its references to events and the two indexes
 * they needed: only pruning reads those columns across rows, and it
 * builds its own lookup once per run. events_queue, the pending events
 * in order of receipt, replaces events_due (by next_attempt_ms), which
 * SQLite never chose: it found due events through events_state and
 * sorted them all, 60 ms per claim with 100,000 pending, so a drain
 * after an outage took time in the square of the backlog; now the
 * oldest due events come first, without a sort.
 */
static const char schema_v4[] =
	"DROP INDEX events_resource;"
	"DROP INDEX events_due;"
	"CREATE INDEX events_queue ON events (id) WHERE state = 0;"
	"CREATE INDEX events_pending ON events (resource, resource_id)"
	" WHERE state = 0;"
	"CREATE TABLE resources_v4 ("
	" resource TEXT NOT NULL,"
	" resource_id TEXT NOT NULL,"
	" newest_modified_gmt TEXT NOT NULL DEFAULT '',"
	" newest_event_id INTEGER,"
	" last_synced_event_id INTEGER,"
	" upserted INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (resource, resource_id)) WITHOUT ROWID;"
	"INSERT INTO resources_v4 SELECT resource, resource_id,"
	" newest_modified_gmt, newest_event_id, last_synced_event_id,"
	" upserted FROM resources;"
	"DROP TABLE resources;"
	"ALTER TABLE resources_v4 RENAME TO resources;";

/*
 * The migration hook: migrations[v] turns schema version v into v + 1.
 * A later version appends its step here (ALTER TABLE ...); the file's
 * user_version says how many have run.
 */
static const char *const migrations[] = {
	schema_v1,
	schema_v2,
	schema_v3,
	schema_v4,
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* Columns read into a struct journal_event, in event_read() order. */
#define EVENT_COLS							\
	"id, topic, resource, resource_id, modified_gmt, received_ms, "	\
	"state, attempts, next_attempt_ms, last_code, last_error, "	\
	"sf_ids, updated_ms, claimed_by, claimed_ms, body_len"

static const char *const stmt_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_RESOURCE_GET] =
	    "SELECT newest_modified_gmt, coalesce(newest_event_id, 0)"
	    " FROM resources WHERE resource = ?1 AND resource_id = ?2",
	[ST_DEDUPE] =
	    "SELECT id FROM events WHERE resource = ?1 AND resource_id = ?2"
	    " AND body_sha256 = ?3 AND id >= ?4 ORDER BY id LIMIT 1",
	[ST_INSERT] =
	    "INSERT INTO events (topic, resource, resource_id, modified_gmt,"
	    " received_ms, body_len, body_sha256, state, next_attempt_ms,"
	    " last_error, updated_ms, claimed_by, claimed_ms)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?5, ?9, ?10, ?11, ?12)",
	[ST_BODY_INSERT] = "INSERT INTO bodies (id, body) VALUES (?1, ?2)",
	[ST_RESOURCE_NEWEST] =
	    "INSERT INTO resources (resource, resource_id,"
	    " newest_modified_gmt, newest_event_id) VALUES (?1, ?2, ?3, ?4)"
	    " ON CONFLICT (resource, resource_id) DO UPDATE SET"
	    " newest_event_id = excluded.newest_event_id,"
	    " newest_modified_gmt = max(newest_modified_gmt,"
	    " excluded.newest_modified_gmt)",
	[ST_CLAIM_INFO] =
	    "SELECT e.state, coalesce(e.claimed_by, 0),"
	    " coalesce(e.claimed_ms, 0), e.resource_id <> '',"
	    " coalesce(r.last_synced_event_id, 0)"
	    " FROM events e LEFT JOIN resources r"
	    " ON r.resource = e.resource AND r.resource_id = e.resource_id"
	    " WHERE e.id = ?1",
	[ST_CLAIM_OLDER] =
	    "SELECT 1 FROM events e JOIN events o"
	    " ON o.resource = e.resource AND o.resource_id = e.resource_id"
	    " WHERE e.id = ?1 AND e.resource_id <> '' AND o.state = 0"
	    " AND o.id < ?1 LIMIT 1",
	[ST_CLAIM_FIRST] =
	    "SELECT o.id FROM events e JOIN events o"
	    " ON o.resource = e.resource AND o.resource_id = e.resource_id"
	    " WHERE e.id = ?1 AND o.state = 0 AND o.id <= ?1"
	    " AND (o.id = ?1 OR e.resource_id <> '') ORDER BY o.id LIMIT 1",
	[ST_CLAIM_SIBLINGS] =
	    "SELECT claimed_by, claimed_ms FROM events"
	    " WHERE (resource, resource_id) ="
	    " (SELECT resource, resource_id FROM events WHERE id = ?1)"
	    " AND state = 0 AND id <> ?1 AND claimed_by IS NOT NULL",
	[ST_CLAIM_SET] =
	    "UPDATE events SET claimed_by = ?2, claimed_ms = ?3,"
	    " updated_ms = ?3 WHERE id = ?1 AND state = 0"
	    " AND coalesce(claimed_by, 0) = ?4"
	    " AND coalesce(claimed_ms, 0) = ?5",
	[ST_SUPERSEDED] =
	    "UPDATE events SET state = 2, claimed_by = NULL,"
	    " claimed_ms = NULL, last_error = ?2, updated_ms = ?3"
	    " WHERE id = ?1 AND state = 0",
	[ST_CANDIDATES] =
	    "SELECT e.id FROM events e INDEXED BY events_queue"
	    " WHERE e.state = 0"
	    " AND e.next_attempt_ms <= ?1 AND e.id > ?2"
	    " AND (e.attempts > 0 OR e.received_ms <= ?4)"
	    " AND NOT (e.resource_id <> '' AND EXISTS (SELECT 1 FROM events o"
	    " WHERE o.resource = e.resource AND o.resource_id = e.resource_id"
	    " AND o.state = 0 AND o.id < e.id))"
	    " ORDER BY e.id LIMIT ?3",
	[ST_FINISH] =
	    "UPDATE events SET state = ?2, next_attempt_ms = ?3,"
	    " last_code = ?4, last_error = ?5, sf_ids = ?6,"
	    " attempts = attempts + 1, claimed_by = NULL, claimed_ms = NULL,"
	    " updated_ms = ?7 WHERE id = ?1",
	[ST_SYNCED_MARK] =
	    "UPDATE resources SET last_synced_event_id = ?1"
	    " WHERE (resource, resource_id) ="
	    " (SELECT resource, resource_id FROM events WHERE id = ?1)"
	    " AND coalesce(last_synced_event_id, 0) < ?1",
	[ST_UPSERTED_MARK] =
	    "UPDATE resources SET upserted = 1"
	    " WHERE (resource, resource_id) ="
	    " (SELECT resource, resource_id FROM events WHERE id = ?1"
	    " AND topic NOT LIKE '%.deleted') AND upserted = 0",
	[ST_SUPERSEDE_OLDER] =
	    "UPDATE events SET state = 2, claimed_by = NULL,"
	    " claimed_ms = NULL, last_error = ?2, updated_ms = ?3"
	    " WHERE (resource, resource_id) ="
	    " (SELECT resource, resource_id FROM events WHERE id = ?1)"
	    " AND resource_id <> '' AND state = 0 AND id < ?1",
	[ST_RELEASE] =
	    "UPDATE events SET claimed_by = NULL, claimed_ms = NULL,"
	    " updated_ms = ?2 WHERE id = ?1",
	[ST_GET] = "SELECT " EVENT_COLS ","
	    " (SELECT body FROM bodies WHERE id = ?1)"
	    " FROM events WHERE id = ?1",
	[ST_LAST_SYNCED_BODY] =
	    "SELECT b.body FROM resources r JOIN bodies b"
	    " ON b.id = r.last_synced_event_id"
	    " WHERE r.resource = ?1 AND r.resource_id = ?2",
	[ST_RESOURCE_KNOWN] =
	    "SELECT 1 FROM resources WHERE resource = ?1"
	    " AND resource_id = ?2 AND upserted = 1",
	[ST_COUNTS] = "SELECT state, count(*) FROM events GROUP BY state",
	[ST_OLDEST_PENDING] =
	    "SELECT id, received_ms FROM events WHERE state = 0"
	    " ORDER BY id LIMIT 1",
	[ST_LAST_ERROR] =
	    "SELECT id, updated_ms, topic, last_code, last_error FROM events"
	    " WHERE state IN (0, 5) AND last_error <> ''"
	    " ORDER BY updated_ms DESC, id DESC LIMIT 1",
	[ST_LAST_SYNCED] =
	    "SELECT coalesce(max(updated_ms), 0) FROM events WHERE state = 1",
	[ST_LIST] =
	    "SELECT " EVENT_COLS " FROM events"
	    " WHERE (?1 < 0 OR state = ?1) AND (?2 IS NULL OR topic = ?2)"
	    " AND (?3 IS NULL OR resource_id = ?3) AND received_ms >= ?4"
	    " ORDER BY id DESC LIMIT ?5",
	[ST_PRUNE] =
	    "DELETE FROM events WHERE id IN (SELECT id FROM events"
	    " WHERE state IN (1, 2, 3, 4) AND updated_ms < ?1"
	    " AND id NOT IN (SELECT newest_event_id FROM resources"
	    " WHERE newest_event_id IS NOT NULL)"
	    " AND id NOT IN (SELECT last_synced_event_id FROM resources"
	    " WHERE last_synced_event_id IS NOT NULL) LIMIT ?2)",
	[ST_REQUEUE_ONE] =
	    "UPDATE events SET state = 0, next_attempt_ms = ?2,"
	    " updated_ms = ?2 WHERE id = ?1 AND state IN (0, 5)",
	[ST_REQUEUE_DEAD] =
	    "UPDATE events SET state = 0, next_attempt_ms = ?1,"
	    " updated_ms = ?1 WHERE state = 5",
	[ST_KV_GET] = "SELECT value FROM kv WHERE key = ?1",
	[ST_KV_SET] =
	    "INSERT INTO kv (key, value, updated_ms) VALUES (?1, ?2, ?3)"
	    " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
	    " updated_ms = excluded.updated_ms",
	[ST_KV_DELETE] = "DELETE FROM kv WHERE key = ?1",
	[ST_PENDING_OF] =
	    "SELECT 1 FROM events WHERE resource = ?1 AND resource_id = ?2"
	    " AND state = 0 LIMIT 1",
	[ST_SYNC_NORMAL] = "PRAGMA synchronous = NORMAL",
	[ST_SYNC_FULL] = "PRAGMA synchronous = FULL",
};

static const char *const state_names[JOURNAL_NSTATES] = {
	[JOURNAL_PENDING] = "pending",
	[JOURNAL_SYNCED] = "synced",
	[JOURNAL_STALE] = "stale",
	[JOURNAL_DUPLICATE] = "duplicate",
	[JOURNAL_IGNORED] = "ignored",
	[JOURNAL_DEAD] = "dead",
};

const char *
journal_state_name(enum journal_state state)
{
	if ((unsigned)state >= JOURNAL_NSTATES)
		return "unknown";
	return state_names[state];
}

int
journal_state_parse(const char *name)
{
	int i;

	if (name == NULL)
		return -1;
	for (i = 0; i < JOURNAL_NSTATES; i++)
		if (strcmp(name, state_names[i]) == 0)
			return i;
	return -1;
}

int64_t
journal_now(const struct journal *j)
{
	struct timespec ts;

	if (j->fixed_now_ms != 0)
		return j->fixed_now_ms;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Busy and locked get a hint at the timeout that ran out. */
int
journal_fail_db(struct journal *j, const char *what)
{
	int code = sqlite3_errcode(j->db) & 0xff;

	if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
		snprintf(j->error, sizeof(j->error),
		    "journal %s: %s: %s (another writer held it for "
		    "more than %d ms)", j->path, what, sqlite3_errmsg(j->db),
		    j->busy_ms);
	else
		snprintf(j->error, sizeof(j->error), "journal %s: %s: %s",
		    j->path, what, sqlite3_errmsg(j->db));
	return -1;
}

int
journal_fail_msg(struct journal *j, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(j->error, sizeof(j->error), "journal %s: %s", j->path, msg);
	return -1;
}

const char *
journal_error(const struct journal *j)
{
	if (j == NULL)
		return "journal: not open";
	return j->error;
}

/* Persistent statements: SQLite keeps their plans for the connection. */
sqlite3_stmt *
journal_stmt(struct journal *j, enum journal_stmt_id id, const char *what)
{
	sqlite3_stmt *st = j->stmt[id];

	if (st == NULL) {
		if (sqlite3_prepare_v3(j->db, stmt_sql[id], -1,
		    SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
			journal_fail_db(j, what);
			return NULL;
		}
		j->stmt[id] = st;
		return st;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

sqlite3_stmt *
journal_stmt_on(struct journal *j, enum journal_stmt_id id,
    int64_t event_id, const char *what)
{
	sqlite3_stmt *st;

	st = journal_stmt(j, id, what);
	if (st != NULL)
		sqlite3_bind_int64(st, 1, event_id);
	return st;
}

int
journal_run(struct journal *j, sqlite3_stmt *st, const char *what)
{
	int rc;

	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		journal_fail_db(j, what);
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

int
journal_row(struct journal *j, sqlite3_stmt *st, const char *what)
{
	int rc;

	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	journal_fail_db(j, what);
	sqlite3_reset(st);
	return -1;
}

int
journal_query_exists(struct journal *j, sqlite3_stmt *st, const char *what,
    bool *yes)
{
	int r;

	*yes = false;
	r = journal_row(j, st, what);
	sqlite3_reset(st);
	if (r < 0)
		return -1;
	*yes = r == 1;
	return 0;
}

int
journal_query_int64(struct journal *j, sqlite3_stmt *st, const char *what,
    int64_t *v)
{
	int r;

	*v = 0;
	r = journal_row(j, st, what);
	if (r == 1)
		*v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return r < 0 ? -1 : 0;
}

int
journal_run_changes(struct journal *j, sqlite3_stmt *st, const char *what,
    int64_t *changed)
{
	if (changed != NULL)
		*changed = 0;
	if (journal_run(j, st, what) == -1)
		return -1;
	if (changed != NULL)
		*changed = sqlite3_changes64(j->db);
	return 0;
}

int
journal_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

int
journal_tx(struct journal *j, enum journal_stmt_id id, const char *what)
{
	sqlite3_stmt *st;

	st = journal_stmt(j, id, what);
	if (st == NULL)
		return -1;
	return journal_run(j, st, what);
}

/* The ROLLBACK's own failure is logged; the caller reports the cause. */
void
journal_tx_abort(struct journal *j)
{
	char saved[sizeof(j->error)];

	if (sqlite3_get_autocommit(j->db))
		return;
	memcpy(saved, j->error, sizeof(saved));
	if (journal_tx(j, ST_ROLLBACK, "cannot roll back") == -1)
		log_error("event=journal_rollback error=\"%s\"", j->error);
	memcpy(j->error, saved, sizeof(saved));
}

int
journal_durable(struct journal *j, bool durable, const char *what)
{
	if (j->durable == durable)
		return 0;
	if (journal_tx(j, durable ? ST_SYNC_FULL : ST_SYNC_NORMAL, what) ==
	    -1)
		return -1;
	j->durable = durable;
	return 0;
}

int
journal_begin(struct journal *j, bool durable, const char *what)
{
	if (journal_durable(j, durable, what) == -1)
		return -1;
	return journal_tx(j, ST_BEGIN, what);
}

int
journal_tx_end(struct journal *j, int rc, const char *what)
{
	if (rc == 0 && journal_tx(j, ST_COMMIT, what) == -1)
		rc = -1;
	if (rc == -1)
		journal_tx_abort(j);
	return rc;
}

/*
 * Create the file with mode 0600 if it is missing, so SQLite opens it
 * as it is (its -wal and -shm files copy the mode): bodies hold personal
 * data. A missing directory is a setup problem to report, not to fix.
 */
static int
precreate(const char *path, bool create, char *err, size_t errlen)
{
	struct stat sb;
	const char *slash;
	int fd;

	if (!create) {
		if (stat(path, &sb) == 0)
			return 0;
		snprintf(err, errlen, "journal %s: %s%s", path,
		    strerror(errno), errno == ENOENT ?
		    " (nothing has been journaled yet?)" : "");
		return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (errno == EEXIST)
		return 0;
	if (errno == ENOENT) {
		slash = strrchr(path, '/');
		snprintf(err, errlen, "journal %s: directory %.*s does not "
		    "exist; create it, writable by the user wc2sf runs as",
		    path, slash == NULL ? 1 : (int)(slash - path),
		    slash == NULL ? "." : path);
		return -1;
	}
	snprintf(err, errlen, "journal %s: cannot create the file: %s", path,
	    strerror(errno));
	return -1;
}

/* Run one pragma that returns nothing we need; 0 or -1. */
static int
pragma(struct journal *j, const char *sql)
{
	char what[96];

	if (sqlite3_exec(j->db, sql, NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	snprintf(what, sizeof(what), "cannot run %s", sql);
	return journal_fail_db(j, what);
}

static int
user_version(struct journal *j, int *version)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(j->db, "PRAGMA user_version", -1, &st,
	    NULL) != SQLITE_OK) {
		journal_fail_db(j, "cannot read the schema version");
		goto out;
	}
	if (sqlite3_step(st) != SQLITE_ROW) {
		journal_fail_db(j, "cannot read the schema version");
		goto out;
	}
	*version = sqlite3_column_int(st, 0);
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

/*
 * Bring the schema to SCHEMA_VERSION. The common case, already current,
 * only reads. Otherwise the version is read again inside BEGIN
 * IMMEDIATE, so two workers opening a new file do not both create it.
 */
static int
migrate(struct journal *j)
{
	char sql[64];
	int version, rc = -1;

	if (user_version(j, &version) == -1)
		return -1;
	if (version == SCHEMA_VERSION)
		return 0;
	if (version > SCHEMA_VERSION)
		return journal_fail_msg(j, "schema version %d is newer than "
		    "this wc2sf knows (%d); use the newer wc2sf", version,
		    SCHEMA_VERSION);
	if (journal_tx(j, ST_BEGIN, "cannot create the schema") == -1)
		return -1;
	if (user_version(j, &version) == -1)
		goto out;
	for (; version < SCHEMA_VERSION; version++) {
		if (sqlite3_exec(j->db, migrations[version], NULL, NULL,
		    NULL) != SQLITE_OK) {
			snprintf(sql, sizeof(sql), "cannot migrate the schema "
			    "to version %d", version + 1);
			journal_fail_db(j, sql);
			goto out;
		}
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
	    SCHEMA_VERSION);
	if (pragma(j, sql) == -1)
		goto out;
	rc = 0;
out:
	return journal_tx_end(j, rc, "cannot create the schema");
}

/* WAL is what lets workers read while one writes; refuse to run without. */
static int
use_wal(struct journal *j)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *mode;
	int rc = -1;

	if (sqlite3_prepare_v2(j->db, "PRAGMA journal_mode = WAL", -1, &st,
	    NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
		journal_fail_db(j, "cannot switch to WAL mode");
		goto out;
	}
	mode = sqlite3_column_text(st, 0);
	if (mode == NULL || strcmp((const char *)mode, "wal") != 0) {
		journal_fail_msg(j, "cannot switch to WAL mode (got \"%s\"); "
		    "is it on a network file system?", mode == NULL ? "" :
		    (const char *)mode);
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

static int64_t
monotonic_us(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
}

/*
 * Wait for a lock another worker holds. SQLite's own busy timeout sleeps
 * 1, 2, 5 ... 100 ms between tries, while a delivery holds the lock for
 * well under a millisecond: under load, workers slept far longer than
 * they waited. Try again every 200 us until busy_ms have passed.
 */
static int
busy_wait(void *ctx, int tries)
{
	struct journal *j = ctx;
	struct timespec ts = { 0, BUSY_SLEEP_US * 1000L };
	int64_t now_us = monotonic_us();

	if (tries == 0)
		j->busy_since_us = now_us;
	else if (now_us - j->busy_since_us >= (int64_t)j->busy_ms * 1000)
		return 0;
	nanosleep(&ts, NULL);
	return 1;
}

/*
 * After each commit of this connection: how many pages the WAL holds,
 * whoever wrote them. Unless deferred, checkpoint as SQLite's own
 * auto-checkpoint would (this hook replaces it); deferred, only a WAL
 * far past the threshold (nobody ran journal_checkpoint() for a long
 * time) is checkpointed here.
 */
static int
wal_hook(void *ctx, sqlite3 *db, const char *name, int pages)
{
	struct journal *j = ctx;

	j->wal_pages = pages;
	if (pages >= (j->defer_checkpoint ? CHECKPOINT_PAGES_MAX :
	    CHECKPOINT_PAGES))
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE,
		    NULL, NULL);
	return SQLITE_OK;
}

void
journal_defer_checkpoint(struct journal *j)
{
	j->defer_checkpoint = true;
}

int
journal_checkpoint(struct journal *j)
{
	int mode = SQLITE_CHECKPOINT_PASSIVE, rc;

	if (j->wal_pages < CHECKPOINT_PAGES)
		return 0;
	/*
	 * The WAL starts over from its beginning only when a checkpoint has
	 * copied all of it and no reader still uses it. Under steady load a
	 * passive checkpoint never catches up with the writers beside it,
	 * and the WAL grew past 140 MB in a 20 s bench run. Past
	 * CHECKPOINT_RESTART_PAGES, hold the writers off (they wait as for
	 * any write lock) until it is copied and the next write starts it
	 * over: a few ms, once every few hundred deliveries.
	 *
	 * A reader that keeps one snapshot open (an admin's sqlite3 shell, a
	 * backup) stops the WAL from starting over at all. SQLite's RESTART
	 * then waits on it holding the write lock, for as long as the busy
	 * handler lets it: with the writers' 5 s, every delivery stalled and
	 * some gave up with 503. So a RESTART waits RESTART_WAIT_MS at most,
	 * copies what it can, and once a reader made it give up, this
	 * connection checkpoints passively for RESTART_BACKOFF_MS.
	 */
	if (j->wal_pages >= CHECKPOINT_RESTART_PAGES &&
	    monotonic_us() >= j->restart_after_us)
		mode = SQLITE_CHECKPOINT_RESTART;
	if (mode == SQLITE_CHECKPOINT_RESTART) {
		int busy_ms = j->busy_ms;

		j->busy_ms = RESTART_WAIT_MS;
		rc = sqlite3_wal_checkpoint_v2(j->db, NULL, mode, NULL, NULL);
		j->busy_ms = busy_ms;
		if ((rc & 0xff) == SQLITE_BUSY)
			j->restart_after_us = monotonic_us() +
			    (int64_t)RESTART_BACKOFF_MS * 1000;
	} else {
		rc = sqlite3_wal_checkpoint_v2(j->db, NULL, mode, NULL, NULL);
	}
	if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY)
		return journal_fail_db(j, "cannot checkpoint");
	j->wal_pages = 0;
	return 0;
}

static struct journal *
open_journal(const char *path, bool create, char *err, size_t errlen)
{
	struct journal *j = NULL;

	if (path == NULL || *path == '\0') {
		snprintf(err, errlen, "journal: no file configured "
		    "([store] path)");
		return NULL;
	}
	if (precreate(path, create, err, errlen) == -1)
		return NULL;
	j = calloc(1, sizeof(*j));
	if (j == NULL || (j->path = strdup(path)) == NULL)
		goto nomem;
	j->claim_ttl_ms = DEFAULT_CLAIM_TTL_MS;
	j->busy_ms = DEFAULT_BUSY_MS;
	j->prune_batch = PRUNE_BATCH;
	if (sqlite3_open_v2(path, &j->db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		if (j->db == NULL)
			goto nomem;
		/* SQLite says only "unable to open database file". */
		if (access(path, R_OK | W_OK) == -1 && errno == EACCES)
			journal_fail_msg(j, "cannot open: permission denied "
			    "for this process (uid %ld); the file must be "
			    "readable and writable by the user wc2sf runs as",
			    (long)geteuid());
		else
			journal_fail_db(j, "cannot open");
		goto fail;
	}
	sqlite3_extended_result_codes(j->db, 1);
	sqlite3_busy_handler(j->db, busy_wait, j);
	/* SQLite opens a file it may not write read-only, without a word. */
	if (create && sqlite3_db_readonly(j->db, "main") == 1) {
		journal_fail_msg(j, "the file is read-only for this process "
		    "(uid %ld); it must be writable by the user wc2sf runs as",
		    (long)geteuid());
		goto fail;
	}
	/*
	 * SQLite's default page cache, 2,000 KiB per connection, filled up
	 * within the first 1,000 deliveries and was 40 % of a worker's own
	 * memory. It buys little: another worker's commit empties it, and a
	 * page it lacks is one pread of a page the kernel holds. At 256 KiB a
	 * delivery makes about one more pread and the same instructions
	 * (bench/README.md, "Memory").
	 */
	if (pragma(j, "PRAGMA cache_size = -256") == -1 || use_wal(j) == -1 ||
	    pragma(j, "PRAGMA synchronous = FULL") == -1 ||
	    pragma(j, "PRAGMA journal_size_limit = " WAL_SIZE_LIMIT) == -1 ||
	    pragma(j, "PRAGMA foreign_keys = ON") == -1 || migrate(j) == -1)
		goto fail;
	j->durable = true;
	sqlite3_wal_hook(j->db, wal_hook, j);
	return j;
nomem:
	snprintf(err, errlen, "journal %s: out of memory", path);
	journal_close(j);
	return NULL;
fail:
	snprintf(err, errlen, "%s", j->error);
	journal_close(j);
	return NULL;
}

struct journal *
journal_open(const char *path, char *err, size_t errlen)
{
	return open_journal(path, true, err, errlen);
}

struct journal *
journal_open_existing(const char *path, char *err, size_t errlen)
{
	return open_journal(path, false, err, errlen);
}

void
journal_close(struct journal *j)
{
	int i;

	if (j == NULL)
		return;
	if (j->db != NULL && j->defer_checkpoint &&
	    journal_checkpoint(j) == -1)
		log_warn("event=journal_checkpoint error=\"%s\"", j->error);
	for (i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(j->stmt[i]);
	if (j->db != NULL && sqlite3_close(j->db) != SQLITE_OK)
		log_warn("event=journal_close path=%s error=\"%s\"", j->path,
		    sqlite3_errmsg(j->db));
	free(j->path);
	free(j);
}

void
journal_set_fresh(struct journal *j, int64_t ms)
{
	j->fresh_ms = ms > 0 ? ms : 0;
}

void
journal_set_claim_ttl(struct journal *j, int64_t ms)
{
	j->claim_ttl_ms = ms > 0 ? ms : DEFAULT_CLAIM_TTL_MS;
}

void
journal_set_busy_timeout(struct journal *j, int ms)
{
	j->busy_ms = ms >= 0 ? ms : DEFAULT_BUSY_MS;
	sqlite3_busy_handler(j->db, busy_wait, j);
}

void
journal_set_time(struct journal *j, int64_t ms)
{
	j->fixed_now_ms = ms;
}

void
journal_set_prune_batch(struct journal *j, int n)
{
	j->prune_batch = n > 0 ? n : PRUNE_BATCH;
}

