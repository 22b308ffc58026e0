#include "sf_wire.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/err.h>
#include <openssl/pem.h>

/* Seconds a JWT assertion stays valid (reference §1.3: "3 minutes"). */
#define SF_JWT_LIFETIME	180

#define SF_AUD_PRODUCTION	"https://login.salesforce.com"
#define SF_AUD_SANDBOX		"https://test.salesforce.com"

static const char *const flow_names[] = {
	[SF_AUTH_PASSWORD] = "password",
	[SF_AUTH_CLIENT_CREDENTIALS] = "client_credentials",
	[SF_AUTH_JWT] = "jwt",
	[SF_AUTH_REFRESH_TOKEN] = "refresh_token"
};

/* One name=value pair of a token request, and the setting behind it. */
struct form_field {
	const char *name;
	const char *value;
	const char *setting;		/* NULL: optional or constant */
	bool optional;
	bool client;			/* client_id or client_secret */
};

/*
 * Fill fields for the flow (reference §1.3-§1.6). Returns the count, or
 * 0 for a flow this build does not know.
 */
static size_t
form_fields(const struct sf_auth_creds *c, struct form_field *f)
{
	size_t n = 0;

	switch (c->flow) {
	case SF_AUTH_PASSWORD:
		f[n++] = (struct form_field){ "grant_type", "password", NULL,
		    false, false };
		f[n++] = (struct form_field){ "client_id", c->client_id,
		    "client_id", false, false };
		f[n++] = (struct form_field){ "client_secret",
		    c->client_secret, "client_secret", false, false };
		f[n++] = (struct form_field){ "username", c->username,
		    "username", false, false };
		f[n++] = (struct form_field){ "password", c->password,
		    "password", false, false };
		break;
	case SF_AUTH_CLIENT_CREDENTIALS:
		f[n++] = (struct form_field){ "grant_type",
		    "client_credentials", NULL, false, false };
		f[n++] = (struct form_field){ "client_id", c->client_id,
		    "client_id", false, true };
		f[n++] = (struct form_field){ "client_secret",
		    c->client_secret, "client_secret", false, true };
		break;
	case SF_AUTH_REFRESH_TOKEN:
		f[n++] = (struct form_field){ "grant_type", "refresh_token",
		    NULL, false, false };
		f[n++] = (struct form_field){ "refresh_token",
		    c->refresh_token, "refresh_token", false, false };
		f[n++] = (struct form_field){ "client_id", c->client_id,
		    "client_id", false, true };
		f[n++] = (struct form_field){ "client_secret",
		    c->client_secret, NULL, true, true };
		break;
	case SF_AUTH_JWT:
		f[n++] = (struct form_field){ "grant_type",
		    "urn:ietf:params:oauth:grant-type:jwt-bearer", NULL,
		    false, false };
		f[n++] = (struct form_field){ "assertion", c->assertion,
		    "private_key", false, false };
		break;
	}
	return n;
}

enum wc2sf_result
sf_auth_form(const struct sf_auth_creds *creds, char **form, char *why,
    size_t whylen)
{
	return sf_auth_form_basic(creds, false, form, why, whylen);
}

/*
 * The form of sf_auth_form; with basic, the client id and secret of the
 * client_credentials and refresh_token flows are checked as usual but
 * left out, for sf_auth_basic() to carry in a header.
 */
enum wc2sf_result
sf_auth_form_basic(const struct sf_auth_creds *creds, bool basic,
    char **form, char *why, size_t whylen)
{
	struct form_field f[6];
	char *enc[6] = { NULL };
	enum wc2sf_result result = WC2SF_NO_MEMORY;
	size_t n, i, total = 0, o = 0;
	char *buf = NULL;

	*form = NULL;
	snprintf(why, whylen, "%s", "");
	if ((n = form_fields(creds, f)) == 0) {
		snprintf(why, whylen, "unknown [salesforce] auth flow");
		return WC2SF_SF_AUTH;
	}
	for (i = 0; i < n; i++) {
		if (f[i].value != NULL && f[i].value[0] != '\0')
			continue;
		if (f[i].optional)
			continue;
		snprintf(why, whylen, "[salesforce] %s is required for auth "
		    "= %s", f[i].setting, flow_names[creds->flow]);
		return WC2SF_SF_AUTH;
	}
	if (basic && (creds->flow == SF_AUTH_CLIENT_CREDENTIALS ||
	    creds->flow == SF_AUTH_REFRESH_TOKEN) &&
	    (creds->client_secret == NULL || creds->client_secret[0] ==
	    '\0')) {
		snprintf(why, whylen, "[salesforce] client_secret is required "
		    "for client_auth = basic");
		return WC2SF_SF_AUTH;
	}
	for (i = 0; i < n; i++) {
		if (f[i].value == NULL || f[i].value[0] == '\0')
			continue;
		if (basic && f[i].client)
			continue;
		if ((enc[i] = curl_easy_escape(NULL, f[i].value, 0)) == NULL)
			goto out;
		total += strlen(f[i].name) + strlen(enc[i]) + 2;
	}
	if ((buf = malloc(total + 1)) == NULL)
		goto out;
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (enc[i] == NULL)
			continue;
		o += (size_t)snprintf(buf + o, total + 1 - o, "%s%s=%s",
		    o > 0 ? "&" : "", f[i].name, enc[i]);
	}
	*form = buf;
	result = WC2SF_OK;
out:
	for (i = 0; i < n; i++) {
		if (enc[i] != NULL) {
			explicit_bzero(enc[i], strlen(enc[i]));
			curl_free(enc[i]);
		}
	}
	if (result != WC2SF_OK)
		snprintf(why, whylen, "out of memory");
	return result;
}

bool
sf_auth_basic(const char *client_id, const char *client_secret, char *out,
    size_t size)
{
	static const char lead[] = "Basic ";
	size_t n, need;
	char *pair;
	bool ok = false;

	if (client_id == NULL || client_secret == NULL || size == 0)
		return false;
	n = strlen(client_id) + 1 + strlen(client_secret);
	need = sizeof(lead) - 1 + (n + 2) / 3 * 4 + 1;
	if (n > 4096 || need > size || (pair = malloc(n + 1)) == NULL)
		return false;
	memcpy(pair, client_id, strlen(client_id));
	pair[strlen(client_id)] = ':';
	memcpy(pair + strlen(client_id) + 1, client_secret,
	    strlen(client_secret) + 1);
	memcpy(out, lead, sizeof(lead) - 1);
	if (EVP_EncodeBlock((unsigned char *)out + sizeof(lead) - 1,
	    (const unsigned char *)pair, (int)n) > 0)
		ok = true;
	explicit_bzero(pair, n);
	free(pair);
	if (!ok)
		explicit_bzero(out, size);
	return ok;
}

/*
 * The host part of an URL, lower-cased into out: "https://A.b:443/x"
 * gives "a.b". Empty when there is none.
 */
static void
url_host(const char *url, char *out, size_t size)
{
	const char *p, *end;
	size_t i, n;

	out[0] = '\0';
	if (url == NULL)
		return;
	p = strstr(url, "://");
	p = p != NULL ? p + 3 : url;
	end = p + strcspn(p, "/:?#");
	n = (size_t)(end - p);
	if (n >= size)
		return;
	for (i = 0; i < n; i++)
		out[i] = (char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] + 32 :
		    p[i]);
	out[n] = '\0';
}

static bool
ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);

	return n >= m && strcmp(s + n - m, tail) == 0;
}

void
sf_auth_audience(const char *login_url, const char *audience, char *out,
    size_t size)
{
	char host[256];
	bool sandbox;

	if (audience != NULL && audience[0] != '\0') {
		snprintf(out, size, "%s", audience);
		return;
	}
	url_host(login_url, host, sizeof(host));
	sandbox = strcmp(host, "test.salesforce.com") == 0 ||
	    (strstr(host, "--") != NULL &&
	    ends_with(host, ".sandbox.my.salesforce.com"));
	snprintf(out, size, "%s", sandbox ? SF_AUD_SANDBOX :
	    SF_AUD_PRODUCTION);
}

/* Refuse to prompt on a terminal for the passphrase of a locked key. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return -1;
}

EVP_PKEY *
sf_auth_load_key(const char *path, char *err, size_t errlen)
{
	EVP_PKEY *key = NULL;
	FILE *fp;

	if (path == NULL || path[0] == '\0') {
		snprintf(err, errlen, "[salesforce] private_key is required "
		    "for auth = jwt");
		return NULL;
	}
	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "cannot open [salesforce] private_key "
		    "%s: %s", path, strerror(errno));
		return NULL;
	}
	key = PEM_read_PrivateKey(fp, NULL, no_passphrase, NULL);
	fclose(fp);
	ERR_clear_error();
	if (key == NULL) {
		snprintf(err, errlen, "[salesforce] private_key %s is not an "
		    "unencrypted PEM private key", path);
		return NULL;
	}
	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
		EVP_PKEY_free(key);
		snprintf(err, errlen, "[salesforce] private_key %s is not an "
		    "RSA key (the JWT flow signs RS256)", path);
		return NULL;
	}
	return key;
}

bool
sf_auth_b64url(const unsigned char *in, size_t len, char *out,
    size_t size)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t i, o = 0, need;
	uint32_t v;

	need = len / 3 * 4 + (len % 3 == 0 ? 0 : len % 3 + 1);
	if (size == 0 || need >= size)
		return false;
	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];
		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = alphabet[v >> 6 & 63];
		out[o++] = alphabet[v & 63];
	}
	if (len - i == 1) {
		v = (uint32_t)in[i] << 16;
		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
	} else if (len - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = alphabet[v >> 6 & 63];
	}
	out[o] = '\0';
	return true;
}

/* The claims as compact JSON, strings escaped by json-c. */
static char *
jwt_claims(const char *iss, const char *sub, const char *aud, time_t now)
{
	const char *keys[] = { "iss", "sub", "aud" };
	const char *values[] = { iss, sub, aud };
	struct json_object *o, *v;
	const char *json;
	char *text = NULL;
	size_t i;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	for (i = 0; i < 4; i++) {
		v = i < 3 ? json_object_new_string(values[i]) :
		    json_object_new_int64((int64_t)now + SF_JWT_LIFETIME);
		if (v == NULL || json_object_object_add(o, i < 3 ? keys[i] :
		    "exp", v) != 0) {
			json_object_put(v);
			goto out;
		}
	}
	json = json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (json != NULL)
		text = strdup(json);
out:
	json_object_put(o);
	return text;
}

char *
sf_auth_jwt(EVP_PKEY *key, const char *iss, const char *sub,
    const char *aud, time_t now)
{
	static const char header[] = "{\"alg\":\"RS256\"}";
	EVP_MD_CTX *md = NULL;
	unsigned char *sig = NULL;
	char *claims = NULL, *out = NULL;
	size_t siglen = 0, len, size;
	bool ok = false;

	if (key == NULL || iss == NULL || sub == NULL || aud == NULL)
		return NULL;
	if ((claims = jwt_claims(iss, sub, aud, now)) == NULL)
		goto out;
	size = (sizeof(header) + strlen(claims)) * 4 / 3 + 8 +
	    (size_t)EVP_PKEY_get_size(key) * 4 / 3 + 8;
	if ((out = malloc(size)) == NULL)
		goto out;
	if (!sf_auth_b64url((const unsigned char *)header,
	    sizeof(header) - 1, out, size))
		goto out;
	len = strlen(out);
	out[len++] = '.';
	if (!sf_auth_b64url((const unsigned char *)claims, strlen(claims),
	    out + len, size - len))
		goto out;
	len = strlen(out);
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(md, NULL, &siglen, (unsigned char *)out,
	    len) != 1 || (sig = malloc(siglen)) == NULL ||
	    EVP_DigestSign(md, sig, &siglen, (unsigned char *)out,
	    len) != 1)
		goto out;
	out[len++] = '.';
	ok = sf_auth_b64url(sig, siglen, out + len, size - len);
out:
	if (!ok) {
		ERR_clear_error();
		free(out);
		out = NULL;
	}
	EVP_MD_CTX_free(md);
	free(sig);
	free(claims);
	return out;
}

/*
 * What a person should do about each token endpoint error (reference
 * §1.3-§1.7). The first row whose error matches and whose hint (if any)
 * occurs in error_description wins.
 */
static const struct {
	const char *error;
	const char *hint;
	const char *advice;
} token_advice[] = {
	{ "invalid_grant", "audience", "check [salesforce] audience "
	    "(sandboxes use https://test.salesforce.com)" },
	{ "invalid_grant", "approved", "pre-authorise the connected app "
	    "for this user (admin approved users) and check the audience" },
	{ "invalid_grant", "assertion", "check that [salesforce] "
	    "private_key matches the certificate of the connected app" },
	{ "invalid_grant", "expired authorization", "check this host's "
	    "clock; the assertion is valid for 3 minutes" },
	{ "invalid_grant", "refresh token", "re-authorise the connected "
	    "app and put the new token in [salesforce] refresh_token" },
	{ "invalid_grant", "domain", "use the org's My Domain URL as "
	    "[salesforce] login_url" },
	{ "invalid_grant", "client credentials user", "set a Run As user "
	    "for the client credentials flow in the connected app" },
	{ "invalid_grant", "authentication failure", "check [salesforce] "
	    "username and password (with the security token appended)" },
	{ "invalid_grant", NULL, "check the credentials or re-authorise "
	    "the connected app" },
	{ "invalid_client_id", NULL, "check [salesforce] client_id (the "
	    "consumer key); a new connected app can take minutes to work" },
	{ "invalid_client", NULL, "check [salesforce] client_secret (the "
	    "consumer secret)" },
	{ "unsupported_grant_type", NULL, "check [salesforce] auth, and "
	    "that login_url is the https login, test or My Domain URL" },
	{ "invalid_app_access", NULL, "have an administrator approve this "
	    "user for the connected app" },
	{ "app_not_found", NULL, "check [salesforce] client_id, and try "
	    "the org's My Domain URL as [salesforce] audience" },
	{ NULL, NULL, "check the [salesforce] settings" }
};

static const char *
advice_for(const char *error, const char *desc)
{
	size_t i;

	for (i = 0; token_advice[i].error != NULL; i++) {
		if (strcmp(error, token_advice[i].error) != 0)
			continue;
		if (token_advice[i].hint == NULL || (desc != NULL &&
		    strcasestr(desc, token_advice[i].hint) != NULL))
			return token_advice[i].advice;
	}
	return token_advice[i].advice;
}

/* Copy a string member of o into buf; false if absent or too long. */
static bool
take_str(struct json_object *o, const char *key, char *buf, size_t size)
{
	struct json_object *v;
	const char *s;

	buf[0] = '\0';
	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return false;
	s = json_object_get_string(v);
	if (strlen(s) >= size)
		return false;
	memcpy(buf, s, strlen(s) + 1);
	return true;
}

/* The first match of word in p[0..n), ignoring case; NULL if none. */
static const char *
find_nocase(const char *p, size_t n, const char *word)
{
	size_t i, m = strlen(word);

	for (i = 0; i + m <= n; i++)
		if (strncasecmp(p + i, word, m) == 0)
			return p + i;
	return NULL;
}

/*
 * The words of an answer that is not OAuth JSON, for a person: the
 * <title> of an HTML page (what Salesforce's edge says: "Service
 * Unavailable", "Maintenance"), else the first line of plain text, as
 * printable ASCII with runs of space collapsed. "" when there is none.
 * body need not end with a NUL: only its len bytes are read.
 */
static void
page_words(const char *body, size_t len, char *out, size_t size)
{
	const char *p, *end, *t;
	size_t o = 0;
	bool space = false, title = false;

	out[0] = '\0';
	if (body == NULL || len == 0 || size < 2)
		return;
	p = body;
	end = body + len;
	if ((t = find_nocase(body, len, "<title")) != NULL &&
	    (t = memchr(t, '>', (size_t)(end - t))) != NULL) {
		p = t + 1;
		if ((t = find_nocase(p, (size_t)(end - p), "</title")) != NULL)
			end = t;
		title = true;
	} else if (memchr(body, '<', len) != NULL) {
		return;		/* markup without a title: nothing readable */
	}
	for (; p < end && o + 1 < size && o < 100; p++) {
		if (*p == '\n' && o > 0 && !title)
			break;		/* plain text: its first line */
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f) {
			space = o > 0;
			continue;
		}
		if (space && o + 2 < size)
			out[o++] = ' ';
		space = false;
		out[o++] = *p;
	}
	out[o] = '\0';
}

/*
 * An answer without an OAuth error: an HTML page from Salesforce's edge
 * during maintenance (5xx), or a wrong login_url (404, 200 page).
 */
static enum wc2sf_result
read_not_oauth(long status, const char *body, size_t len, bool json,
    struct sf_outcome *out)
{
	const char *what;
	char words[112];
	bool retry = status >= 500 || status == 429 || status == 0;

	snprintf(out->code, sizeof(out->code), "%s", "");
	page_words(json ? NULL : body, len, words, sizeof(words));
	if (json)
		what = "JSON without an OAuth error";
	else if (len == 0)
		what = "an empty body";
	else if (body != NULL && memchr(body, '<', len) != NULL)
		what = "an HTML page";
	else
		what = "text";
	snprintf(out->message, sizeof(out->message), "the token endpoint "
	    "answered HTTP %ld with %s%s%s%s instead of a token; %s", status,
	    what, words[0] != '\0' ? " (\"" : "", words,
	    words[0] != '\0' ? "\")" : "", retry ? "Salesforce is "
	    "unavailable, wc2sf will retry" : "check [salesforce] login_url "
	    "(the https login, test or My Domain URL)");
	/* sf_wire.h: HTML or nothing is unavailable, whatever the status. */
	return json && !retry && status != 200 ? WC2SF_SF_AUTH :
	    WC2SF_SF_UNAVAILABLE;
}

static enum wc2sf_result
read_token_error(long status, struct json_object *root, const char *body,
    size_t len, struct sf_outcome *out)
{
	struct json_object *v;
	char error[64], desc[256];

	if (root == NULL || !json_object_is_type(root, json_type_object) ||
	    !take_str(root, "error", error, sizeof(error)))
		return read_not_oauth(status, body, len, root != NULL, out);
	if (json_object_object_get_ex(root, "error_description", &v) &&
	    json_object_is_type(v, json_type_string))
		snprintf(desc, sizeof(desc), "%s", json_object_get_string(v));
	else
		snprintf(desc, sizeof(desc), "no description");
	sf_wire_utf8_cut(desc);
	snprintf(out->code, sizeof(out->code), "%s", error);
	if (status >= 500 || status == 429 ||
	    strcmp(error, "unknown_error") == 0) {
		snprintf(out->message, sizeof(out->message), "%s: %s (HTTP "
		    "%ld); will retry", error, desc, status);
		return WC2SF_SF_UNAVAILABLE;
	}
	snprintf(out->message, sizeof(out->message), "%s: %s; %s", error,
	    desc, advice_for(error, desc));
	return WC2SF_SF_AUTH;
}

enum wc2sf_result
sf_auth_read_token(long status, const char *body, size_t len,
    struct sf_token *tok, struct sf_outcome *out)
{
	struct json_object *root;
	enum wc2sf_result result = WC2SF_SF_UNAVAILABLE;
	size_t n;

	memset(tok, 0, sizeof(*tok));
	root = sf_wire_parse(body, len);
	if (status != 200 || root == NULL ||
	    !json_object_is_type(root, json_type_object)) {
		if (status == 200)
			result = read_not_oauth(status, body, len, root !=
			    NULL, out);
		else
			result = read_token_error(status, root, body, len,
			    out);
		goto out;
	}
	if (!take_str(root, "access_token", tok->access,
	    sizeof(tok->access)) || tok->access[0] == '\0' ||
	    !take_str(root, "instance_url", tok->instance_url,
	    sizeof(tok->instance_url))) {
		snprintf(out->message, sizeof(out->message), "the token "
		    "endpoint's answer lacks access_token or instance_url");
		goto out;
	}
	if (strncasecmp(tok->instance_url, "https://", 8) != 0 ||
	    tok->instance_url[8] == '\0') {
		snprintf(out->message, sizeof(out->message), "Salesforce "
		    "gave an instance_url that is not https; check "
		    "login_url");
		result = WC2SF_SF_AUTH;
		goto out;
	}
	memcpy(tok->instance_url, "https://", 8);	/* "HTTPS://" too */
	n = strlen(tok->instance_url);
	while (n > 8 && tok->instance_url[n - 1] == '/')
		tok->instance_url[--n] = '\0';
	take_str(root, "refresh_token", tok->refresh, sizeof(tok->refresh));
	result = WC2SF_OK;
out:
	if (result != WC2SF_OK)
		explicit_bzero(tok, sizeof(*tok));
	json_object_put(root);
	return result;
}

const char *
sf_auth_flow_name(enum sf_auth flow)
{
	if ((size_t)flow >= sizeof(flow_names) / sizeof(flow_names[0]))
		return "unknown";
	return flow_names[flow];
}
