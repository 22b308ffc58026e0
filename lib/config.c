#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#define SECRET_FILE_MAX	(64 * 1024)	/* bytes read from a *_file */
#define SHOWN_MAX	60		/* characters of a value in errors */
#define MIN_API_MAJOR	46		/* upsert answers 200 with created */

#define DEFAULT_STATUSES \
	"pending,processing,on-hold,completed,cancelled,refunded,failed"
#define DEFAULT_LOGIN_URL	"https://login.salesforce.com"
#define DEFAULT_API_VERSION	"62.0"
#define DEFAULT_STORE_PATH	"/var/lib/wc2sf/wc2sf.db"

/* What a value must look like, and so how it is stored. */
enum key_kind {
	KEY_TEXT,		/* a non-empty string */
	KEY_SECRET,		/* a string never shown in a message */
	KEY_SECRET_FILE,	/* a file whose content is the secret */
	KEY_PATH,		/* a path, relative to the config's folder */
	KEY_KEY_FILE,		/* a path to a private key, checked */
	KEY_CA_FILE,		/* a path to a CA bundle, checked */
	KEY_SIZE,		/* bytes, with K or M */
	KEY_STATUSES,		/* comma-separated order statuses */
	KEY_AUTH,		/* an sf_auth word */
	KEY_CLIENT_AUTH,	/* body or basic */
	KEY_URL,		/* https:// only */
	KEY_API_VERSION,	/* "62.0" */
	KEY_NUMBER,		/* a whole number in [min, max] */
	KEY_BOOL,
	KEY_LEVEL		/* a log level word */
};

struct key {
	const char *section;
	const char *name;
	enum key_kind kind;
	size_t field;		/* offsetof the member in struct config */
	int twin;		/* index of the other form, or -1 */
	long min, max;		/* KEY_NUMBER, KEY_SIZE */
	const char *unit;	/* KEY_NUMBER: "seconds", "days" */
};

#define F(m)	offsetof(struct config, m)

/*
 * Every key wc2sf knows. A secret and its *_file form are twins: they
 * fill the same member and at most one of them may be given.
 */
enum {
	K_SECRET, K_SECRET_FILE, K_MAX_BODY, K_SYNC_STATUSES,
	K_AUTH, K_LOGIN_URL, K_CLIENT_ID, K_CLIENT_SECRET,
	K_CLIENT_SECRET_FILE, K_CLIENT_AUTH, K_USERNAME, K_PASSWORD,
	K_PASSWORD_FILE,
	K_PRIVATE_KEY, K_AUDIENCE, K_REFRESH_TOKEN, K_REFRESH_TOKEN_FILE,
	K_API_VERSION, K_CA_FILE, K_TIMEOUT, K_STATE_PICKLISTS,
	K_STORE_PATH, K_DRAIN_SECONDS, K_RETENTION_DAYS,
	K_LOG_LEVEL, K_LOG_FILE,
	K_COUNT
};

static const struct key keys[K_COUNT] = {
	[K_SECRET] = { "woocommerce", "secret", KEY_SECRET, F(secret),
	    K_SECRET_FILE, 0, 0, NULL },
	[K_SECRET_FILE] = { "woocommerce", "secret_file", KEY_SECRET_FILE,
	    F(secret), K_SECRET, 0, 0, NULL },
	[K_MAX_BODY] = { "woocommerce", "max_body", KEY_SIZE, F(max_body),
	    -1, 1024L, 64L * 1024 * 1024, NULL },
	[K_SYNC_STATUSES] = { "woocommerce", "sync_statuses", KEY_STATUSES,
	    F(sync_statuses), -1, 0, 0, NULL },
	[K_AUTH] = { "salesforce", "auth", KEY_AUTH, F(auth), -1, 0, 0,
	    NULL },
	[K_LOGIN_URL] = { "salesforce", "login_url", KEY_URL, F(login_url),
	    -1, 0, 0, NULL },
	[K_CLIENT_ID] = { "salesforce", "client_id", KEY_TEXT, F(client_id),
	    -1, 0, 0, NULL },
	[K_CLIENT_SECRET] = { "salesforce", "client_secret", KEY_SECRET,
	    F(client_secret), K_CLIENT_SECRET_FILE, 0, 0, NULL },
	[K_CLIENT_SECRET_FILE] = { "salesforce", "client_secret_file",
	    KEY_SECRET_FILE, F(client_secret), K_CLIENT_SECRET, 0, 0, NULL },
	[K_CLIENT_AUTH] = { "salesforce", "client_auth", KEY_CLIENT_AUTH,
	    F(client_basic), -1, 0, 0, NULL },
	[K_USERNAME] = { "salesforce", "username", KEY_TEXT, F(username),
	    -1, 0, 0, NULL },
	[K_PASSWORD] = { "salesforce", "password", KEY_SECRET, F(password),
	    K_PASSWORD_FILE, 0, 0, NULL },
	[K_PASSWORD_FILE] = { "salesforce", "password_file",
	    KEY_SECRET_FILE, F(password), K_PASSWORD, 0, 0, NULL },
	[K_PRIVATE_KEY] = { "salesforce", "private_key", KEY_KEY_FILE,
	    F(private_key), -1, 0, 0, NULL },
	[K_AUDIENCE] = { "salesforce", "audience", KEY_TEXT, F(audience),
	    -1, 0, 0, NULL },
	[K_REFRESH_TOKEN] = { "salesforce", "refresh_token", KEY_SECRET,
	    F(refresh_token), K_REFRESH_TOKEN_FILE, 0, 0, NULL },
	[K_REFRESH_TOKEN_FILE] = { "salesforce", "refresh_token_file",
	    KEY_SECRET_FILE, F(refresh_token), K_REFRESH_TOKEN, 0, 0, NULL },
	[K_API_VERSION] = { "salesforce", "api_version", KEY_API_VERSION,
	    F(api_version), -1, 0, 0, NULL },
	[K_CA_FILE] = { "salesforce", "ca_file", KEY_CA_FILE, F(ca_file),
	    -1, 0, 0, NULL },
	[K_TIMEOUT] = { "salesforce", "timeout", KEY_NUMBER, F(timeout),
	    -1, 1, 600, "seconds" },
	[K_STATE_PICKLISTS] = { "salesforce", "state_picklists", KEY_BOOL,
	    F(state_picklists), -1, 0, 0, NULL },
	[K_STORE_PATH] = { "store", "path", KEY_PATH, F(store_path), -1,
	    0, 0, NULL },
	[K_DRAIN_SECONDS] = { "store", "drain_seconds", KEY_NUMBER,
	    F(drain_seconds), -1, 0, 60, "seconds" },
	[K_RETENTION_DAYS] = { "store", "retention_days", KEY_NUMBER,
	    F(retention_days), -1, 1, 3650, "days" },
	[K_LOG_LEVEL] = { "log", "level", KEY_LEVEL, F(log_level), -1, 0, 0,
	    NULL },
	[K_LOG_FILE] = { "log", "file", KEY_PATH, F(log_file), -1, 0, 0,
	    NULL }
};

static const char *const sections[] = {
	"woocommerce", "salesforce", "store", "log"
};

static const char *const auth_words[] = {
	[SF_AUTH_PASSWORD] = "password",
	[SF_AUTH_CLIENT_CREDENTIALS] = "client_credentials",
	[SF_AUTH_JWT] = "jwt",
	[SF_AUTH_REFRESH_TOKEN] = "refresh_token"
};

/*
 * The keys each sign-in flow cannot do without (either form of a twin
 * will do), ended by -1. Client credentials are only granted on the
 * org's My Domain, so the default login URL can never work for them.
 */
static const int required[][6] = {
	[SF_AUTH_PASSWORD] = { K_CLIENT_ID, K_CLIENT_SECRET, K_USERNAME,
	    K_PASSWORD, -1 },
	[SF_AUTH_CLIENT_CREDENTIALS] = { K_CLIENT_ID, K_CLIENT_SECRET,
	    K_LOGIN_URL, -1 },
	[SF_AUTH_JWT] = { K_CLIENT_ID, K_USERNAME, K_PRIVATE_KEY, -1 },
	[SF_AUTH_REFRESH_TOKEN] = { K_CLIENT_ID, K_REFRESH_TOKEN, -1 }
};

/* One load in progress; inih hands it to both callbacks. */
struct load {
	struct config *cfg;
	FILE *fp;
	char dir[PATH_MAX];	/* the config's folder, for relative paths */
	int line;		/* lines read so far */
	bool seen[K_COUNT];
	int seen_line[K_COUNT];
	bool failed;
	char *err;
	size_t errlen;
};

static void fail(struct load *, const char *, const char *, const char *,
    ...) __attribute__((format(printf, 4, 5)));

/*
 * Copy s for a message: printable ASCII only, others as '?', cut to
 * SHOWN_MAX characters with "..." so a message stays one short line.
 */
static const char *
shown(char *buf, size_t size, const char *s)
{
	size_t i, o = 0;

	for (i = 0; s[i] != '\0' && o + 4 < size; i++) {
		if (i == SHOWN_MAX) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		buf[o++] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	}
	buf[o] = '\0';
	return buf;
}

/*
 * Write the first error only: "path:line: [section] key: sentence".
 * The line is left out when it is not known (0), the key part when
 * section is NULL.
 */
static void
fail(struct load *ld, const char *section, const char *name,
    const char *fmt, ...)
{
	char sec[SHOWN_MAX + 4], key[SHOWN_MAX + 4];
	va_list ap;
	int n;

	if (ld->failed)
		return;
	ld->failed = true;
	if (ld->line > 0)
		n = snprintf(ld->err, ld->errlen, "%s:%d: ", ld->cfg->path,
		    ld->line);
	else
		n = snprintf(ld->err, ld->errlen, "%s: ", ld->cfg->path);
	if (n < 0 || (size_t)n >= ld->errlen)
		return;
	if (section != NULL) {
		n += snprintf(ld->err + n, ld->errlen - (size_t)n,
		    "[%s] %s: ", shown(sec, sizeof(sec), section),
		    shown(key, sizeof(key), name));
		if (n < 0 || (size_t)n >= ld->errlen)
			return;
	}
	va_start(ap, fmt);
	vsnprintf(ld->err + n, ld->errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

static void
fail_key(struct load *ld, int k, const char *expected, const char *value)
{
	char v[SHOWN_MAX + 4];

	fail(ld, keys[k].section, keys[k].name, "expected %s, got \"%s\"",
	    expected, shown(v, sizeof(v), value));
}

static char **
str_member(struct config *cfg, int k)
{
	return (char **)(void *)((char *)cfg + keys[k].field);
}

static long *
long_member(struct config *cfg, int k)
{
	return (long *)(void *)((char *)cfg + keys[k].field);
}

/* Free a string that may hold a secret, wiping it first. */
static void
free_secret(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

/* Store s (owned now) in the member of key k, replacing any default. */
static int
put_string(struct load *ld, int k, char *s)
{
	char **m = str_member(ld->cfg, k);

	if (s == NULL) {
		fail(ld, keys[k].section, keys[k].name, "out of memory");
		return -1;
	}
	free_secret(*m);
	*m = s;
	return 0;
}

/*
 * An absolute path as is, a relative one joined to the config's folder:
 * a FastCGI worker's working directory is anyone's guess.
 */
static char *
resolve(const struct load *ld, const char *path)
{
	size_t len;
	char *s;

	if (path[0] == '/')
		return strdup(path);
	len = strlen(ld->dir) + 1 + strlen(path) + 1;
	s = malloc(len);
	if (s != NULL)
		snprintf(s, len, "%s/%s", ld->dir, path);
	return s;
}

/*
 * Remember a file others can read for `wc2sf check`. Out of memory only
 * loses the note; the warning was logged anyway.
 */
static void
note_readable(struct config *cfg, const char *path)
{
	char **list, *copy;
	size_t n = 0;

	while (cfg->readable != NULL && cfg->readable[n] != NULL)
		n++;
	if ((copy = strdup(path)) == NULL)
		return;
	if ((list = realloc(cfg->readable, (n + 2) * sizeof(*list))) ==
	    NULL) {
		free(copy);
		return;
	}
	list[n] = copy;
	list[n + 1] = NULL;
	cfg->readable = list;
}

/*
 * Whoever may write the folder a trusted file is in may put another
 * file in its place: a folder anyone can write fails, unless it is
 * sticky (then only a file's owner may replace it). Only the file's own
 * folder is looked at, not those above it.
 */
static int
check_folder(struct load *ld, const char *sec, const char *name,
    const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	struct stat sb;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	/* The file was opened; a folder that cannot be looked at is no
	 * folder anyone writes. */
	if (stat(dir, &sb) == -1)
		return 0;
	if ((sb.st_mode & 002) != 0 && (sb.st_mode & S_ISVTX) == 0) {
		fail(ld, sec, name, "expected %s in a folder others cannot "
		    "write, got %s with mode %04o; run chmod o-w on it", path,
		    dir, (unsigned)(sb.st_mode & 07777));
		return -1;
	}
	return 0;
}

/*
 * Anything that can change what wc2sf trusts (its config, secrets, keys,
 * CA bundle) must be a regular file only its owner can write, in a
 * folder others cannot write. Readable by others is allowed but said,
 * when warn_readable. name NULL means the config file itself.
 */
static int
check_mode(struct load *ld, int k, int fd, const char *path,
    bool warn_readable)
{
	const char *sec = k < 0 ? NULL : keys[k].section;
	const char *name = k < 0 ? NULL : keys[k].name;
	char q[PATH_MAX + 8];
	struct stat sb;

	if (fstat(fd, &sb) == -1) {
		fail(ld, sec, name, "cannot stat %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		fail(ld, sec, name, "expected a regular file, got %s which "
		    "is not one", path);
		return -1;
	}
	if ((sb.st_mode & 022) != 0) {
		fail(ld, sec, name, "expected a file only its owner can "
		    "write, got %s with mode %04o; run chmod go-w on it",
		    path, (unsigned)(sb.st_mode & 07777));
		return -1;
	}
	if (check_folder(ld, sec, name, path) == -1)
		return -1;
	if (warn_readable && (sb.st_mode & 004) != 0) {
		log_warn("event=config_file_readable path=%s mode=%04o "
		    "hint=\"chmod o-r\"", log_quote(q, sizeof(q), path),
		    (unsigned)(sb.st_mode & 07777));
		note_readable(ld->cfg, path);
	}
	return 0;
}

/* Open path for reading and check its mode; the fd or -1. */
static int
open_checked(struct load *ld, int k, const char *path, bool warn_readable)
{
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd == -1) {
		fail(ld, keys[k].section, keys[k].name, "cannot open %s: %s",
		    path, strerror(errno));
		return -1;
	}
	if (check_mode(ld, k, fd, path, warn_readable) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Read at most SECRET_FILE_MAX bytes of a secret file into a new string,
 * without one trailing newline (LF or CRLF), as editors and `echo` add
 * one. A NUL byte cannot be part of a C string secret, so it is refused.
 * On failure the partial copy is wiped and NULL returned.
 */
static char *
read_secret(struct load *ld, int k, const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	bool ok = false;
	ssize_t n;
	int fd;

	fd = open_checked(ld, k, path, true);
	if (fd == -1)
		goto out;
	buf = malloc(SECRET_FILE_MAX + 2);
	if (buf == NULL) {
		fail(ld, keys[k].section, keys[k].name, "out of memory");
		goto out;
	}
	while (len <= SECRET_FILE_MAX) {
		n = read(fd, buf + len, SECRET_FILE_MAX + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			fail(ld, keys[k].section, keys[k].name,
			    "cannot read %s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > SECRET_FILE_MAX) {
		fail(ld, keys[k].section, keys[k].name, "expected a file of "
		    "at most %d bytes, got %s which is larger",
		    SECRET_FILE_MAX, path);
		goto out;
	}
	if (memchr(buf, '\0', len) != NULL) {
		fail(ld, keys[k].section, keys[k].name, "expected text, got "
		    "%s which holds a NUL byte", path);
		goto out;
	}
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	ok = true;
out:
	if (fd != -1)
		close(fd);
	if (!ok && buf != NULL) {
		explicit_bzero(buf, SECRET_FILE_MAX + 2);
		free(buf);
		buf = NULL;
	}
	return buf;
}

/*
 * A *_file key: the file's content goes into the same member as the
 * inline form. Only the WooCommerce secret may be empty.
 */
static int
set_secret_file(struct load *ld, int k, const char *value)
{
	char *path, *s;

	path = resolve(ld, value);
	if (path == NULL) {
		fail(ld, keys[k].section, keys[k].name, "out of memory");
		return -1;
	}
	s = read_secret(ld, k, path);
	if (s != NULL && s[0] == '\0' && k != K_SECRET_FILE) {
		fail(ld, keys[k].section, keys[k].name, "expected a file "
		    "holding the value, got %s which is empty", path);
		free(s);
		s = NULL;
	}
	free(path);
	if (s == NULL)
		return -1;
	return put_string(ld, k, s);
}

/* private_key and ca_file: stored as resolved paths, checked now. */
static int
set_checked_path(struct load *ld, int k, const char *value)
{
	char *path;
	int fd;

	path = resolve(ld, value);
	if (path == NULL)
		return put_string(ld, k, NULL);
	fd = open_checked(ld, k, path, keys[k].kind == KEY_KEY_FILE);
	if (fd == -1) {
		free(path);
		return -1;
	}
	close(fd);
	return put_string(ld, k, path);
}

/* Digits only, at most 12 of them; -1 when that is not what s is. */
static long long
parse_digits(const char *s, size_t len)
{
	long long n = 0;
	size_t i;

	if (len == 0 || len > 12)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		n = n * 10 + (s[i] - '0');
	}
	return n;
}

/* max_body: bytes, or a count of KiB or MiB with a K or M suffix. */
static int
set_size(struct load *ld, int k, const char *value)
{
	size_t len = strlen(value);
	long long n, mult = 1;

	if (len > 0 && (value[len - 1] == 'K' || value[len - 1] == 'k'))
		mult = 1024;
	else if (len > 0 && (value[len - 1] == 'M' || value[len - 1] == 'm'))
		mult = 1024 * 1024;
	n = parse_digits(value, mult == 1 ? len : len - 1);
	if (n < 0 || n * mult < keys[k].min || n * mult > keys[k].max) {
		fail_key(ld, k, "a size in bytes such as 1048576 or 1M, from "
		    "1K to 64M", value);
		return -1;
	}
	ld->cfg->max_body = (size_t)(n * mult);
	return 0;
}

/* Plain digits within the key's range; no sign, no unit. */
static int
set_number(struct load *ld, int k, const char *value)
{
	char expected[80];
	long long n;

	n = parse_digits(value, strlen(value));
	if (n < keys[k].min || n > keys[k].max) {
		snprintf(expected, sizeof(expected), "a whole number of %s "
		    "from %ld to %ld", keys[k].unit, keys[k].min, keys[k].max);
		fail_key(ld, k, expected, value);
		return -1;
	}
	*long_member(ld->cfg, k) = (long)n;
	return 0;
}

static void
free_list(char **list)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; list[i] != NULL; i++)
		free(list[i]);
	free(list);
}

/* One status word as the REST API writes it: [a-z0-9_-], no "wc-". */
static bool
status_word(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 64 || (len >= 3 && memcmp(s, "wc-", 3) == 0))
		return false;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		    s[i] == '-'))
			return false;
	return true;
}

/*
 * Split "a, b,c" into a new NULL-ended list; NULL with *bad set when an
 * item is not a status word, or with *bad clear when out of memory.
 */
static char **
split_statuses(const char *value, bool *bad)
{
	const char *p, *end;
	size_t n = 1, i = 0, len;
	char **list;

	*bad = false;
	for (p = value; *p != '\0'; p++)
		if (*p == ',')
			n++;
	list = calloc(n + 1, sizeof(*list));
	if (list == NULL)
		return NULL;
	for (p = value; i < n; p = end + 1) {
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		len = (size_t)(end - p);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (!status_word(p, len)) {
			*bad = true;
			break;
		}
		list[i] = strndup(p, len);
		if (list[i++] == NULL)
			break;
	}
	if (i == n && list[n - 1] != NULL)
		return list;
	free_list(list);
	return NULL;
}

static int
set_statuses(struct load *ld, int k, const char *value)
{
	char **list;
	bool bad;

	list = split_statuses(value, &bad);
	if (list == NULL && bad) {
		fail_key(ld, k, "comma-separated order statuses as the REST "
		    "API writes them, such as processing,completed", value);
		return -1;
	}
	if (list == NULL) {
		fail(ld, keys[k].section, keys[k].name, "out of memory");
		return -1;
	}
	free_list(ld->cfg->sync_statuses);
	ld->cfg->sync_statuses = list;
	return 0;
}

static int
set_auth(struct load *ld, int k, const char *value)
{
	size_t i;

	for (i = 0; i < sizeof(auth_words) / sizeof(auth_words[0]); i++) {
		if (strcmp(value, auth_words[i]) == 0) {
			ld->cfg->auth = (enum sf_auth)i;
			return 0;
		}
	}
	fail_key(ld, k, "one of password, client_credentials, jwt and "
	    "refresh_token", value);
	return -1;
}

/* How the client id and secret travel: in the form body, or as Basic. */
static int
set_client_auth(struct load *ld, int k, const char *value)
{
	if (strcmp(value, "body") == 0 || strcmp(value, "basic") == 0) {
		ld->cfg->client_basic = strcmp(value, "basic") == 0;
		return 0;
	}
	fail_key(ld, k, "body or basic", value);
	return -1;
}

/*
 * https:// and a host, nothing that cannot be in a URL; trailing slashes
 * are dropped so callers can append "/services/...". Plain http:// is
 * refused: the credentials and the token would travel in clear.
 */
static int
set_url(struct load *ld, int k, const char *value)
{
	size_t len = strlen(value), i;
	const size_t slen = sizeof("https://") - 1;

	if (strncasecmp(value, "http://", 7) == 0) {
		fail_key(ld, k, "an https:// URL (plain http:// would send "
		    "credentials in clear)", value);
		return -1;
	}
	for (i = 0; i < len; i++)
		if ((unsigned char)value[i] <= 0x20 || value[i] == 0x7f ||
		    value[i] == '?' || value[i] == '#')
			break;
	while (len > slen && value[len - 1] == '/')
		len--;
	if (strncasecmp(value, "https://", slen) != 0 || i < strlen(value) ||
	    len == slen || value[slen] == '/') {
		fail_key(ld, k, "an https:// URL such as "
		    "https://example.my.salesforce.com", value);
		return -1;
	}
	return put_string(ld, k, strndup(value, len));
}

/* "62.0" or "v62.0"; stored without the v. */
static int
set_api_version(struct load *ld, int k, const char *value)
{
	const char *v = value, *dot;
	long long major, minor;

	if (*v == 'v' || *v == 'V')
		v++;
	dot = strchr(v, '.');
	major = dot == NULL ? -1 : parse_digits(v, (size_t)(dot - v));
	minor = dot == NULL ? -1 : parse_digits(dot + 1, strlen(dot + 1));
	if (major < MIN_API_MAJOR || major > 999 || minor < 0 ||
	    strlen(dot + 1) != 1) {
		fail_key(ld, k, "a Salesforce API version such as 62.0, "
		    "46.0 or newer", value);
		return -1;
	}
	return put_string(ld, k, strdup(v));
}

static int
set_bool(struct load *ld, int k, const char *value)
{
	static const char *const yes[] = { "yes", "true", "1" };
	static const char *const no[] = { "no", "false", "0" };
	size_t i;

	for (i = 0; i < 3; i++) {
		if (strcasecmp(value, yes[i]) == 0 ||
		    strcasecmp(value, no[i]) == 0) {
			ld->cfg->state_picklists = strcasecmp(value,
			    yes[i]) == 0;
			return 0;
		}
	}
	fail_key(ld, k, "yes or no (or true/false, 1/0)", value);
	return -1;
}

static int
set_level(struct load *ld, int k, const char *value)
{
	int level;

	level = log_level_parse(value);
	if (level < 0) {
		fail_key(ld, k, "one of error, warn, info and debug", value);
		return -1;
	}
	ld->cfg->log_level = (enum log_level)level;
	return 0;
}

/* Dispatch a value to its kind's parser; the key is known and new. */
static int
set_value(struct load *ld, int k, const char *value)
{
	if (value[0] == '\0' && k != K_SECRET) {
		fail(ld, keys[k].section, keys[k].name, "expected a value, "
		    "got nothing");
		return -1;
	}
	switch (keys[k].kind) {
	case KEY_TEXT:
	case KEY_SECRET:
		return put_string(ld, k, strdup(value));
	case KEY_SECRET_FILE:
		return set_secret_file(ld, k, value);
	case KEY_PATH:
		return put_string(ld, k, resolve(ld, value));
	case KEY_KEY_FILE:
	case KEY_CA_FILE:
		return set_checked_path(ld, k, value);
	case KEY_SIZE:
		return set_size(ld, k, value);
	case KEY_STATUSES:
		return set_statuses(ld, k, value);
	case KEY_AUTH:
		return set_auth(ld, k, value);
	case KEY_CLIENT_AUTH:
		return set_client_auth(ld, k, value);
	case KEY_URL:
		return set_url(ld, k, value);
	case KEY_API_VERSION:
		return set_api_version(ld, k, value);
	case KEY_NUMBER:
		return set_number(ld, k, value);
	case KEY_BOOL:
		return set_bool(ld, k, value);
	case KEY_LEVEL:
		return set_level(ld, k, value);
	}
	return -1;
}

static bool
known_section(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		if (strcmp(name, sections[i]) == 0)
			return true;
	return false;
}

/* "unknown key x; known keys are a, b and c" for section. */
static void
fail_unknown_key(struct load *ld, const char *section, const char *name)
{
	char known[512];
	size_t o = 0;
	int i, last = -1, n;

	known[0] = '\0';
	for (i = 0; i < K_COUNT; i++)
		if (strcmp(keys[i].section, section) == 0)
			last = i;
	for (i = 0; i < K_COUNT && o < sizeof(known); i++) {
		if (strcmp(keys[i].section, section) != 0)
			continue;
		n = snprintf(known + o, sizeof(known) - o, "%s%s",
		    o == 0 ? "" : i == last ? " and " : ", ", keys[i].name);
		if (n < 0)
			break;
		o += (size_t)n;
	}
	fail(ld, section, name, "unknown key; known keys in [%s] are %s",
	    section, known);
}

/*
 * inih calls this for every "key = value". Errors are kept in ld (the
 * first one wins) rather than returned, so the message says what was
 * wrong, not only where.
 */
static int
on_key(void *user, const char *section, const char *name,
    const char *value)
{
	struct load *ld = user;
	char sec[SHOWN_MAX + 4];
	int k;

	if (ld->failed)
		return 1;
	if (section[0] == '\0') {
		fail(ld, NULL, NULL, "key %s comes before any [section]; "
		    "known sections are [woocommerce], [salesforce], [store] "
		    "and [log]", shown(sec, sizeof(sec), name));
		return 1;
	}
	for (k = 0; k < K_COUNT; k++)
		if (strcmp(keys[k].section, section) == 0 &&
		    strcmp(keys[k].name, name) == 0)
			break;
	if (k == K_COUNT) {
		fail_unknown_key(ld, section, name);
		return 1;
	}
	if (ld->seen[k]) {
		fail(ld, section, name, "expected once, got it again (first "
		    "on line %d)", ld->seen_line[k]);
		return 1;
	}
	if (keys[k].twin >= 0 && ld->seen[keys[k].twin]) {
		fail(ld, section, name, "expected either %s or %s, got both "
		    "(%s on line %d)", keys[keys[k].twin].name, name,
		    keys[keys[k].twin].name, ld->seen_line[keys[k].twin]);
		return 1;
	}
	ld->seen[k] = true;
	ld->seen_line[k] = ld->line;
	set_value(ld, k, value);
	return 1;
}

/*
 * A section header line: refuse unknown names here, because inih never
 * calls on_key() for a section without keys.
 */
static void
check_section_line(struct load *ld, const char *line)
{
	char name[SHOWN_MAX + 4], sec[SHOWN_MAX + 4];
	const char *end;
	size_t len;

	end = strchr(line, ']');
	if (end == NULL)
		return;		/* inih reports the broken line */
	len = (size_t)(end - line - 1);
	if (len >= sizeof(name))
		len = sizeof(name) - 1;
	memcpy(name, line + 1, len);
	name[len] = '\0';
	if (!known_section(name))
		fail(ld, NULL, NULL, "unknown section [%s]; known sections "
		    "are [woocommerce], [salesforce], [store] and [log]",
		    shown(sec, sizeof(sec), name));
}

/*
 * The reader inih pulls lines through. It counts lines (the system inih
 * does not pass line numbers), refuses a line longer than inih's buffer
 * instead of letting it be split, and drops leading white space so an
 * indented line is never taken as the continuation of the previous
 * value. Returning NULL ends the parse at the first error.
 */
static char *
read_line(char *buf, int size, void *user)
{
	struct load *ld = user;
	size_t len, skip = 0;

	if (ld->failed || fgets(buf, size, ld->fp) == NULL)
		return NULL;
	ld->line++;
	len = strlen(buf);
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	else if (!feof(ld->fp))
		len = (size_t)size;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	if (len > (size_t)size - 3) {
		fail(ld, NULL, NULL, "expected lines of at most %d "
		    "characters, got a longer one; put long values in a "
		    "*_file", size - 3);
		return NULL;
	}
	if (ld->line == 1 && strncmp(buf, "\xef\xbb\xbf", 3) == 0)
		skip = 3;
	while (buf[skip] == ' ' || buf[skip] == '\t')
		skip++;
	memmove(buf, buf + skip, strlen(buf + skip) + 1);
	if (buf[0] == '[')
		check_section_line(ld, buf);
	return ld->failed ? NULL : buf;
}

/* The config's folder as an absolute path, for resolve(). */
static void
find_dir(struct load *ld, const char *path)
{
	char dir[PATH_MAX];
	const char *slash;
	size_t len;

	slash = strrchr(path, '/');
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else {
		len = (size_t)(slash - path);
		if (len >= sizeof(dir))
			len = sizeof(dir) - 1;
		memcpy(dir, path, len);
		dir[len] = '\0';
	}
	if (realpath(dir, ld->dir) == NULL)
		snprintf(ld->dir, sizeof(ld->dir), "%s", dir);
}

/* Defaults for what the file did not set; -1 when out of memory. */
static int
fill_defaults(struct config *cfg)
{
	bool bad;

	if (cfg->sync_statuses == NULL)
		cfg->sync_statuses = split_statuses(DEFAULT_STATUSES, &bad);
	if (cfg->login_url == NULL)
		cfg->login_url = strdup(DEFAULT_LOGIN_URL);
	if (cfg->api_version == NULL)
		cfg->api_version = strdup(DEFAULT_API_VERSION);
	if (cfg->store_path == NULL)
		cfg->store_path = strdup(DEFAULT_STORE_PATH);
	if (cfg->sync_statuses == NULL || cfg->login_url == NULL ||
	    cfg->api_version == NULL || cfg->store_path == NULL)
		return -1;
	return 0;
}

/* After the whole file: what is missing for the chosen sign-in flow. */
static void
check_required(struct load *ld)
{
	const int *req = required[ld->cfg->auth];
	int i, k, twin;

	ld->line = 0;
	if (!ld->seen[K_SECRET] && !ld->seen[K_SECRET_FILE]) {
		fail(ld, "woocommerce", "secret", "expected the webhook "
		    "secret (secret = the text, empty allowed, or "
		    "secret_file = a file), got neither");
		return;
	}
	for (i = 0; req[i] >= 0; i++) {
		k = req[i];
		twin = keys[k].twin;
		if (ld->seen[k] || (twin >= 0 && ld->seen[twin]))
			continue;
		if (twin >= 0)
			fail(ld, keys[k].section, keys[k].name, "required "
			    "when auth = %s, got neither %s nor %s",
			    auth_words[ld->cfg->auth], keys[k].name,
			    keys[twin].name);
		else if (k == K_LOGIN_URL)
			fail(ld, keys[k].section, keys[k].name, "expected "
			    "the org's My Domain URL, such as "
			    "https://example.my.salesforce.com, which auth = "
			    "%s requires, got nothing",
			    auth_words[ld->cfg->auth]);
		else
			fail(ld, keys[k].section, keys[k].name, "required "
			    "when auth = %s, got nothing",
			    auth_words[ld->cfg->auth]);
		return;
	}
}

/* Open the config file itself, refusing one others could have changed. */
static int
open_config(struct load *ld, const char *path)
{
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd == -1) {
		fail(ld, NULL, NULL, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (check_mode(ld, -1, fd, path, true) == -1) {
		close(fd);
		return -1;
	}
	ld->fp = fdopen(fd, "r");
	if (ld->fp == NULL) {
		fail(ld, NULL, NULL, "cannot read: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return 0;
}

int
config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
	struct load ld;
	char dummy[1];
	int rc, result = -1;

	memset(cfg, 0, sizeof(*cfg));
	memset(&ld, 0, sizeof(ld));
	ld.cfg = cfg;
	ld.err = err != NULL && errlen > 0 ? err : dummy;
	ld.errlen = err != NULL && errlen > 0 ? errlen : sizeof(dummy);
	ld.err[0] = '\0';
	if (path == NULL)
		path = config_default_path();
	cfg->path = strdup(path);
	if (cfg->path == NULL) {
		snprintf(ld.err, ld.errlen, "%s: out of memory", path);
		goto out;
	}
	cfg->max_body = 1024 * 1024;
	cfg->auth = SF_AUTH_CLIENT_CREDENTIALS;
	cfg->timeout = 10;
	cfg->drain_seconds = 3;
	cfg->retention_days = 30;
	cfg->log_level = LOG_LEVEL_INFO;
	find_dir(&ld, path);
	if (open_config(&ld, path) == -1)
		goto out;
	rc = ini_parse_stream(read_line, &ld, on_key, &ld);
	if (ld.failed)
		goto out;
	if (rc != 0) {
		ld.line = rc;
		fail(&ld, NULL, NULL, "expected [section], key = value, a "
		    "comment or a blank line, got none of these");
		goto out;
	}
	check_required(&ld);
	if (ld.failed)
		goto out;
	if (fill_defaults(cfg) == -1) {
		fail(&ld, NULL, NULL, "out of memory");
		goto out;
	}
	result = 0;
out:
	if (ld.fp != NULL)
		fclose(ld.fp);
	if (result != 0) {
		if (!ld.failed && ld.err[0] == '\0')
			snprintf(ld.err, ld.errlen, "%s: cannot be loaded",
			    path);
		config_free(cfg);
	}
	return result;
}

const char *
config_default_path(void)
{
	const char *p;

	p = getenv("WC2SF_CONFIG");
	if (p != NULL && p[0] != '\0')
		return p;
	return CONFIG_DEFAULT_PATH;
}

void
config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->path);
	free_list(cfg->readable);
	free_secret(cfg->secret);
	free_list(cfg->sync_statuses);
	free(cfg->login_url);
	free(cfg->client_id);
	free_secret(cfg->client_secret);
	free(cfg->username);
	free_secret(cfg->password);
	free(cfg->private_key);
	free(cfg->audience);
	free_secret(cfg->refresh_token);
	free(cfg->api_version);
	free(cfg->ca_file);
	free(cfg->store_path);
	free(cfg->log_file);
	memset(cfg, 0, sizeof(*cfg));
}
