/*
 * signature.c against the hand-made wire examples (SIGNATURES.tsv, both
 * secrets), every signed delivery of the real WooCommerce 10.0.2 capture,
 * published HMAC vectors, and WordPress's secret decoding rules.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "signature.h"

#define REAL_SECRET	"test-secret-123"
#define EXAMPLE_SECRET	"test_secret_123"

static const char *
shared_dir(void)
{
	const char *d = getenv("WC2SF_SHARED");

	return d != NULL && d[0] != '\0' ? d : "tests";
}

/* The whole file, byte for byte, NUL-terminated for convenience. */
static unsigned char *
slurp(const char *path, size_t *len)
{
	unsigned char *buf = NULL;
	long size;
	FILE *f;

	f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)size + 1);
		if (buf != NULL &&
		    fread(buf, 1, (size_t)size, f) != (size_t)size) {
			free(buf);
			buf = NULL;
		}
		if (buf != NULL) {
			buf[size] = '\0';
			*len = (size_t)size;
		}
	}
	fclose(f);
	return buf;
}

static bool
verify_str(const char *key, const unsigned char *body, size_t len,
    const char *header)
{
	return signature_verify(key, key == NULL ? 0 : strlen(key), body, len,
	    header);
}

static void
test_examples_tsv(void **state)
{
	char path[4096], line[1024], sig[SIGNATURE_B64_SIZE];
	char *file, *bytes, *with_secret, *empty_secret, *save;
	unsigned char *body;
	size_t len;
	int rows = 0;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/fixtures/examples/wire/"
	    "SIGNATURES.tsv", shared_dir());
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		line[strcspn(line, "\r\n")] = '\0';
		file = strtok_r(line, "\t", &save);
		bytes = strtok_r(NULL, "\t", &save);
		with_secret = strtok_r(NULL, "\t", &save);
		empty_secret = strtok_r(NULL, "\t", &save);
		assert_non_null(empty_secret);
		snprintf(path, sizeof(path), "%s/fixtures/examples/wire/%s",
		    shared_dir(), file);
		body = slurp(path, &len);
		assert_non_null(body);
		assert_int_equal(len, strtoul(bytes, NULL, 10));

		signature_compute(EXAMPLE_SECRET, strlen(EXAMPLE_SECRET),
		    body, len, sig);
		assert_string_equal(sig, with_secret);
		assert_true(verify_str(EXAMPLE_SECRET, body, len,
		    with_secret));
		/* The empty secret is a zero-length key, not "no check". */
		signature_compute("", 0, body, len, sig);
		assert_string_equal(sig, empty_secret);
		assert_true(verify_str("", body, len, empty_secret));
		assert_true(signature_verify(NULL, 0, body, len,
		    empty_secret));
		assert_false(verify_str("", body, len, with_secret));
		assert_false(verify_str(EXAMPLE_SECRET, body, len,
		    empty_secret));
		free(body);
		rows++;
	}
	fclose(f);
	assert_int_equal(rows, 14);
}

/* The X-WC-Webhook-Signature value of a captured .headers file. */
static bool
find_signature(const char *headers, char *out, size_t outsize)
{
	static const char name[] = "X-WC-Webhook-Signature:";
	const char *p = headers, *end;
	size_t n;

	while ((end = strstr(p, "\r\n")) != NULL && end != p) {
		if (strncasecmp(p, name, sizeof(name) - 1) == 0) {
			p += sizeof(name) - 1;
			while (*p == ' ')
				p++;
			n = (size_t)(end - p);
			assert_true(n < outsize);
			memcpy(out, p, n);
			out[n] = '\0';
			return true;
		}
		p = end + 2;
	}
	return false;
}

/* Every signed real delivery verifies; any one-byte change does not. */
static void
test_real_captures(void **state)
{
	char dir[4096], path[4400], sig[128];
	size_t hlen, blen, pos[3], i, nlen;
	unsigned char *headers, *body;
	int signed_n = 0, unsigned_n = 0;
	struct dirent *de;
	DIR *d;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/fixtures/woocommerce-10.0.2",
	    shared_dir());
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		nlen = strlen(de->d_name);
		if (nlen < 9 || strcmp(de->d_name + nlen - 8, ".headers"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		headers = slurp(path, &hlen);
		assert_non_null(headers);
		memcpy(path + strlen(path) - 8, ".body\0", 6);
		body = slurp(path, &blen);
		assert_non_null(body);
		if (!find_signature((char *)headers, sig, sizeof(sig))) {
			unsigned_n++;
			free(headers);
			free(body);
			continue;
		}
		signed_n++;
		if (!verify_str(REAL_SECRET, body, blen, sig))
			fail_msg("%s does not verify", de->d_name);
		pos[0] = 0;
		pos[1] = blen / 2;
		pos[2] = blen - 1;
		for (i = 0; i < 3; i++) {
			body[pos[i]] ^= 0x01;
			if (verify_str(REAL_SECRET, body, blen, sig))
				fail_msg("%s verifies with byte %zu changed",
				    de->d_name, pos[i]);
			body[pos[i]] ^= 0x01;
		}
		/* One byte less, too: the length is part of the message. */
		assert_false(verify_str(REAL_SECRET, body, blen - 1, sig));
		sig[10] = sig[10] == 'A' ? 'B' : 'A';
		assert_false(verify_str(REAL_SECRET, body, blen, sig));
		assert_false(verify_str("test-secret-124", body, blen, sig));
		free(headers);
		free(body);
	}
	closedir(d);
	assert_int_equal(signed_n, 105);
	assert_int_equal(unsigned_n, 15);
}

/* RFC 4231 test case 2, and the empty key over the empty message. */
static void
test_known_vectors(void **state)
{
	static const char msg[] = "what do ya want for nothing?";
	char sig[SIGNATURE_B64_SIZE];

	(void)state;
	signature_compute("Jefe", 4, (const unsigned char *)msg,
	    strlen(msg), sig);
	assert_string_equal(sig,
	    "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=");
	signature_compute("", 0, NULL, 0, sig);
	assert_string_equal(sig,
	    "thNnmggU2ex3L5XXeMNfxf8Wl8STcVZTxscSFEKSxa0=");
	signature_compute(NULL, 0, (const unsigned char *)"", 0, sig);
	assert_string_equal(sig,
	    "thNnmggU2ex3L5XXeMNfxf8Wl8STcVZTxscSFEKSxa0=");
	assert_int_equal(strlen(sig), SIGNATURE_B64_SIZE - 1);
}

static void
test_decode_secret(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "a&amp;b", "a&b" },
		{ "&amp;amp;", "&amp;" },	/* once, not twice */
		{ "&#039;", "'" },
		{ "&#39;", "'" },
		{ "&#0039;", "'" },
		{ "&#x27;", "'" },
		{ "&#X27;", "'" },		/* preg /i in WordPress */
		{ "&#x0027;", "'" },
		{ "&quot;&#34;&#034;&#x22;", "\"\"\"\"" },
		{ "&lt;&#60;&#060;&gt;&#62;&#062;", "<<<>>>" },
		{ "&#38;&#038;&#x26;", "&&&" },
		{ "&AMP;&Lt;&QUOT;", "&AMP;&Lt;&QUOT;" }, /* names: case */
		{ "&apos;&nbsp;&ndash;", "&apos;&nbsp;&ndash;" },
		{ "&#x3c;&#x3e;", "&#x3c;&#x3e;" },	/* no hex < > */
		{ "&#40;&#x28;&#3;", "&#40;&#x28;&#3;" },
		{ "&amp", "&amp" },
		{ "&#;&#x;&;", "&#;&#x;&;" },
		{ "&&amp;;", "&&;" },
		{ "&#0039", "&#0039" },
		{ "", "" },
		{ "&", "&" },
		{ "no entities", "no entities" },
		{ "x&lt;y&gt;z&#039;s", "x<y>z's" },
	};
	char out[64];
	size_t i;
	long n;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = signature_decode_secret(cases[i].in, out, sizeof(out));
		assert_int_equal(n, (long)strlen(cases[i].out));
		if (strcmp(out, cases[i].out) != 0)
			fail_msg("\"%s\" gave \"%s\", expected \"%s\"",
			    cases[i].in, out, cases[i].out);
	}
	assert_int_equal(signature_decode_secret(NULL, out, sizeof(out)), 0);
	assert_string_equal(out, "");
}

static void
test_decode_bounds(void **state)
{
	char out[8];

	(void)state;
	assert_int_equal(signature_decode_secret("abcdefg", out, 8), 7);
	assert_string_equal(out, "abcdefg");
	assert_int_equal(signature_decode_secret("abcdefgh", out, 8), -1);
	assert_int_equal(out[0], '\0');
	/* The decoded length counts, not the encoded one. */
	assert_int_equal(signature_decode_secret("&amp;&amp;&amp;&amp;",
	    out, 5), 4);
	assert_string_equal(out, "&&&&");
	assert_int_equal(signature_decode_secret("x", out, 1), -1);
	assert_int_equal(signature_decode_secret("x", out, 0), -1);
	assert_int_equal(signature_decode_secret("x", NULL, 8), -1);
}

/* A WooCommerce secret saved as HTML text keys the HMAC decoded. */
static void
test_decoded_key(void **state)
{
	static const unsigned char body[] = "{\"id\":42}";
	char key[64];
	long n;

	(void)state;
	n = signature_decode_secret("a&amp;b&lt;c&gt;&quot;d&#039;e", key,
	    sizeof(key));
	assert_int_equal(n, 10);
	assert_true(signature_verify(key, (size_t)n, body, 9,
	    "vSVw1W6aLPabLMMcagV3HgSkW8YRXw2GeeibQ/03CrI="));
	assert_false(verify_str("a&amp;b&lt;c&gt;&quot;d&#039;e", body, 9,
	    "vSVw1W6aLPabLMMcagV3HgSkW8YRXw2GeeibQ/03CrI="));
}

static void
test_bad_headers(void **state)
{
	static const unsigned char body[] = "{\"id\":42}";
	static const char good[] =
	    "cEuDmqAf+nSc19HpU+sJA7GrU2cBbt/KlBHDZgOfhEA=";
	char h[128];

	(void)state;
	assert_true(verify_str(EXAMPLE_SECRET, body, 9, good));
	assert_false(verify_str(EXAMPLE_SECRET, body, 9, NULL));
	assert_false(verify_str(EXAMPLE_SECRET, body, 9, ""));
	/* 43 characters: the right prefix, one short. */
	snprintf(h, sizeof(h), "%.43s", good);
	assert_false(verify_str(EXAMPLE_SECRET, body, 9, h));
	/* 45 and more: the right signature with something after it. */
	snprintf(h, sizeof(h), "%s=", good);
	assert_false(verify_str(EXAMPLE_SECRET, body, 9, h));
	snprintf(h, sizeof(h), "%s ", good);
	assert_false(verify_str(EXAMPLE_SECRET, body, 9, h));
	snprintf(h, sizeof(h), "%s%s", good, good);
	assert_false(verify_str(EXAMPLE_SECRET, body, 9, h));
	snprintf(h, sizeof(h), " %.43s", good);
	assert_false(verify_str(EXAMPLE_SECRET, body, 9, h));
	/* Base64 is case-sensitive; hex or other encodings never match. */
	snprintf(h, sizeof(h), "%s", good);
	h[0] = 'C';
	assert_false(verify_str(EXAMPLE_SECRET, body, 9, h));
	h[0] = 'c';
	h[43] = 'A';
	assert_false(verify_str(EXAMPLE_SECRET, body, 9, h));
	assert_false(verify_str(EXAMPLE_SECRET, body, 9,
	    "704b839a a01ffa749cd7d1e953eb0903b1ab5367056edfca"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_examples_tsv),
		cmocka_unit_test(test_real_captures),
		cmocka_unit_test(test_known_vectors),
		cmocka_unit_test(test_decode_secret),
		cmocka_unit_test(test_decode_bounds),
		cmocka_unit_test(test_decoded_key),
		cmocka_unit_test(test_bad_headers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
