#ifndef WC2SF_SIGNATURE_H
#define WC2SF_SIGNATURE_H

#include <stdbool.h>
#include <stddef.h>

/* Base64 of a SHA-256 digest: 44 characters and a NUL. */
#define SIGNATURE_B64_SIZE 45

/*
 * WooCommerce keys its HMAC with wp_specialchars_decode(secret,
 * ENT_QUOTES): &amp; &lt; &gt; &quot; &#039; &#39; &#x27; become their
 * characters, once. out receives at most outsize-1 bytes and a NUL;
 * returns the decoded length, or -1 if out is too small.
 */
long signature_decode_secret(const char *secret, char *out, size_t outsize);

/* out = base64(HMAC-SHA256(key, body)); an empty key is allowed. */
void signature_compute(const char *key, size_t keylen,
    const unsigned char *body, size_t len, char out[SIGNATURE_B64_SIZE]);

/*
 * True when header is the signature of body under key. The comparison
 * takes the same time wherever the first difference is; a NULL, empty or
 * wrongly sized header is simply false.
 */
bool signature_verify(const char *key, size_t keylen,
    const unsigned char *body, size_t len, const char *header);

#endif
