/*
 * The webhook front: headers and body through sync_handle(), the whole
 * delivery path of DESIGN.md up to the Salesforce call (which finds a
 * port that refuses connections and leaves the event queued).
 *
 * Input: one flag byte, then header lines "Name: value\n" (wire or CGI
 * names, any case), an empty line, and the body. Flags:
 *   0x01  replace X-WC-Webhook-Signature with the body's true signature,
 *         so the fuzzer gets past verification
 *   0x02  method GET instead of POST
 *   0x04  a "Method: X" header line sets the method instead
 *
 * The journal lives on /dev/shm and starts afresh every RESET_EVERY
 * inputs, so it stays small however long the run.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common.h"
#include "config.h"
#include "result.h"
#include "signature.h"
#include "sync.h"
#include "webhook.h"

#define SECRET		"test-secret-123"
#define RESET_EVERY	2000

static struct config cfg;
static struct sync *sync_state;
static char db_path[512];
static unsigned long runs;

/* Start wc2sf's state afresh: a new journal file, a new session. */
static void
reopen(void)
{
	char err[512], wal[600];

	if (sync_state != NULL)
		sync_close(sync_state);
	unlink(db_path);
	snprintf(wal, sizeof(wal), "%s-wal", db_path);
	unlink(wal);
	snprintf(wal, sizeof(wal), "%s-shm", db_path);
	unlink(wal);
	sync_state = sync_open(&cfg, err, sizeof(err));
	FUZZ_CHECK(sync_state != NULL);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[256], path[512], text[2048], err[512];
	int port, n;

	fuzz_quiet_logs();
	unsetenv("https_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	port = fuzz_refusing_port();
	FUZZ_CHECK(port > 0);
	FUZZ_CHECK(fuzz_tmpdir(dir, sizeof(dir)));
	snprintf(db_path, sizeof(db_path), "%s/wc2sf.db", dir);
	n = snprintf(text, sizeof(text),
	    "[woocommerce]\nsecret = " SECRET "\nmax_body = 16384\n"
	    "[salesforce]\nauth = password\n"
	    "login_url = https://127.0.0.1:%d\n"
	    "client_id = fuzz\nclient_secret = fuzz\nusername = fuzz\n"
	    "password = fuzz\ntimeout = 1\n"
	    "[store]\npath = %s\n"
	    "[log]\nlevel = error\n", port, db_path);
	FUZZ_CHECK(n > 0 && (size_t)n < sizeof(text));
	snprintf(path, sizeof(path), "%s/wc2sf.conf", dir);
	FUZZ_CHECK(fuzz_write_file(path, text, (size_t)n));
	FUZZ_CHECK(config_load(&cfg, path, err, sizeof(err)) == 0);
	reopen();
	return 0;
}

/* Split "Name: value" in place and hand it to the request. */
static void
header_line(struct webhook_request *req, char *line, const char **method)
{
	char *colon, *value;

	colon = strchr(line, ':');
	if (colon == NULL)
		return;
	*colon = '\0';
	value = colon + 1;
	while (*value == ' ' || *value == '\t')
		value++;
	if (method != NULL && strcmp(line, "Method") == 0)
		*method = value;
	else
		webhook_set_header(req, line, value);
}

/* The reply must be one of DESIGN.md's, with a JSON object body. */
static void
check_reply(const struct sync_reply *reply)
{
	struct json_object *o, *result;
	size_t len = strnlen(reply->body, sizeof(reply->body));

	FUZZ_CHECK(len < sizeof(reply->body));
	FUZZ_CHECK(reply->status == 200 || reply->status == 202 ||
	    reply->status == 400 || reply->status == 401 ||
	    reply->status == 405 || reply->status == 413);
	FUZZ_CHECK(reply->status == wc2sf_result_http(reply->result));
	o = json_tokener_parse(reply->body);
	FUZZ_CHECK(o != NULL && json_object_is_type(o, json_type_object));
	FUZZ_CHECK(json_object_object_get_ex(o, "result", &result));
	FUZZ_CHECK(strcmp(json_object_get_string(result),
	    wc2sf_result_name(reply->result)) == 0);
	json_object_put(o);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct webhook_request req;
	struct sync_reply reply;
	char sig[SIGNATURE_B64_SIZE];
	const char *method = "POST";
	char *copy, *p, *nl, *end;
	unsigned flags;

	if (size < 1)
		return 0;
	flags = data[0];
	copy = fuzz_strndup(data + 1, size - 1);
	if (copy == NULL)
		return 0;
	memset(&req, 0, sizeof(req));
	req.content_length = -1;
	if (flags & 0x02)
		method = "GET";
	end = copy + size - 1;
	/* Header lines up to the first empty one; the rest is the body. */
	for (p = copy; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		*nl = '\0';
		if (nl > p && nl[-1] == '\r')
			nl[-1] = '\0';
		if (*p == '\0') {
			p = nl + 1;
			break;
		}
		header_line(&req, p, flags & 0x04 ? &method : NULL);
	}
	req.method = method;
	if (p > end)
		p = end;
	req.body = (const unsigned char *)p;
	req.body_len = (size_t)(end - p);
	if (flags & 0x01) {
		signature_compute(SECRET, sizeof(SECRET) - 1, req.body,
		    req.body_len, sig);
		req.signature = sig;
	}
	sync_handle(sync_state, &req, &reply);
	check_reply(&reply);
	free(copy);
	if (++runs % RESET_EVERY == 0)
		reopen();
	return 0;
}
