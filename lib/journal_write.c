/*
 * The journal's write path: recording a verified delivery and deciding
 * its fate (new, duplicate or stale), claiming events for sending so
 * that no two workers send the same one, and recording the outcome of
 * an attempt. Every decision here reads and then writes inside BEGIN
 * IMMEDIATE; only recording is durable at once (see journal.c).
 */
#include "journal_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "log.h"

#define CLAIM_BATCH 32
#define SHA256_LEN 32
#define CLAIM_WHAT "cannot claim an event"

/* What claim_try() found. */
enum claim_outcome {
	CLAIM_TAKEN,
	CLAIM_HELD,		/* by a live worker, itself or a sibling */
	CLAIM_BEHIND,		/* an older version is pending */
	CLAIM_NOT_PENDING,
	CLAIM_SUPERSEDED,	/* marked stale just now */
	CLAIM_MISSING
};

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
	st = journal_stmt(j, ST_RESOURCE_GET, what);
	if (st == NULL)
		return -1;
	journal_bind_text(st, 1, resource);
	journal_bind_text(st, 2, rid);
	r = journal_row(j, st, what);
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

	*dup_id = 0;
	st = journal_stmt(j, ST_DEDUPE, what);
	if (st == NULL)
		return -1;
	journal_bind_text(st, 1, resource);
	journal_bind_text(st, 2, rid);
	sqlite3_bind_blob(st, 3, sha, SHA256_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, since_id);
	return journal_query_int64(j, st, what, dup_id);
}

/*
 * Whether the event about to be recorded may be claimed with it: no
 * other version of its resource is pending (any pending one is older).
 */
static int
claimable(struct journal *j, const char *resource, const char *rid,
    bool *yes)
{
	static const char what[] = "cannot record the event";
	sqlite3_stmt *st;
	bool pending;

	*yes = true;
	if (*rid == '\0')
		return 0;
	st = journal_stmt(j, ST_PENDING_OF, what);
	if (st == NULL)
		return -1;
	journal_bind_text(st, 1, resource);
	journal_bind_text(st, 2, rid);
	if (journal_query_exists(j, st, what, &pending) == -1)
		return -1;
	*yes = !pending;
	return 0;
}

/* claim: insert it claimed by this process at now. */
static int
insert_event(struct journal *j, const struct journal_event *ev,
    const char *resource, const char *rid, const char *mod,
    const unsigned char *sha, enum journal_state state, const char *why,
    int64_t now, bool claim, int64_t *id)
{
	static const char what[] = "cannot record the event";
	sqlite3_stmt *st;

	st = journal_stmt(j, ST_INSERT, what);
	if (st == NULL)
		return -1;
	journal_bind_text(st, 1, ev->topic);
	journal_bind_text(st, 2, resource);
	journal_bind_text(st, 3, rid);
	journal_bind_text(st, 4, mod);
	sqlite3_bind_int64(st, 5, ev->received_ms);
	sqlite3_bind_int64(st, 6, (int64_t)ev->body_len);
	sqlite3_bind_blob(st, 7, sha, SHA256_LEN, SQLITE_STATIC);
	sqlite3_bind_int(st, 8, (int)state);
	journal_bind_text(st, 9, why);
	sqlite3_bind_int64(st, 10, now);
	if (claim) {
		sqlite3_bind_int64(st, 11, (int64_t)getpid());
		sqlite3_bind_int64(st, 12, now);
	}
	if (journal_run(j, st, what) == -1)
		return -1;
	*id = sqlite3_last_insert_rowid(j->db);
	st = journal_stmt_on(j, ST_BODY_INSERT, *id, what);
	if (st == NULL)
		return -1;
	if (ev->body_len > 0)
		sqlite3_bind_blob64(st, 2, ev->body, ev->body_len,
		    SQLITE_STATIC);
	else
		sqlite3_bind_zeroblob(st, 2, 0);
	return journal_run(j, st, what);
}

static int
mark_newest(struct journal *j, const char *resource, const char *rid,
    const char *mod, int64_t id)
{
	static const char what[] = "cannot record the event";
	sqlite3_stmt *st;

	st = journal_stmt(j, ST_RESOURCE_NEWEST, what);
	if (st == NULL)
		return -1;
	journal_bind_text(st, 1, resource);
	journal_bind_text(st, 2, rid);
	journal_bind_text(st, 3, mod);
	sqlite3_bind_int64(st, 4, id);
	return journal_run(j, st, what);
}

/*
 * The decision of DESIGN.md steps 4 and 5, made and written in one
 * transaction so that two workers receiving the same body cannot both
 * find it new. With want_claim, a pending event that nothing older of
 * its resource waits before is claimed in the same transaction.
 */
static int
record(struct journal *j, struct journal_event *ev, bool want_claim,
    bool *claimed)
{
	unsigned char sha[SHA256_LEN];
	struct version_mark mark;
	char resource[64], why[128] = "";
	const char *rid, *mod, *dot;
	enum journal_state state = JOURNAL_PENDING;
	int64_t dup_id, now = journal_now(j);
	bool claim = false;
	int rc = -1;

	*claimed = false;
	if (ev->topic == NULL || *ev->topic == '\0')
		return journal_fail_msg(j, "cannot record an event without "
		    "a topic");
	if (ev->body == NULL && ev->body_len > 0)
		return journal_fail_msg(j, "cannot record an event without "
		    "a body");
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

	if (journal_begin(j, true, "cannot record the event") == -1)
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
		if (want_claim && claimable(j, resource, rid, &claim) == -1)
			goto out;
	}
	if (insert_event(j, ev, resource, rid, mod, sha, state, why, now,
	    claim, &ev->id) == -1)
		goto out;
	if (state == JOURNAL_PENDING && *rid != '\0' &&
	    mark_newest(j, resource, rid, mod, ev->id) == -1)
		goto out;
	rc = 0;
out:
	rc = journal_tx_end(j, rc, "cannot record the event");
	if (rc == 0) {
		ev->state = state;
		*claimed = claim;
		ev->claimed_by = claim ? (long)getpid() : 0;
		ev->claimed_ms = claim ? now : 0;
	}
	return rc;
}

int
journal_record(struct journal *j, struct journal_event *ev)
{
	bool claimed;

	return record(j, ev, false, &claimed);
}

int
journal_record_claim(struct journal *j, struct journal_event *ev,
    bool *claimed)
{
	return record(j, ev, true, claimed);
}

/*
 * Run ST_SUPERSEDED (event id) or ST_SUPERSEDE_OLDER (the pending
 * events before id), which mark pending events stale because event by
 * was synced: ?1 id, ?2 the reason, ?3 now.
 */
static int
stale_by(struct journal *j, enum journal_stmt_id sid, int64_t id,
    int64_t by, int64_t now, const char *what)
{
	sqlite3_stmt *st;
	char why[64];

	st = journal_stmt_on(j, sid, id, what);
	if (st == NULL)
		return -1;
	snprintf(why, sizeof(why), "superseded by event %" PRId64, by);
	journal_bind_text(st, 2, why);
	sqlite3_bind_int64(st, 3, now);
	return journal_run(j, st, what);
}

/* Mark a pending event stale because a newer version of it was synced. */
static int
supersede(struct journal *j, int64_t id, int64_t by, int64_t now)
{
	if (stale_by(j, ST_SUPERSEDED, id, by, now,
	    "cannot mark an event stale") == -1)
		return -1;
	log_info("event=superseded id=%" PRId64 " by=%" PRId64, id, by);
	return 0;
}

/* Is an older event of id's resource still pending? */
static int
older_pending(struct journal *j, int64_t id, bool *older)
{
	sqlite3_stmt *st;

	*older = false;
	st = journal_stmt_on(j, ST_CLAIM_OLDER, id, CLAIM_WHAT);
	if (st == NULL)
		return -1;
	return journal_query_exists(j, st, CLAIM_WHAT, older);
}

/* Is another pending event of id's resource held by a live worker? */
static int
sibling_held(struct journal *j, int64_t id, int64_t now, bool *held)
{
	static const char what[] = CLAIM_WHAT;
	sqlite3_stmt *st;
	int r;

	*held = false;
	st = journal_stmt_on(j, ST_CLAIM_SIBLINGS, id, what);
	if (st == NULL)
		return -1;
	while ((r = journal_row(j, st, what)) == 1) {
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
	static const char what[] = CLAIM_WHAT;
	sqlite3_stmt *st;
	int64_t pid, since, synced;
	bool has_id, held, older;
	int state, r;

	st = journal_stmt_on(j, ST_CLAIM_INFO, id, what);
	if (st == NULL)
		return -1;
	r = journal_row(j, st, what);
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
	st = journal_stmt_on(j, ST_CLAIM_SET, id, what);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 2, (int64_t)getpid());
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, pid);
	sqlite3_bind_int64(st, 5, since);
	if (journal_run(j, st, what) == -1)
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
	if (journal_begin(j, false, CLAIM_WHAT) == -1)
		return -1;
	if (claim_try(j, id, journal_now(j), &out) == -1)
		goto out;
	rc = 0;
out:
	rc = journal_tx_end(j, rc, CLAIM_WHAT);
	*claimed = rc == 0 && out == CLAIM_TAKEN;
	return rc;
}

/* The oldest pending event of id's resource, id included; 0 if none. */
static int
first_pending(struct journal *j, int64_t id, int64_t *first)
{
	sqlite3_stmt *st;

	*first = 0;
	st = journal_stmt_on(j, ST_CLAIM_FIRST, id, CLAIM_WHAT);
	if (st == NULL)
		return -1;
	return journal_query_int64(j, st, CLAIM_WHAT, first);
}

/*
 * End a claim walk's transaction (rc 0 so far, or -1): read the event
 * taken, if any, into ev and commit. On any failure roll back and leave
 * ev as it was, or empty if it was read; *found says whether ev holds
 * the event claimed.
 */
static int
claim_end(struct journal *j, int rc, int64_t taken, struct journal_event *ev,
    bool *found)
{
	bool loaded = false;

	if (rc == 0 && taken != 0 &&
	    journal_event_load(j, taken, ev, &loaded) == -1)
		rc = -1;
	rc = journal_tx_end(j, rc, CLAIM_WHAT);
	if (rc == -1 && loaded)
		journal_event_clear(ev);
	*found = rc == 0 && loaded;
	return rc;
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
	int64_t now = journal_now(j), first = 0, taken = 0;
	int tries, rc = -1;

	*found = false;
	if (journal_begin(j, false, CLAIM_WHAT) == -1)
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
	rc = 0;
out:
	return claim_end(j, rc, taken, ev, found);
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
	st = journal_stmt(j, ST_CANDIDATES, what);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, due_by);
	sqlite3_bind_int64(st, 2, after_id);
	sqlite3_bind_int(st, 3, CLAIM_BATCH);
	sqlite3_bind_int64(st, 4, due_by == INT64_MAX ? INT64_MAX :
	    due_by - j->fresh_ms);
	while (*n < CLAIM_BATCH && (r = journal_row(j, st, what)) == 1)
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
	int64_t ids[CLAIM_BATCH], after = 0, now = journal_now(j), taken = 0;
	enum claim_outcome out;
	size_t n, i;
	bool again;
	int rc = -1;

	*found = false;
	/*
	 * Most drains find nothing due: look with a plain read first (WAL
	 * readers wait for no one) and take the write lock only when there
	 * is something to claim.
	 */
	if (candidates(j, all ? INT64_MAX : now, 0, ids, &n) == -1)
		return -1;
	if (n == 0)
		return 0;
	if (journal_begin(j, false, CLAIM_WHAT) == -1)
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
	rc = 0;
out:
	return claim_end(j, rc, taken, ev, found);
}

/* Run a statement whose one parameter ?1 is an event id. */
static int
run_on(struct journal *j, enum journal_stmt_id sid, int64_t id,
    const char *what)
{
	sqlite3_stmt *st;

	st = journal_stmt_on(j, sid, id, what);
	if (st == NULL)
		return -1;
	return journal_run(j, st, what);
}

int
journal_finish(struct journal *j, int64_t id, enum journal_state state,
    int64_t next_attempt_ms, const char *code, const char *message,
    const char *sf_ids)
{
	static const char what[] = "cannot record an outcome";
	sqlite3_stmt *st;
	int64_t now = journal_now(j);
	int rc = -1;

	if ((unsigned)state >= JOURNAL_NSTATES)
		return journal_fail_msg(j, "event %" PRId64 ": no state %d", id,
		    (int)state);
	if (journal_begin(j, false, what) == -1)
		return -1;
	st = journal_stmt_on(j, ST_FINISH, id, what);
	if (st == NULL)
		goto out;
	sqlite3_bind_int(st, 2, (int)state);
	sqlite3_bind_int64(st, 3, next_attempt_ms);
	journal_bind_text(st, 4, code != NULL ? code : "");
	journal_bind_text(st, 5, message != NULL ? message : "");
	journal_bind_text(st, 6, sf_ids != NULL ? sf_ids : "");
	sqlite3_bind_int64(st, 7, now);
	if (journal_run(j, st, what) == -1)
		goto out;
	if (sqlite3_changes(j->db) == 0) {
		journal_fail_msg(j, "%s: no event %" PRId64, what, id);
		goto out;
	}
	if (state == JOURNAL_SYNCED &&
	    (run_on(j, ST_SYNCED_MARK, id, what) == -1 ||
	    run_on(j, ST_UPSERTED_MARK, id, what) == -1 ||
	    stale_by(j, ST_SUPERSEDE_OLDER, id, id, now, what) == -1))
		goto out;
	rc = 0;
out:
	return journal_tx_end(j, rc, what);
}

int
journal_release(struct journal *j, int64_t id)
{
	static const char what[] = "cannot release a claim";
	sqlite3_stmt *st;

	if (journal_durable(j, false, what) == -1)
		return -1;
	st = journal_stmt_on(j, ST_RELEASE, id, what);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 2, journal_now(j));
	return journal_run(j, st, what);
}
