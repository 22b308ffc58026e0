/*
 * The journal in one SQLite file, shared by every worker process and the
 * wc2sf command. WAL lets readers work beside the one writer; every
 * decision that reads and then writes (dedupe, stale, claim) runs inside
 * BEGIN IMMEDIATE, so writers are serialised and a decision cannot be
 * undone by a concurrent one. synchronous=FULL makes a commit durable
 * before the reply goes out.
 *
 * Schema, version 2 (PRAGMA user_version):
 *
 * events: one row per verified delivery.
 *   id               order of receipt (AUTOINCREMENT: never reused)
 *   topic            "order.updated"
 *   resource         "order", the part of the topic before the dot
 *   resource_id      the WooCommerce id as text; "" when the body has none
 *   modified_gmt     date_modified_gmt as sent; "" when absent
 *   received_ms      when wc2sf read it
 *   body             the exact bytes, as signed
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
 * resources: the version marks, one row per WooCommerce resource seen
 * with an id; kept when events are pruned.
 *   newest_modified_gmt   highest date_modified_gmt of a pending event
 *   newest_event_id       last event recorded as pending (new version)
 *   last_synced_event_id  highest event id synced
 *   upserted              1 once an event other than a "*.deleted" one
 *                         was synced: Salesforce has the record (v2)
 *
 * kv: small shared state (key, value, updated_ms).
 */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "log.h"


#define DEFAULT_CLAIM_TTL_MS (5 * 60 * 1000LL)
#define DEFAULT_BUSY_MS 5000
#define DEFAULT_LIST_LIMIT 50
#define CLAIM_BATCH 32
#define SHA256_LEN 32

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
 * The migration hook: migrations[v] turns schema version v into v + 1.
 * A later version appends its step here (ALTER TABLE ...); the file's
 * user_version says how many have run.
 */
static const char *const migrations[] = {
	schema_v1,
	schema_v2,
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* Columns read into a struct journal_event, in event_read() order. */
#define EVENT_COLS							\
	"id, topic, resource, resource_id, modified_gmt, received_ms, "	\
	"state, attempts, next_attempt_ms, last_code, last_error, "	\
	"sf_ids, updated_ms, claimed_by, claimed_ms, length(body)"

/* Every statement, prepared on first use and kept for the connection. */
enum stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_RESOURCE_GET,
	ST_DEDUPE,
	ST_INSERT,
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
	ST_COUNT
};

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
	    " received_ms, body, body_sha256, state, next_attempt_ms,"
	    " last_error, updated_ms)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?5, ?9, ?10)",
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
	    "SELECT e.id FROM events e WHERE e.state = 0"
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
	[ST_GET] = "SELECT " EVENT_COLS ", body FROM events WHERE id = ?1",
	[ST_LAST_SYNCED_BODY] =
	    "SELECT e.body FROM resources r JOIN events e"
	    " ON e.id = r.last_synced_event_id"
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
	    "DELETE FROM events WHERE state IN (1, 2, 3, 4)"
	    " AND updated_ms < ?1"
	    " AND id NOT IN (SELECT newest_event_id FROM resources"
	    " WHERE newest_event_id IS NOT NULL)"
	    " AND id NOT IN (SELECT last_synced_event_id FROM resources"
	    " WHERE last_synced_event_id IS NOT NULL)",
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
};

struct journal {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *stmt[ST_COUNT];
	int64_t claim_ttl_ms;
	int64_t fresh_ms;		/* see journal_set_fresh() */
	int64_t fixed_now_ms;		/* tests; 0: the real clock */
	int busy_ms;
	char error[1024];
};

/* What claim_try() found. */
enum claim_outcome {
	CLAIM_TAKEN,
	CLAIM_HELD,		/* by a live worker, itself or a sibling */
	CLAIM_BEHIND,		/* an older version is pending */
	CLAIM_NOT_PENDING,
	CLAIM_SUPERSEDED,	/* marked stale just now */
	CLAIM_MISSING
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

static int64_t
now_ms(const struct journal *j)
{
	struct timespec ts;

	if (j->fixed_now_ms != 0)
		return j->fixed_now_ms;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Set the sentence for a failure of SQLite: what we were doing, the file,
 * and SQLite's own words. Must run before a ROLLBACK, which would replace
 * the message. Returns -1 for the caller to pass on.
 */
static int
fail_db(struct journal *j, const char *what)
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

static int
fail_msg(struct journal *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
fail_msg(struct journal *j, const char *fmt, ...)
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

/*
 * The statement for id, prepared on first use and reset for reuse. NULL
 * with the error set if SQLite cannot prepare it.
 */
static sqlite3_stmt *
stmt(struct journal *j, enum stmt_id id, const char *what)
{
	sqlite3_stmt *st = j->stmt[id];

	if (st == NULL) {
		if (sqlite3_prepare_v3(j->db, stmt_sql[id], -1,
		    SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
			fail_db(j, what);
			return NULL;
		}
		j->stmt[id] = st;
		return st;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

/* Step a statement that returns no row; 0 or -1 with the error set. */
static int
run(struct journal *j, sqlite3_stmt *st, const char *what)
{
	int rc;

	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		fail_db(j, what);
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

/*
 * Step a query: 1 with a row to read, 0 at the end, -1 on error (the
 * statement is reset then, so the caller only reads).
 */
static int
row(struct journal *j, sqlite3_stmt *st, const char *what)
{
	int rc;

	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	fail_db(j, what);
	sqlite3_reset(st);
	return -1;
}

static int
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

static int
tx(struct journal *j, enum stmt_id id, const char *what)
{
	sqlite3_stmt *st;

	st = stmt(j, id, what);
	if (st == NULL)
		return -1;
	return run(j, st, what);
}

/* Undo a failed transaction, keeping the error that caused it. */
static void
tx_abort(struct journal *j)
{
	char saved[sizeof(j->error)];

	if (sqlite3_get_autocommit(j->db))
		return;
	memcpy(saved, j->error, sizeof(saved));
	if (tx(j, ST_ROLLBACK, "cannot roll back") == -1)
		log_error("event=journal_rollback error=\"%s\"", j->error);
	memcpy(j->error, saved, sizeof(saved));
}

/*
 * Whether process pid has ended: kill(pid, 0) failing with ESRCH (EPERM
 * means it lives under another user), or a zombie its parent has not
 * reaped yet, which /proc shows where there is one. A worker killed
 * mid-call is a zombie until its web server notices.
 */
static bool
process_ended(int64_t pid)
{
	char path[64], buf[256];
	const char *paren;
	ssize_t n;
	int fd;

	if (kill((pid_t)pid, 0) == -1 && errno == ESRCH)
		return true;
	snprintf(path, sizeof(path), "/proc/%lld/stat", (long long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* "pid (name) S ...": the name may hold anything, ")" included. */
	paren = strrchr(buf, ')');
	return paren != NULL && paren[1] == ' ' &&
	    (paren[2] == 'Z' || paren[2] == 'X');
}

/* A claim counts while its process lives and it is younger than the TTL. */
static bool
claim_live(const struct journal *j, int64_t pid, int64_t since, int64_t now)
{
	if (pid <= 0)
		return false;
	if (now - since >= j->claim_ttl_ms)
		return false;
	return !process_ended(pid);
}

static void
sha256(const unsigned char *body, size_t len, unsigned char out[SHA256_LEN])
{
	unsigned int n = SHA256_LEN;

	if (EVP_Digest(body, len, out, &n, EVP_sha256(), NULL) != 1)
		memset(out, 0, SHA256_LEN);
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
		    "exist; create it, writable by the web server's user",
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
	return fail_db(j, what);
}

static int
user_version(struct journal *j, int *version)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(j->db, "PRAGMA user_version", -1, &st,
	    NULL) != SQLITE_OK) {
		fail_db(j, "cannot read the schema version");
		goto out;
	}
	if (sqlite3_step(st) != SQLITE_ROW) {
		fail_db(j, "cannot read the schema version");
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
		return fail_msg(j, "schema version %d is newer than this "
		    "wc2sf knows (%d); use the newer wc2sf", version,
		    SCHEMA_VERSION);
	if (tx(j, ST_BEGIN, "cannot create the schema") == -1)
		return -1;
	if (user_version(j, &version) == -1)
		goto out;
	for (; version < SCHEMA_VERSION; version++) {
		if (sqlite3_exec(j->db, migrations[version], NULL, NULL,
		    NULL) != SQLITE_OK) {
			snprintf(sql, sizeof(sql), "cannot migrate the schema "
			    "to version %d", version + 1);
			fail_db(j, sql);
			goto out;
		}
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
	    SCHEMA_VERSION);
	if (pragma(j, sql) == -1)
		goto out;
	if (tx(j, ST_COMMIT, "cannot create the schema") == -1)
		goto out;
	rc = 0;
out:
	if (rc == -1)
		tx_abort(j);
	return rc;
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
		fail_db(j, "cannot switch to WAL mode");
		goto out;
	}
	mode = sqlite3_column_text(st, 0);
	if (mode == NULL || strcmp((const char *)mode, "wal") != 0) {
		fail_msg(j, "cannot switch to WAL mode (got \"%s\"); is it on "
		    "a network file system?", mode == NULL ? "" :
		    (const char *)mode);
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
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
	if (sqlite3_open_v2(path, &j->db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		if (j->db == NULL)
			goto nomem;
		fail_db(j, "cannot open");
		goto fail;
	}
	sqlite3_extended_result_codes(j->db, 1);
	sqlite3_busy_timeout(j->db, j->busy_ms);
	/* SQLite opens a file it may not write read-only, without a word. */
	if (create && sqlite3_db_readonly(j->db, "main") == 1) {
		fail_msg(j, "the file is read-only for this process (uid %ld); "
		    "it must be writable by the user wc2sf runs as",
		    (long)geteuid());
		goto fail;
	}
	if (use_wal(j) == -1 || pragma(j, "PRAGMA synchronous = FULL") == -1 ||
	    pragma(j, "PRAGMA foreign_keys = ON") == -1 || migrate(j) == -1)
		goto fail;
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
	sqlite3_busy_timeout(j->db, j->busy_ms);
}

void
journal_set_time(struct journal *j, int64_t ms)
{
	j->fixed_now_ms = ms;
}

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

/* Read event id into ev; *found false when there is none. */
static int
event_load(struct journal *j, int64_t id, struct journal_event *ev,
    bool *found)
{
	static const char what[] = "cannot read an event";
	sqlite3_stmt *st;
	int r;

	*found = false;
	st = stmt(j, ST_GET, what);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	r = row(j, st, what);
	if (r <= 0)
		return r;
	if (event_read(st, ev, true) == -1) {
		sqlite3_reset(st);
		return fail_msg(j, "out of memory reading event %" PRId64,
		    id);
	}
	sqlite3_reset(st);
	*found = true;
	return 0;
}

int
journal_get(struct journal *j, int64_t id, struct journal_event *ev,
    bool *found)
{
	return event_load(j, id, ev, found);
}

/*
 * What record decides from: the resource's newest version. For a body
 * without an id there is none, and newest_id 0 makes dedupe compare with
 * every earlier id-less body.
 */
struct version_mark {
	char modified[64];
	int64_t newest_id;
};

static int
mark_get(struct journal *j, const char *resource, const char *rid,
    struct version_mark *m)
{
	static const char what[] = "cannot record the event";
	sqlite3_stmt *st;
	const unsigned char *mod;
	int r;

	memset(m, 0, sizeof(*m));
	if (*rid == '\0')
		return 0;
	st = stmt(j, ST_RESOURCE_GET, what);
	if (st == NULL)
		return -1;
	bind_text(st, 1, resource);
	bind_text(st, 2, rid);
	r = row(j, st, what);
	if (r == 1) {
		mod = sqlite3_column_text(st, 0);
		snprintf(m->modified, sizeof(m->modified), "%s",
		    mod == NULL ? "" : (const char *)mod);
		m->newest_id = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return r < 0 ? -1 : 0;
}

/* The id of an earlier event with the same body, or 0. */
static int
dedupe(struct journal *j, const char *resource, const char *rid,
    const unsigned char *sha, int64_t since_id, int64_t *dup_id)
{
	static const char what[] = "cannot record the event";
	sqlite3_stmt *st;
	int r;

	*dup_id = 0;
	st = stmt(j, ST_DEDUPE, what);
	if (st == NULL)
		return -1;
	bind_text(st, 1, resource);
	bind_text(st, 2, rid);
	sqlite3_bind_blob(st, 3, sha, SHA256_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, since_id);
	r = row(j, st, what);
	if (r == 1)
		*dup_id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return r < 0 ? -1 : 0;
}

static int
insert_event(struct journal *j, const struct journal_event *ev,
    const char *resource, const char *rid, const char *mod,
    const unsigned char *sha, enum journal_state state, const char *why,
    int64_t now, int64_t *id)
{
	static const char what[] = "cannot record the event";
	sqlite3_stmt *st;

	st = stmt(j, ST_INSERT, what);
	if (st == NULL)
		return -1;
	bind_text(st, 1, ev->topic);
	bind_text(st, 2, resource);
	bind_text(st, 3, rid);
	bind_text(st, 4, mod);
	sqlite3_bind_int64(st, 5, ev->received_ms);
	if (ev->body_len > 0)
		sqlite3_bind_blob64(st, 6, ev->body, ev->body_len,
		    SQLITE_STATIC);
	else
		sqlite3_bind_zeroblob(st, 6, 0);
	sqlite3_bind_blob(st, 7, sha, SHA256_LEN, SQLITE_STATIC);
	sqlite3_bind_int(st, 8, (int)state);
	bind_text(st, 9, why);
	sqlite3_bind_int64(st, 10, now);
	if (run(j, st, what) == -1)
		return -1;
	*id = sqlite3_last_insert_rowid(j->db);
	return 0;
}

static int
mark_newest(struct journal *j, const char *resource, const char *rid,
    const char *mod, int64_t id)
{
	static const char what[] = "cannot record the event";
	sqlite3_stmt *st;

	st = stmt(j, ST_RESOURCE_NEWEST, what);
	if (st == NULL)
		return -1;
	bind_text(st, 1, resource);
	bind_text(st, 2, rid);
	bind_text(st, 3, mod);
	sqlite3_bind_int64(st, 4, id);
	return run(j, st, what);
}

/*
 * The decision of DESIGN.md steps 4 and 5, made and written in one
 * transaction so that two workers receiving the same body cannot both
 * find it new.
 */
int
journal_record(struct journal *j, struct journal_event *ev)
{
	unsigned char sha[SHA256_LEN];
	struct version_mark mark;
	char resource[64], why[128] = "";
	const char *rid, *mod, *dot;
	enum journal_state state;
	int64_t dup_id, now = now_ms(j);
	int rc = -1;

	if (ev->topic == NULL || *ev->topic == '\0')
		return fail_msg(j, "cannot record an event without a topic");
	if (ev->body == NULL && ev->body_len > 0)
		return fail_msg(j, "cannot record an event without a body");
	if (ev->resource != NULL && *ev->resource != '\0') {
		snprintf(resource, sizeof(resource), "%s", ev->resource);
	} else {
		dot = strchr(ev->topic, '.');
		snprintf(resource, sizeof(resource), "%.*s", dot == NULL ?
		    (int)strlen(ev->topic) : (int)(dot - ev->topic),
		    ev->topic);
	}
	rid = ev->resource_id != NULL ? ev->resource_id : "";
	mod = ev->modified_gmt != NULL ? ev->modified_gmt : "";
	if (ev->received_ms == 0)
		ev->received_ms = now;
	sha256(ev->body, ev->body_len, sha);

	if (tx(j, ST_BEGIN, "cannot record the event") == -1)
		return -1;
	if (mark_get(j, resource, rid, &mark) == -1 ||
	    dedupe(j, resource, rid, sha, mark.newest_id, &dup_id) == -1)
		goto out;
	if (dup_id != 0) {
		state = JOURNAL_DUPLICATE;
		snprintf(why, sizeof(why), "same body as event %" PRId64,
		    dup_id);
	} else if (*rid != '\0' && *mod != '\0' && mark.modified[0] != '\0'
	    && strcmp(mod, mark.modified) < 0) {
		state = JOURNAL_STALE;
		snprintf(why, sizeof(why), "older than the version of %s "
		    "(event %" PRId64 ")", mark.modified, mark.newest_id);
	} else {
		state = JOURNAL_PENDING;
	}
	if (insert_event(j, ev, resource, rid, mod, sha, state, why, now,
	    &ev->id) == -1)
		goto out;
	if (state == JOURNAL_PENDING && *rid != '\0' &&
	    mark_newest(j, resource, rid, mod, ev->id) == -1)
		goto out;
	if (tx(j, ST_COMMIT, "cannot record the event") == -1)
		goto out;
	ev->state = state;
	rc = 0;
out:
	if (rc == -1)
		tx_abort(j);
	return rc;
}

/* Mark a pending event stale because a newer version of it was synced. */
static int
supersede(struct journal *j, int64_t id, int64_t by, int64_t now)
{
	static const char what[] = "cannot mark an event stale";
	sqlite3_stmt *st;
	char why[64];

	st = stmt(j, ST_SUPERSEDED, what);
	if (st == NULL)
		return -1;
	snprintf(why, sizeof(why), "superseded by event %" PRId64, by);
	sqlite3_bind_int64(st, 1, id);
	bind_text(st, 2, why);
	sqlite3_bind_int64(st, 3, now);
	if (run(j, st, what) == -1)
		return -1;
	log_info("event=superseded id=%" PRId64 " by=%" PRId64, id, by);
	return 0;
}

/* Is an older event of id's resource still pending? */
static int
older_pending(struct journal *j, int64_t id, bool *older)
{
	static const char what[] = "cannot claim an event";
	sqlite3_stmt *st;
	int r;

	*older = false;
	st = stmt(j, ST_CLAIM_OLDER, what);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	r = row(j, st, what);
	sqlite3_reset(st);
	if (r < 0)
		return -1;
	*older = r == 1;
	return 0;
}

/* Is another pending event of id's resource held by a live worker? */
static int
sibling_held(struct journal *j, int64_t id, int64_t now, bool *held)
{
	static const char what[] = "cannot claim an event";
	sqlite3_stmt *st;
	int r;

	*held = false;
	st = stmt(j, ST_CLAIM_SIBLINGS, what);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	while ((r = row(j, st, what)) == 1) {
		if (claim_live(j, sqlite3_column_int64(st, 0),
		    sqlite3_column_int64(st, 1), now)) {
			*held = true;
			break;
		}
	}
	sqlite3_reset(st);
	return r < 0 ? -1 : 0;
}

/*
 * Try to claim one event inside the caller's transaction. The UPDATE is
 * conditional on the claim read a moment before, so even outside a
 * transaction two workers could not both take it.
 */
static int
claim_try(struct journal *j, int64_t id, int64_t now,
    enum claim_outcome *out)
{
	static const char what[] = "cannot claim an event";
	sqlite3_stmt *st;
	int64_t pid, since, synced;
	bool has_id, held, older;
	int state, r;

	st = stmt(j, ST_CLAIM_INFO, what);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	r = row(j, st, what);
	if (r <= 0) {
		*out = CLAIM_MISSING;
		return r;
	}
	state = sqlite3_column_int(st, 0);
	pid = sqlite3_column_int64(st, 1);
	since = sqlite3_column_int64(st, 2);
	has_id = sqlite3_column_int(st, 3) != 0;
	synced = sqlite3_column_int64(st, 4);
	sqlite3_reset(st);

	if (state != JOURNAL_PENDING) {
		*out = CLAIM_NOT_PENDING;
		return 0;
	}
	if (has_id && synced > id) {
		*out = CLAIM_SUPERSEDED;
		return supersede(j, id, synced, now);
	}
	if (has_id && older_pending(j, id, &older) == -1)
		return -1;
	if (has_id && older) {
		*out = CLAIM_BEHIND;
		return 0;
	}
	*out = CLAIM_HELD;
	if (claim_live(j, pid, since, now))
		return 0;
	if (has_id && sibling_held(j, id, now, &held) == -1)
		return -1;
	if (has_id && held)
		return 0;
	if (pid != 0)
		log_warn("event=claim_void id=%" PRId64 " pid=%" PRId64
		    " age_ms=%" PRId64, id, pid, now - since);
	st = stmt(j, ST_CLAIM_SET, what);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, (int64_t)getpid());
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, pid);
	sqlite3_bind_int64(st, 5, since);
	if (run(j, st, what) == -1)
		return -1;
	if (sqlite3_changes(j->db) == 1)
		*out = CLAIM_TAKEN;
	return 0;
}

int
journal_claim(struct journal *j, int64_t id, bool *claimed)
{
	enum claim_outcome out = CLAIM_MISSING;
	int rc = -1;

	*claimed = false;
	if (tx(j, ST_BEGIN, "cannot claim an event") == -1)
		return -1;
	if (claim_try(j, id, now_ms(j), &out) == -1)
		goto out;
	if (tx(j, ST_COMMIT, "cannot claim an event") == -1)
		goto out;
	*claimed = out == CLAIM_TAKEN;
	rc = 0;
out:
	if (rc == -1)
		tx_abort(j);
	return rc;
}

/* The oldest pending event of id's resource, id included; 0 if none. */
static int
first_pending(struct journal *j, int64_t id, int64_t *first)
{
	static const char what[] = "cannot claim an event";
	sqlite3_stmt *st;
	int r;

	*first = 0;
	st = stmt(j, ST_CLAIM_FIRST, what);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	r = row(j, st, what);
	if (r == 1)
		*first = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return r < 0 ? -1 : 0;
}

/*
 * The walk is short: the first pending version is claimed, or held, or
 * stale (then the next one is tried, at most CLAIM_BATCH times; more is
 * left to a drain).
 */
int
journal_claim_first(struct journal *j, int64_t id, struct journal_event *ev,
    bool *found)
{
	enum claim_outcome out = CLAIM_MISSING;
	int64_t now = now_ms(j), first = 0, taken = 0;
	bool loaded = false;
	int tries, rc = -1;

	*found = false;
	if (tx(j, ST_BEGIN, "cannot claim an event") == -1)
		return -1;
	for (tries = 0; tries < CLAIM_BATCH; tries++) {
		if (first_pending(j, id, &first) == -1)
			goto out;
		if (first == 0)
			break;
		if (claim_try(j, first, now, &out) == -1)
			goto out;
		if (out == CLAIM_TAKEN)
			taken = first;
		if (out != CLAIM_SUPERSEDED)
			break;
	}
	if (taken != 0 && event_load(j, taken, ev, &loaded) == -1)
		goto out;
	if (tx(j, ST_COMMIT, "cannot claim an event") == -1)
		goto out;
	*found = taken != 0 && loaded;
	rc = 0;
out:
	if (rc == -1) {
		tx_abort(j);
		if (loaded)
			journal_event_clear(ev);
	}
	return rc;
}

/* Up to CLAIM_BATCH candidate ids after after_id, oldest first. */
static int
candidates(struct journal *j, int64_t due_by, int64_t after_id,
    int64_t *ids, size_t *n)
{
	static const char what[] = "cannot look for due events";
	sqlite3_stmt *st;
	int r = 0;

	*n = 0;
	st = stmt(j, ST_CANDIDATES, what);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, due_by);
	sqlite3_bind_int64(st, 2, after_id);
	sqlite3_bind_int(st, 3, CLAIM_BATCH);
	sqlite3_bind_int64(st, 4, due_by == INT64_MAX ? INT64_MAX :
	    due_by - j->fresh_ms);
	while (*n < CLAIM_BATCH && (r = row(j, st, what)) == 1)
		ids[(*n)++] = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return r < 0 ? -1 : 0;
}

/*
 * Walk due pending events oldest first, in batches, until one can be
 * claimed. Candidates already exclude events with an older pending
 * sibling; claim_try() skips those held and stales those superseded.
 * Staling one may free a newer sibling, so the walk then starts over
 * (at most once per event staled).
 */
int
journal_claim_next(struct journal *j, bool all, struct journal_event *ev,
    bool *found)
{
	int64_t ids[CLAIM_BATCH], after = 0, now = now_ms(j), taken = 0;
	enum claim_outcome out;
	size_t n, i;
	bool loaded, again;
	int rc = -1;

	*found = false;
	if (tx(j, ST_BEGIN, "cannot claim an event") == -1)
		return -1;
	do {
		again = false;
		if (candidates(j, all ? INT64_MAX : now, after, ids, &n) == -1)
			goto out;
		for (i = 0; i < n && taken == 0; i++) {
			if (claim_try(j, ids[i], now, &out) == -1)
				goto out;
			if (out == CLAIM_TAKEN)
				taken = ids[i];
			if (out == CLAIM_SUPERSEDED)
				again = true;
		}
		after = again ? 0 : n > 0 ? ids[n - 1] : after;
	} while (taken == 0 && (again || n == CLAIM_BATCH));
	if (taken != 0 && event_load(j, taken, ev, &loaded) == -1)
		goto out;
	if (tx(j, ST_COMMIT, "cannot claim an event") == -1)
		goto out;
	*found = taken != 0;
	rc = 0;
out:
	if (rc == -1) {
		tx_abort(j);
		if (taken != 0)
			journal_event_clear(ev);
	}
	return rc;
}

int
journal_finish(struct journal *j, int64_t id, enum journal_state state,
    int64_t next_attempt_ms, const char *code, const char *message,
    const char *sf_ids)
{
	static const char what[] = "cannot record an outcome";
	sqlite3_stmt *st;
	char why[64];
	int64_t now = now_ms(j);
	int rc = -1;

	if ((unsigned)state >= JOURNAL_NSTATES)
		return fail_msg(j, "event %" PRId64 ": no state %d", id,
		    (int)state);
	if (tx(j, ST_BEGIN, what) == -1)
		return -1;
	st = stmt(j, ST_FINISH, what);
	if (st == NULL)
		goto out;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, (int)state);
	sqlite3_bind_int64(st, 3, next_attempt_ms);
	bind_text(st, 4, code != NULL ? code : "");
	bind_text(st, 5, message != NULL ? message : "");
	bind_text(st, 6, sf_ids != NULL ? sf_ids : "");
	sqlite3_bind_int64(st, 7, now);
	if (run(j, st, what) == -1)
		goto out;
	if (sqlite3_changes(j->db) == 0) {
		fail_msg(j, "%s: no event %" PRId64, what, id);
		goto out;
	}
	if (state == JOURNAL_SYNCED) {
		st = stmt(j, ST_SYNCED_MARK, what);
		if (st == NULL)
			goto out;
		sqlite3_bind_int64(st, 1, id);
		if (run(j, st, what) == -1)
			goto out;
		st = stmt(j, ST_UPSERTED_MARK, what);
		if (st == NULL)
			goto out;
		sqlite3_bind_int64(st, 1, id);
		if (run(j, st, what) == -1)
			goto out;
		st = stmt(j, ST_SUPERSEDE_OLDER, what);
		if (st == NULL)
			goto out;
		snprintf(why, sizeof(why), "superseded by event %" PRId64, id);
		sqlite3_bind_int64(st, 1, id);
		bind_text(st, 2, why);
		sqlite3_bind_int64(st, 3, now);
		if (run(j, st, what) == -1)
			goto out;
	}
	if (tx(j, ST_COMMIT, what) == -1)
		goto out;
	rc = 0;
out:
	if (rc == -1)
		tx_abort(j);
	return rc;
}

int
journal_release(struct journal *j, int64_t id)
{
	static const char what[] = "cannot release a claim";
	sqlite3_stmt *st;

	st = stmt(j, ST_RELEASE, what);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now_ms(j));
	return run(j, st, what);
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
	st = stmt(j, ST_LAST_SYNCED_BODY, what);
	if (st == NULL)
		return -1;
	bind_text(st, 1, resource);
	bind_text(st, 2, resource_id);
	r = row(j, st, what);
	if (r <= 0)
		return r;
	*body = col_blob(st, 0, len);
	sqlite3_reset(st);
	if (*body == NULL) {
		*len = 0;
		return fail_msg(j, "%s: out of memory", what);
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
	int r;

	*known = false;
	st = stmt(j, ST_RESOURCE_KNOWN, what);
	if (st == NULL)
		return -1;
	bind_text(st, 1, resource);
	bind_text(st, 2, key);
	r = row(j, st, what);
	sqlite3_reset(st);
	if (r < 0)
		return -1;
	*known = r == 1;
	return 0;
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
	st = stmt(j, ST_COUNTS, what);
	if (st == NULL)
		return -1;
	while ((r = row(j, st, what)) == 1) {
		state = sqlite3_column_int(st, 0);
		if (state >= 0 && state < JOURNAL_NSTATES)
			counts[state] = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return r < 0 ? -1 : 0;
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
		return fail_db(j, what);
	if (journal_counts(j, s->counts) == -1)
		goto out;
	if ((st = stmt(j, ST_OLDEST_PENDING, what)) == NULL ||
	    (r = row(j, st, what)) < 0)
		goto out;
	if (r == 1) {
		s->oldest_pending_id = sqlite3_column_int64(st, 0);
		s->oldest_pending_ms = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if ((st = stmt(j, ST_LAST_ERROR, what)) == NULL ||
	    (r = row(j, st, what)) < 0)
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
	if ((st = stmt(j, ST_LAST_SYNCED, what)) == NULL ||
	    (r = row(j, st, what)) < 0)
		goto out;
	if (r == 1)
		s->last_synced_ms = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	rc = 0;
out:
	if (rc == -1) {
		tx_abort(j);
		return -1;
	}
	if (sqlite3_exec(j->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		return fail_db(j, what);
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
	st = stmt(j, ST_LIST, what);
	if (st == NULL)
		return -1;
	sqlite3_bind_int(st, 1, f->state);
	bind_text(st, 2, f->topic);
	bind_text(st, 3, f->resource_id);
	sqlite3_bind_int64(st, 4, f->since_ms);
	sqlite3_bind_int64(st, 5, (int64_t)limit);
	while ((r = row(j, st, what)) == 1) {
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
	fail_msg(j, "%s: out of memory", what);
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

	if (removed != NULL)
		*removed = 0;
	st = stmt(j, ST_PRUNE, what);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, before_ms);
	if (run(j, st, what) == -1)
		return -1;
	if (removed != NULL)
		*removed = sqlite3_changes64(j->db);
	return 0;
}

int
journal_requeue(struct journal *j, int64_t id, int64_t *count)
{
	static const char what[] = "cannot requeue";
	sqlite3_stmt *st;

	if (count != NULL)
		*count = 0;
	st = stmt(j, id > 0 ? ST_REQUEUE_ONE : ST_REQUEUE_DEAD, what);
	if (st == NULL)
		return -1;
	if (id > 0) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, now_ms(j));
	} else {
		sqlite3_bind_int64(st, 1, now_ms(j));
	}
	if (run(j, st, what) == -1)
		return -1;
	if (count != NULL)
		*count = sqlite3_changes64(j->db);
	return 0;
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
	st = stmt(j, ST_KV_GET, what);
	if (st == NULL)
		return -1;
	bind_text(st, 1, key);
	r = row(j, st, what);
	if (r <= 0)
		return r;
	v = sqlite3_column_text(st, 0);
	len = sqlite3_column_bytes(st, 0);
	if (v == NULL || (size_t)len >= size) {
		sqlite3_reset(st);
		return fail_msg(j, "setting %s: %d bytes do not fit in %zu",
		    key, len, size);
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

	st = stmt(j, value != NULL ? ST_KV_SET : ST_KV_DELETE, what);
	if (st == NULL)
		return -1;
	bind_text(st, 1, key);
	if (value != NULL) {
		bind_text(st, 2, value);
		sqlite3_bind_int64(st, 3, now_ms(j));
	}
	return run(j, st, what);
}
