/*
 * The Salesforce tokens all workers share, in the journal's key-value
 * table, and the lock that lets one worker at a time sign in. The why
 * of each choice is in tokens.h; salesforce.c decides when to use them.
 */
#include "tokens.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "journal.h"
#include "log.h"
#include "sf_wire.h"

#define KV_ACCESS	"sf_access_token"
#define KV_REFRESH	"sf_refresh_token"
#define LOCK_SUFFIX	".signin-lock"
#define FP_HEX		16		/* hex digits of a fingerprint */
#define LOCK_POLL_MS	10
#define LOCK_SLACK_MS	5000		/* beyond the Salesforce timeout */

/* "<fp> <url> <token>" and "<fp> <token>" fit in this. */
#define VALUE_MAX	(FP_HEX + 1 + SF_URL_MAX + 1 + SF_TOKEN_MAX + 1)

struct tokens {
	struct journal *j;		/* borrowed */
	char lock_path[PATH_MAX];
	int lock_fd;			/* -1 until first opened */
	bool locked;
	bool lock_warned;
	int lock_wait_ms;
	char identity[FP_HEX + 1];	/* flow, login, client, user */
	char initial[FP_HEX + 1];	/* the configured refresh token */
};

/*
 * The first FP_HEX hex digits of SHA-256 over the parts, each followed
 * by a NUL so that ("ab", "c") and ("a", "bc") differ. A NULL part
 * counts as empty. Recognises a value again; reveals nothing usable.
 */
static void
fingerprint(const char *const *parts, size_t n, char out[FP_HEX + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx;
	size_t i;
	bool ok;

	memset(out, '0', FP_HEX);
	out[FP_HEX] = '\0';
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return;
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
	for (i = 0; ok && i < n; i++)
		ok = EVP_DigestUpdate(ctx, parts[i] != NULL ? parts[i] : "",
		    (parts[i] != NULL ? strlen(parts[i]) : 0) + 1) == 1;
	if (ok && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 &&
	    mdlen * 2 >= FP_HEX) {
		for (i = 0; i < FP_HEX / 2; i++) {
			out[2 * i] = hex[md[i] >> 4];
			out[2 * i + 1] = hex[md[i] & 15];
		}
	}
	EVP_MD_CTX_free(ctx);
	explicit_bzero(md, sizeof(md));
}

struct tokens *
tokens_new(const struct config *cfg, struct journal *j)
{
	const char *who[4];
	struct tokens *t;
	size_t n;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->j = j;
	t->lock_fd = -1;
	t->lock_wait_ms = (int)(cfg->timeout > 0 ? cfg->timeout : 30) *
	    1000 + LOCK_SLACK_MS;
	n = (size_t)snprintf(t->lock_path, sizeof(t->lock_path), "%s%s",
	    cfg->store_path != NULL ? cfg->store_path : "", LOCK_SUFFIX);
	if (n >= sizeof(t->lock_path) || cfg->store_path == NULL)
		t->lock_path[0] = '\0';
	who[0] = sf_auth_flow_name(cfg->auth);
	who[1] = cfg->login_url;
	who[2] = cfg->client_id;
	who[3] = cfg->username;
	fingerprint(who, 4, t->identity);
	if (cfg->refresh_token != NULL) {
		who[0] = cfg->refresh_token;
		fingerprint(who, 1, t->initial);
	}
	return t;
}

void
tokens_free(struct tokens *t)
{
	if (t == NULL)
		return;
	if (t->lock_fd >= 0)
		close(t->lock_fd);
	free(t);
}

void
tokens_set_lock_wait(struct tokens *t, int ms)
{
	t->lock_wait_ms = ms >= 0 ? ms : 0;
}

/*
 * Read key into a new buffer and split off its leading fingerprint:
 * *rest points after "<fp> " when the fingerprint is want. NULL when
 * the key is absent, unreadable or another identity's; the caller
 * wipes and frees what is returned.
 */
static char *
read_value(struct tokens *t, const char *key, const char *want,
    const char **rest)
{
	char *buf;
	bool found = false;

	if ((buf = malloc(VALUE_MAX)) == NULL)
		return NULL;
	if (journal_kv_get(t->j, key, buf, VALUE_MAX, &found) != 0) {
		log_warn("event=sf_token_load result=failed error=\"%s\"",
		    journal_error(t->j));
		found = false;
	}
	if (!found || strlen(buf) <= FP_HEX + 1 || buf[FP_HEX] != ' ' ||
	    strncmp(buf, want, FP_HEX) != 0) {
		explicit_bzero(buf, VALUE_MAX);
		free(buf);
		return NULL;
	}
	*rest = buf + FP_HEX + 1;
	return buf;
}

/* Write "<fp> <a>[ <b>]" under key; 0 or -1 (logged, no value shown). */
static int
write_value(struct tokens *t, const char *key, const char *fp,
    const char *a, const char *b)
{
	char *buf;
	size_t n;
	int rc = -1;

	if ((buf = malloc(VALUE_MAX)) == NULL)
		return -1;
	n = (size_t)snprintf(buf, VALUE_MAX, "%s %s%s%s", fp, a,
	    b != NULL ? " " : "", b != NULL ? b : "");
	if (n < VALUE_MAX && strchr(a, ' ') == NULL) {
		rc = journal_kv_set(t->j, key, buf);
		if (rc != 0)
			log_warn("event=sf_token_save key=%s result=failed "
			    "error=\"%s\"", key, journal_error(t->j));
	}
	explicit_bzero(buf, VALUE_MAX);
	free(buf);
	return rc;
}

static int
store_load(void *ctx, char *token, size_t n, char *url, size_t m)
{
	struct tokens *t = ctx;
	const char *rest, *space;
	char *buf;
	size_t ulen;
	int rc = -1;

	if ((buf = read_value(t, KV_ACCESS, t->identity, &rest)) == NULL)
		return -1;
	if ((space = strchr(rest, ' ')) != NULL) {
		ulen = (size_t)(space - rest);
		if (ulen < m && strlen(space + 1) < n && space[1] != '\0') {
			memcpy(url, rest, ulen);
			url[ulen] = '\0';
			memcpy(token, space + 1, strlen(space + 1) + 1);
			rc = 0;
		}
	}
	explicit_bzero(buf, VALUE_MAX);
	free(buf);
	return rc;
}

static int
store_save(void *ctx, const char *token, const char *url)
{
	struct tokens *t = ctx;

	return write_value(t, KV_ACCESS, t->identity, url, token);
}

static int
store_load_refresh(void *ctx, char *token, size_t n)
{
	struct tokens *t = ctx;
	const char *rest;
	char *buf;
	int rc = -1;

	if (t->initial[0] == '\0')
		return -1;
	if ((buf = read_value(t, KV_REFRESH, t->initial, &rest)) == NULL)
		return -1;
	if (rest[0] != '\0' && strlen(rest) < n) {
		memcpy(token, rest, strlen(rest) + 1);
		rc = 0;
	}
	explicit_bzero(buf, VALUE_MAX);
	free(buf);
	return rc;
}

/*
 * The journal commits with synchronous=FULL: when this returns 0 the
 * rotated token is on disk.
 */
static int
store_save_refresh(void *ctx, const char *token)
{
	struct tokens *t = ctx;

	if (t->initial[0] == '\0')
		return -1;
	return write_value(t, KV_REFRESH, t->initial, token, NULL);
}

/*
 * The lock file, made on first use with mode 0644 (it is empty) so that
 * workers and a person running `wc2sf replay` as another user can all
 * open it; flock() needs no write access. -1 when it cannot be had.
 */
static int
open_lock(struct tokens *t)
{
	int fd;

	if (t->lock_fd >= 0)
		return 0;
	if (t->lock_path[0] == '\0')
		return -1;
	fd = open(t->lock_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
	    O_NOCTTY);
	if (fd == -1 && errno == ENOENT) {
		fd = open(t->lock_path, O_RDONLY | O_CREAT | O_EXCL |
		    O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0644);
		if (fd >= 0)
			(void)fchmod(fd, 0644);
		else if (errno == EEXIST)
			fd = open(t->lock_path, O_RDONLY | O_CLOEXEC |
			    O_NOFOLLOW | O_NOCTTY);
	}
	if (fd == -1) {
		if (!t->lock_warned)
			log_warn("event=sf_sign_in_lock result=unavailable "
			    "error=\"%s\" hint=\"workers sign in without "
			    "waiting for each other\"", strerror(errno));
		t->lock_warned = true;
		return -1;
	}
	t->lock_fd = fd;
	return 0;
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Wait, polling with a deadline, until this process holds the sign-in
 * lock. 0 when held, or when no lock file can be had at all (signing in
 * unserialized beats not signing in); -1 when another process held it
 * past the wait.
 */
static int
store_lock(void *ctx)
{
	struct tokens *t = ctx;
	struct timespec pause = { 0, LOCK_POLL_MS * 1000000L };
	int64_t start = mono_ms();

	if (open_lock(t) == -1)
		return 0;
	for (;;) {
		if (flock(t->lock_fd, LOCK_EX | LOCK_NB) == 0) {
			t->locked = true;
			if (mono_ms() - start >= LOCK_POLL_MS)
				log_debug("event=sf_sign_in_lock "
				    "waited_ms=%lld",
				    (long long)(mono_ms() - start));
			return 0;
		}
		if (errno != EWOULDBLOCK && errno != EINTR) {
			log_warn("event=sf_sign_in_lock result=failed "
			    "error=\"%s\"", strerror(errno));
			return 0;
		}
		if (mono_ms() - start >= t->lock_wait_ms) {
			log_warn("event=sf_sign_in_lock result=timeout "
			    "waited_ms=%lld", (long long)(mono_ms() - start));
			return -1;
		}
		nanosleep(&pause, NULL);
	}
}

static void
store_unlock(void *ctx)
{
	struct tokens *t = ctx;

	if (t->locked && t->lock_fd >= 0)
		(void)flock(t->lock_fd, LOCK_UN);
	t->locked = false;
}

static void
store_release(void *ctx)
{
	tokens_free(ctx);
}

void
tokens_store(struct tokens *t, struct sf_token_store *store)
{
	memset(store, 0, sizeof(*store));
	store->load = store_load;
	store->save = store_save;
	store->ctx = t;
	store->lock = store_lock;
	store->unlock = store_unlock;
	store->load_refresh = store_load_refresh;
	store->save_refresh = store_save_refresh;
	store->release = store_release;
}

int
tokens_attach(struct sf_session *sf, struct journal *j)
{
	struct sf_token_store store;
	struct tokens *t;

	if (sf == NULL || j == NULL)
		return -1;
	if ((t = tokens_new(sf_session_config(sf), j)) == NULL) {
		log_warn("event=sf_token_store result=no_memory");
		return -1;
	}
	tokens_store(t, &store);
	sf_set_token_store(sf, &store);
	return 0;
}
