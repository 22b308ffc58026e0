#ifndef WC2SF_TOKENS_H
#define WC2SF_TOKENS_H

#include <stddef.h>

#include "salesforce.h"

/*
 * The Salesforce tokens every worker process shares, kept in the
 * journal's key-value table (the journal file is mode 0600):
 *
 *   sf_access_token   "<identity> <instance_url> <access token>"
 *   sf_refresh_token  "<initial> <refresh token>", only once Salesforce
 *                     rotated the configured one
 *
 * identity is a short hash of the flow, login_url, client_id and
 * username, so a token of another org or user is never used after the
 * configuration changes; initial is a short hash of the configured
 * refresh_token, so a new one put in the configuration (after a person
 * re-authorised the app) wins over the rotated chain of the old one.
 *
 * Sign-in is serialized across processes with flock() on an empty file
 * beside the journal, "<store path>.signin-lock". A kernel lock rather
 * than a row in the journal: it needs no compare-and-set the journal's
 * interface does not have, it never blocks journal writers, and it is
 * released by the kernel when its holder dies, even by kill -9, so no
 * expiry is needed. Waiters poll it for at most the Salesforce timeout
 * plus 5 s. When the lock file cannot be made (a read-only folder),
 * workers sign in unserialized and say so once in the log.
 */
struct journal;
struct tokens;

/*
 * Give sf a token store backed by j: the access token is shared, sign-in
 * serialized, rotated refresh tokens kept durably. The session owns the
 * store from now on and frees it in sf_close(); j is borrowed and must
 * outlive the session. 0, or -1 when out of memory (the session then
 * keeps its tokens to itself, as before).
 */
int tokens_attach(struct sf_session *sf, struct journal *j);

/*
 * The parts tokens_attach() puts together, for tests: a store for cfg
 * on j, its callbacks (ctx is t; release frees t), and the longest wait
 * for another holder of the sign-in lock.
 */
struct tokens *tokens_new(const struct config *cfg, struct journal *j);
void tokens_free(struct tokens *t);
void tokens_store(struct tokens *t, struct sf_token_store *store);
void tokens_set_lock_wait(struct tokens *t, int ms);

#endif
