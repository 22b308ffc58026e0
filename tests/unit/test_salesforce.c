/*
 * The Salesforce session (lib/salesforce.c) against the fake Salesforce
 * of tests/fake_sf over real HTTPS with the test CA: sign-in flows,
 * upserts, update-only and delete steps, the price book lookup, a 401
 * renewed once, 503 HTML, the token store hook, and tokens shared
 * through the journal (lib/tokens.c): one sign-in for several sessions
 * and processes, one renewal after a 401, rotated refresh tokens kept,
 * the sign-in lock waited for with a deadline, client_auth = basic.
 *
 * The group setup makes a CA with tests/tls/mkca.sh and starts the fake
 * on a free port; when python3, the fake or the script is missing every
 * test is skipped with the reason printed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <json-c/json.h>

#include "config.h"
#include "journal.h"
#include "log.h"
#include "salesforce.h"
#include "tokens.h"

#define FAKE_SCRIPT	"tests/fake_sf/fake_sf.py"
#define MKCA_SCRIPT	"tests/tls/mkca.sh"
#define READY_PREFIX	"fake_sf ready on "
/* The refresh token the fake starts with; "/" and "=" need encoding. */
#define TEST_REFRESH	"5Aep861wc2sf.Test/Refresh=="

static struct {
	char skip[400];		/* why the tests cannot run; "" if they can */
	char dir[256];		/* tests/tmp/sf-<pid> */
	char url[128];		/* https://127.0.0.1:PORT */
	char ca[300];
	char key[300];
	pid_t pid;
	int out;		/* its stdout, read end; kept open */
} fake = { .out = -1 };

static long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool
have_python(void)
{
	return system("command -v python3 >/dev/null 2>&1") == 0;
}

/*
 * Start the fake with its stdout on a pipe and wait (bounded) for its
 * ready line. It runs in its own process group so teardown can end it
 * and anything it started, and gets SIGTERM should this test die first.
 * The pipe stays open so a later line cannot break the fake.
 */
static bool
start_fake(void)
{
	char cert[300], skey[300], jwt[300], log[300], line[512];
	size_t o = 0;
	long deadline;
	pid_t parent = getpid();
	int fds[2], fd;
	struct pollfd pfd;
	ssize_t n;
	char *p;

	snprintf(cert, sizeof(cert), "%s/server.pem", fake.dir);
	snprintf(skey, sizeof(skey), "%s/server.key", fake.dir);
	snprintf(jwt, sizeof(jwt), "%s/jwt.pem", fake.dir);
	snprintf(log, sizeof(log), "%s/fake.log", fake.dir);
	if (pipe(fds) != 0)
		return false;
	if ((fake.pid = fork()) < 0)
		return false;
	if (fake.pid == 0) {
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(1);
		dup2(fds[1], 1);
		if ((fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0)
			dup2(fd, 2);
		close(fds[0]);
		execlp("python3", "python3", FAKE_SCRIPT, "--port", "0",
		    "--cert", cert, "--key", skey, "--jwt-cert", jwt,
		    "--refresh-token", TEST_REFRESH, (char *)NULL);
		_exit(127);
	}
	setpgid(fake.pid, fake.pid);
	close(fds[1]);
	fake.out = fds[0];
	deadline = mono_ms() + 30000;
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	while (o < sizeof(line) - 1 && mono_ms() < deadline) {
		if (poll(&pfd, 1, (int)(deadline - mono_ms())) <= 0)
			break;
		if ((n = read(fds[0], line + o, sizeof(line) - 1 - o)) <= 0)
			break;
		o += (size_t)n;
		line[o] = '\0';
		if ((p = strstr(line, READY_PREFIX)) != NULL &&
		    strchr(p, '\n') != NULL) {
			p += strlen(READY_PREFIX);
			p[strcspn(p, "\r\n")] = '\0';
			snprintf(fake.url, sizeof(fake.url), "%s", p);
			break;
		}
	}
	return fake.url[0] != '\0';
}

static void
stop_fake(void)
{
	long deadline;
	int status;

	if (fake.pid <= 0)
		return;
	kill(-fake.pid, SIGTERM);
	if (fake.out >= 0)
		close(fake.out);
	fake.out = -1;
	deadline = mono_ms() + 5000;
	while (waitpid(fake.pid, &status, WNOHANG) == 0) {
		if (mono_ms() > deadline) {
			kill(-fake.pid, SIGKILL);
			waitpid(fake.pid, &status, 0);
			break;
		}
		poll(NULL, 0, 20);
	}
	fake.pid = 0;
}

static int
setup_fake(void **state)
{
	char cmd[600];

	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (!have_python()) {
		snprintf(fake.skip, sizeof(fake.skip), "python3 not found");
		return 0;
	}
	if (access(FAKE_SCRIPT, R_OK) != 0 || access(MKCA_SCRIPT,
	    R_OK) != 0) {
		snprintf(fake.skip, sizeof(fake.skip), "%s or %s missing "
		    "(run from the repository root)", FAKE_SCRIPT,
		    MKCA_SCRIPT);
		return 0;
	}
	mkdir("tests/tmp", 0700);
	snprintf(fake.dir, sizeof(fake.dir), "tests/tmp/sf-%ld",
	    (long)getpid());
	snprintf(cmd, sizeof(cmd), "sh %s %s >/dev/null", MKCA_SCRIPT,
	    fake.dir);
	if (system(cmd) != 0) {
		snprintf(fake.skip, sizeof(fake.skip), "%s failed",
		    MKCA_SCRIPT);
		return 0;
	}
	snprintf(fake.ca, sizeof(fake.ca), "%s/ca.pem", fake.dir);
	snprintf(fake.key, sizeof(fake.key), "%s/jwt.key", fake.dir);
	if (!start_fake()) {
		stop_fake();
		snprintf(fake.skip, sizeof(fake.skip), "the fake did not "
		    "start; see %s/fake.log", fake.dir);
	}
	return 0;
}

static int
teardown_fake(void **state)
{
	char cmd[300];

	stop_fake();
	if (fake.dir[0] != '\0' && fake.skip[0] == '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fake.dir);
		if (system(cmd) != 0)
			print_message("could not remove %s\n", fake.dir);
	}
	curl_global_cleanup();
	return 0;
}

#define NEED_FAKE() do {						\
		if (fake.skip[0] != '\0') {				\
			print_message("skipped: %s\n", fake.skip);	\
			skip();						\
		}							\
	} while (0)

/* The control API of the fake. */

struct body {
	char *data;
	size_t len;
};

static size_t
collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct body *b = userdata;
	char *p = realloc(b->data, b->len + size * nmemb + 1);

	if (p == NULL)
		return 0;
	b->data = p;
	memcpy(b->data + b->len, ptr, size * nmemb);
	b->len += size * nmemb;
	b->data[b->len] = '\0';
	return size * nmemb;
}

static struct json_object *
control(const char *path, const char *post)
{
	struct body b = { NULL, 0 };
	struct json_object *o;
	char url[256];
	CURL *c;
	long status = 0;

	snprintf(url, sizeof(url), "%s%s", fake.url, path);
	c = curl_easy_init();
	assert_non_null(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CAINFO, fake.ca);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	if (post != NULL)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	assert_int_equal(status, 200);
	o = b.len > 0 ? json_tokener_parse(b.data) : NULL;
	free(b.data);
	return o;
}

static void
fake_reset(void)
{
	json_object_put(control("/__fake/reset", "{}"));
}

static void
fake_knobs(const char *json)
{
	json_object_put(control("/__fake/knobs", json));
}

static const char *
str_of(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return NULL;
	return json_object_get_string(v);
}

/* The live records of type whose field equals value. */
static struct json_object *
fake_record(const char *type, const char *field, const char *value)
{
	struct json_object *all, *r, *found = NULL;
	char path[128];
	const char *s;
	size_t i;

	snprintf(path, sizeof(path), "/__fake/records/%s", type);
	all = control(path, NULL);
	assert_non_null(all);
	for (i = 0; i < json_object_array_length(all); i++) {
		r = json_object_array_get_idx(all, i);
		s = str_of(r, field);
		if (s != NULL && strcmp(s, value) == 0 && found == NULL)
			found = json_object_get(r);
	}
	json_object_put(all);
	return found;
}

static size_t
fake_count(const char *type)
{
	struct json_object *all;
	char path[128];
	size_t n;

	snprintf(path, sizeof(path), "/__fake/records/%s", type);
	all = control(path, NULL);
	n = json_object_array_length(all);
	json_object_put(all);
	return n;
}

static long
fake_stat(const char *key)
{
	struct json_object *stats = control("/__fake/stats", NULL), *v;
	long n = -1;

	if (json_object_object_get_ex(stats, key, &v))
		n = (long)json_object_get_int64(v);
	json_object_put(stats);
	return n;
}

/* "POST /services/oauth2/token 200, POST /.../composite 401, ..." */
static void
fake_requests(char *buf, size_t size)
{
	struct json_object *all = control("/__fake/requests", NULL), *r;
	size_t i, o = 0;
	struct json_object *st;

	buf[0] = '\0';
	for (i = 0; i < json_object_array_length(all) && o < size; i++) {
		r = json_object_array_get_idx(all, i);
		if (str_of(r, "kind") != NULL &&
		    strcmp(str_of(r, "kind"), "fake") == 0)
			continue;
		json_object_object_get_ex(r, "status", &st);
		o += (size_t)snprintf(buf + o, size - o, "%s%s %s %d",
		    o > 0 ? ", " : "", str_of(r, "method"), str_of(r, "path"),
		    json_object_get_int(st));
	}
	json_object_put(all);
}

/* Sessions and plans. */

static void
config_for(struct config *cfg, enum sf_auth auth)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->auth = auth;
	cfg->login_url = fake.url;
	cfg->client_id = (char *)(uintptr_t)"wc2sf-test-client";
	cfg->client_secret = (char *)(uintptr_t)"test-client-secret-9f8e7d";
	cfg->username = (char *)(uintptr_t)"integration@example.test";
	cfg->password = (char *)(uintptr_t)"test-password-1a2b3cSECTOKEN";
	cfg->private_key = fake.key;
	cfg->api_version = (char *)(uintptr_t)"62.0";
	cfg->ca_file = fake.ca;
	cfg->timeout = 10;
}

static struct sf_session *
open_session(const struct config *cfg)
{
	struct sf_session *sf;
	char err[256];

	sf = sf_open(cfg, err, sizeof(err));
	if (sf == NULL)
		fail_msg("sf_open: %s", err);
	return sf;
}

static void
plan_add(struct map_plan *plan, enum map_op op, const char *sobject,
    const char *ext_field, const char *records)
{
	struct map_step *s = &plan->steps[plan->n++];

	s->op = op;
	s->sobject = sobject;
	s->ext_field = ext_field;
	s->records = json_tokener_parse(records);
	assert_non_null(s->records);
}

static void
plan_clear(struct map_plan *plan)
{
	size_t i;

	for (i = 0; i < plan->n; i++)
		json_object_put(plan->steps[i].records);
	memset(plan, 0, sizeof(*plan));
}

static void
customer_plan(struct map_plan *plan, const char *key, const char *last)
{
	char rec[512];

	snprintf(rec, sizeof(rec), "[{\"WC_Customer_Id__c\":\"%s\","
	    "\"Name\":\"Jane %s\",\"BillingCity\":\"Berlin\"}]", key, last);
	plan_add(plan, MAP_UPSERT, "Account", "WC_Customer_Id__c", rec);
	snprintf(rec, sizeof(rec), "[{\"WC_Customer_Id__c\":\"%s\","
	    "\"FirstName\":\"Jane\",\"LastName\":\"%s\",\"Email\":"
	    "\"jane@example.test\",\"Account\":{\"WC_Customer_Id__c\":"
	    "\"%s\"}}]", key, last, key);
	plan_add(plan, MAP_UPSERT, "Contact", "WC_Customer_Id__c", rec);
}

static const char *
first_id(const struct sf_outcome *out, const char *type)
{
	struct json_object *list;

	if (out->ids == NULL ||
	    !json_object_object_get_ex(out->ids, type, &list) ||
	    json_object_array_length(list) == 0)
		return NULL;
	return json_object_get_string(json_object_array_get_idx(list, 0));
}

static void
expect_ok(enum wc2sf_result result, const struct sf_outcome *out)
{
	if (result != WC2SF_OK)
		fail_msg("%s: %s %s", wc2sf_result_name(result), out->code,
		    out->message);
}

static void
test_sign_in_flows(void **state)
{
	static const enum sf_auth flows[] = { SF_AUTH_PASSWORD,
	    SF_AUTH_CLIENT_CREDENTIALS, SF_AUTH_JWT };
	struct sf_outcome out = { 0 };
	struct sf_session *sf;
	struct config cfg;
	size_t i;

	NEED_FAKE();
	fake_reset();
	for (i = 0; i < sizeof(flows) / sizeof(flows[0]); i++) {
		config_for(&cfg, flows[i]);
		sf = open_session(&cfg);
		expect_ok(sf_login(sf, &out), &out);
		assert_int_equal(out.requests, 1);
		assert_int_equal(out.token_requests, 1);
		assert_int_equal(out.http_status, 200);
		assert_string_equal(out.message, "");
		sf_outcome_clear(&out);
		sf_close(sf);
	}
	assert_int_equal(fake_stat("token_requests"), 3);

	/* Wrong password: a person must act; no secret in the words. */
	config_for(&cfg, SF_AUTH_PASSWORD);
	cfg.password = (char *)(uintptr_t)"wrong-pass-XYZ";
	sf = open_session(&cfg);
	assert_int_equal(sf_login(sf, &out), WC2SF_SF_AUTH);
	assert_string_equal(out.code, "invalid_grant");
	assert_non_null(strstr(out.message, "security token"));
	assert_null(strstr(out.message, "wrong-pass-XYZ"));
	sf_outcome_clear(&out);
	sf_close(sf);

	/* A network failure is only unavailable. */
	config_for(&cfg, SF_AUTH_CLIENT_CREDENTIALS);
	cfg.login_url = (char *)(uintptr_t)"https://127.0.0.1:1";
	sf = open_session(&cfg);
	assert_int_equal(sf_login(sf, &out), WC2SF_SF_UNAVAILABLE);
	assert_int_equal(out.http_status, 0);
	sf_outcome_clear(&out);
	sf_close(sf);
}

static void
test_upsert_account_contact(void **state)
{
	struct sf_outcome out = { 0 };
	struct map_plan plan = { 0 };
	struct json_object *acct, *contact;
	struct sf_session *sf;
	struct config cfg;
	char account_id[32], seen[1024];
	long used = -1, max = -1;

	NEED_FAKE();
	fake_reset();
	config_for(&cfg, SF_AUTH_PASSWORD);
	sf = open_session(&cfg);
	assert_false(sf_api_usage(sf, &used, &max));
	customer_plan(&plan, "42", "Doe");
	expect_ok(sf_execute(sf, &plan, &out), &out);
	assert_int_equal(out.requests, 2);
	assert_int_equal(out.token_requests, 1);
	assert_non_null(first_id(&out, "Account"));
	assert_non_null(first_id(&out, "Contact"));
	snprintf(account_id, sizeof(account_id), "%s",
	    first_id(&out, "Account"));

	acct = fake_record("Account", "WC_Customer_Id__c", "42");
	contact = fake_record("Contact", "WC_Customer_Id__c", "42");
	assert_non_null(acct);
	assert_non_null(contact);
	assert_string_equal(str_of(acct, "Id"), account_id);
	assert_string_equal(str_of(acct, "Name"), "Jane Doe");
	assert_string_equal(str_of(contact, "Id"), first_id(&out, "Contact"));
	assert_string_equal(str_of(contact, "AccountId"), account_id);
	json_object_put(acct);
	json_object_put(contact);
	fake_requests(seen, sizeof(seen));
	assert_string_equal(seen, "POST /services/oauth2/token 200, "
	    "POST /services/data/v62.0/composite 200");
	assert_true(sf_api_usage(sf, &used, &max));
	assert_true(used >= 1 && max > used);

	/* Again: the token is reused, the same records are updated. */
	sf_outcome_clear(&out);
	plan_clear(&plan);
	customer_plan(&plan, "42", "Roe");
	expect_ok(sf_execute(sf, &plan, &out), &out);
	assert_int_equal(out.requests, 1);
	assert_int_equal(out.token_requests, 0);
	assert_string_equal(first_id(&out, "Account"), account_id);
	assert_int_equal(fake_count("Account"), 1);
	assert_int_equal(fake_count("Contact"), 1);
	contact = fake_record("Contact", "WC_Customer_Id__c", "42");
	assert_string_equal(str_of(contact, "LastName"), "Roe");
	json_object_put(contact);

	sf_outcome_clear(&out);
	plan_clear(&plan);
	sf_close(sf);
}

static void
test_expired_token(void **state)
{
	struct sf_outcome out = { 0 };
	struct map_plan plan = { 0 };
	struct sf_session *sf;
	struct config cfg;
	char seen[1024];

	NEED_FAKE();
	fake_reset();
	config_for(&cfg, SF_AUTH_CLIENT_CREDENTIALS);
	sf = open_session(&cfg);
	customer_plan(&plan, "7", "Doe");
	expect_ok(sf_execute(sf, &plan, &out), &out);
	sf_outcome_clear(&out);
	fake_reset();
	fake_knobs("{\"expire_tokens\":true}");
	expect_ok(sf_execute(sf, &plan, &out), &out);
	assert_int_equal(out.requests, 3);
	assert_int_equal(out.token_requests, 1);
	assert_string_equal(out.code, "");
	assert_non_null(first_id(&out, "Contact"));
	fake_requests(seen, sizeof(seen));
	assert_string_equal(seen, "POST /services/data/v62.0/composite 401, "
	    "POST /services/oauth2/token 200, "
	    "POST /services/data/v62.0/composite 200");
	sf_outcome_clear(&out);
	plan_clear(&plan);
	sf_close(sf);
}

static void
test_unavailable_and_rejected(void **state)
{
	struct sf_outcome out = { 0 };
	struct map_plan plan = { 0 };
	struct sf_session *sf;
	struct config cfg;

	NEED_FAKE();
	fake_reset();
	config_for(&cfg, SF_AUTH_PASSWORD);
	sf = open_session(&cfg);
	customer_plan(&plan, "8", "Doe");
	fake_knobs("{\"fail\":[{\"path_contains\":\"/composite\","
	    "\"status\":503,\"body\":\"<html><body>Service Not Available"
	    "</body></html>\",\"content_type\":\"text/html\","
	    "\"times\":1}]}");
	assert_int_equal(sf_execute(sf, &plan, &out),
	    WC2SF_SF_UNAVAILABLE);
	assert_int_equal(out.http_status, 503);
	assert_non_null(strstr(out.message, "not JSON"));
	assert_int_equal(fake_count("Account"), 0);
	sf_outcome_clear(&out);
	/* The failure was used up: the same plan now goes through. */
	expect_ok(sf_execute(sf, &plan, &out), &out);
	sf_outcome_clear(&out);
	plan_clear(&plan);

	/* A Contact without LastName is refused, and nothing is kept. */
	plan_add(&plan, MAP_UPSERT, "Account", "WC_Customer_Id__c",
	    "[{\"WC_Customer_Id__c\":\"9\",\"Name\":\"Nine\"}]");
	plan_add(&plan, MAP_UPSERT, "Contact", "WC_Customer_Id__c",
	    "[{\"WC_Customer_Id__c\":\"9\",\"FirstName\":\"N\"}]");
	assert_int_equal(sf_execute(sf, &plan, &out), WC2SF_SF_REJECTED);
	assert_string_equal(out.code, "REQUIRED_FIELD_MISSING");
	assert_non_null(strstr(out.message, "Contact: "));
	assert_null(fake_record("Account", "WC_Customer_Id__c", "9"));
	sf_outcome_clear(&out);
	plan_clear(&plan);
	sf_close(sf);
}

/*
 * The 401 rules: a session that no new token can fix is not renewed; a
 * second 401 after a renewal needs a person. Token endpoint trouble and
 * the daily limit are only unavailable.
 */
static void
test_auth_edges(void **state)
{
	struct sf_outcome out = { 0 };
	struct map_plan plan = { 0 };
	struct sf_session *sf;
	struct config cfg;

	NEED_FAKE();
	fake_reset();
	config_for(&cfg, SF_AUTH_PASSWORD);
	sf = open_session(&cfg);
	customer_plan(&plan, "12", "Edge");
	expect_ok(sf_login(sf, &out), &out);
	sf_outcome_clear(&out);

	fake_knobs("{\"fail\":[{\"path_contains\":\"/composite\","
	    "\"status\":401,\"body\":[{\"message\":\"This session is not "
	    "valid for use with the REST API\",\"errorCode\":"
	    "\"INVALID_SESSION_ID\"}],\"times\":1}]}");
	assert_int_equal(sf_execute(sf, &plan, &out), WC2SF_SF_AUTH);
	assert_int_equal(out.requests, 1);
	assert_int_equal(out.token_requests, 0);
	assert_string_equal(out.code, "INVALID_SESSION_ID");
	assert_non_null(strstr(out.message, "api scope"));
	sf_outcome_clear(&out);

	fake_knobs("{\"fail\":[{\"path_contains\":\"/composite\","
	    "\"status\":401,\"times\":2}]}");
	assert_int_equal(sf_execute(sf, &plan, &out), WC2SF_SF_AUTH);
	assert_int_equal(out.requests, 3);
	assert_int_equal(out.token_requests, 1);
	assert_non_null(strstr(out.message, "a new token was refused too"));
	sf_outcome_clear(&out);
	expect_ok(sf_execute(sf, &plan, &out), &out);
	sf_outcome_clear(&out);

	fake_knobs("{\"api_limit\":5,\"api_usage\":5}");
	assert_int_equal(sf_execute(sf, &plan, &out), WC2SF_SF_UNAVAILABLE);
	assert_int_equal(out.http_status, 403);
	assert_string_equal(out.code, "REQUEST_LIMIT_EXCEEDED");
	assert_true(out.daily_limit);
	sf_outcome_clear(&out);
	sf_close(sf);

	fake_knobs("{\"token_fail\":{\"status\":503,\"body\":\"<html>"
	    "down</html>\",\"times\":1}}");
	sf = open_session(&cfg);
	assert_int_equal(sf_execute(sf, &plan, &out), WC2SF_SF_UNAVAILABLE);
	assert_int_equal(out.token_requests, 1);
	sf_outcome_clear(&out);
	fake_knobs("{\"token_fail\":{\"status\":400,\"times\":1}}");
	assert_int_equal(sf_login(sf, &out), WC2SF_SF_UNAVAILABLE);
	assert_string_equal(out.code, "unknown_error");
	sf_outcome_clear(&out);
	sf_close(sf);
	plan_clear(&plan);
}

/* An answer over the 8 MiB cap, and one later than the timeout. */
static void
test_size_and_time_limits(void **state)
{
	static const char head[] = "{\"fail\":[{\"path_contains\":"
	    "\"/composite\",\"status\":200,\"content_type\":"
	    "\"application/json\",\"body\":\"";
	static const char tail[] = "\",\"times\":1}]}";
	size_t big = 9u * 1024 * 1024, n;
	struct sf_outcome out = { 0 };
	struct map_plan plan = { 0 };
	struct sf_session *sf;
	struct config cfg;
	char *knob;
	long t0;

	NEED_FAKE();
	fake_reset();
	n = sizeof(head) - 1 + big + sizeof(tail);
	knob = malloc(n);
	assert_non_null(knob);
	memcpy(knob, head, sizeof(head) - 1);
	memset(knob + sizeof(head) - 1, 'x', big);
	memcpy(knob + sizeof(head) - 1 + big, tail, sizeof(tail));
	fake_knobs(knob);
	free(knob);
	config_for(&cfg, SF_AUTH_PASSWORD);
	cfg.timeout = 1;
	sf = open_session(&cfg);
	customer_plan(&plan, "13", "Big");
	assert_int_equal(sf_execute(sf, &plan, &out), WC2SF_SF_UNAVAILABLE);
	assert_non_null(strstr(out.message, "larger than 8388608 bytes"));
	sf_outcome_clear(&out);

	fake_knobs("{\"delay_ms\":2500}");
	t0 = mono_ms();
	assert_int_equal(sf_execute(sf, &plan, &out), WC2SF_SF_UNAVAILABLE);
	assert_true(mono_ms() - t0 < 2400);
	assert_int_equal(out.http_status, 0);
	assert_non_null(strstr(out.message, "imeout"));
	sf_outcome_clear(&out);
	fake_knobs("{\"delay_ms\":0}");
	sf_close(sf);
	plan_clear(&plan);
}

static void
test_pricebook_update_delete(void **state)
{
	struct sf_outcome out = { 0 };
	struct map_plan plan = { 0 };
	struct json_object *std, *pbe, *prod;
	struct sf_session *sf;
	struct config cfg;

	NEED_FAKE();
	fake_reset();
	config_for(&cfg, SF_AUTH_PASSWORD);
	sf = open_session(&cfg);
	plan_add(&plan, MAP_UPSERT, "Product2", "WC_Product_Id__c",
	    "[{\"WC_Product_Id__c\":\"77\",\"Name\":\"Mug\","
	    "\"IsActive\":true}]");
	plan_add(&plan, MAP_UPSERT, "PricebookEntry", "WC_Price_Key__c",
	    "[{\"WC_Price_Key__c\":\"std-77\",\"Pricebook2Id\":"
	    "\"" MAP_STANDARD_PRICEBOOK "\",\"Product2\":{"
	    "\"WC_Product_Id__c\":\"77\"},\"UnitPrice\":12.5,"
	    "\"IsActive\":true,\"UseStandardPrice\":false}]");
	expect_ok(sf_execute(sf, &plan, &out), &out);
	/* Query + composite, after the sign-in. */
	assert_int_equal(out.requests, 3);
	std = fake_record("Pricebook2", "Name", "Standard Price Book");
	pbe = fake_record("PricebookEntry", "WC_Price_Key__c", "std-77");
	assert_non_null(std);
	assert_non_null(pbe);
	assert_string_equal(str_of(pbe, "Pricebook2Id"), str_of(std, "Id"));
	json_object_put(std);
	json_object_put(pbe);
	sf_outcome_clear(&out);
	/* The Id is kept: no second query. */
	expect_ok(sf_execute(sf, &plan, &out), &out);
	assert_int_equal(out.requests, 1);
	sf_outcome_clear(&out);
	plan_clear(&plan);

	/* Update only: 77 exists and changes; 999 is not created. */
	plan_add(&plan, MAP_UPDATE_ONLY, "Product2", "WC_Product_Id__c",
	    "[{\"WC_Product_Id__c\":\"77\",\"IsActive\":false},"
	    "{\"WC_Product_Id__c\":\"999\",\"IsActive\":false}]");
	expect_ok(sf_execute(sf, &plan, &out), &out);
	prod = fake_record("Product2", "WC_Product_Id__c", "77");
	assert_non_null(prod);
	assert_string_equal(first_id(&out, "Product2"), str_of(prod, "Id"));
	assert_string_equal(str_of(prod, "IsActive"), "false");
	json_object_put(prod);
	assert_int_equal(fake_count("Product2"), 1);
	sf_outcome_clear(&out);
	plan_clear(&plan);

	/* Delete: one there, one never was, one with an odd key. */
	customer_plan(&plan, "a/b c%+\xc3\xa9", "Odd");
	expect_ok(sf_execute(sf, &plan, &out), &out);
	sf_outcome_clear(&out);
	plan_clear(&plan);
	plan_add(&plan, MAP_DELETE, "Contact", "WC_Customer_Id__c",
	    "[{\"WC_Customer_Id__c\":\"a/b c%+\xc3\xa9\"},"
	    "{\"WC_Customer_Id__c\":\"404\"}]");
	expect_ok(sf_execute(sf, &plan, &out), &out);
	assert_int_equal(fake_count("Contact"), 0);
	assert_int_equal(fake_count("Account"), 1);
	sf_outcome_clear(&out);
	plan_clear(&plan);
	sf_close(sf);
}

/* A token store shared by sessions, as the journal will provide. */
struct fake_store {
	char token[4096];
	char url[512];
	int loads;
	int saves;
};

static int
store_load(void *ctx, char *token, size_t n, char *url, size_t m)
{
	struct fake_store *st = ctx;

	st->loads++;
	if (st->token[0] == '\0')
		return -1;
	snprintf(token, n, "%s", st->token);
	snprintf(url, m, "%s", st->url);
	return 0;
}

static int
store_save(void *ctx, const char *token, const char *url)
{
	struct fake_store *st = ctx;

	st->saves++;
	snprintf(st->token, sizeof(st->token), "%s", token);
	snprintf(st->url, sizeof(st->url), "%s", url);
	return 0;
}

static void
test_token_store(void **state)
{
	struct fake_store st = { "00Dstale!token", "", 0, 0 };
	struct sf_token_store store = { store_load, store_save, &st, NULL,
	    NULL, NULL, NULL, NULL };
	struct sf_outcome out = { 0 };
	struct map_plan plan = { 0 };
	struct sf_session *sf;
	struct config cfg;

	NEED_FAKE();
	fake_reset();
	snprintf(st.url, sizeof(st.url), "%s", fake.url);
	config_for(&cfg, SF_AUTH_CLIENT_CREDENTIALS);
	customer_plan(&plan, "11", "Store");

	/*
	 * The stored token is stale: 401, a second look at the store
	 * (another worker may have renewed it), sign in, save, repeat.
	 */
	sf = open_session(&cfg);
	sf_set_token_store(sf, &store);
	expect_ok(sf_execute(sf, &plan, &out), &out);
	assert_int_equal(st.loads, 2);
	assert_int_equal(st.saves, 1);
	assert_int_equal(out.token_requests, 1);
	assert_int_equal(out.requests, 3);
	assert_string_not_equal(st.token, "00Dstale!token");
	sf_outcome_clear(&out);
	sf_close(sf);

	/* Another worker finds the saved token and never signs in. */
	sf = open_session(&cfg);
	sf_set_token_store(sf, &store);
	expect_ok(sf_execute(sf, &plan, &out), &out);
	assert_int_equal(st.loads, 3);
	assert_int_equal(st.saves, 1);
	assert_int_equal(out.token_requests, 0);
	assert_int_equal(out.requests, 1);
	sf_outcome_clear(&out);
	sf_close(sf);

	/* An http:// instance from the store is never used. */
	snprintf(st.url, sizeof(st.url), "http://127.0.0.1:1");
	sf = open_session(&cfg);
	sf_set_token_store(sf, &store);
	expect_ok(sf_execute(sf, &plan, &out), &out);
	assert_int_equal(out.token_requests, 1);
	assert_int_equal(st.saves, 2);
	assert_string_equal(st.url, fake.url);
	sf_outcome_clear(&out);
	sf_close(sf);
	plan_clear(&plan);
}

static void
rotated(void *ctx, const char *refresh_token)
{
	snprintf(ctx, 256, "%s", refresh_token);
}

static void
test_refresh_token(void **state)
{
	struct sf_outcome out = { 0 };
	struct sf_session *sf;
	struct config cfg;
	char seen[256] = "";

	NEED_FAKE();
	fake_reset();
	config_for(&cfg, SF_AUTH_REFRESH_TOKEN);
	cfg.refresh_token = (char *)(uintptr_t)TEST_REFRESH;
	fake_knobs("{\"rotate_refresh_tokens\":true}");
	sf = open_session(&cfg);
	sf_set_refresh_hook(sf, rotated, seen);
	expect_ok(sf_login(sf, &out), &out);
	assert_string_not_equal(seen, "");
	assert_string_not_equal(seen, TEST_REFRESH);
	sf_outcome_clear(&out);
	/* The first one is void now; the session uses the new one. */
	expect_ok(sf_login(sf, &out), &out);
	sf_outcome_clear(&out);
	sf_close(sf);

	/* A session still holding the void one needs a person. */
	sf = open_session(&cfg);
	assert_int_equal(sf_login(sf, &out), WC2SF_SF_AUTH);
	assert_string_equal(out.code, "invalid_grant");
	assert_non_null(strstr(out.message, "re-authorise"));
	sf_outcome_clear(&out);
	sf_close(sf);
}

/* A fresh journal file for shared-token tests, named by tag. */
static void
journal_path(char *path, size_t size, const char *tag)
{
	char lock[400];

	snprintf(path, size, "%s/%s.db", fake.dir, tag);
	unlink(path);
	snprintf(lock, sizeof(lock), "%s.signin-lock", path);
	unlink(lock);
}

static struct journal *
open_journal(const char *path)
{
	struct journal *j;
	char err[256];

	if ((j = journal_open(path, err, sizeof(err))) == NULL)
		fail_msg("journal_open: %s", err);
	return j;
}

/* A session sharing tokens through its own connection to path. */
static struct sf_session *
shared_session(struct config *cfg, const char *path, struct journal **j)
{
	struct sf_session *sf;

	cfg->store_path = (char *)(uintptr_t)path;
	sf = open_session(cfg);

	*j = open_journal(path);
	assert_int_equal(tokens_attach(sf, *j), 0);
	return sf;
}

/*
 * Two workers share one token: the first signs in, the second never
 * does; after the token dies, the first to see the 401 renews it and
 * the other, seeing the replaced token, only reloads it. A token of
 * another flow or user is never taken.
 */
static void
test_shared_tokens(void **state)
{
	struct sf_outcome out = { 0 };
	struct map_plan plan = { 0 };
	struct sf_session *a, *b, *c;
	struct journal *ja, *jb, *jc;
	struct config cfg, other;
	char path[300];

	NEED_FAKE();
	fake_reset();
	journal_path(path, sizeof(path), "shared");
	config_for(&cfg, SF_AUTH_PASSWORD);
	customer_plan(&plan, "21", "Shared");
	a = shared_session(&cfg, path, &ja);
	b = shared_session(&cfg, path, &jb);

	expect_ok(sf_execute(a, &plan, &out), &out);
	assert_int_equal(out.token_requests, 1);
	sf_outcome_clear(&out);
	expect_ok(sf_execute(b, &plan, &out), &out);
	assert_int_equal(out.token_requests, 0);
	assert_int_equal(out.requests, 1);
	sf_outcome_clear(&out);

	fake_knobs("{\"expire_tokens\":true}");
	expect_ok(sf_execute(a, &plan, &out), &out);
	assert_int_equal(out.token_requests, 1);
	assert_int_equal(out.requests, 3);
	sf_outcome_clear(&out);
	/* b holds the dead token: 401, then the store's new one. */
	expect_ok(sf_execute(b, &plan, &out), &out);
	assert_int_equal(out.token_requests, 0);
	assert_int_equal(out.requests, 2);
	sf_outcome_clear(&out);
	assert_int_equal(fake_stat("token_requests"), 2);

	/* Another flow is another identity: its own sign-in. */
	config_for(&other, SF_AUTH_CLIENT_CREDENTIALS);
	c = shared_session(&other, path, &jc);
	expect_ok(sf_execute(c, &plan, &out), &out);
	assert_int_equal(out.token_requests, 1);
	sf_outcome_clear(&out);
	sf_close(c);
	journal_close(jc);

	/* sf_login always asks, and shares what it gets. */
	expect_ok(sf_login(a, &out), &out);
	assert_int_equal(out.token_requests, 1);
	sf_outcome_clear(&out);
	sf_close(a);
	sf_close(b);
	journal_close(ja);
	journal_close(jb);
	plan_clear(&plan);
}

/*
 * A worker holds its token; `wc2sf check` (another session) signs in
 * and stores a newer one; then every token dies. The worker's 401
 * reloads the stored one, which is dead too: that leads to one real
 * sign-in and a third try, not to "needs a person". A token the worker
 * minted itself and that is refused still needs a person.
 */
static void
test_reloaded_token_refused(void **state)
{
	struct sf_outcome out = { 0 };
	struct map_plan plan = { 0 };
	struct sf_session *worker, *check;
	struct journal *jw, *jc;
	struct config cfg;
	char path[300], seen[1024];

	NEED_FAKE();
	fake_reset();
	journal_path(path, sizeof(path), "reloaded");
	config_for(&cfg, SF_AUTH_PASSWORD);
	customer_plan(&plan, "41", "Reloaded");
	worker = shared_session(&cfg, path, &jw);
	check = shared_session(&cfg, path, &jc);
	expect_ok(sf_execute(worker, &plan, &out), &out);
	sf_outcome_clear(&out);
	expect_ok(sf_login(check, &out), &out);
	sf_outcome_clear(&out);
	fake_reset();
	fake_knobs("{\"expire_tokens\":true}");

	expect_ok(sf_execute(worker, &plan, &out), &out);
	assert_int_equal(out.token_requests, 1);
	assert_int_equal(out.requests, 4);
	sf_outcome_clear(&out);
	fake_requests(seen, sizeof(seen));
	assert_string_equal(seen, "POST /services/data/v62.0/composite 401, "
	    "POST /services/data/v62.0/composite 401, "
	    "POST /services/oauth2/token 200, "
	    "POST /services/data/v62.0/composite 200");
	/* check's session takes the worker's new token from the store. */
	expect_ok(sf_execute(check, &plan, &out), &out);
	assert_int_equal(out.token_requests, 0);
	assert_int_equal(out.requests, 2);
	sf_outcome_clear(&out);

	/* The minted token refused too: a person must act, 3 requests. */
	fake_knobs("{\"fail\":[{\"path_contains\":\"/composite\","
	    "\"status\":401,\"times\":3}]}");
	assert_int_equal(sf_execute(worker, &plan, &out), WC2SF_SF_AUTH);
	assert_int_equal(out.requests, 3);
	assert_int_equal(out.token_requests, 1);
	assert_non_null(strstr(out.message, "a new token was refused too"));
	sf_outcome_clear(&out);
	fake_knobs("{\"fail\":[]}");
	sf_close(worker);
	sf_close(check);
	journal_close(jw);
	journal_close(jc);
	plan_clear(&plan);
}

/*
 * The version list: 62.0 is served and the fake's newest; 99.0 is not.
 */
static void
test_version_served(void **state)
{
	struct sf_outcome out = { 0 };
	struct sf_session *sf;
	struct config cfg;
	char newest[32];
	bool served = false;

	NEED_FAKE();
	fake_reset();
	config_for(&cfg, SF_AUTH_PASSWORD);
	cfg.api_version = (char *)(uintptr_t)"v62.0";
	sf = open_session(&cfg);
	assert_string_equal(sf_api_version(sf), "62.0");
	expect_ok(sf_version_served(sf, &served, newest, sizeof(newest),
	    &out), &out);
	assert_true(served);
	assert_string_equal(newest, "62.0");
	/* A token first (the instance), then the list. */
	assert_int_equal(out.requests, 2);
	sf_outcome_clear(&out);
	sf_close(sf);

	cfg.api_version = (char *)(uintptr_t)"99.0";
	sf = open_session(&cfg);
	expect_ok(sf_version_served(sf, &served, newest, sizeof(newest),
	    &out), &out);
	assert_false(served);
	assert_string_equal(newest, "62.0");
	sf_outcome_clear(&out);
	/* 46.0 is the oldest the fake serves; 45.0 is not listed. */
	cfg.api_version = (char *)(uintptr_t)"46.0";
	sf_close(sf);
	sf = open_session(&cfg);
	expect_ok(sf_version_served(sf, &served, newest, sizeof(newest),
	    &out), &out);
	assert_true(served);
	sf_outcome_clear(&out);
	cfg.api_version = (char *)(uintptr_t)"45.0";
	sf_close(sf);
	sf = open_session(&cfg);
	expect_ok(sf_version_served(sf, &served, newest, sizeof(newest),
	    &out), &out);
	assert_false(served);
	sf_outcome_clear(&out);
	sf_close(sf);
}

/*
 * A rotated refresh token is in the journal before the session goes
 * on, and a new session (a restarted worker, whose configuration still
 * names the first token) uses it. A new token put in the configuration
 * wins over the rotated chain of the old one.
 */
static void
test_rotation_shared(void **state)
{
	struct sf_outcome out = { 0 };
	struct sf_session *sf;
	struct journal *j, *peek;
	struct config cfg;
	char path[300], value[8192];
	bool found = false;

	NEED_FAKE();
	fake_reset();
	fake_knobs("{\"rotate_refresh_tokens\":true}");
	journal_path(path, sizeof(path), "rotate");
	config_for(&cfg, SF_AUTH_REFRESH_TOKEN);
	cfg.refresh_token = (char *)(uintptr_t)TEST_REFRESH;
	sf = shared_session(&cfg, path, &j);
	expect_ok(sf_login(sf, &out), &out);
	sf_outcome_clear(&out);
	peek = open_journal(path);
	assert_int_equal(journal_kv_get(peek, "sf_refresh_token", value,
	    sizeof(value), &found), 0);
	assert_true(found);
	assert_null(strstr(value, TEST_REFRESH));
	assert_non_null(strstr(value, " 5Aep"));
	/* No cleanup: the process "dies" with the rotation on disk. */
	journal_close(j);
	sf_close(sf);

	sf = shared_session(&cfg, path, &j);
	expect_ok(sf_login(sf, &out), &out);
	sf_outcome_clear(&out);
	expect_ok(sf_login(sf, &out), &out);
	sf_outcome_clear(&out);
	sf_close(sf);
	journal_close(j);

	/* A session without the store still holds the dead first one. */
	sf = open_session(&cfg);
	assert_int_equal(sf_login(sf, &out), WC2SF_SF_AUTH);
	assert_non_null(strstr(out.message, "refresh_token"));
	sf_outcome_clear(&out);
	sf_close(sf);

	/* Another configured token: the stored chain is not used. */
	cfg.refresh_token = (char *)(uintptr_t)"5Aep-newly-authorised";
	sf = shared_session(&cfg, path, &j);
	assert_int_equal(sf_login(sf, &out), WC2SF_SF_AUTH);
	assert_string_equal(out.code, "invalid_grant");
	assert_null(strstr(out.message, "5Aep-newly-authorised"));
	sf_outcome_clear(&out);
	sf_close(sf);
	journal_close(j);
	journal_close(peek);
}

/*
 * Workers started together make one token request: each child process
 * opens its own session and journal connection and sends at once.
 */
static void
test_cold_start_processes(void **state)
{
	enum { WORKERS = 6 };
	struct config cfg;
	char path[300];
	pid_t pids[WORKERS];
	int go[2], status, i, failed = 0;

	NEED_FAKE();
	fake_reset();
	journal_path(path, sizeof(path), "cold");
	/* The file and schema exist before the race, as in production. */
	journal_close(open_journal(path));
	config_for(&cfg, SF_AUTH_JWT);
	cfg.store_path = path;
	assert_int_equal(pipe(go), 0);
	for (i = 0; i < WORKERS; i++) {
		if ((pids[i] = fork()) == 0) {
			struct sf_outcome out = { 0 };
			struct map_plan plan = { 0 };
			struct sf_session *sf;
			struct journal *j;
			char key[16], c;

			close(go[1]);
			sf = sf_open(&cfg, key, sizeof(key));
			j = journal_open(path, key, sizeof(key));
			if (sf == NULL || j == NULL || tokens_attach(sf, j))
				_exit(2);
			snprintf(key, sizeof(key), "cold-%d", i);
			customer_plan(&plan, key, "Cold");
			if (read(go[0], &c, 1) != 0)
				_exit(3);
			_exit(sf_execute(sf, &plan, &out) == WC2SF_OK ? 0 : 1);
		}
		assert_true(pids[i] > 0);
	}
	close(go[0]);
	close(go[1]);		/* every child reads EOF at once */
	for (i = 0; i < WORKERS; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
	}
	assert_int_equal(failed, 0);
	assert_int_equal(fake_stat("token_requests"), 1);
	assert_int_equal(fake_count("Account"), WORKERS);
}

/*
 * A worker that cannot get the sign-in lock in time gives up for now
 * (unavailable, nothing sent) and signs in once it is free; client
 * credentials sent as HTTP Basic work like the body form.
 */
static void
test_lock_wait_and_basic(void **state)
{
	struct sf_outcome out = { 0 };
	struct sf_token_store store;
	struct map_plan plan = { 0 };
	struct sf_session *sf;
	struct journal *j;
	struct tokens *t;
	struct config cfg;
	char path[300], lock[400];
	long t0;
	int fd;

	NEED_FAKE();
	fake_reset();
	journal_path(path, sizeof(path), "lock");
	config_for(&cfg, SF_AUTH_CLIENT_CREDENTIALS);
	cfg.client_basic = true;
	cfg.store_path = path;
	customer_plan(&plan, "31", "Lock");
	j = open_journal(path);
	sf = open_session(&cfg);
	t = tokens_new(&cfg, j);
	assert_non_null(t);
	tokens_set_lock_wait(t, 300);
	tokens_store(t, &store);
	sf_set_token_store(sf, &store);

	/* Another "process" holds the lock: a second open file. */
	snprintf(lock, sizeof(lock), "%s.signin-lock", path);
	fd = open(lock, O_RDONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	t0 = mono_ms();
	assert_int_equal(sf_execute(sf, &plan, &out), WC2SF_SF_UNAVAILABLE);
	assert_true(mono_ms() - t0 >= 300);
	assert_true(mono_ms() - t0 < 3000);
	assert_int_equal(out.token_requests, 0);
	assert_non_null(strstr(out.message, "still signing in"));
	sf_outcome_clear(&out);
	close(fd);

	expect_ok(sf_execute(sf, &plan, &out), &out);
	assert_int_equal(out.token_requests, 1);
	sf_outcome_clear(&out);
	assert_int_equal(fake_stat("token_requests"), 1);
	sf_close(sf);
	journal_close(j);
	plan_clear(&plan);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_in_flows),
		cmocka_unit_test(test_upsert_account_contact),
		cmocka_unit_test(test_expired_token),
		cmocka_unit_test(test_unavailable_and_rejected),
		cmocka_unit_test(test_auth_edges),
		cmocka_unit_test(test_size_and_time_limits),
		cmocka_unit_test(test_pricebook_update_delete),
		cmocka_unit_test(test_token_store),
		cmocka_unit_test(test_refresh_token),
		cmocka_unit_test(test_shared_tokens),
		cmocka_unit_test(test_rotation_shared),
		cmocka_unit_test(test_reloaded_token_refused),
		cmocka_unit_test(test_version_served),
		cmocka_unit_test(test_cold_start_processes),
		cmocka_unit_test(test_lock_wait_and_basic),
	};

	/* SF_DEBUG=1 shows the one line per request of lib/salesforce.c. */
	log_init("test_salesforce", getenv("SF_DEBUG") != NULL ?
	    LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, setup_fake, teardown_fake);
}
