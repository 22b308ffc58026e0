/*
 * Text as WooCommerce sends it: HTML entities, markup, ill-formed UTF-8,
 * and cutting to a Salesforce field length, with the promises of
 * text.h checked on every result; plus the small string helpers the
 * wire and the log use on untrusted text (sf_wire_utf8_cut,
 * sf_wire_pct_encode, log_quote, signature_decode_secret).
 *
 * Input: two bytes of limit (little-endian; a field length in UTF-16
 * units, also a buffer size), then the text (NUL bytes allowed).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "log.h"
#include "sf_wire.h"
#include "signature.h"
#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* UTF-16 units of the character that starts with byte c. */
static size_t
units_of(unsigned char c)
{
	return c >= 0xF0 ? 2 : 1;
}

/* Length in bytes of the character that starts with byte c. */
static size_t
bytes_of(unsigned char c)
{
	if (c >= 0xF0)
		return 4;
	if (c >= 0xE0)
		return 3;
	if (c >= 0xC0)
		return 2;
	return 1;
}

/*
 * text_truncate on valid text: a prefix, still valid, within max units,
 * and as long as it can be (the next character would not fit).
 */
static void
check_truncate(const char *valid, size_t max)
{
	char *cut = strdup(valid);
	size_t n, units;

	if (cut == NULL)
		return;
	n = text_truncate(cut, max);
	FUZZ_CHECK(n == strlen(cut));
	FUZZ_CHECK(memcmp(cut, valid, n) == 0);
	FUZZ_CHECK(text_utf8_valid(cut, n));
	units = text_utf16_len(cut);
	FUZZ_CHECK(units <= max);
	if (valid[n] != '\0') {
		FUZZ_CHECK(units + units_of((unsigned char)valid[n]) > max);
		FUZZ_CHECK(n + bytes_of((unsigned char)valid[n]) <=
		    strlen(valid));
	}
	free(cut);
}

/* Collapsed: no white space but single inner spaces, valid UTF-8. */
static void
check_collapse(const char *valid)
{
	char *s = strdup(valid);
	size_t i, n;

	if (s == NULL)
		return;
	text_collapse_space(s);
	n = strlen(s);
	FUZZ_CHECK(n <= strlen(valid));
	FUZZ_CHECK(text_utf8_valid(s, n));
	FUZZ_CHECK(n == 0 || (s[0] != ' ' && s[n - 1] != ' '));
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(strchr("\t\n\r\f\v", s[i]) == NULL);
		FUZZ_CHECK(!(s[i] == ' ' && s[i + 1] == ' '));
		FUZZ_CHECK(!((unsigned char)s[i] == 0xC2 &&
		    (unsigned char)s[i + 1] == 0xA0));
	}
	text_trim(s);
	FUZZ_CHECK(strlen(s) == n);
	free(s);
}

/* Every byte of the output unreserved or a %XX of the input's byte. */
static void
check_pct(const char *in, size_t size)
{
	char *out;
	size_t i, o = 0;
	bool ok;

	if (size == 0 || (out = malloc(size)) == NULL)
		return;
	ok = sf_wire_pct_encode(in, out, size);
	FUZZ_CHECK(strnlen(out, size) < size);
	if (!ok)
		FUZZ_CHECK(out[0] == '\0');
	for (i = 0; ok && in[i] != '\0'; i++) {
		if (strchr("-._~", in[i]) != NULL ||
		    (in[i] >= 'A' && in[i] <= 'Z') ||
		    (in[i] >= 'a' && in[i] <= 'z') ||
		    (in[i] >= '0' && in[i] <= '9')) {
			FUZZ_CHECK(out[o] == in[i]);
			o++;
		} else {
			FUZZ_CHECK(out[o] == '%');
			FUZZ_CHECK(strtoul((char[3]){ out[o + 1], out[o + 2],
			    '\0' }, NULL, 16) == (unsigned char)in[i]);
			o += 3;
		}
	}
	if (ok)
		FUZZ_CHECK(out[o] == '\0');
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, *repaired, *decoded, *stripped, *cut, *buf;
	size_t limit, len, n;
	long klen;

	if (size < 2)
		return 0;
	limit = (size_t)data[0] | (size_t)data[1] << 8;
	data += 2;
	size -= 2;
	if ((s = fuzz_strndup(data, size)) == NULL)
		return 0;
	len = strlen(s);

	/* Repair gives valid UTF-8, the input itself when it was valid. */
	repaired = text_utf8_repair((const char *)data, size);
	FUZZ_CHECK(repaired != NULL);
	FUZZ_CHECK(text_utf8_valid(repaired, strlen(repaired)));
	if (text_utf8_valid(s, len))
		FUZZ_CHECK(strcmp(repaired, s) == 0);

	/* Entities decoded once: valid in, valid out, never longer. */
	decoded = text_decode_entities(repaired);
	FUZZ_CHECK(decoded != NULL);
	FUZZ_CHECK(text_utf8_valid(decoded, strlen(decoded)));
	FUZZ_CHECK(strlen(decoded) <= strlen(repaired));
	check_truncate(decoded, limit % 300);
	check_truncate(repaired, limit);
	check_collapse(decoded);

	/* Markup removed: no longer than before, still valid. */
	stripped = text_strip_tags(repaired);
	FUZZ_CHECK(stripped != NULL);
	FUZZ_CHECK(strlen(stripped) <= strlen(repaired));
	FUZZ_CHECK(text_utf8_valid(stripped, strlen(stripped)));
	check_collapse(stripped);

	/* Any text cut anywhere, then its broken tail dropped. */
	n = strlen(repaired);
	if ((cut = strdup(repaired)) != NULL) {
		cut[n == 0 ? 0 : limit % (n + 1)] = '\0';
		sf_wire_utf8_cut(cut);
		FUZZ_CHECK(text_utf8_valid(cut, strlen(cut)));
		FUZZ_CHECK(strncmp(cut, repaired, strlen(cut)) == 0);
		free(cut);
	}

	check_pct(s, limit % 512 + 1);
	if ((buf = malloc(limit % 512 + 1)) != NULL) {
		log_quote(buf, limit % 512 + 1, s);
		FUZZ_CHECK(strnlen(buf, limit % 512 + 1) < limit % 512 + 1);
		klen = signature_decode_secret(s, buf, limit % 512 + 1);
		FUZZ_CHECK(klen < 0 || (size_t)klen < limit % 512 + 1);
		FUZZ_CHECK(klen < 0 || (size_t)klen <= len);
		free(buf);
	}

	free(stripped);
	free(decoded);
	free(repaired);
	free(s);
	return 0;
}
