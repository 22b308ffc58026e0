#ifndef WC2SF_SYNC_H
#define WC2SF_SYNC_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "result.h"
#include "webhook.h"

struct journal;
struct sync;

/* The reply for one request: status and a short JSON body. */
struct sync_reply {
	enum wc2sf_result result;
	int status;
	char body[768];
};

/*
 * The delivery path of DESIGN.md, independent of FastCGI: open once per
 * worker (config, Salesforce session, journal), then sync_handle() per
 * request. NULL with err filled if the worker cannot serve at all.
 */
struct sync *sync_open(const struct config *cfg, char *err, size_t errlen);
void sync_close(struct sync *s);

/* Verify, journal, map, call Salesforce, and fill reply. Never fails. */
void sync_handle(struct sync *s, const struct webhook_request *req,
    struct sync_reply *reply);

/*
 * A new version of a resource is sent only after the older versions of
 * the same resource still pending: sync_handle() sends those first, in
 * the order received (a few; the rest are left to the drain and the new
 * one is answered queued). So Salesforce sees each resource's versions
 * in WooCommerce's order, whatever failed in between.
 *
 * After Salesforce answers that its daily API limit is used up, nothing
 * is sent for an hour (the key SYNC_PAUSE_KEY in the journal holds the
 * end, ms since the epoch): deliveries are journaled and answered
 * queued, drains stop. sync_replay() and sync_replay_one() (`wc2sf
 * replay`, a person) lift the pause and send; so does any write
 * Salesforce accepts. sync_drain() (`wc2sf replay --due`, cron) does
 * not.
 */
#define SYNC_PAUSE_KEY "sf_pause_until_ms"

/* When the pause ends, ms since the epoch; 0 when none was set. 0/-1. */
int sync_pause_until(struct journal *j, int64_t *until_ms);

/* What a drain or replay did, event by event. */
struct sync_stats {
	int synced;
	int queued;		/* Salesforce unavailable: still pending */
	int dead;
	int ignored;
	bool stopped;		/* ended early: Salesforce unavailable */
	bool paused;		/* ended by the daily-limit pause */
};

/*
 * After the reply went out: send due retries for at most seconds, oldest
 * first and in order per resource. Stops at the first event Salesforce
 * cannot take (it is down; the rest can wait for their backoff), and
 * sends nothing while the daily-limit pause holds. stats may be NULL.
 * Returns the number of events handled, -1 if the journal cannot be
 * read.
 */
/*
 * Count one attempt's result in st; true when Salesforce could not take
 * it (the event stays pending and a run should stop).
 */
bool sync_stats_add(struct sync_stats *st, enum wc2sf_result result);

int sync_drain(struct sync *s, double seconds, struct sync_stats *stats);

/*
 * After the reply (and the drain): copy the journal's WAL back into its
 * file when it has grown, which no delivery waits for then.
 */
void sync_checkpoint(struct sync *s);

/*
 * The same for every pending event whatever its backoff (replay), after
 * lifting the daily-limit pause.
 */
int sync_replay(struct sync *s, double seconds, struct sync_stats *stats);

/*
 * Send one pending event now, after lifting the daily-limit pause, and
 * before it any older pending version of its resource. *result gets what
 * became of it: an attempt's result; WC2SF_QUEUED when it could not be
 * sent now (another worker holds its resource, or an older version
 * failed first); WC2SF_INTERNAL when it is not pending. 0, or -1 if the
 * journal cannot be read.
 */
int sync_replay_one(struct sync *s, int64_t id, enum wc2sf_result *result);

#endif
