/*
 * Unit tests of lib/tokens.c without any network: the shared access
 * token and rotated refresh token in the journal's key-value table,
 * kept apart by identity, and the flock() that serializes sign-in
 * across processes (held, waited for with a deadline, freed by the
 * kernel when its holder is killed). The whole path through
 * salesforce.c is in test_salesforce.c, against the fake.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
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

#include "config.h"
#include "journal.h"
#include "log.h"
#include "salesforce.h"
#include "tokens.h"

static char dir[64];
static char db[128];

static int
setup(void **state)
{
	char lock[160];

	snprintf(dir, sizeof(dir), "/tmp/wc2sf-tokens-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(db, sizeof(db), "%s/wc2sf.db", dir);
	snprintf(lock, sizeof(lock), "%s.signin-lock", db);
	unlink(db);
	unlink(lock);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
config_for(struct config *cfg, enum sf_auth auth, const char *user)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->auth = auth;
	cfg->login_url = (char *)(uintptr_t)"https://acme.my.salesforce.com";
	cfg->client_id = (char *)(uintptr_t)"client-1";
	cfg->username = (char *)(uintptr_t)user;
	cfg->store_path = db;
	cfg->timeout = 1;
}

static struct journal *
open_db(void)
{
	struct journal *j;
	char err[256];

	j = journal_open(db, err, sizeof(err));
	if (j == NULL)
		fail_msg("journal_open: %s", err);
	return j;
}

/* A store for cfg on its own journal connection. */
static struct tokens *
store_for(const struct config *cfg, struct journal *j,
    struct sf_token_store *store)
{
	struct tokens *t = tokens_new(cfg, j);

	assert_non_null(t);
	tokens_store(t, store);
	return t;
}

static long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A token saved by one worker is what another loads. */
static void
test_access_token(void **state)
{
	struct sf_token_store a, b;
	struct journal *ja = open_db(), *jb = open_db();
	struct config cfg;
	struct tokens *ta, *tb;
	char token[64], url[64], tiny[8], value[256];
	struct stat sb;
	bool found;

	config_for(&cfg, SF_AUTH_JWT, "u1@example.test");
	ta = store_for(&cfg, ja, &a);
	tb = store_for(&cfg, jb, &b);
	assert_int_equal(b.load(b.ctx, token, sizeof(token), url,
	    sizeof(url)), -1);
	assert_int_equal(a.save(a.ctx, "00Dx!AQtoken1",
	    "https://acme.my.salesforce.com"), 0);
	assert_int_equal(b.load(b.ctx, token, sizeof(token), url,
	    sizeof(url)), 0);
	assert_string_equal(token, "00Dx!AQtoken1");
	assert_string_equal(url, "https://acme.my.salesforce.com");
	/* A buffer too small is no token, never a cut one. */
	assert_int_equal(b.load(b.ctx, tiny, sizeof(tiny), url,
	    sizeof(url)), -1);
	assert_int_equal(b.load(b.ctx, token, sizeof(token), tiny,
	    sizeof(tiny)), -1);
	/* The row holds a fingerprint, the URL and the token. */
	assert_int_equal(journal_kv_get(ja, "sf_access_token", value,
	    sizeof(value), &found), 0);
	assert_true(found);
	assert_int_equal(strlen(value), 16 + 1 +
	    strlen("https://acme.my.salesforce.com") + 1 +
	    strlen("00Dx!AQtoken1"));
	assert_null(strstr(value, "u1@example.test"));
	/* The journal holding it is private. */
	assert_int_equal(stat(db, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	tokens_free(ta);
	tokens_free(tb);
	journal_close(ja);
	journal_close(jb);
}

/* Another user, flow or login URL never takes the stored token. */
static void
test_identity(void **state)
{
	struct sf_token_store a, b;
	struct journal *j = open_db();
	struct config cfg, other;
	struct tokens *ta, *tb;
	char token[64], url[64];

	config_for(&cfg, SF_AUTH_JWT, "u1@example.test");
	ta = store_for(&cfg, j, &a);
	assert_int_equal(a.save(a.ctx, "00Dx!AQtoken2",
	    "https://acme.my.salesforce.com"), 0);

	config_for(&other, SF_AUTH_JWT, "u2@example.test");
	tb = store_for(&other, j, &b);
	assert_int_equal(b.load(b.ctx, token, sizeof(token), url,
	    sizeof(url)), -1);
	tokens_free(tb);
	config_for(&other, SF_AUTH_PASSWORD, "u1@example.test");
	tb = store_for(&other, j, &b);
	assert_int_equal(b.load(b.ctx, token, sizeof(token), url,
	    sizeof(url)), -1);
	tokens_free(tb);
	config_for(&other, SF_AUTH_JWT, "u1@example.test");
	other.login_url = (char *)(uintptr_t)"https://test.salesforce.com";
	tb = store_for(&other, j, &b);
	assert_int_equal(b.load(b.ctx, token, sizeof(token), url,
	    sizeof(url)), -1);
	/* Its own save replaces the row; the first identity loses it. */
	assert_int_equal(b.save(b.ctx, "00Dy!AQother",
	    "https://test.my.salesforce.com"), 0);
	assert_int_equal(a.load(a.ctx, token, sizeof(token), url,
	    sizeof(url)), -1);
	tokens_free(ta);
	tokens_free(tb);
	journal_close(j);
}

/*
 * A rotated refresh token belongs to the configured one it descends
 * from: a new token in the configuration makes the stored one void.
 */
static void
test_refresh_token(void **state)
{
	struct sf_token_store a, b;
	struct journal *j = open_db();
	struct config cfg;
	struct tokens *ta, *tb;
	char token[64], value[256];
	bool found;

	config_for(&cfg, SF_AUTH_REFRESH_TOKEN, NULL);
	cfg.refresh_token = (char *)(uintptr_t)"5Aep-initial";
	ta = store_for(&cfg, j, &a);
	assert_int_equal(a.load_refresh(a.ctx, token, sizeof(token)), -1);
	assert_int_equal(a.save_refresh(a.ctx, "5Aep-rotated-1"), 0);
	assert_int_equal(a.save_refresh(a.ctx, "5Aep-rotated-2"), 0);
	tb = store_for(&cfg, j, &b);
	assert_int_equal(b.load_refresh(b.ctx, token, sizeof(token)), 0);
	assert_string_equal(token, "5Aep-rotated-2");
	assert_int_equal(journal_kv_get(j, "sf_refresh_token", value,
	    sizeof(value), &found), 0);
	assert_null(strstr(value, "5Aep-initial"));
	tokens_free(tb);

	cfg.refresh_token = (char *)(uintptr_t)"5Aep-reauthorised";
	tb = store_for(&cfg, j, &b);
	assert_int_equal(b.load_refresh(b.ctx, token, sizeof(token)), -1);
	tokens_free(tb);

	/* Without a configured one there is nothing to rotate. */
	cfg.refresh_token = NULL;
	tb = store_for(&cfg, j, &b);
	assert_int_equal(b.save_refresh(b.ctx, "5Aep-x"), -1);
	assert_int_equal(b.load_refresh(b.ctx, token, sizeof(token)), -1);
	tokens_free(tb);
	tokens_free(ta);
	journal_close(j);
}

/*
 * The sign-in lock: a file beside the journal, readable by all and
 * empty; one holder at a time across processes; a waiter gives up at
 * its deadline; a holder killed with SIGKILL frees it at once.
 */
static void
test_lock(void **state)
{
	struct sf_token_store a, b;
	struct journal *j = open_db();
	struct config cfg;
	struct tokens *ta, *tb;
	char lock[160], c;
	struct stat sb;
	int ready[2], status;
	long t0;
	pid_t pid;

	config_for(&cfg, SF_AUTH_JWT, "u1@example.test");
	ta = store_for(&cfg, j, &a);
	assert_int_equal(a.lock(a.ctx), 0);
	snprintf(lock, sizeof(lock), "%s.signin-lock", db);
	assert_int_equal(stat(lock, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0644);
	assert_int_equal(sb.st_size, 0);
	a.unlock(a.ctx);
	/* Held again and released by the same process: no deadlock. */
	assert_int_equal(a.lock(a.ctx), 0);
	a.unlock(a.ctx);

	assert_int_equal(pipe(ready), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct journal *cj;
		struct tokens *ct;
		struct sf_token_store cs;
		char err[128];

		close(ready[0]);
		cj = journal_open(db, err, sizeof(err));
		if (cj == NULL || (ct = tokens_new(&cfg, cj)) == NULL)
			_exit(2);
		tokens_store(ct, &cs);
		if (cs.lock(cs.ctx) != 0 || write(ready[1], "x", 1) != 1)
			_exit(3);
		for (;;)
			pause();
	}
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	tb = store_for(&cfg, j, &b);
	tokens_set_lock_wait(tb, 200);
	t0 = mono_ms();
	assert_int_equal(b.lock(b.ctx), -1);
	assert_true(mono_ms() - t0 >= 200);
	assert_true(mono_ms() - t0 < 2000);

	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	tokens_set_lock_wait(tb, 2000);
	t0 = mono_ms();
	assert_int_equal(b.lock(b.ctx), 0);
	assert_true(mono_ms() - t0 < 500);
	b.unlock(b.ctx);
	close(ready[0]);
	tokens_free(ta);
	tokens_free(tb);
	journal_close(j);
}

/*
 * Where no lock file can be made, workers sign in unserialized rather
 * than not at all; attaching needs a session and a journal.
 */
static void
test_lock_unavailable(void **state)
{
	struct sf_token_store a;
	struct journal *j = open_db();
	struct sf_session *sf;
	struct config cfg;
	struct tokens *t;
	char err[128];

	config_for(&cfg, SF_AUTH_JWT, "u1@example.test");
	cfg.store_path = (char *)(uintptr_t)"/nonexistent-wc2sf/x.db";
	t = store_for(&cfg, j, &a);
	assert_int_equal(a.lock(a.ctx), 0);
	a.unlock(a.ctx);
	tokens_free(t);

	config_for(&cfg, SF_AUTH_JWT, "u1@example.test");
	cfg.api_version = (char *)(uintptr_t)"62.0";
	sf = sf_open(&cfg, err, sizeof(err));
	assert_non_null(sf);
	assert_int_equal(tokens_attach(NULL, j), -1);
	assert_int_equal(tokens_attach(sf, NULL), -1);
	assert_int_equal(tokens_attach(sf, j), 0);
	/* A second store releases the first (no leak under ASan). */
	assert_int_equal(tokens_attach(sf, j), 0);
	assert_ptr_equal(sf_session_config(sf), &cfg);
	assert_string_equal(sf_instance_url(sf), "");
	sf_close(sf);
	journal_close(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_access_token, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_identity, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refresh_token, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_unavailable, setup,
		    teardown),
	};

	log_init("test_tokens", LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
