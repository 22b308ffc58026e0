/*
 * Unit tests of the OAuth half of the Salesforce client (lib/sf_auth.c):
 * token request bodies, the JWT assertion (decoded and its RS256
 * signature verified with the public key), the audience rule, and
 * reading token endpoint answers. No network.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "log.h"
#include "salesforce.h"
#include "sf_wire.h"

static char key_path[64];
static char pub_path[64];

/* Write key (private, optionally encrypted, or public) to a temp file. */
static void
write_pem(EVP_PKEY *key, char *path, size_t size, int kind)
{
	static unsigned char pw[] = "pw";
	FILE *fp;
	int fd;

	snprintf(path, size, "/tmp/wc2sf-test-key-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	assert_non_null(fp);
	if (kind == 0)
		assert_int_equal(PEM_write_PrivateKey(fp, key, NULL, NULL, 0,
		    NULL, NULL), 1);
	else if (kind == 1)
		assert_int_equal(PEM_write_PrivateKey(fp, key,
		    EVP_aes_256_cbc(), pw, 2, NULL,
		    NULL), 1);
	else
		assert_int_equal(PEM_write_PUBKEY(fp, key), 1);
	fclose(fp);
}

static int
setup_keys(void **state)
{
	EVP_PKEY *key = EVP_RSA_gen(2048);

	if (key == NULL)
		return -1;
	write_pem(key, key_path, sizeof(key_path), 0);
	write_pem(key, pub_path, sizeof(pub_path), 2);
	EVP_PKEY_free(key);
	return 0;
}

static int
teardown_keys(void **state)
{
	unlink(key_path);
	unlink(pub_path);
	return 0;
}

/* Decode base64url without padding; returns the length or -1. */
static long
b64url_decode(const char *in, size_t len, unsigned char *out, size_t size)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	uint32_t acc = 0;
	size_t i, o = 0;
	int bits = 0;
	const char *p;

	for (i = 0; i < len; i++) {
		if (in[i] == '\0' || (p = strchr(alphabet, in[i])) == NULL)
			return -1;
		acc = acc << 6 | (uint32_t)(p - alphabet);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= size)
				return -1;
			out[o++] = (unsigned char)(acc >> bits & 0xff);
		}
	}
	return (long)o;
}

static void
test_b64url(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *out;
	} rows[] = {
		{ "", 0, "" }, { "f", 1, "Zg" }, { "fo", 2, "Zm8" },
		{ "foo", 3, "Zm9v" }, { "foob", 4, "Zm9vYg" },
		{ "\xfb\xff", 2, "-_8" }, { "\xff\xfe\xfd", 3, "__79" },
	};
	char out[16];
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_true(sf_auth_b64url((const unsigned char *)rows[i].in,
		    rows[i].len, out, sizeof(out)));
		assert_string_equal(out, rows[i].out);
	}
	assert_false(sf_auth_b64url((const unsigned char *)"foo", 3, out,
	    4));
	assert_true(sf_auth_b64url((const unsigned char *)"foo", 3, out,
	    5));
}

static void
test_audience(void **state)
{
	static const struct {
		const char *login;
		const char *aud;
		const char *want;
	} rows[] = {
		{ "https://login.salesforce.com", NULL,
		    "https://login.salesforce.com" },
		{ "https://test.salesforce.com/", NULL,
		    "https://test.salesforce.com" },
		{ "https://TEST.salesforce.com:443", NULL,
		    "https://test.salesforce.com" },
		{ "https://acme--uat.sandbox.my.salesforce.com", NULL,
		    "https://test.salesforce.com" },
		{ "https://acme.sandbox.my.salesforce.com", NULL,
		    "https://login.salesforce.com" },
		{ "https://acme.my.salesforce.com", NULL,
		    "https://login.salesforce.com" },
		{ "https://test.salesforce.com.evil.example", NULL,
		    "https://login.salesforce.com" },
		{ "https://127.0.0.1:8443", NULL,
		    "https://login.salesforce.com" },
		{ NULL, NULL, "https://login.salesforce.com" },
		{ "https://test.salesforce.com", "https://acme.my.site.com",
		    "https://acme.my.site.com" },
		{ "https://acme--uat.sandbox.my.salesforce.com", "",
		    "https://test.salesforce.com" },
	};
	char out[128];
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		sf_auth_audience(rows[i].login, rows[i].aud, out,
		    sizeof(out));
		if (strcmp(out, rows[i].want) != 0)
			fail_msg("row %zu: %s gave %s", i, rows[i].login,
			    out);
	}
}

static struct json_object *
decode_part(const char *part, size_t len)
{
	unsigned char buf[1024];
	long n;

	n = b64url_decode(part, len, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	return json_tokener_parse((char *)buf);
}

static void
test_jwt(void **state)
{
	struct json_object *header, *claims, *v;
	unsigned char sig[1024];
	EVP_PKEY *key, *pub;
	EVP_MD_CTX *md;
	const char *dot1, *dot2;
	char err[256], *jwt;
	time_t now = 1767225600;
	long siglen;
	FILE *fp;

	key = sf_auth_load_key(key_path, err, sizeof(err));
	assert_non_null(key);
	jwt = sf_auth_jwt(key, "wc2sf-test-client", "integration@example.test",
	    "https://login.salesforce.com", now);
	assert_non_null(jwt);
	assert_null(strchr(jwt, '='));
	assert_null(strchr(jwt, '+'));
	assert_null(strchr(jwt, '/'));
	dot1 = strchr(jwt, '.');
	assert_non_null(dot1);
	dot2 = strchr(dot1 + 1, '.');
	assert_non_null(dot2);
	assert_null(strchr(dot2 + 1, '.'));

	header = decode_part(jwt, (size_t)(dot1 - jwt));
	assert_non_null(header);
	assert_string_equal(json_object_to_json_string_ext(header,
	    JSON_C_TO_STRING_PLAIN), "{\"alg\":\"RS256\"}");
	claims = decode_part(dot1 + 1, (size_t)(dot2 - dot1 - 1));
	assert_non_null(claims);
	assert_true(json_object_object_get_ex(claims, "iss", &v));
	assert_string_equal(json_object_get_string(v), "wc2sf-test-client");
	assert_true(json_object_object_get_ex(claims, "sub", &v));
	assert_string_equal(json_object_get_string(v),
	    "integration@example.test");
	assert_true(json_object_object_get_ex(claims, "aud", &v));
	assert_string_equal(json_object_get_string(v),
	    "https://login.salesforce.com");
	assert_true(json_object_object_get_ex(claims, "exp", &v));
	assert_true(json_object_is_type(v, json_type_int));
	assert_int_equal(json_object_get_int64(v), (int64_t)now + 180);
	assert_int_equal(json_object_object_length(claims), 4);

	/* The signature verifies with the public key alone. */
	fp = fopen(pub_path, "r");
	assert_non_null(fp);
	pub = PEM_read_PUBKEY(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(pub);
	siglen = b64url_decode(dot2 + 1, strlen(dot2 + 1), sig, sizeof(sig));
	assert_int_equal(siglen, 256);
	md = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL,
	    pub), 1);
	assert_int_equal(EVP_DigestVerify(md, sig, (size_t)siglen,
	    (const unsigned char *)jwt, (size_t)(dot2 - jwt)), 1);
	/* ... and not for different claims. */
	EVP_MD_CTX_free(md);
	md = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL,
	    pub), 1);
	jwt[dot1 - jwt + 2] ^= 1;
	assert_int_not_equal(EVP_DigestVerify(md, sig, (size_t)siglen,
	    (const unsigned char *)jwt, (size_t)(dot2 - jwt)), 1);

	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pub);
	json_object_put(header);
	json_object_put(claims);
	free(jwt);
	EVP_PKEY_free(key);
}

static void
test_load_key_errors(void **state)
{
	char err[256], path[64];
	EVP_PKEY *ec, *locked_src;

	assert_null(sf_auth_load_key("/nonexistent/wc2sf.key", err,
	    sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/wc2sf.key"));
	assert_null(sf_auth_load_key(NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "private_key"));
	/* A public key is not a private key. */
	assert_null(sf_auth_load_key(pub_path, err, sizeof(err)));
	assert_non_null(strstr(err, "not an unencrypted PEM private key"));
	/* An EC key cannot sign RS256. */
	ec = EVP_EC_gen("P-256");
	assert_non_null(ec);
	write_pem(ec, path, sizeof(path), 0);
	assert_null(sf_auth_load_key(path, err, sizeof(err)));
	assert_non_null(strstr(err, "not an RSA key"));
	unlink(path);
	EVP_PKEY_free(ec);
	/* An encrypted key fails without asking for a passphrase. */
	locked_src = sf_auth_load_key(key_path, err, sizeof(err));
	assert_non_null(locked_src);
	write_pem(locked_src, path, sizeof(path), 1);
	assert_null(sf_auth_load_key(path, err, sizeof(err)));
	unlink(path);
	EVP_PKEY_free(locked_src);
}

static char *
form_of(const struct sf_auth_creds *c, enum wc2sf_result want, char *why,
    size_t whylen)
{
	char *form = NULL;

	assert_int_equal(sf_auth_form(c, &form, why, whylen), want);
	return form;
}

static void
test_forms(void **state)
{
	struct sf_auth_creds c = { SF_AUTH_PASSWORD, "wc2sf-test-client",
	    "s3cr&t=+ x", "integration@example.test", "pw/1a2b%TOKEN", NULL,
	    NULL };
	char why[128], *form;

	form = form_of(&c, WC2SF_OK, why, sizeof(why));
	assert_string_equal(form, "grant_type=password&client_id=wc2sf-test-"
	    "client&client_secret=s3cr%26t%3D%2B%20x&username=integration%40"
	    "example.test&password=pw%2F1a2b%25TOKEN");
	free(form);

	c.flow = SF_AUTH_CLIENT_CREDENTIALS;
	form = form_of(&c, WC2SF_OK, why, sizeof(why));
	assert_string_equal(form, "grant_type=client_credentials&client_id="
	    "wc2sf-test-client&client_secret=s3cr%26t%3D%2B%20x");
	free(form);

	c.flow = SF_AUTH_REFRESH_TOKEN;
	c.refresh_token = "5Aep861.x/y==";
	form = form_of(&c, WC2SF_OK, why, sizeof(why));
	assert_string_equal(form, "grant_type=refresh_token&refresh_token="
	    "5Aep861.x%2Fy%3D%3D&client_id=wc2sf-test-client&client_secret="
	    "s3cr%26t%3D%2B%20x");
	free(form);
	/* The secret is optional for a refresh. */
	c.client_secret = NULL;
	form = form_of(&c, WC2SF_OK, why, sizeof(why));
	assert_string_equal(form, "grant_type=refresh_token&refresh_token="
	    "5Aep861.x%2Fy%3D%3D&client_id=wc2sf-test-client");
	free(form);

	c.flow = SF_AUTH_JWT;
	c.assertion = "aaa.bbb.c-_";
	form = form_of(&c, WC2SF_OK, why, sizeof(why));
	assert_string_equal(form, "grant_type=urn%3Aietf%3Aparams%3Aoauth%3A"
	    "grant-type%3Ajwt-bearer&assertion=aaa.bbb.c-_");
	free(form);

	/* A missing setting is named, and nothing is built. */
	c.flow = SF_AUTH_PASSWORD;
	c.client_secret = "x";
	c.username = "";
	assert_null(form_of(&c, WC2SF_SF_AUTH, why, sizeof(why)));
	assert_string_equal(why, "[salesforce] username is required for "
	    "auth = password");
	c.flow = SF_AUTH_CLIENT_CREDENTIALS;
	c.client_secret = NULL;
	assert_null(form_of(&c, WC2SF_SF_AUTH, why, sizeof(why)));
	assert_non_null(strstr(why, "client_secret"));
	c.flow = SF_AUTH_REFRESH_TOKEN;
	c.refresh_token = NULL;
	assert_null(form_of(&c, WC2SF_SF_AUTH, why, sizeof(why)));
	assert_non_null(strstr(why, "refresh_token"));
}

static enum wc2sf_result
read_token(long status, const char *body, struct sf_token *tok,
    struct sf_outcome *out)
{
	memset(out, 0, sizeof(*out));
	return sf_auth_read_token(status, body, strlen(body), tok, out);
}

static void
test_token_answers(void **state)
{
	struct sf_token *tok = malloc(sizeof(*tok));
	struct sf_outcome out;

	assert_non_null(tok);
	assert_int_equal(read_token(200, "{\"access_token\":\"00DXX0000000001"
	    "!AQ0AQFakeToken\",\"instance_url\":\"https://acme.my."
	    "salesforce.com/\",\"id\":\"https://login.salesforce.com/id/00D/"
	    "005\",\"token_type\":\"Bearer\",\"issued_at\":\"1735689600000\","
	    "\"signature\":\"c2ln\",\"scope\":\"api\",\"extra\":[1]}", tok,
	    &out), WC2SF_OK);
	assert_string_equal(tok->access, "00DXX0000000001!AQ0AQFakeToken");
	assert_string_equal(tok->instance_url,
	    "https://acme.my.salesforce.com");
	assert_string_equal(tok->refresh, "");
	assert_int_equal(read_token(200, "{\"access_token\":\"t\","
	    "\"refresh_token\":\"5Aep-new\",\"instance_url\":\"https://a.b\"}",
	    tok, &out), WC2SF_OK);
	assert_string_equal(tok->refresh, "5Aep-new");

	/* Only https instances are used. */
	assert_int_equal(read_token(200, "{\"access_token\":\"t\","
	    "\"instance_url\":\"http://a.b\"}", tok, &out), WC2SF_SF_AUTH);
	assert_string_equal(tok->access, "");
	assert_int_equal(read_token(200, "{\"access_token\":\"t\"}", tok,
	    &out), WC2SF_SF_UNAVAILABLE);
	assert_int_equal(read_token(200, "<html>Login</html>", tok, &out),
	    WC2SF_SF_UNAVAILABLE);

	assert_int_equal(read_token(400, "{\"error\":\"invalid_grant\","
	    "\"error_description\":\"authentication failure\"}", tok, &out),
	    WC2SF_SF_AUTH);
	assert_string_equal(out.code, "invalid_grant");
	assert_string_equal(out.message, "invalid_grant: authentication "
	    "failure; check [salesforce] username and password (with the "
	    "security token appended)");
	assert_int_equal(read_token(400, "{\"error\":\"invalid_grant\","
	    "\"error_description\":\"audience is invalid\"}", tok, &out),
	    WC2SF_SF_AUTH);
	assert_non_null(strstr(out.message, "check [salesforce] audience"));
	assert_int_equal(read_token(400, "{\"error\":\"invalid_grant\","
	    "\"error_description\":\"expired access/refresh token\"}", tok,
	    &out), WC2SF_SF_AUTH);
	assert_non_null(strstr(out.message, "re-authorise"));
	assert_int_equal(read_token(400, "{\"error\":\"invalid_client_id\","
	    "\"error_description\":\"client identifier invalid\"}", tok,
	    &out), WC2SF_SF_AUTH);
	assert_non_null(strstr(out.message, "check [salesforce] client_id"));
	assert_int_equal(read_token(400, "{\"error\":\"invalid_client\","
	    "\"error_description\":\"invalid client credentials\"}", tok,
	    &out), WC2SF_SF_AUTH);
	assert_non_null(strstr(out.message,
	    "check [salesforce] client_secret"));
	assert_int_equal(read_token(400, "{\"error\":"
	    "\"unsupported_grant_type\",\"error_description\":\"grant type "
	    "not supported\"}", tok, &out), WC2SF_SF_AUTH);
	assert_int_equal(read_token(400, "{\"error\":\"invalid_app_access\","
	    "\"error_description\":\"user is not admin approved to access "
	    "this app\"}", tok, &out), WC2SF_SF_AUTH);
	assert_non_null(strstr(out.message, "administrator"));

	/* Transient: retry later. */
	assert_int_equal(read_token(400, "{\"error\":\"unknown_error\","
	    "\"error_description\":\"retry your request\"}", tok, &out),
	    WC2SF_SF_UNAVAILABLE);
	assert_int_equal(read_token(429, "{\"error\":\"rate_limited\"}", tok,
	    &out), WC2SF_SF_UNAVAILABLE);
	assert_int_equal(read_token(503, "<html>Service Not Available"
	    "</html>", tok, &out), WC2SF_SF_UNAVAILABLE);
	assert_int_equal(read_token(500, "", tok, &out),
	    WC2SF_SF_UNAVAILABLE);
	assert_int_equal(read_token(400, "<html></html>", tok, &out),
	    WC2SF_SF_UNAVAILABLE);
	free(tok);
}

/* Each documented failure: Salesforce's words, then what to do. */
static void
test_token_failure_messages(void **state)
{
	static const struct {
		long status;
		const char *body;
		enum wc2sf_result want;
		const char *message;
	} cases[] = {
		{ 400, "{\"error\":\"invalid_grant\",\"error_description\":"
		    "\"audience is invalid\"}", WC2SF_SF_AUTH,
		    "invalid_grant: audience is invalid; check [salesforce] "
		    "audience (sandboxes use https://test.salesforce.com)" },
		{ 400, "{\"error\":\"invalid_grant\",\"error_description\":"
		    "\"expired authorization code\"}", WC2SF_SF_AUTH,
		    "invalid_grant: expired authorization code; check this "
		    "host's clock; the assertion is valid for 3 minutes" },
		{ 400, "{\"error\":\"invalid_grant\",\"error_description\":"
		    "\"invalid assertion\"}", WC2SF_SF_AUTH,
		    "invalid_grant: invalid assertion; check that "
		    "[salesforce] private_key matches the certificate of the "
		    "connected app" },
		{ 400, "{\"error\":\"invalid_grant\",\"error_description\":"
		    "\"expired access/refresh token\"}", WC2SF_SF_AUTH,
		    "invalid_grant: expired access/refresh token; "
		    "re-authorise the connected app and put the new token in "
		    "[salesforce] refresh_token" },
		{ 400, "{\"error\":\"invalid_client\",\"error_description\":"
		    "\"invalid client credentials\"}", WC2SF_SF_AUTH,
		    "invalid_client: invalid client credentials; check "
		    "[salesforce] client_secret (the consumer secret)" },
		{ 400, "{\"error\":\"unsupported_grant_type\","
		    "\"error_description\":\"grant type not supported\"}",
		    WC2SF_SF_AUTH, "unsupported_grant_type: grant type not "
		    "supported; check [salesforce] auth, and that login_url "
		    "is the https login, test or My Domain URL" },
		{ 400, "{\"error\":\"invalid_grant\",\"error_description\":"
		    "\"request not supported on this domain\"}",
		    WC2SF_SF_AUTH, "invalid_grant: request not supported on "
		    "this domain; use the org's My Domain URL as [salesforce] "
		    "login_url" },
		{ 400, "{\"error\":\"app_not_found\"}", WC2SF_SF_AUTH,
		    "app_not_found: no description; check [salesforce] "
		    "client_id, and try the org's My Domain URL as "
		    "[salesforce] audience" },
		{ 503, "<html><head><title>Service\n  Unavailable</title>"
		    "</head><body>down</body></html>", WC2SF_SF_UNAVAILABLE,
		    "the token endpoint answered HTTP 503 with an HTML page "
		    "(\"Service Unavailable\") instead of a token; Salesforce "
		    "is unavailable, wc2sf will retry" },
		{ 502, "", WC2SF_SF_UNAVAILABLE, "the token endpoint answered "
		    "HTTP 502 with an empty body instead of a token; "
		    "Salesforce is unavailable, wc2sf will retry" },
		{ 404, "<html><body>Not here</body></html>",
		    WC2SF_SF_UNAVAILABLE, "the token endpoint answered HTTP "
		    "404 with an HTML page instead of a token; check "
		    "[salesforce] login_url (the https login, test or My "
		    "Domain URL)" },
		{ 400, "Bad request\nsecond line", WC2SF_SF_UNAVAILABLE,
		    "the token endpoint answered HTTP 400 with text (\"Bad "
		    "request\") instead of a token; check [salesforce] "
		    "login_url (the https login, test or My Domain URL)" },
		{ 401, "{\"message\":\"no\"}", WC2SF_SF_AUTH, "the token "
		    "endpoint answered HTTP 401 with JSON without an OAuth "
		    "error instead of a token; check [salesforce] login_url "
		    "(the https login, test or My Domain URL)" },
	};
	static const char unterminated[] = { '<', 't', 'i', 't', 'l', 'e',
	    '>', 'D', 'o', 'w', 'n' };
	struct sf_token *tok = malloc(sizeof(*tok));
	struct sf_outcome out;
	size_t i;

	assert_non_null(tok);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(read_token(cases[i].status, cases[i].body,
		    tok, &out), cases[i].want);
		assert_string_equal(out.message, cases[i].message);
		assert_string_equal(tok->access, "");
	}
	/* Only len bytes are read: no NUL needed at the end. */
	memset(&out, 0, sizeof(out));
	assert_int_equal(sf_auth_read_token(503, unterminated,
	    sizeof(unterminated), tok, &out), WC2SF_SF_UNAVAILABLE);
	assert_non_null(strstr(out.message, "(\"Down\")"));
	/* The scheme's case does not matter; it is stored as https://. */
	assert_int_equal(read_token(200, "{\"access_token\":\"t\","
	    "\"instance_url\":\"HTTPS://Acme.my.salesforce.com/\"}", tok,
	    &out), WC2SF_OK);
	assert_string_equal(tok->instance_url,
	    "https://Acme.my.salesforce.com");
	free(tok);
}

/* client_auth = basic: the client leaves the form for a header. */
static void
test_basic(void **state)
{
	struct sf_auth_creds c = { SF_AUTH_CLIENT_CREDENTIALS,
	    "wc2sf-test-client", "test-client-secret-9f8e7d", NULL, NULL,
	    NULL, NULL };
	char why[128], header[128], *form = NULL;

	assert_int_equal(sf_auth_form_basic(&c, true, &form, why,
	    sizeof(why)), WC2SF_OK);
	assert_string_equal(form, "grant_type=client_credentials");
	free(form);
	c.flow = SF_AUTH_REFRESH_TOKEN;
	c.refresh_token = "5Aep/1";
	assert_int_equal(sf_auth_form_basic(&c, true, &form, why,
	    sizeof(why)), WC2SF_OK);
	assert_string_equal(form, "grant_type=refresh_token&refresh_token="
	    "5Aep%2F1");
	free(form);
	/* The password flow keeps its client in the form. */
	c.flow = SF_AUTH_PASSWORD;
	c.username = "u";
	c.password = "p";
	assert_int_equal(sf_auth_form_basic(&c, true, &form, why,
	    sizeof(why)), WC2SF_OK);
	assert_non_null(strstr(form, "client_secret=test-client"));
	free(form);
	/* Basic needs the secret even where the body would not. */
	c.flow = SF_AUTH_REFRESH_TOKEN;
	c.client_secret = NULL;
	assert_int_equal(sf_auth_form_basic(&c, true, &form, why,
	    sizeof(why)), WC2SF_SF_AUTH);
	assert_null(form);
	assert_string_equal(why, "[salesforce] client_secret is required "
	    "for client_auth = basic");

	assert_true(sf_auth_basic("wc2sf-test-client",
	    "test-client-secret-9f8e7d", header, sizeof(header)));
	/* base64("wc2sf-test-client:test-client-secret-9f8e7d") */
	assert_string_equal(header, "Basic d2Myc2YtdGVzdC1jbGllbnQ6dGVzdC1j"
	    "bGllbnQtc2VjcmV0LTlmOGU3ZA==");
	assert_false(sf_auth_basic("id", "secret", header, 12));
	assert_false(sf_auth_basic(NULL, "secret", header, sizeof(header)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64url),
		cmocka_unit_test(test_audience),
		cmocka_unit_test(test_jwt),
		cmocka_unit_test(test_load_key_errors),
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_token_answers),
		cmocka_unit_test(test_token_failure_messages),
		cmocka_unit_test(test_basic),
	};

	log_init("test_sf_auth", LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, setup_keys, teardown_keys);
}
