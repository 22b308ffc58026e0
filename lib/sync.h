#ifndef WC2SF_SYNC_H
#define WC2SF_SYNC_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "result.h"
#include "webhook.h"

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

/* What a drain or replay did, event by event. */
struct sync_stats {
	int synced;
	int queued;		/* Salesforce unavailable: still pending */
	int dead;
	int ignored;
	bool stopped;		/* ended early: Salesforce unavailable */
};

/*
 * After the reply went out: send due retries for at most seconds, oldest
 * first and in order per resource. Stops at the first event Salesforce
 * cannot take (it is down; the rest can wait for their backoff). stats
 * may be NULL. Returns the number of events handled, -1 if the journal
 * cannot be read.
 */
int sync_drain(struct sync *s, double seconds, struct sync_stats *stats);

/* The same, every pending event due now whatever its backoff (replay). */
int sync_replay(struct sync *s, double seconds, struct sync_stats *stats);

/*
 * Send one event now if it is pending and nobody holds it; *result gets
 * what became of it (WC2SF_INTERNAL if it was not pending). 0, or -1 if
 * the journal cannot be read.
 */
int sync_replay_one(struct sync *s, int64_t id, enum wc2sf_result *result);

#endif
