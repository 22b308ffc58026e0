#include "signature.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

/* Length of the base64 text of a SHA-256 digest, without the NUL. */
#define SIGNATURE_B64_LEN (SIGNATURE_B64_SIZE - 1)

/*
 * The entities WordPress decodes with ENT_QUOTES, in the canonical form
 * its translation table uses. Names are case-sensitive ("&AMP;" stays).
 * Numeric ones may carry any number of leading zeros; the "x" of the hex
 * form may be either case. WordPress has no hex form for < and >.
 */
static const struct {
	const char *name;	/* between "&" and ";" */
	char c;
} named_entities[] = {
	{ "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' }
};

static const struct {
	const char *digits;	/* without leading zeros */
	int hex;
	char c;
} numeric_entities[] = {
	{ "39", 0, '\'' }, { "34", 0, '"' }, { "60", 0, '<' },
	{ "62", 0, '>' }, { "38", 0, '&' },
	{ "27", 1, '\'' }, { "22", 1, '"' }, { "26", 1, '&' }
};

/*
 * If s (just past an '&') starts an entity WordPress decodes, store its
 * character in *c and return how many bytes after the '&' it spans;
 * otherwise 0.
 */
static size_t
match_entity(const char *s, char *c)
{
	const char *p;
	size_t i, n;
	int hex = 0;

	for (i = 0; i < sizeof(named_entities) / sizeof(named_entities[0]);
	    i++) {
		n = strlen(named_entities[i].name);
		if (strncmp(s, named_entities[i].name, n) == 0 &&
		    s[n] == ';') {
			*c = named_entities[i].c;
			return n + 1;
		}
	}
	if (s[0] != '#')
		return 0;
	p = s + 1;
	if (*p == 'x' || *p == 'X') {
		hex = 1;
		p++;
	}
	while (*p == '0')
		p++;
	for (i = 0; i < sizeof(numeric_entities) /
	    sizeof(numeric_entities[0]); i++) {
		if (numeric_entities[i].hex != hex)
			continue;
		if (strncmp(p, numeric_entities[i].digits, 2) == 0 &&
		    p[2] == ';') {
			*c = numeric_entities[i].c;
			return (size_t)(p + 3 - s);
		}
	}
	return 0;
}

/*
 * One left-to-right pass: a decoded character is never looked at again,
 * so "&amp;amp;" gives "&amp;" as WordPress's strtr() does.
 */
long
signature_decode_secret(const char *secret, char *out, size_t outsize)
{
	const char *s;
	size_t o = 0, n;
	char c;

	if (out == NULL || outsize == 0)
		return -1;
	if (secret == NULL)
		secret = "";
	for (s = secret; *s != '\0'; ) {
		c = *s;
		n = 0;
		if (c == '&')
			n = match_entity(s + 1, &c);
		if (o + 1 >= outsize) {
			out[0] = '\0';
			return -1;
		}
		out[o++] = c;
		s += 1 + n;
	}
	out[o] = '\0';
	return (long)o;
}

/*
 * HMAC() refuses a NULL key, so an empty key or body points at an empty
 * string instead. On an OpenSSL failure out is empty, which no header
 * matches, so verification fails closed.
 */
void
signature_compute(const char *key, size_t keylen, const unsigned char *body,
    size_t len, char out[SIGNATURE_B64_SIZE])
{
	static const unsigned char empty[1];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	out[0] = '\0';
	if (keylen > (size_t)0x7fffffff)
		return;
	if (key == NULL || keylen == 0)
		key = (const char *)empty;
	if (body == NULL || len == 0)
		body = empty;
	if (HMAC(EVP_sha256(), key, (int)keylen, body, len, md,
	    &mdlen) == NULL || mdlen != 32)
		goto out;
	EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
out:
	OPENSSL_cleanse(md, sizeof(md));
}

/*
 * The HMAC is always computed and all 44 bytes always compared, so the
 * time taken tells nothing but whether the header had 44 characters.
 */
bool
signature_verify(const char *key, size_t keylen, const unsigned char *body,
    size_t len, const char *header)
{
	char want[SIGNATURE_B64_SIZE];
	char got[SIGNATURE_B64_SIZE];
	size_t hlen = 0;
	bool ok;

	memset(want, 0, sizeof(want));
	memset(got, 0, sizeof(got));
	if (header != NULL) {
		hlen = strnlen(header, SIGNATURE_B64_SIZE);
		memcpy(got, header, hlen < SIGNATURE_B64_LEN ? hlen :
		    SIGNATURE_B64_LEN);
	}
	signature_compute(key, keylen, body, len, want);
	ok = CRYPTO_memcmp(want, got, SIGNATURE_B64_LEN) == 0;
	ok = ok && hlen == SIGNATURE_B64_LEN && strlen(want) ==
	    SIGNATURE_B64_LEN;
	OPENSSL_cleanse(want, sizeof(want));
	return ok;
}
