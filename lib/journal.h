#ifndef WC2SF_JOURNAL_H
#define WC2SF_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The journal: every verified delivery, committed before any Salesforce
 * call, and what became of it. This header is the whole interface; the
 * SQLite file behind it (WAL, busy timeout) could be replaced by a
 * shared server without touching the callers. A recorded delivery is
 * on disk (fsync'd) before journal_record() returns; a claim or an
 * outcome is written at once but reaches the disk with the next record
 * (see journal.c: losing one to a power cut only sends an event again,
 * and every Salesforce write is an upsert by external ID).
 *
 * All functions return 0 on success and -1 on failure with a sentence in
 * journal_error(j) naming the file and the cause (disk full, read-only,
 * locked past the busy timeout, ...); a caller answering a delivery turns
 * any -1 into 503. Strings in struct journal_event are owned by the
 * event and freed by journal_event_clear().
 *
 * One struct journal is one connection, for one thread. Workers in
 * several processes share the file; claims keep them from sending the
 * same event twice.
 */
struct journal;

enum journal_state {
	JOURNAL_PENDING = 0,	/* to be sent (again) */
	JOURNAL_SYNCED,		/* Salesforce has it */
	JOURNAL_STALE,		/* an older version than one already seen */
	JOURNAL_DUPLICATE,	/* same resource, same body as before */
	JOURNAL_IGNORED,	/* not synced by configuration or shape */
	JOURNAL_DEAD		/* Salesforce refused it; needs a person */
};
#define JOURNAL_NSTATES 6

struct journal_event {
	int64_t id;
	char *topic;			/* "order.updated" */
	char *resource;			/* "order" */
	char *resource_id;		/* "731" or "" */
	char *modified_gmt;		/* date_modified_gmt or "" */
	int64_t received_ms;		/* ms since the epoch */
	unsigned char *body;		/* NUL after body_len when loaded */
	size_t body_len;
	enum journal_state state;
	int attempts;
	int64_t next_attempt_ms;
	char *last_code;		/* Salesforce errorCode or "" */
	char *last_error;		/* its message, or why not sent */
	char *sf_ids;			/* JSON text or "" */
	int64_t updated_ms;
	long claimed_by;		/* pid of the claim's holder, or 0 */
	int64_t claimed_ms;		/* when claimed, or 0 */
};

/*
 * Open (creating the file, mode 0600, and schema when absent). The
 * directory must exist: it is never created. A file this process can
 * only read is an error too (a worker must be able to write). NULL +
 * err on error.
 */
struct journal *journal_open(const char *path, char *err, size_t errlen);

/*
 * Like journal_open, but fail when the file does not exist, and accept
 * a file this process can only read (the CLI's views; writing then
 * fails with the reason).
 */
struct journal *journal_open_existing(const char *path, char *err,
    size_t errlen);

void journal_close(struct journal *j);
const char *journal_error(const struct journal *j);

/*
 * A claim older than ms is void even if its process lives (a worker
 * stuck past its Salesforce timeout). Default 5 minutes; use the
 * Salesforce timeout plus 60 s.
 */
void journal_set_claim_ttl(struct journal *j, int64_t ms);

/*
 * Events never attempted are left to journal_claim_next() (without all)
 * only once they are ms old: the worker that recorded one claims it by
 * id at once, and another worker's drain must not take it in between.
 * Default 0.
 */
void journal_set_fresh(struct journal *j, int64_t ms);

/*
 * Leave WAL checkpoints to journal_checkpoint() instead of running one
 * inside whichever commit crosses the threshold: a worker checkpoints
 * after its reply, not while WooCommerce waits. journal_close() runs
 * one too.
 */
void journal_defer_checkpoint(struct journal *j);

/*
 * Copy the WAL back into the database file when it has grown past
 * about 4 MB (1,000 pages), without waiting for readers or writers
 * (a passive checkpoint: what another process is doing is left for a
 * later one). 0, or -1 with the error set; busy is not an error.
 */
int journal_checkpoint(struct journal *j);

/* How long to wait for another writer; default 5000 ms. */
void journal_set_busy_timeout(struct journal *j, int ms);

/* For tests: take ms as the current time (0: the real clock again). */
void journal_set_time(struct journal *j, int64_t ms);

/* For tests: how many events journal_prune() deletes per commit. */
void journal_set_prune_batch(struct journal *j, int n);

const char *journal_state_name(enum journal_state state);
int journal_state_parse(const char *name);	/* -1 if unknown */

/*
 * Record a verified delivery in one transaction and decide its fate:
 *  - the same body already journaled for the same resource (any topic,
 *    any state) since the resource's newest version: JOURNAL_DUPLICATE
 *    (order.created then a byte-identical order.updated). Bodies without
 *    a resource id are compared with other id-less bodies of the same
 *    resource, by body alone;
 *  - modified_gmt strictly older than the newest modified_gmt recorded
 *    for this resource: JOURNAL_STALE. An equal one with another body,
 *    or none at all ({"id":N} of a delete), is newer by receipt;
 *  - otherwise JOURNAL_PENDING, due now, and the resource's newest.
 * Only a change since the newest version counts as a duplicate, so a
 * delete, restore, delete again of the same product is sent each time.
 * The caller's strings and body are read, not kept. resource NULL or ""
 * is taken from the topic; received_ms 0 is now. ev->id, ev->state and
 * ev->received_ms are set. The row is durable when this returns 0.
 */
int journal_record(struct journal *j, struct journal_event *ev);

/*
 * journal_record(), and in the same transaction claim the event for
 * this process when it is pending and no other version of its resource
 * is (an id-less event has none): the live path's one commit per
 * delivery. *claimed says whether it was taken; ev->claimed_by and
 * ev->claimed_ms are set then. The caller sends it and calls
 * journal_finish() or journal_release(); when not claimed, it goes
 * through journal_claim_first() after its older versions.
 */
int journal_record_claim(struct journal *j, struct journal_event *ev,
    bool *claimed);

/*
 * Take the event for sending: succeeds only if it is pending, not held
 * by a live worker (a claim older than the claim TTL, or by a process
 * that no longer exists or is a zombie, is void), no older event of the
 * same resource is pending (versions go out in the order received), and
 * no other event of the resource is held by a live worker. An event
 * older than the resource's last synced version is marked stale
 * instead. Returns 0 with *claimed set true or false. A claim is held
 * per process: a second connection in the same process cannot take it
 * either.
 */
int journal_claim(struct journal *j, int64_t id, bool *claimed);

/*
 * Claim the oldest pending event of event id's resource, whatever its
 * backoff: id itself when nothing older is pending (an id-less event has
 * no siblings). For sending a new version, or one asked for by id, after
 * the versions before it. ev is filled, body included, and found true;
 * found false when that event is held by a live worker, or id is no
 * longer pending and nothing older is. Events superseded by a newer
 * synced version are marked stale on the way, never returned.
 */
int journal_claim_first(struct journal *j, int64_t id,
    struct journal_event *ev, bool *found);

/*
 * Claim the oldest due pending event whose resource has no older pending
 * one; found false when none. Events superseded by a newer synced
 * version of their resource are marked stale on the way, never returned.
 * With all, backoff is ignored (replay). ev is filled, body included.
 */
int journal_claim_next(struct journal *j, bool all,
    struct journal_event *ev, bool *found);

/*
 * Release a claim and record the outcome of an attempt: attempts + 1.
 * next_attempt_ms matters for JOURNAL_PENDING; code, message and sf_ids
 * may be NULL (stored as ""). JOURNAL_SYNCED makes the event its
 * resource's last synced version and marks older pending events of the
 * resource stale ("superseded"), so no retry sends an older version.
 */
int journal_finish(struct journal *j, int64_t id, enum journal_state state,
    int64_t next_attempt_ms, const char *code, const char *message,
    const char *sf_ids);

/* Drop a claim without counting an attempt (nothing was sent). */
int journal_release(struct journal *j, int64_t id);

/*
 * Read one event, body included; found false when there is none. Like
 * journal_claim_next, it overwrites ev without freeing what it held:
 * journal_event_clear() it first when reusing it.
 */
int journal_get(struct journal *j, int64_t id, struct journal_event *ev,
    bool *found);
void journal_event_clear(struct journal_event *ev);

/*
 * The body last synced for a resource, malloc'd (NUL-terminated after
 * len bytes) into *body for the caller to free; found false and *body
 * NULL when none was ever synced.
 */
int journal_last_synced_body(struct journal *j, const char *resource,
    const char *resource_id, unsigned char **body, size_t *len,
    bool *found);

/*
 * True in *known once Salesforce has the record of a WooCommerce
 * resource ("product", "42"): an event of it other than a "*.deleted"
 * one was synced (a delete only marks a record that exists, and creates
 * none). journal_product_synced() is the same for resource "product".
 */
int journal_resource_known(struct journal *j, const char *resource,
    const char *key, bool *known);
int journal_product_synced(struct journal *j, const char *key,
    bool *synced);

/* Number of events in each state, indexed by enum journal_state. */
int journal_counts(struct journal *j, int64_t counts[JOURNAL_NSTATES]);

/* What `wc2sf status` shows; ids are 0 (and strings "") when none. */
struct journal_summary {
	int64_t counts[JOURNAL_NSTATES];
	int64_t oldest_pending_id;
	int64_t oldest_pending_ms;	/* its received_ms */
	int64_t last_error_id;		/* newest pending or dead event with */
	int64_t last_error_ms;		/* an error, and when it was set */
	char last_error_topic[64];
	char last_error_code[64];
	char last_error[512];		/* cut to fit */
	int64_t last_synced_ms;		/* when the newest sync happened */
};

int journal_summary(struct journal *j, struct journal_summary *s);

/* Which events journal_list returns, newest first. */
struct journal_filter {
	int state;			/* enum journal_state, or -1: any */
	const char *topic;		/* NULL: any */
	const char *resource_id;	/* NULL: any */
	int64_t since_ms;		/* received at or after; 0: any */
	size_t limit;			/* 0: 50 */
};

/*
 * Events matching f, newest first, into a malloc'd array of *n events
 * (without bodies: body NULL, body_len set). Free with
 * journal_events_free(). *events is NULL when none match.
 */
int journal_list(struct journal *j, const struct journal_filter *f,
    struct journal_event **events, size_t *n);
void journal_events_free(struct journal_event *events, size_t n);

/*
 * Delete synced, duplicate, stale and ignored events last changed before
 * before_ms; never pending or dead ones, nor the versions a resource's
 * dedupe and line-item diff still need (its newest and last synced).
 * *removed (may be NULL) gets the number deleted. Deletes in commits of
 * 1,000 events, so that workers wait for none longer than a few ms.
 */
int journal_prune(struct journal *j, int64_t before_ms, int64_t *removed);

/*
 * Make dead events pending and due now (`wc2sf replay --dead`): event id,
 * or every dead event when id is 0. A pending id is only made due now.
 * *count (may be NULL) gets the number changed; an id that is neither
 * dead nor pending changes nothing and is no error.
 */
int journal_requeue(struct journal *j, int64_t id, int64_t *count);

/*
 * Small shared state (the Salesforce token, the daily-limit pause, the
 * standard price book id). get copies the value into value with found
 * true, or found false and value ""; a value that does not fit size is
 * an error, never cut. set with value NULL deletes the key.
 */
int journal_kv_get(struct journal *j, const char *key, char *value,
    size_t size, bool *found);
int journal_kv_set(struct journal *j, const char *key, const char *value);

#endif
