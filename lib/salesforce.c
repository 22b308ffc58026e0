#include "salesforce.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#include "log.h"
#include "sf_wire.h"

/* A larger answer is no answer: treated as Salesforce unavailable. */
#define SF_RESPONSE_MAX		(8u * 1024 * 1024)
#define SF_DEFAULT_LOGIN	"https://login.salesforce.com"
#define SF_DEFAULT_VERSION	"62.0"
#define SF_DEFAULT_TIMEOUT	30L
/* 401s renewed in one request: a stored token, then one of our own. */
#define SF_RENEWALS_MAX		2

/* The answer to the last request, NUL-terminated. */
struct sf_buf {
	char *data;
	size_t len;
	size_t cap;
	bool overflow;
};

struct sf_session {
	const struct config *cfg;	/* borrowed */
	CURL *curl;
	char curl_err[CURL_ERROR_SIZE];
	struct sf_buf resp;
	char version[16];		/* "62.0" */
	char token[SF_TOKEN_MAX];	/* "" until signed in */
	bool token_minted;		/* by this session's own sign-in */
	char instance_url[SF_URL_MAX];
	char *refresh_token;		/* the current one, rotated */
	char pricebook_id[32];		/* the standard one, once found */
	bool have_usage;
	long api_used;
	long api_max;
	EVP_PKEY *key;			/* jwt: loaded on first use */
	bool have_store;
	bool refresh_unsaved;		/* rotated, the store's save failed */
	struct sf_token_store store;
	void (*refresh_hook)(void *ctx, const char *refresh_token);
	void *refresh_ctx;
	struct sf_token answer;		/* scratch for token responses */
};

/* One HTTP exchange as sf_http() performs it. */
struct sf_call {
	bool post;			/* else GET */
	const char *url;
	const char *path;		/* for the log line; query cut off */
	const char *body;
	bool form;			/* body is a form, not JSON */
	bool bearer;			/* send the access token */
	const char *basic;		/* "Basic ..." for a token request */
};

static void
wipe_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

static size_t
on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct sf_buf *b = userdata;
	size_t n = size * nmemb, cap;
	char *data;

	if (n > SF_RESPONSE_MAX || b->len + n + 1 > SF_RESPONSE_MAX) {
		b->overflow = true;
		return 0;
	}
	if (b->len + n + 1 > b->cap) {
		cap = b->cap == 0 ? 16384 : b->cap;
		while (cap < b->len + n + 1)
			cap *= 2;
		if ((data = realloc(b->data, cap)) == NULL)
			return 0;
		b->data = data;
		b->cap = cap;
	}
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

/* Keep the org's API usage from Sforce-Limit-Info (reference §3.4). */
static size_t
on_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	static const char name[] = "Sforce-Limit-Info:";
	struct sf_session *sf = userdata;
	size_t n = size * nmemb, m = sizeof(name) - 1;
	char value[256];

	if (n > m && n - m < sizeof(value) &&
	    strncasecmp(ptr, name, m) == 0) {
		memcpy(value, ptr + m, n - m);
		value[n - m] = '\0';
		if (sf_wire_limit_info(value, &sf->api_used, &sf->api_max))
			sf->have_usage = true;
	}
	return n;
}

static long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * Where distributions keep the system's CA bundle. libcurl knows the one
 * of the system it was built on (Debian's, the first here); a lean
 * build (mk/lean.mk) copied to a RHEL-family or SUSE host finds its own
 * this way.
 */
static const char *const system_ca_bundles[] = {
	"/etc/ssl/certs/ca-certificates.crt",	/* Debian, Ubuntu, Alpine */
	"/etc/pki/tls/certs/ca-bundle.crt",	/* RHEL, Alma, CloudLinux */
	"/etc/ssl/ca-bundle.pem",		/* openSUSE, SLES */
	"/etc/ssl/cert.pem",			/* Alpine, the BSDs */
};

/*
 * The CA bundle to name when ca_file is unset: none (libcurl's own) if
 * libcurl's default is there, else the first of system_ca_bundles that
 * is. NULL when none is: libcurl's error then names its default.
 */
static const char *
system_ca_bundle(CURL *c)
{
	char *builtin = NULL;
	size_t i;

	if (curl_easy_getinfo(c, CURLINFO_CAINFO, &builtin) == CURLE_OK &&
	    builtin != NULL && access(builtin, R_OK) == 0)
		return NULL;
	for (i = 0; i < sizeof(system_ca_bundles) /
	    sizeof(system_ca_bundles[0]); i++)
		if (access(system_ca_bundles[i], R_OK) == 0)
			return system_ca_bundles[i];
	return NULL;
}

/* Append "; advice" to msg, cutting msg rather than the advice. */
static void
add_advice(char *msg, size_t size, const char *advice)
{
	size_t n = strlen(msg), need = strlen(advice) + 2;

	if (need >= size)
		return;
	if (n + need >= size) {
		n = size - need - 1;
		msg[n] = '\0';
		sf_wire_utf8_cut(msg);
		n = strlen(msg);
	}
	snprintf(msg + n, size - n, "; %s", advice);
}

/*
 * What to say after libcurl's "error setting certificate file": the
 * places system_ca_bundle() looked at besides libcurl's default, which
 * the error names, or that ca_file is no bundle.
 */
static void
add_ca_advice(const struct config *cfg, char *msg, size_t size)
{
	char advice[512];
	size_t i, n;

	if (cfg->ca_file != NULL && cfg->ca_file[0] != '\0') {
		add_advice(msg, size, "[salesforce] ca_file must be a PEM "
		    "bundle of CA certificates");
		return;
	}
	n = (size_t)snprintf(advice, sizeof(advice), "no system CA bundle "
	    "was found (also looked for");
	for (i = 1; i < sizeof(system_ca_bundles) /
	    sizeof(system_ca_bundles[0]) && n < sizeof(advice); i++)
		n += (size_t)snprintf(advice + n, sizeof(advice) - n, "%s %s",
		    i == 1 ? "" : ",", system_ca_bundles[i]);
	if (n < sizeof(advice))
		snprintf(advice + n, sizeof(advice) - n, "); name this "
		    "host's in [salesforce] ca_file");
	add_advice(msg, size, advice);
}

/*
 * The options every request shares: HTTPS only, peer and host always
 * verified, the configured CA bundle (else the system's, wherever this
 * host keeps it) and timeout, no redirects, no signals (timeouts must
 * work in any process).
 */
static bool
setup_curl(struct sf_session *sf, char *err, size_t errlen)
{
	const struct config *cfg = sf->cfg;
	long timeout = cfg->timeout > 0 ? cfg->timeout : SF_DEFAULT_TIMEOUT;
	CURL *c = sf->curl;
	const char *ca;

	if (curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https") !=
	    CURLE_OK) {
		snprintf(err, errlen, "this libcurl cannot restrict itself "
		    "to https");
		return false;
	}
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (cfg->ca_file != NULL && cfg->ca_file[0] != '\0')
		ca = cfg->ca_file;
	else
		ca = system_ca_bundle(c);
	if (ca != NULL &&
	    curl_easy_setopt(c, CURLOPT_CAINFO, ca) != CURLE_OK) {
		snprintf(err, errlen, "libcurl refuses the CA bundle %s", ca);
		return false;
	}
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "wc2sf");
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, sf->curl_err);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &sf->resp);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, sf);
	return true;
}

/* "62.0" from "62.0" or "v62.0"; false unless digits and one dot. */
static bool
set_version(struct sf_session *sf, const char *v)
{
	size_t i, dots = 0;

	if (v == NULL || v[0] == '\0')
		v = SF_DEFAULT_VERSION;
	if (v[0] == 'v' || v[0] == 'V')
		v++;
	if (v[0] == '\0' || strlen(v) >= sizeof(sf->version))
		return false;
	for (i = 0; v[i] != '\0'; i++) {
		if (v[i] == '.')
			dots++;
		else if (v[i] < '0' || v[i] > '9')
			return false;
	}
	if (dots != 1)
		return false;
	snprintf(sf->version, sizeof(sf->version), "%s", v);
	return true;
}

struct sf_session *
sf_open(const struct config *cfg, char *err, size_t errlen)
{
	static bool curl_ready;
	struct sf_session *sf;

	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			snprintf(err, errlen, "libcurl cannot start");
			return NULL;
		}
		curl_ready = true;
	}
	if ((sf = calloc(1, sizeof(*sf))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	sf->cfg = cfg;
	if (!set_version(sf, cfg->api_version)) {
		snprintf(err, errlen, "[salesforce] api_version: expected a "
		    "version such as 62.0");
		goto fail;
	}
	if (cfg->refresh_token != NULL &&
	    (sf->refresh_token = strdup(cfg->refresh_token)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if ((sf->curl = curl_easy_init()) == NULL) {
		snprintf(err, errlen, "libcurl cannot make a handle");
		goto fail;
	}
	if (!setup_curl(sf, err, errlen))
		goto fail;
	return sf;
fail:
	sf_close(sf);
	return NULL;
}

void
sf_close(struct sf_session *sf)
{
	if (sf == NULL)
		return;
	if (sf->curl != NULL)
		curl_easy_cleanup(sf->curl);
	free(sf->resp.data);
	wipe_free(sf->refresh_token);
	EVP_PKEY_free(sf->key);
	if (sf->have_store && sf->store.release != NULL)
		sf->store.release(sf->store.ctx);
	explicit_bzero(&sf->answer, sizeof(sf->answer));
	explicit_bzero(sf->token, sizeof(sf->token));
	free(sf);
}

void
sf_set_token_store(struct sf_session *sf,
    const struct sf_token_store *store)
{
	if (sf->have_store && sf->store.release != NULL)
		sf->store.release(sf->store.ctx);
	sf->have_store = store != NULL && store->load != NULL &&
	    store->save != NULL;
	if (sf->have_store)
		sf->store = *store;
	else
		memset(&sf->store, 0, sizeof(sf->store));
}

const struct config *
sf_session_config(const struct sf_session *sf)
{
	return sf->cfg;
}

const char *
sf_instance_url(const struct sf_session *sf)
{
	return sf->instance_url;
}

void
sf_set_refresh_hook(struct sf_session *sf,
    void (*hook)(void *ctx, const char *refresh_token), void *ctx)
{
	sf->refresh_hook = hook;
	sf->refresh_ctx = ctx;
}

bool
sf_api_usage(const struct sf_session *sf, long *used, long *max)
{
	if (!sf->have_usage)
		return false;
	*used = sf->api_used;
	*max = sf->api_max;
	return true;
}

void
sf_outcome_clear(struct sf_outcome *out)
{
	json_object_put(out->ids);
	memset(out, 0, sizeof(*out));
}

/* Free a header list whose strings may hold the token. */
static void
free_headers(struct curl_slist *list)
{
	struct curl_slist *h;

	for (h = list; h != NULL; h = h->next)
		explicit_bzero(h->data, strlen(h->data));
	curl_slist_free_all(list);
}

static struct curl_slist *
make_headers(struct sf_session *sf, const struct sf_call *call)
{
	struct curl_slist *list = NULL, *l;
	char auth[SF_TOKEN_MAX + 32];
	const char *lines[5];
	size_t i, n = 0;

	lines[n++] = "Accept: application/json";
	lines[n++] = "Sforce-Call-Options: client=wc2sf";
	lines[n++] = "Expect:";
	if (call->post)
		lines[n++] = call->form ? "Content-Type: "
		    "application/x-www-form-urlencoded" :
		    "Content-Type: application/json";
	for (i = 0; i < n; i++) {
		if ((l = curl_slist_append(list, lines[i])) == NULL)
			goto fail;
		list = l;
	}
	if (call->bearer || call->basic != NULL) {
		if (call->bearer)
			snprintf(auth, sizeof(auth), "Authorization: Bearer "
			    "%s", sf->token);
		else
			snprintf(auth, sizeof(auth), "Authorization: %s",
			    call->basic);
		l = curl_slist_append(list, auth);
		explicit_bzero(auth, sizeof(auth));
		if (l == NULL)
			goto fail;
		list = l;
	}
	return list;
fail:
	free_headers(list);
	return NULL;
}

/*
 * Perform one request on the session's handle. WC2SF_OK when an HTTP
 * answer arrived (any status, in *status, body in sf->resp);
 * WC2SF_SF_UNAVAILABLE for transport errors, timeouts and answers over
 * SF_RESPONSE_MAX, with the reason in out->message. Counts the request
 * and its time in out, and logs one debug line without values.
 */
static enum wc2sf_result
sf_http(struct sf_session *sf, const struct sf_call *call, long *status,
    struct sf_outcome *out)
{
	struct curl_slist *headers;
	char qpath[256];
	CURLcode rc;
	long t0, us;

	*status = 0;
	sf->resp.len = 0;
	sf->resp.overflow = false;
	if (sf->resp.data != NULL)
		sf->resp.data[0] = '\0';
	sf->curl_err[0] = '\0';
	if ((headers = make_headers(sf, call)) == NULL) {
		snprintf(out->message, sizeof(out->message), "out of memory");
		return WC2SF_NO_MEMORY;
	}
	curl_easy_setopt(sf->curl, CURLOPT_URL, call->url);
	curl_easy_setopt(sf->curl, CURLOPT_HTTPHEADER, headers);
	if (call->post) {
		curl_easy_setopt(sf->curl, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)strlen(call->body));
		curl_easy_setopt(sf->curl, CURLOPT_POSTFIELDS, call->body);
	} else {
		curl_easy_setopt(sf->curl, CURLOPT_HTTPGET, 1L);
	}
	t0 = now_us();
	rc = curl_easy_perform(sf->curl);
	us = now_us() - t0;
	curl_easy_setopt(sf->curl, CURLOPT_HTTPHEADER, NULL);
	free_headers(headers);
	if (rc == CURLE_OK)
		curl_easy_getinfo(sf->curl, CURLINFO_RESPONSE_CODE, status);
	out->sf_us += us;
	out->sf_ms = out->sf_us / 1000;
	out->requests++;
	out->http_status = (int)*status;
	log_debug("sf_request method=%s path=%s status=%ld ms=%ld%s%s",
	    call->post ? "POST" : "GET",
	    log_quote(qpath, sizeof(qpath), call->path), *status, us / 1000,
	    rc == CURLE_OK ? "" : " error=", rc == CURLE_OK ? "" :
	    curl_easy_strerror(rc));
	if (rc == CURLE_OK)
		return WC2SF_OK;
	out->code[0] = '\0';
	if (sf->resp.overflow)
		snprintf(out->message, sizeof(out->message), "Salesforce's "
		    "answer is larger than %u bytes", SF_RESPONSE_MAX);
	else
		snprintf(out->message, sizeof(out->message), "%s%s%s",
		    curl_easy_strerror(rc), sf->curl_err[0] != '\0' ? ": " :
		    "", sf->curl_err);
	if (rc == CURLE_SSL_CACERT_BADFILE)
		add_ca_advice(sf->cfg, out->message, sizeof(out->message));
	return WC2SF_SF_UNAVAILABLE;
}

static void
forget_token(struct sf_session *sf)
{
	explicit_bzero(sf->token, sizeof(sf->token));
	sf->instance_url[0] = '\0';
	sf->token_minted = false;
}

/* Accept a token that came from a sign-in or from the store. */
static bool
adopt_token(struct sf_session *sf, const char *token, const char *url)
{
	size_t n;

	if (token[0] == '\0' || strlen(token) >= sizeof(sf->token) ||
	    strncasecmp(url, "https://", 8) != 0 || url[8] == '\0' ||
	    strlen(url) >= sizeof(sf->instance_url))
		return false;
	snprintf(sf->token, sizeof(sf->token), "%s", token);
	snprintf(sf->instance_url, sizeof(sf->instance_url), "%s", url);
	sf->token_minted = false;
	n = strlen(sf->instance_url);
	while (n > 8 && sf->instance_url[n - 1] == '/')
		sf->instance_url[--n] = '\0';
	return true;
}

static bool
load_stored_token(struct sf_session *sf)
{
	char *token, url[SF_URL_MAX];
	bool ok = false;

	if (!sf->have_store || (token = calloc(1, SF_TOKEN_MAX)) == NULL)
		return false;
	url[0] = '\0';
	if (sf->store.load(sf->store.ctx, token, SF_TOKEN_MAX, url,
	    sizeof(url)) == 0) {
		token[SF_TOKEN_MAX - 1] = '\0';
		url[sizeof(url) - 1] = '\0';
		ok = adopt_token(sf, token, url);
	}
	explicit_bzero(token, SF_TOKEN_MAX);
	free(token);
	return ok;
}

/*
 * Keep a rotated refresh token: the store first (durably, before the
 * access token that came with it is even used, so a crash right after
 * the rotation leaves the live token on disk), then memory and the
 * hook. A failed save is tried again before the next request.
 */
static void
take_refresh_token(struct sf_session *sf, const char *fresh)
{
	char *copy;

	if (fresh[0] == '\0' || (sf->refresh_token != NULL &&
	    strcmp(sf->refresh_token, fresh) == 0))
		return;
	if (sf->have_store && sf->store.save_refresh != NULL) {
		sf->refresh_unsaved = sf->store.save_refresh(sf->store.ctx,
		    fresh) != 0;
		if (sf->refresh_unsaved)
			log_error("event=sf_refresh_rotated result=not_saved "
			    "hint=\"the journal could not be written; the "
			    "new refresh token is only in memory\"");
	}
	if ((copy = strdup(fresh)) == NULL) {
		log_warn("event=sf_refresh_rotated result=no_memory");
		return;
	}
	wipe_free(sf->refresh_token);
	sf->refresh_token = copy;
	if (sf->refresh_hook != NULL)
		sf->refresh_hook(sf->refresh_ctx, copy);
}

/* A rotation the store could not keep: try again now. */
static void
save_pending_refresh(struct sf_session *sf)
{
	if (!sf->refresh_unsaved || sf->refresh_token == NULL ||
	    !sf->have_store || sf->store.save_refresh == NULL)
		return;
	if (sf->store.save_refresh(sf->store.ctx, sf->refresh_token) == 0) {
		sf->refresh_unsaved = false;
		log_info("event=sf_refresh_rotated result=saved");
	}
}

/*
 * Before a refresh_token sign-in: the newest refresh token, which
 * another process may have rotated since this one read it.
 */
static void
load_stored_refresh(struct sf_session *sf)
{
	char *token, *copy;

	if (!sf->have_store || sf->store.load_refresh == NULL ||
	    sf->refresh_unsaved)
		return;
	if ((token = calloc(1, SF_TOKEN_MAX)) == NULL)
		return;
	if (sf->store.load_refresh(sf->store.ctx, token, SF_TOKEN_MAX) ==
	    0 && token[0] != '\0' && (sf->refresh_token == NULL ||
	    strcmp(token, sf->refresh_token) != 0) &&
	    (copy = strdup(token)) != NULL) {
		wipe_free(sf->refresh_token);
		sf->refresh_token = copy;
	}
	explicit_bzero(token, SF_TOKEN_MAX);
	free(token);
}

/*
 * The token request body for the configured flow; for jwt the key is
 * loaded once and a fresh assertion signed each time. With client_auth
 * = basic, *basic receives the header value (wiped by the caller).
 */
static enum wc2sf_result
token_form(struct sf_session *sf, const char *login, char **form,
    char *basic, size_t basiclen, struct sf_outcome *out)
{
	const struct config *cfg = sf->cfg;
	struct sf_auth_creds creds;
	enum wc2sf_result result;
	char aud[256], *assertion = NULL;
	bool use_basic = cfg->client_basic && (cfg->auth ==
	    SF_AUTH_CLIENT_CREDENTIALS || cfg->auth == SF_AUTH_REFRESH_TOKEN);

	memset(&creds, 0, sizeof(creds));
	basic[0] = '\0';
	creds.flow = cfg->auth;
	creds.client_id = cfg->client_id;
	creds.client_secret = cfg->client_secret;
	creds.username = cfg->username;
	creds.password = cfg->password;
	creds.refresh_token = sf->refresh_token;
	if (cfg->auth == SF_AUTH_JWT) {
		if (sf->key == NULL && (sf->key = sf_auth_load_key(
		    cfg->private_key, out->message,
		    sizeof(out->message))) == NULL)
			return WC2SF_SF_AUTH;
		sf_auth_audience(login, cfg->audience, aud, sizeof(aud));
		assertion = sf_auth_jwt(sf->key, cfg->client_id,
		    cfg->username, aud, time(NULL));
		if (assertion == NULL && (cfg->client_id == NULL ||
		    cfg->username == NULL)) {
			snprintf(out->message, sizeof(out->message),
			    "[salesforce] client_id and username are "
			    "required for auth = jwt");
			return WC2SF_SF_AUTH;
		}
		if (assertion == NULL) {
			snprintf(out->message, sizeof(out->message),
			    "cannot sign the JWT with [salesforce] "
			    "private_key");
			return WC2SF_SF_AUTH;
		}
		creds.assertion = assertion;
	}
	result = sf_auth_form_basic(&creds, use_basic, form, out->message,
	    sizeof(out->message));
	if (result == WC2SF_OK && use_basic && !sf_auth_basic(cfg->client_id,
	    cfg->client_secret, basic, basiclen)) {
		snprintf(out->message, sizeof(out->message), "[salesforce] "
		    "client_id and client_secret are too long for "
		    "client_auth = basic");
		result = WC2SF_SF_AUTH;
	}
	wipe_free(assertion);
	return result;
}

/* Replace every copy of secret in msg with "***" (it never should be). */
static void
redact(char *msg, const char *secret)
{
	size_t n, m;
	char *p;

	if (secret == NULL || (n = strlen(secret)) < 4)
		return;
	while ((p = strstr(msg, secret)) != NULL) {
		m = strlen(p + n);
		memcpy(p, "***", 3);
		memmove(p + 3, p + n, m + 1);
	}
}

/*
 * Ask the token endpoint for a new access token with the configured
 * flow, adopt it and save it in the store. On failure the session has
 * no token and out says why, without any credential in it. The caller
 * holds the store's sign-in lock, if it has one.
 */
static enum wc2sf_result
sign_in(struct sf_session *sf, struct sf_outcome *out)
{
	const struct config *cfg = sf->cfg;
	const char *login = cfg->login_url;
	struct sf_call call = { true, NULL, "/services/oauth2/token", NULL,
	    true, false, NULL };
	enum wc2sf_result result;
	char url[SF_URL_MAX + 32], why[640], basic[SF_TOKEN_MAX];
	char *form = NULL;
	size_t n;
	long status;
	bool rotated = false;

	forget_token(sf);
	basic[0] = '\0';
	out->code[0] = '\0';
	if (login == NULL || login[0] == '\0')
		login = SF_DEFAULT_LOGIN;
	n = strlen(login);
	while (n > 0 && login[n - 1] == '/')
		n--;
	if (strncasecmp(login, "https://", 8) != 0 || n <= 8 ||
	    n >= SF_URL_MAX) {
		snprintf(out->message, sizeof(out->message), "[salesforce] "
		    "login_url must be an https:// URL");
		result = WC2SF_SF_AUTH;
		goto out;
	}
	snprintf(url, sizeof(url), "%.*s/services/oauth2/token", (int)n,
	    login);
	if (cfg->auth == SF_AUTH_REFRESH_TOKEN)
		load_stored_refresh(sf);
	result = token_form(sf, login, &form, basic, sizeof(basic), out);
	if (result != WC2SF_OK)
		goto out;
	call.url = url;
	call.body = form;
	call.basic = basic[0] != '\0' ? basic : NULL;
	out->token_requests++;
	if ((result = sf_http(sf, &call, &status, out)) != WC2SF_OK)
		goto out;
	result = sf_auth_read_token(status, sf->resp.data, sf->resp.len,
	    &sf->answer, out);
	if (result != WC2SF_OK)
		goto out;
	rotated = sf->answer.refresh[0] != '\0' && (sf->refresh_token ==
	    NULL || strcmp(sf->answer.refresh, sf->refresh_token) != 0);
	take_refresh_token(sf, sf->answer.refresh);
	if (!adopt_token(sf, sf->answer.access,
	    sf->answer.instance_url)) {
		snprintf(out->message, sizeof(out->message), "the token "
		    "endpoint's answer is unusable");
		result = WC2SF_SF_UNAVAILABLE;
		goto out;
	}
	sf->token_minted = true;
	out->code[0] = '\0';
	out->message[0] = '\0';
	if (sf->have_store && sf->store.save(sf->store.ctx, sf->token,
	    sf->instance_url) != 0)
		log_warn("event=sf_token_save result=failed");
out:
	explicit_bzero(&sf->answer, sizeof(sf->answer));
	explicit_bzero(basic, sizeof(basic));
	wipe_free(form);
	redact(out->message, cfg->client_secret);
	redact(out->message, cfg->password);
	redact(out->message, cfg->refresh_token);
	redact(out->message, sf->refresh_token);
	if (result == WC2SF_OK)
		log_info("event=sf_sign_in flow=%s result=ok%s",
		    sf_auth_flow_name(cfg->auth), rotated ?
		    " refresh_token=rotated" : "");
	else
		log_warn("event=sf_sign_in flow=%s result=%s code=%s "
		    "message=%s", sf_auth_flow_name(cfg->auth),
		    wc2sf_result_name(result), out->code[0] != '\0' ?
		    out->code : "-", log_quote(why, sizeof(why),
		    out->message));
	return result;
}

/*
 * Sign in once for every process that shares the store. Under its lock
 * the store is read again: a token another worker saved since ours
 * failed (stale), or since this one had none (stale ""), is taken as it
 * is, and only when the store holds nothing newer does this process ask
 * the token endpoint. force always asks (wc2sf check). Without a store
 * this is sign_in().
 */
static enum wc2sf_result
shared_sign_in(struct sf_session *sf, const char *stale, bool force,
    struct sf_outcome *out)
{
	enum wc2sf_result result;
	bool locked = false;

	if (!sf->have_store)
		return sign_in(sf, out);
	if (sf->store.lock != NULL) {
		if (sf->store.lock(sf->store.ctx) != 0) {
			if (!force && load_stored_token(sf) &&
			    strcmp(sf->token, stale) != 0)
				return WC2SF_OK;
			forget_token(sf);
			out->code[0] = '\0';
			snprintf(out->message, sizeof(out->message), "another "
			    "wc2sf process is still signing in to "
			    "Salesforce; will retry");
			return WC2SF_SF_UNAVAILABLE;
		}
		locked = sf->store.unlock != NULL;
	}
	if (!force && load_stored_token(sf) && strcmp(sf->token, stale) !=
	    0) {
		log_debug("event=sf_token_shared result=reused");
		result = WC2SF_OK;
	} else {
		result = sign_in(sf, out);
	}
	if (locked)
		sf->store.unlock(sf->store.ctx);
	return result;
}

/* A token from memory, else from the store, else from a sign-in. */
static enum wc2sf_result
ensure_token(struct sf_session *sf, struct sf_outcome *out)
{
	save_pending_refresh(sf);
	if (sf->token[0] != '\0')
		return WC2SF_OK;
	if (load_stored_token(sf))
		return WC2SF_OK;
	return shared_sign_in(sf, "", false, out);
}

/*
 * After a 401: renew once for everyone. The token that failed is kept
 * aside so that a worker whose token another one already replaced only
 * reloads it.
 */
static enum wc2sf_result
renew_token(struct sf_session *sf, struct sf_outcome *out)
{
	enum wc2sf_result result;
	char *stale;

	if ((stale = strdup(sf->token)) == NULL) {
		snprintf(out->message, sizeof(out->message), "out of memory");
		return WC2SF_NO_MEMORY;
	}
	forget_token(sf);
	result = shared_sign_in(sf, stale, false, out);
	wipe_free(stale);
	return result;
}

/* 401 answers a new token cannot cure (jsforce keeps the same list). */
static const char *
hopeless_401(const struct sf_session *sf)
{
	if (sf->resp.len == 0)
		return NULL;
	if (strstr(sf->resp.data, "not valid for use with the REST API") !=
	    NULL)
		return "add the api scope to the connected app";
	if (strstr(sf->resp.data, "not attached to Agent") != NULL)
		return "check the connected app's settings; a new token "
		    "will not help";
	return NULL;
}

/*
 * A REST request on the instance with the access token. A 401 renews
 * the token and repeats the request, unless the answer says no token of
 * this connected app can work. A token another process saved (taken
 * from the store) may have died with ours, so its 401 leads to a real
 * sign-in; only a refused token this session minted itself, or a third
 * 401 in a row, needs a person. WC2SF_OK means an answer (not 401) is
 * in sf->resp.
 */
static enum wc2sf_result
sf_rest(struct sf_session *sf, bool post, const char *path,
    const char *body, long *status, struct sf_outcome *out)
{
	struct sf_call call = { post, NULL, path, body, false, true, NULL };
	enum wc2sf_result result;
	char url[SF_URL_MAX + 1024], logpath[256];
	const char *advice;
	int attempt;

	snprintf(logpath, sizeof(logpath), "%.*s", (int)strcspn(path, "?"),
	    path);
	call.path = logpath;
	for (attempt = 0;; attempt++) {
		if ((result = ensure_token(sf, out)) != WC2SF_OK)
			return result;
		if ((size_t)snprintf(url, sizeof(url), "%s%s",
		    sf->instance_url, path) >= sizeof(url)) {
			snprintf(out->message, sizeof(out->message), "request "
			    "URL too long");
			return WC2SF_INTERNAL;
		}
		call.url = url;
		if ((result = sf_http(sf, &call, status, out)) != WC2SF_OK)
			return result;
		if (*status != 401)
			return WC2SF_OK;
		sf_wire_read_error(*status, sf->resp.data, sf->resp.len, out);
		if ((advice = hopeless_401(sf)) == NULL && attempt > 0 &&
		    (sf->token_minted || attempt >= SF_RENEWALS_MAX))
			advice = "a new token was refused too; check the "
			    "integration user's API access";
		if (advice != NULL) {
			add_advice(out->message, sizeof(out->message), advice);
			return WC2SF_SF_AUTH;
		}
		log_info("event=sf_token_expired status=401");
		if ((result = renew_token(sf, out)) != WC2SF_OK)
			return result;
	}
}

/*
 * The standard price book's Id, asked for once per session (reference
 * §5.2) and kept; a missing or inactive book is rejected data.
 */
static enum wc2sf_result
find_pricebook(struct sf_session *sf, struct sf_outcome *out)
{
	static const char soql[] = "SELECT Id, IsActive FROM Pricebook2 "
	    "WHERE IsStandard = true";
	enum wc2sf_result result;
	char q[3 * sizeof(soql)], path[sizeof(q) + 64];
	long status;

	if (sf->pricebook_id[0] != '\0')
		return WC2SF_OK;
	sf_wire_pct_encode(soql, q, sizeof(q));
	snprintf(path, sizeof(path), "/services/data/v%s/query?q=%s",
	    sf->version, q);
	if ((result = sf_rest(sf, false, path, NULL, &status, out)) !=
	    WC2SF_OK)
		return result;
	return sf_wire_read_pricebook(status, sf->resp.data, sf->resp.len,
	    sf->pricebook_id, sizeof(sf->pricebook_id), out);
}

enum wc2sf_result
sf_execute(struct sf_session *sf, const struct map_plan *plan,
    struct sf_outcome *out)
{
	struct sf_pack pack;
	enum wc2sf_result result = WC2SF_OK;
	const char *body;
	char path[64];
	size_t i;
	long status;

	memset(&pack, 0, sizeof(pack));
	out->code[0] = '\0';
	out->message[0] = '\0';
	if (sf_wire_needs_pricebook(plan) &&
	    (result = find_pricebook(sf, out)) != WC2SF_OK)
		goto out;
	result = sf_wire_pack(plan, sf->version, sf->pricebook_id[0] !=
	    '\0' ? sf->pricebook_id : NULL, &pack, out->message,
	    sizeof(out->message));
	if (result != WC2SF_OK) {
		if (result != WC2SF_NO_MEMORY)
			snprintf(out->code, sizeof(out->code),
			    "WC2SF_INVALID_PLAN");
		goto out;
	}
	snprintf(path, sizeof(path), "/services/data/v%s/composite",
	    sf->version);
	for (i = 0; i < pack.n; i++) {
		if ((body = sf_wire_body(&pack.parts[i])) == NULL) {
			snprintf(out->message, sizeof(out->message), "out of "
			    "memory");
			result = WC2SF_NO_MEMORY;
			break;
		}
		result = sf_rest(sf, true, path, body, &status, out);
		if (result != WC2SF_OK)
			break;
		result = sf_wire_read_composite(&pack.parts[i], status,
		    sf->resp.data, sf->resp.len, out);
		if (result != WC2SF_OK)
			break;
	}
out:
	if (result == WC2SF_OK) {
		out->code[0] = '\0';
		out->message[0] = '\0';
	}
	sf_pack_free(&pack);
	return result;
}

enum wc2sf_result
sf_login(struct sf_session *sf, struct sf_outcome *out)
{
	save_pending_refresh(sf);
	return shared_sign_in(sf, "", true, out);
}

enum wc2sf_result
sf_get(struct sf_session *sf, const char *path,
    struct json_object **answer, struct sf_outcome *out)
{
	enum wc2sf_result result;
	char full[1024];
	long status;

	*answer = NULL;
	out->code[0] = '\0';
	out->message[0] = '\0';
	if ((size_t)snprintf(full, sizeof(full), "/services/data/v%s%s",
	    sf->version, path) >= sizeof(full)) {
		snprintf(out->message, sizeof(out->message), "request URL too "
		    "long");
		return WC2SF_INTERNAL;
	}
	if ((result = sf_rest(sf, false, full, NULL, &status, out)) !=
	    WC2SF_OK)
		return result;
	if (status == 200 && (*answer = sf_wire_parse(sf->resp.data,
	    sf->resp.len)) != NULL)
		return WC2SF_OK;
	return sf_wire_read_error(status, sf->resp.data, sf->resp.len, out);
}

enum wc2sf_result
sf_standard_pricebook(struct sf_session *sf, struct sf_outcome *out)
{
	out->code[0] = '\0';
	out->message[0] = '\0';
	sf->pricebook_id[0] = '\0';
	return find_pricebook(sf, out);
}

const char *
sf_api_version(const struct sf_session *sf)
{
	return sf->version;
}

/* "62.0" as its two numbers; false for anything else. */
static bool
parse_version(const char *s, long *major, long *minor)
{
	char *end;

	if (s == NULL || s[0] < '0' || s[0] > '9')
		return false;
	errno = 0;
	*major = strtol(s, &end, 10);
	if (errno != 0 || end[0] != '.' || end[1] < '0' || end[1] > '9')
		return false;
	*minor = strtol(end + 1, &end, 10);
	return errno == 0 && end[0] == '\0';
}

/*
 * The list is [{"label":"Winter '25","url":"/services/data/v62.0",
 * "version":"62.0"}, ...] (reference §0); entries without a readable
 * version are passed over.
 */
enum wc2sf_result
sf_version_served(struct sf_session *sf, bool *served, char *newest,
    size_t size, struct sf_outcome *out)
{
	struct sf_call call = { false, NULL, "/services/data/", NULL, false,
	    false, NULL };
	struct json_object *list = NULL, *v;
	enum wc2sf_result result;
	char url[SF_URL_MAX + 32];
	long status, want[2] = { -1, -1 }, got[2], best[2] = { -1, -1 };
	size_t i, n;

	*served = false;
	if (size > 0)
		newest[0] = '\0';
	out->code[0] = '\0';
	out->message[0] = '\0';
	if ((result = ensure_token(sf, out)) != WC2SF_OK)
		return result;
	snprintf(url, sizeof(url), "%s/services/data/", sf->instance_url);
	call.url = url;
	if ((result = sf_http(sf, &call, &status, out)) != WC2SF_OK)
		return result;
	if (status != 200 || (list = sf_wire_parse(sf->resp.data,
	    sf->resp.len)) == NULL || !json_object_is_type(list,
	    json_type_array)) {
		snprintf(out->message, sizeof(out->message), "GET "
		    "/services/data/ answered HTTP %ld without a version "
		    "list", status);
		result = WC2SF_SF_UNAVAILABLE;
		goto out;
	}
	(void)parse_version(sf->version, &want[0], &want[1]);
	n = json_object_array_length(list);
	for (i = 0; i < n; i++) {
		if (!json_object_object_get_ex(json_object_array_get_idx(list,
		    i), "version", &v) || !parse_version(
		    json_object_get_string(v), &got[0], &got[1]))
			continue;
		if (got[0] == want[0] && got[1] == want[1])
			*served = true;
		if (got[0] > best[0] || (got[0] == best[0] &&
		    got[1] > best[1])) {
			best[0] = got[0];
			best[1] = got[1];
		}
	}
	if (best[0] >= 0 && size > 0)
		snprintf(newest, size, "%ld.%ld", best[0], best[1]);
out:
	json_object_put(list);
	return result;
}
