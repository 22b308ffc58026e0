/*
 * config.c: a valid file per sign-in flow, defaults, every kind of error
 * (each message must name the file, the line when known and the key),
 * file mode checks, and that no secret ever appears in a message.
 * Files are written under tests/tmp/ (gitignored).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

/* Lines 1-2. */
#define WC	"[woocommerce]\nsecret = s3cr3t\n"
/* Lines 3-6: a complete client_credentials setup. */
#define SF_CC	"[salesforce]\nclient_id = cid\nclient_secret = csecret\n" \
		"login_url = https://example.my.salesforce.com\n"
/* Lines 3-8: a complete password setup, without login_url. */
#define SF_PW	"[salesforce]\nauth = password\nclient_id = cid\n" \
		"client_secret = csecret\nusername = u@example.com\n" \
		"password = pw\n"

static char tmpdir[PATH_MAX];
static char conf_path[PATH_MAX + 16];
static char err[1024];
static struct config cfg;

static int
setup(void **state)
{
	char tmpl[] = "tests/tmp/config-XXXXXX";

	(void)state;
	if (mkdir("tests/tmp", 0755) == -1 && errno != EEXIST)
		return -1;
	if (mkdtemp(tmpl) == NULL || realpath(tmpl, tmpdir) == NULL)
		return -1;
	snprintf(conf_path, sizeof(conf_path), "%s/wc2sf.conf", tmpdir);
	return 0;
}

static int
teardown(void **state)
{
	char path[PATH_MAX + 300];
	struct dirent *de;
	DIR *d;

	(void)state;
	d = opendir(tmpdir);
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmpdir, de->d_name);
		if (unlink(path) == -1)
			rmdir(path);
	}
	closedir(d);
	return rmdir(tmpdir);
}

/* Write tmpdir/name with exactly mode; returns the path (4 kept). */
static const char *
put_bytes(const char *name, const void *data, size_t len, mode_t mode)
{
	static char paths[4][PATH_MAX + 64];
	static int next;
	char *path = paths[next++ % 4];
	FILE *f;

	snprintf(path, PATH_MAX + 64, "%s/%s", tmpdir, name);
	unlink(path);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static const char *
put(const char *name, const char *text, mode_t mode)
{
	return put_bytes(name, text, strlen(text), mode);
}

/* tmpdir/name, in a buffer the next call reuses. */
static const char *
sub_path(const char *name)
{
	static char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}

static int
load(const char *text)
{
	put("wc2sf.conf", text, 0600);
	memset(err, 'x', sizeof(err));
	err[sizeof(err) - 1] = '\0';
	return config_load(&cfg, conf_path, err, sizeof(err));
}

/*
 * The load fails; the message starts with the file's path, holds every
 * needle (NULL-ended), and the struct is left empty.
 */
static void
expect_error(const char *text, ...)
{
	const char *needle;
	va_list ap;

	if (load(text) != -1)
		fail_msg("loaded, expected an error:\n%s", text);
	if (strncmp(err, conf_path, strlen(conf_path)) != 0)
		fail_msg("error does not start with the path: %s", err);
	va_start(ap, text);
	while ((needle = va_arg(ap, const char *)) != NULL)
		if (strstr(err, needle) == NULL)
			fail_msg("error lacks \"%s\": %s", needle, err);
	va_end(ap);
	assert_null(cfg.path);
	assert_null(cfg.secret);
	assert_null(cfg.client_secret);
}

#define EXPECT_ERROR(text, ...) expect_error((text), __VA_ARGS__, NULL)

static void
expect_ok(const char *text)
{
	if (load(text) != 0)
		fail_msg("%s\nin:\n%s", err, text);
}

static void
test_client_credentials_defaults(void **state)
{
	static const char *const want[] = {
		"pending", "processing", "on-hold", "completed",
		"cancelled", "refunded", "failed"
	};
	size_t i;

	(void)state;
	expect_ok(WC SF_CC);
	assert_string_equal(cfg.path, conf_path);
	assert_string_equal(cfg.secret, "s3cr3t");
	assert_int_equal(cfg.max_body, 1048576);
	for (i = 0; i < 7; i++)
		assert_string_equal(cfg.sync_statuses[i], want[i]);
	assert_null(cfg.sync_statuses[7]);
	assert_int_equal(cfg.auth, SF_AUTH_CLIENT_CREDENTIALS);
	assert_string_equal(cfg.login_url,
	    "https://example.my.salesforce.com");
	assert_string_equal(cfg.client_id, "cid");
	assert_string_equal(cfg.client_secret, "csecret");
	assert_null(cfg.username);
	assert_null(cfg.password);
	assert_null(cfg.private_key);
	assert_null(cfg.audience);
	assert_null(cfg.refresh_token);
	assert_string_equal(cfg.api_version, "62.0");
	assert_null(cfg.ca_file);
	assert_int_equal(cfg.timeout, 10);
	assert_false(cfg.state_picklists);
	assert_string_equal(cfg.store_path, "/var/lib/wc2sf/wc2sf.db");
	assert_int_equal(cfg.drain_seconds, 3);
	assert_int_equal(cfg.retention_days, 30);
	assert_int_equal(cfg.log_level, LOG_LEVEL_INFO);
	assert_null(cfg.log_file);
	config_free(&cfg);
	assert_null(cfg.secret);
	config_free(&cfg);	/* twice is harmless */
}

static void
test_password_flow(void **state)
{
	(void)state;
	expect_ok(WC SF_PW);
	assert_int_equal(cfg.auth, SF_AUTH_PASSWORD);
	assert_string_equal(cfg.username, "u@example.com");
	assert_string_equal(cfg.password, "pw");
	assert_string_equal(cfg.client_secret, "csecret");
	/* The default host serves the password flow. */
	assert_string_equal(cfg.login_url, "https://login.salesforce.com");
	config_free(&cfg);
}

static void
test_jwt_flow(void **state)
{
	char want[PATH_MAX + 32];

	(void)state;
	put("jwt.key", "-----BEGIN PRIVATE KEY-----\n", 0600);
	expect_ok(WC "[salesforce]\nauth = jwt\nclient_id = cid\n"
	    "username = u@example.com\nprivate_key = jwt.key\n"
	    "audience = https://test.salesforce.com\n"
	    "login_url = https://test.salesforce.com/\n");
	assert_int_equal(cfg.auth, SF_AUTH_JWT);
	snprintf(want, sizeof(want), "%s/jwt.key", tmpdir);
	assert_string_equal(cfg.private_key, want);
	assert_string_equal(cfg.audience, "https://test.salesforce.com");
	assert_string_equal(cfg.login_url, "https://test.salesforce.com");
	assert_null(cfg.client_secret);
	config_free(&cfg);
}

static void
test_refresh_token_flow(void **state)
{
	(void)state;
	put("refresh", "5Aep861TSESvWeug_x\n", 0600);
	expect_ok(WC "[salesforce]\nauth = refresh_token\nclient_id = cid\n"
	    "refresh_token_file = refresh\n");
	assert_int_equal(cfg.auth, SF_AUTH_REFRESH_TOKEN);
	assert_string_equal(cfg.refresh_token, "5Aep861TSESvWeug_x");
	config_free(&cfg);
	expect_ok(WC "[salesforce]\nauth = refresh_token\nclient_id = cid\n"
	    "refresh_token = inline_token\nclient_secret = cs\n");
	assert_string_equal(cfg.refresh_token, "inline_token");
	config_free(&cfg);
}

/* Every key at a value other than its default. */
static void
test_all_keys(void **state)
{
	char text[PATH_MAX + 2048], want[PATH_MAX + 32];
	const char *ca;

	(void)state;
	put("pw", "hunter2-token\n", 0600);
	put("cs", "woo-secret", 0640);
	ca = put("ca.pem", "-----BEGIN CERTIFICATE-----\n", 0644);
	snprintf(text, sizeof(text),
	    "; a comment\n# another\n"
	    "[woocommerce]\n  secret_file = cs\n\tmax_body = 512K\n"
	    "sync_statuses = processing , completed,on-hold\n"
	    "[salesforce]\nauth=password\nlogin_url = HTTPS://x.my.sf.com//\n"
	    "client_id = cid ; trailing comment\nclient_secret = c\n"
	    "username = u\npassword_file = pw\napi_version = v61.0\n"
	    "ca_file = %s\ntimeout = 600\nstate_picklists = YES\n"
	    "[store]\npath = data/w.db\ndrain_seconds = 0\n"
	    "retention_days = 3650\n[log]\nlevel = debug\n"
	    "file = /var/log/wc2sf.log\n", ca);
	expect_ok(text);
	assert_string_equal(cfg.secret, "woo-secret");
	assert_int_equal(cfg.max_body, 512 * 1024);
	assert_string_equal(cfg.sync_statuses[0], "processing");
	assert_string_equal(cfg.sync_statuses[1], "completed");
	assert_string_equal(cfg.sync_statuses[2], "on-hold");
	assert_null(cfg.sync_statuses[3]);
	assert_int_equal(cfg.auth, SF_AUTH_PASSWORD);
	assert_string_equal(cfg.login_url, "HTTPS://x.my.sf.com");
	assert_string_equal(cfg.client_id, "cid");
	assert_string_equal(cfg.client_secret, "c");
	assert_string_equal(cfg.username, "u");
	assert_string_equal(cfg.password, "hunter2-token");
	assert_string_equal(cfg.api_version, "61.0");
	assert_string_equal(cfg.ca_file, ca);
	assert_int_equal(cfg.timeout, 600);
	assert_true(cfg.state_picklists);
	snprintf(want, sizeof(want), "%s/data/w.db", tmpdir);
	assert_string_equal(cfg.store_path, want);
	assert_int_equal(cfg.drain_seconds, 0);
	assert_int_equal(cfg.retention_days, 3650);
	assert_int_equal(cfg.log_level, LOG_LEVEL_DEBUG);
	assert_string_equal(cfg.log_file, "/var/log/wc2sf.log");
	config_free(&cfg);
}

static void
test_sizes(void **state)
{
	static const struct {
		const char *text;
		size_t want;
	} ok[] = {
		{ "1K", 1024 }, { "1k", 1024 }, { "1024", 1024 },
		{ "2M", 2097152 }, { "64M", 67108864 }, { "65536K", 67108864 },
		{ "67108864", 67108864 },
	};
	char text[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(text, sizeof(text), WC "max_body = %s\n" SF_CC,
		    ok[i].text);
		expect_ok(text);
		assert_int_equal(cfg.max_body, ok[i].want);
		config_free(&cfg);
	}
}

static void
test_secret_forms(void **state)
{
	(void)state;
	/* "secret =" is an empty secret, which WooCommerce can have. */
	expect_ok("[woocommerce]\nsecret =\n" SF_CC);
	assert_non_null(cfg.secret);
	assert_string_equal(cfg.secret, "");
	config_free(&cfg);
	/* Stored as WooCommerce shows it; decoding is signature.c's. */
	expect_ok("[woocommerce]\nsecret = a&amp;b\n" SF_CC);
	assert_string_equal(cfg.secret, "a&amp;b");
	config_free(&cfg);

	put("s", "abc\n", 0600);
	expect_ok("[woocommerce]\nsecret_file = s\n" SF_CC);
	assert_string_equal(cfg.secret, "abc");
	config_free(&cfg);
	put("s", "abc\r\n", 0600);
	expect_ok("[woocommerce]\nsecret_file = s\n" SF_CC);
	assert_string_equal(cfg.secret, "abc");
	config_free(&cfg);
	put("s", "abc\n\n", 0600);	/* only one newline goes */
	expect_ok("[woocommerce]\nsecret_file = s\n" SF_CC);
	assert_string_equal(cfg.secret, "abc\n");
	config_free(&cfg);
	put("s", " a b ;c", 0400);	/* kept as is, spaces and all */
	expect_ok("[woocommerce]\nsecret_file = s\n" SF_CC);
	assert_string_equal(cfg.secret, " a b ;c");
	config_free(&cfg);
	put("s", "", 0600);
	expect_ok("[woocommerce]\nsecret_file = s\n" SF_CC);
	assert_string_equal(cfg.secret, "");
	config_free(&cfg);
}

static void
test_missing_keys(void **state)
{
	(void)state;
	EXPECT_ERROR(SF_CC, "[woocommerce] secret", "secret_file",
	    "got neither");
	EXPECT_ERROR("[woocommerce]\n" SF_CC, "[woocommerce] secret");
	EXPECT_ERROR(WC "[salesforce]\nauth = password\nclient_id = c\n"
	    "client_secret = s\npassword = p\n",
	    "[salesforce] username", "auth = password");
	EXPECT_ERROR(WC "[salesforce]\nauth = password\nclient_id = c\n"
	    "client_secret = s\nusername = u\n",
	    "[salesforce] password", "password_file", "auth = password");
	EXPECT_ERROR(WC "[salesforce]\nclient_id = c\nclient_secret = s\n",
	    "[salesforce] login_url", "auth = client_credentials");
	EXPECT_ERROR(WC "[salesforce]\nclient_secret = s\n"
	    "login_url = https://x.my.salesforce.com\n",
	    "[salesforce] client_id");
	EXPECT_ERROR(WC "[salesforce]\nclient_id = c\n"
	    "login_url = https://x.my.salesforce.com\n",
	    "[salesforce] client_secret", "client_secret_file");
	EXPECT_ERROR(WC "[salesforce]\nauth = jwt\nclient_id = c\n"
	    "username = u\n", "[salesforce] private_key", "auth = jwt");
	EXPECT_ERROR(WC "[salesforce]\nauth = refresh_token\nclient_id = c\n",
	    "[salesforce] refresh_token", "refresh_token_file");
	EXPECT_ERROR(WC, "[salesforce] client_id");
	EXPECT_ERROR("", "[woocommerce] secret");
}

/*
 * Each bad value in SF_PW's file, on line 10: the message names the
 * file and line, the key, and shows what was found.
 */
static void
test_bad_values(void **state)
{
	static const struct {
		const char *section, *key, *value, *expected;
	} cases[] = {
		{ "woocommerce", "max_body", "lots", "1M" },
		{ "woocommerce", "max_body", "512", "1K to 64M" },
		{ "woocommerce", "max_body", "65M", "1K to 64M" },
		{ "woocommerce", "max_body", "1G", "1M" },
		{ "woocommerce", "max_body", "-1K", "1M" },
		{ "woocommerce", "max_body", "1 M", "1M" },
		{ "woocommerce", "max_body", "99999999999999M", "1M" },
		{ "woocommerce", "sync_statuses", "processing,,completed",
		    "order statuses" },
		{ "woocommerce", "sync_statuses", "wc-completed", "REST" },
		{ "woocommerce", "sync_statuses", "Processing", "REST" },
		{ "woocommerce", "sync_statuses", "processing,", "REST" },
		{ "woocommerce", "sync_statuses", "on hold", "REST" },
		{ "salesforce", "login_url", "http://login.salesforce.com",
		    "in clear" },
		{ "salesforce", "login_url", "HTTP://x", "in clear" },
		{ "salesforce", "login_url", "login.salesforce.com",
		    "https://" },
		{ "salesforce", "login_url", "https://", "https://" },
		{ "salesforce", "login_url", "https:///path", "https://" },
		{ "salesforce", "login_url", "https://a b", "https://" },
		{ "salesforce", "login_url", "https://x/?a=1", "https://" },
		{ "salesforce", "login_url", "ftp://x", "https://" },
		{ "salesforce", "api_version", "45.0", "46.0 or newer" },
		{ "salesforce", "api_version", "62", "62.0" },
		{ "salesforce", "api_version", "62.00", "62.0" },
		{ "salesforce", "api_version", "v", "62.0" },
		{ "salesforce", "api_version", "sixty", "62.0" },
		{ "salesforce", "timeout", "0", "from 1 to 600" },
		{ "salesforce", "timeout", "601", "from 1 to 600" },
		{ "salesforce", "timeout", "abc", "seconds" },
		{ "salesforce", "timeout", "1.5", "seconds" },
		{ "salesforce", "timeout", "-5", "seconds" },
		{ "salesforce", "timeout", "30s", "seconds" },
		{ "salesforce", "state_picklists", "maybe", "yes or no" },
		{ "salesforce", "audience", "", "got nothing" },
		{ "store", "drain_seconds", "61", "from 0 to 60" },
		{ "store", "retention_days", "0", "days from 1 to 3650" },
		{ "store", "retention_days", "99999999999999999999", "days" },
		{ "store", "path", "", "got nothing" },
		{ "log", "level", "verbose", "error, warn, info and debug" },
		{ "log", "level", "INFO", "error, warn, info and debug" },
	};
	char text[512], key[128], got[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), WC SF_PW "[%s]\n%s = %s\n",
		    cases[i].section, cases[i].key, cases[i].value);
		snprintf(key, sizeof(key), ":10: [%s] %s: ",
		    cases[i].section, cases[i].key);
		snprintf(got, sizeof(got), "\"%s\"", cases[i].value);
		EXPECT_ERROR(text, key, cases[i].expected,
		    cases[i].value[0] != '\0' ? got : "");
	}
	EXPECT_ERROR(WC "[salesforce]\nauth = oauth\n",
	    ":4: [salesforce] auth: ", "\"oauth\"", "client_credentials");
	EXPECT_ERROR(WC "[salesforce]\nauth = JWT\n",
	    ":4: [salesforce] auth: ", "\"JWT\"");
	EXPECT_ERROR(WC "[salesforce]\nclient_id =\n",
	    ":4: [salesforce] client_id: ", "got nothing");
}

static void
test_unknown_and_duplicate(void **state)
{
	(void)state;
	EXPECT_ERROR(WC SF_CC "[store]\npth = x\n",
	    ":8: [store] pth: ", "unknown key", "path, drain_seconds and "
	    "retention_days");
	EXPECT_ERROR("[woocommerce]\nSecret = x\n" SF_CC,
	    ":2: [woocommerce] Secret: ", "unknown key",
	    "secret, secret_file, max_body and sync_statuses");
	EXPECT_ERROR(WC SF_CC "[salesforse]\nclient_id = x\n",
	    ":7: ", "unknown section [salesforse]", "[salesforce]");
	/* A section with no key below it is still refused. */
	EXPECT_ERROR(WC SF_CC "[extra]\n", ":7: ", "unknown section [extra]");
	EXPECT_ERROR(WC SF_CC "[ store ]\n", ":7: ",
	    "unknown section [ store ]");
	EXPECT_ERROR("secret = x\n" WC SF_CC, ":1: ", "key secret",
	    "before any [section]");
	EXPECT_ERROR(WC SF_CC "client_id = again\n",
	    ":7: [salesforce] client_id: ", "got it again", "line 4");
	EXPECT_ERROR(WC "[woocommerce]\nsecret = two\n" SF_CC,
	    ":4: [woocommerce] secret: ", "got it again", "line 2");
	/* The same key in a section opened twice is still a duplicate. */
	EXPECT_ERROR(WC SF_CC "[store]\n[salesforce]\ntimeout = 3\n"
	    "[store]\n[salesforce]\ntimeout = 4\n",
	    ":12: [salesforce] timeout: ", "line 9");
	put("s", "abc", 0600);
	EXPECT_ERROR(WC "secret_file = s\n" SF_CC,
	    ":3: [woocommerce] secret_file: ", "either secret or "
	    "secret_file", "secret on line 2");
	put("p", "abc", 0600);
	EXPECT_ERROR(WC SF_PW "password_file = p\n",
	    ":9: [salesforce] password_file: ", "got both");
}

static void
test_syntax(void **state)
{
	char text[1024], line[300];

	(void)state;
	EXPECT_ERROR(WC "this is not ini\n" SF_CC, ":3: ",
	    "expected [section], key = value");
	EXPECT_ERROR(WC "[salesforce\n" SF_CC, ":3: ");
	memset(line, 'a', 250);
	line[250] = '\0';
	snprintf(text, sizeof(text), WC SF_CC "client_secret_x = %s\n",
	    line);
	EXPECT_ERROR(text, ":7: ", "at most 197 characters", "*_file");
	/* 197 characters fit, one more does not. */
	memset(line, 'a', 197 - 15);
	line[197 - 15] = '\0';
	snprintf(text, sizeof(text), WC SF_PW "username_x_y = %s\n", line);
	assert_int_equal(strlen(strrchr(text, 'u')) - 1, 197);
	EXPECT_ERROR(text, ":9: [salesforce] username_x_y: ", "unknown");
	snprintf(text, sizeof(text), WC SF_PW "username_x_yz = %s\n", line);
	EXPECT_ERROR(text, ":9: ", "at most 197");
	/* Indented keys are keys, not continuations of the line above. */
	expect_ok("\xef\xbb\xbf[woocommerce]\n    secret = a\n"
	    "\t[salesforce]\n  client_id = c\n    client_secret = s\n"
	    "  login_url = https://x.my.salesforce.com\n");
	assert_string_equal(cfg.secret, "a");
	assert_string_equal(cfg.client_id, "c");
	config_free(&cfg);
	/* CRLF files and "key: value" are read the same. */
	expect_ok("[woocommerce]\r\nsecret: a\r\n[salesforce]\r\n"
	    "client_id=c\r\nclient_secret = s\r\n"
	    "login_url = https://x.my.salesforce.com\r\n");
	assert_string_equal(cfg.client_id, "c");
	config_free(&cfg);
}

static void
test_file_modes(void **state)
{
	char text[PATH_MAX + 1024], big[64 * 1024 + 8];

	(void)state;
	put("wc2sf.conf", WC SF_CC, 0620);
	assert_int_equal(config_load(&cfg, conf_path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, conf_path));
	assert_non_null(strstr(err, "mode 0620"));
	assert_non_null(strstr(err, "chmod go-w"));
	put("wc2sf.conf", WC SF_CC, 0602);
	assert_int_equal(config_load(&cfg, conf_path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "mode 0602"));
	put("wc2sf.conf", WC SF_CC, 0640);
	assert_int_equal(config_load(&cfg, conf_path, err, sizeof(err)), 0);
	config_free(&cfg);

	put("s", "abc", 0620);
	EXPECT_ERROR("[woocommerce]\nsecret_file = s\n" SF_CC,
	    ":2: [woocommerce] secret_file: ", "mode 0620");
	put("s", "abc", 0606);
	EXPECT_ERROR("[woocommerce]\nsecret_file = s\n" SF_CC,
	    ":2: [woocommerce] secret_file: ", "mode 0606");
	EXPECT_ERROR("[woocommerce]\nsecret_file = nowhere\n" SF_CC,
	    ":2: [woocommerce] secret_file: ", "cannot open", "/nowhere");
	EXPECT_ERROR("[woocommerce]\nsecret_file = .\n" SF_CC,
	    ":2: [woocommerce] secret_file: ", "regular file");
	memset(big, 'a', sizeof(big));
	put_bytes("s", big, 64 * 1024 + 1, 0600);
	EXPECT_ERROR("[woocommerce]\nsecret_file = s\n" SF_CC,
	    "[woocommerce] secret_file: ", "at most 65536 bytes");
	put_bytes("s", big, 64 * 1024, 0600);
	expect_ok("[woocommerce]\nsecret_file = s\n" SF_CC);
	assert_int_equal(strlen(cfg.secret), 64 * 1024);
	config_free(&cfg);
	put_bytes("s", "ab\0c", 4, 0600);
	EXPECT_ERROR("[woocommerce]\nsecret_file = s\n" SF_CC,
	    "[woocommerce] secret_file: ", "NUL");
	put("p", "\n", 0600);
	EXPECT_ERROR(WC "[salesforce]\nauth = password\nclient_id = c\n"
	    "client_secret = s\nusername = u\npassword_file = p\n",
	    ":8: [salesforce] password_file: ", "empty");

	put("k.pem", "key", 0660);
	EXPECT_ERROR(WC "[salesforce]\nauth = jwt\nclient_id = c\n"
	    "username = u\nprivate_key = k.pem\n",
	    ":7: [salesforce] private_key: ", "mode 0660");
	EXPECT_ERROR(WC "[salesforce]\nauth = jwt\nclient_id = c\n"
	    "username = u\nprivate_key = missing.pem\n",
	    ":7: [salesforce] private_key: ", "cannot open");
	EXPECT_ERROR(WC SF_CC "ca_file = /nonexistent/ca.pem\n",
	    ":7: [salesforce] ca_file: ", "/nonexistent/ca.pem");
	put("ca.pem", "ca", 0666);
	snprintf(text, sizeof(text), WC SF_CC "ca_file = %s/ca.pem\n",
	    tmpdir);
	EXPECT_ERROR(text, ":7: [salesforce] ca_file: ", "mode 0666");

	/* A folder anyone can write: anyone can swap the file. */
	put("s", "abc", 0600);
	assert_int_equal(chmod(tmpdir, 0777), 0);
	put("wc2sf.conf", WC SF_CC, 0600);
	assert_int_equal(config_load(&cfg, conf_path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "in a folder others cannot write"));
	assert_non_null(strstr(err, "mode 0777"));
	assert_non_null(strstr(err, "chmod o-w"));
	/* sticky, as /tmp: only the file's owner may replace it */
	assert_int_equal(chmod(tmpdir, 01777), 0);
	assert_int_equal(config_load(&cfg, conf_path, err, sizeof(err)), 0);
	config_free(&cfg);
	assert_int_equal(chmod(tmpdir, 0775), 0);
	assert_int_equal(config_load(&cfg, conf_path, err, sizeof(err)), 0);
	config_free(&cfg);
	/* a secret_file's folder the same */
	assert_int_equal(mkdir(sub_path("open"), 0777), 0);
	assert_int_equal(chmod(sub_path("open"), 0777), 0);
	put("open/s", "abc", 0600);
	EXPECT_ERROR("[woocommerce]\nsecret_file = open/s\n" SF_CC,
	    ":2: [woocommerce] secret_file: ", "folder others cannot write");
	assert_int_equal(unlink(sub_path("open/s")), 0);
	assert_int_equal(rmdir(sub_path("open")), 0);
	assert_int_equal(chmod(tmpdir, 0700), 0);
}

/* Values of secret keys never reach a message, whatever went wrong. */
static void
test_secrets_not_echoed(void **state)
{
	static const char *const texts[] = {
		"[woocommerce]\nsecret = TopSecret1\nsecret = TopSecret1\n",
		"[woocommerce]\nsecert = TopSecret1\n",
		"[woocommerce]\nsecret = TopSecret1\n[salesforce]\n"
		    "client_secret = TopSecret1\nclient_secret = TopSecret1\n",
		WC "[salesforce]\npassword = TopSecret1\n"
		    "password_file = TopSecret1\n",
		WC "[salesforce]\nrefresh_token = TopSecret1\n"
		    "refresh_token = TopSecret1\n",
		WC "[salesforce]\npasword = TopSecret1\n",
		"TopSecret1\n",
		"TopSecret1 = x\n",
		"[woocommerce]\nsecret = TopSecret1\n[TopSecret1]\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		EXPECT_ERROR(texts[i], conf_path);
		if (strstr(err, "TopSecret1") != NULL &&
		    strstr(texts[i], "[TopSecret1]") == NULL &&
		    strstr(texts[i], "TopSecret1 =") == NULL)
			fail_msg("secret shown: %s", err);
	}
}

static void
test_missing_file(void **state)
{
	char path[PATH_MAX + 32];

	(void)state;
	snprintf(path, sizeof(path), "%s/none.conf", tmpdir);
	assert_int_equal(config_load(&cfg, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "cannot open"));
	assert_null(cfg.path);
	/* A small or missing buffer is not a crash. */
	assert_int_equal(config_load(&cfg, path, err, 8), -1);
	assert_int_equal(strlen(err), 7);
	assert_int_equal(config_load(&cfg, path, NULL, 0), -1);
	assert_int_equal(config_load(&cfg, tmpdir, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "regular file"));
}

static void
test_default_path(void **state)
{
	(void)state;
	assert_int_equal(unsetenv("WC2SF_CONFIG"), 0);
	assert_string_equal(config_default_path(), CONFIG_DEFAULT_PATH);
	assert_string_equal(config_default_path(), "/etc/wc2sf/wc2sf.conf");
	assert_int_equal(setenv("WC2SF_CONFIG", "/tmp/x.conf", 1), 0);
	assert_string_equal(config_default_path(), "/tmp/x.conf");
	assert_int_equal(setenv("WC2SF_CONFIG", "", 1), 0);
	assert_string_equal(config_default_path(), CONFIG_DEFAULT_PATH);
	assert_int_equal(setenv("WC2SF_CONFIG", conf_path, 1), 0);
	put("wc2sf.conf", WC SF_CC, 0600);
	assert_int_equal(config_load(&cfg, NULL, err, sizeof(err)), 0);
	assert_string_equal(cfg.path, conf_path);
	config_free(&cfg);
	unsetenv("WC2SF_CONFIG");
}

/*
 * wc2sf.conf.sample (repo root) shows every key under its section, loads
 * as shipped with only the secret missing, and the defaults it states are
 * the real ones: uncommenting them changes nothing.
 */
static void
test_sample(void **state)
{
	static const char *const all[][2] = {
		{ "woocommerce", "secret" }, { "woocommerce", "secret_file" },
		{ "woocommerce", "max_body" },
		{ "woocommerce", "sync_statuses" },
		{ "salesforce", "auth" }, { "salesforce", "login_url" },
		{ "salesforce", "client_id" },
		{ "salesforce", "client_secret" },
		{ "salesforce", "client_secret_file" },
		{ "salesforce", "client_auth" },
		{ "salesforce", "username" }, { "salesforce", "password" },
		{ "salesforce", "password_file" },
		{ "salesforce", "private_key" }, { "salesforce", "audience" },
		{ "salesforce", "refresh_token" },
		{ "salesforce", "refresh_token_file" },
		{ "salesforce", "api_version" }, { "salesforce", "ca_file" },
		{ "salesforce", "timeout" },
		{ "salesforce", "state_picklists" }, { "store", "path" },
		{ "store", "drain_seconds" }, { "store", "retention_days" },
		{ "log", "level" }, { "log", "file" },
	};
	static const char *const uncomment[] = {
		"secret", "max_body", "sync_statuses", "auth", "login_url",
		"client_id", "client_secret", "client_auth", "api_version",
		"timeout",
		"state_picklists", "path", "drain_seconds", "retention_days",
		"level",
	};
	char *sample, *edited, *line, *next, section[64], *o;
	size_t i, j, len, klen;
	bool found;
	FILE *f;

	(void)state;
	f = fopen("wc2sf.conf.sample", "r");
	assert_non_null(f);
	sample = calloc(1, 65536);
	edited = calloc(1, 65536);
	assert_non_null(sample);
	assert_non_null(edited);
	len = fread(sample, 1, 65535, f);
	fclose(f);
	assert_true(len > 0 && len < 65535);

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		found = false;
		section[0] = '\0';
		klen = strlen(all[i][1]);
		for (line = sample; *line != '\0'; line += strcspn(line,
		    "\n") + (line[strcspn(line, "\n")] != '\0')) {
			if (line[0] == '[')
				sscanf(line, "[%63[^]]", section);
			if (strcmp(section, all[i][0]) == 0 &&
			    strncmp(line, "# ", 2) == 0 &&
			    strncmp(line + 2, all[i][1], klen) == 0 &&
			    strncmp(line + 2 + klen, " = ", 3) == 0)
				found = true;
		}
		if (!found)
			fail_msg("the sample does not show [%s] %s",
			    all[i][0], all[i][1]);
	}

	put("wc2sf.conf", sample, 0600);
	assert_int_equal(config_load(&cfg, conf_path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "[woocommerce] secret: "));
	assert_null(strchr(err, '\n'));

	o = edited;
	for (line = sample; *line != '\0'; line = next) {
		next = line + strcspn(line, "\n");
		if (*next == '\n')
			next++;
		for (j = 0; j < sizeof(uncomment) / sizeof(uncomment[0]);
		    j++) {
			klen = strlen(uncomment[j]);
			if (strncmp(line, "# ", 2) == 0 &&
			    strncmp(line + 2, uncomment[j], klen) == 0 &&
			    strncmp(line + 2 + klen, " = ", 3) == 0) {
				line += 2;
				break;
			}
		}
		memcpy(o, line, (size_t)(next - line));
		o += next - line;
	}
	*o = '\0';
	expect_ok(edited);
	assert_string_equal(cfg.secret, "replace-with-the-webhook-secret");
	assert_string_equal(cfg.login_url,
	    "https://example.my.salesforce.com");
	assert_int_equal(cfg.auth, SF_AUTH_CLIENT_CREDENTIALS);
	assert_int_equal(cfg.max_body, 1048576);
	for (i = 0; cfg.sync_statuses[i] != NULL; i++)
		;
	assert_int_equal(i, 7);
	assert_string_equal(cfg.sync_statuses[6], "failed");
	assert_string_equal(cfg.api_version, "62.0");
	assert_int_equal(cfg.timeout, 10);
	assert_false(cfg.state_picklists);
	assert_string_equal(cfg.store_path, "/var/lib/wc2sf/wc2sf.db");
	assert_int_equal(cfg.drain_seconds, 3);
	assert_int_equal(cfg.retention_days, 30);
	assert_int_equal(cfg.log_level, LOG_LEVEL_INFO);
	config_free(&cfg);
	free(sample);
	free(edited);
}

/* client_auth: body (the default) or basic, nothing else. */
static void
test_client_auth(void **state)
{
	(void)state;
	expect_ok(WC SF_CC);
	assert_false(cfg.client_basic);
	config_free(&cfg);
	expect_ok(WC SF_CC "client_auth = basic\n");
	assert_true(cfg.client_basic);
	config_free(&cfg);
	expect_ok(WC SF_CC "client_auth = body\n");
	assert_false(cfg.client_basic);
	config_free(&cfg);
	EXPECT_ERROR(WC SF_CC "client_auth = header\n",
	    ":7: [salesforce] client_auth: ", "expected body or basic",
	    "\"header\"");
	EXPECT_ERROR(WC SF_CC "client_auth = basic\nclient_auth = body\n",
	    ":8: [salesforce] client_auth: ", "expected once");
}

/* Runs last: it sends the log to a file to read the warning back. */
static void
test_readable_warning(void **state)
{
	char logpath[PATH_MAX + 32], text[4096];
	size_t n;
	FILE *f;

	(void)state;
	snprintf(logpath, sizeof(logpath), "%s/log", tmpdir);
	assert_int_equal(log_open(logpath), 0);
	log_init("test_config", LOG_LEVEL_WARN);
	put("s", "abc", 0644);
	put("wc2sf.conf", "[woocommerce]\nsecret_file = s\n" SF_CC, 0600);
	assert_int_equal(config_load(&cfg, conf_path, err, sizeof(err)), 0);
	config_free(&cfg);
	put("wc2sf.conf", WC SF_CC, 0604);
	assert_int_equal(config_load(&cfg, conf_path, err, sizeof(err)), 0);
	/* `wc2sf check` gets the same files as a list. */
	assert_non_null(cfg.readable);
	assert_non_null(strstr(cfg.readable[0], "/wc2sf.conf"));
	assert_null(cfg.readable[1]);
	config_free(&cfg);
	put("wc2sf.conf", "[woocommerce]\nsecret_file = s\n" SF_CC, 0604);
	assert_int_equal(config_load(&cfg, conf_path, err, sizeof(err)), 0);
	assert_non_null(strstr(cfg.readable[0], "/wc2sf.conf"));
	assert_non_null(strstr(cfg.readable[1], "/s"));
	assert_null(cfg.readable[2]);
	config_free(&cfg);
	put("s", "abc", 0600);
	put("wc2sf.conf", "[woocommerce]\nsecret_file = s\n" SF_CC, 0600);
	assert_int_equal(config_load(&cfg, conf_path, err, sizeof(err)), 0);
	assert_null(cfg.readable);
	config_free(&cfg);
	f = fopen(logpath, "r");
	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	assert_non_null(strstr(text, "event=config_file_readable"));
	assert_non_null(strstr(text, "/s mode=0644"));
	assert_non_null(strstr(text, "/wc2sf.conf mode=0604"));
	assert_null(strstr(text, "abc"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client_credentials_defaults),
		cmocka_unit_test(test_password_flow),
		cmocka_unit_test(test_jwt_flow),
		cmocka_unit_test(test_refresh_token_flow),
		cmocka_unit_test(test_all_keys),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_secret_forms),
		cmocka_unit_test(test_missing_keys),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_unknown_and_duplicate),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_file_modes),
		cmocka_unit_test(test_secrets_not_echoed),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_default_path),
		cmocka_unit_test(test_sample),
		cmocka_unit_test(test_client_auth),
		cmocka_unit_test(test_readable_warning),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
