/*
 * text.c: entity decoding, UTF-8 validation and repair, truncation in
 * UTF-16 code units, white space and markup.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "text.h"

#define FFFD "\xEF\xBF\xBD"
#define GRIN "\xF0\x9F\x98\x80"		/* U+1F600, a surrogate pair */
#define EURO "\xE2\x82\xAC"		/* U+20AC, three bytes */
#define E_ACUTE "\xC3\xA9"		/* U+00E9, two bytes */

static void
expect_decoded(const char *in, const char *want)
{
	char *out = text_decode_entities(in);

	assert_non_null(out);
	assert_string_equal(out, want);
	free(out);
}

static void
test_decode_named(void **state)
{
	expect_decoded("&amp;amp;", "&amp;");
	expect_decoded("Fish &amp; Chips", "Fish & Chips");
	expect_decoded("10&ndash;20", "10\xE2\x80\x93" "20");
	expect_decoded("2 &times; 3", "2 \xC3\x97 3");
	expect_decoded("a&nbsp;b", "a\xC2\xA0" "b");
	expect_decoded("&lt;b&gt;", "<b>");
	expect_decoded("&quot;&apos;", "\"'");
	/* The ends and the longest name of the sorted table. */
	expect_decoded("&AElig;", "\xC3\x86");
	expect_decoded("&zwnj;", "\xE2\x80\x8C");
	expect_decoded("&thetasym;", "\xCF\x91");
	/* Names are case-sensitive. */
	expect_decoded("&Eacute;&eacute;", "\xC3\x89\xC3\xA9");
	expect_decoded("&AMP;", "&AMP;");
}

static void
test_decode_numeric(void **state)
{
	expect_decoded("&#36;19.99", "$19.99");
	expect_decoded("&#x24;&#X24;", "$$");
	expect_decoded("&#x1F600;", GRIN);
	expect_decoded("&#128512;", GRIN);
	expect_decoded("&#039;", "'");
	/* Not code points: surrogates, NUL, past U+10FFFF, overflow. */
	expect_decoded("&#xD800;", FFFD);
	expect_decoded("&#0;", FFFD);
	expect_decoded("&#x110000;", FFFD);
	expect_decoded("&#99999999999999999999;", FFFD);
}

static void
test_decode_malformed(void **state)
{
	expect_decoded("&foo;", "&foo;");
	expect_decoded("&amp", "&amp");
	expect_decoded("a &amp b", "a &amp b");
	expect_decoded("&#;", "&#;");
	expect_decoded("&#x;", "&#x;");
	expect_decoded("&#12", "&#12");
	expect_decoded("&#x1G;", "&#x1G;");
	expect_decoded("&;", "&;");
	expect_decoded("&", "&");
	expect_decoded("&&amp;", "&&");
	expect_decoded("&averyveryverylongname;", "&averyveryverylongname;");
	expect_decoded("", "");
	assert_null(text_decode_entities(NULL));
}

static void
test_utf8_valid(void **state)
{
	assert_true(text_utf8_valid("", 0));
	assert_true(text_utf8_valid("plain", 5));
	assert_true(text_utf8_valid(E_ACUTE EURO GRIN, 9));
	assert_true(text_utf8_valid("\xED\x9F\xBF", 3));	/* U+D7FF */
	assert_true(text_utf8_valid("\xEE\x80\x80", 3));	/* U+E000 */
	assert_true(text_utf8_valid("\xF4\x8F\xBF\xBF", 4));	/* U+10FFFF */
	/* Overlongs. */
	assert_false(text_utf8_valid("\xC0\x80", 2));
	assert_false(text_utf8_valid("\xC1\xBF", 2));
	assert_false(text_utf8_valid("\xE0\x80\x80", 3));
	assert_false(text_utf8_valid("\xE0\x9F\xBF", 3));
	assert_false(text_utf8_valid("\xF0\x80\x80\x80", 4));
	assert_false(text_utf8_valid("\xF0\x8F\xBF\xBF", 4));
	/* Surrogates U+D800..U+DFFF. */
	assert_false(text_utf8_valid("\xED\xA0\x80", 3));
	assert_false(text_utf8_valid("\xED\xBF\xBF", 3));
	/* Past U+10FFFF. */
	assert_false(text_utf8_valid("\xF4\x90\x80\x80", 4));
	assert_false(text_utf8_valid("\xF5\x80\x80\x80", 4));
	assert_false(text_utf8_valid("\xFF", 1));
	/* Cut short, and a stray continuation byte. */
	assert_false(text_utf8_valid(EURO, 2));
	assert_false(text_utf8_valid("\x80", 1));
	assert_false(text_utf8_valid("a\xC3z", 3));
}

static void
expect_repaired(const char *in, size_t len, const char *want)
{
	char *out = text_utf8_repair(in, len);

	assert_non_null(out);
	assert_string_equal(out, want);
	assert_true(text_utf8_valid(out, strlen(out)));
	free(out);
}

static void
test_utf8_repair(void **state)
{
	expect_repaired("ok " E_ACUTE, 5, "ok " E_ACUTE);
	expect_repaired("a\xFF" "b", 3, "a" FFFD "b");
	/* A truncated sequence is one maximal subpart: one U+FFFD. */
	expect_repaired("\xE2\x82" "x", 3, FFFD "x");
	expect_repaired("\xF0\x9F\x98", 3, FFFD);
	/* A surrogate's bytes are three subparts. */
	expect_repaired("\xED\xA0\x80", 3, FFFD FFFD FFFD);
	expect_repaired("\xC0\xAF", 2, FFFD FFFD);
	expect_repaired("\xF4\x90\x80\x80", 4, FFFD FFFD FFFD FFFD);
	/* A NUL ends the text. */
	expect_repaired("ab\0cd", 5, "ab");
	assert_null(text_utf8_repair(NULL, 0));
}

/*
 * What json-c 0.16 makes of \u escapes: a pair becomes one character, a
 * lone surrogate already becomes U+FFFD, so what reaches repair is valid;
 * repair leaves it as it is.
 */
static void
test_json_surrogates(void **state)
{
	struct json_object *o;
	const char *s;
	char *fixed;

	o = json_tokener_parse("\"\\ud83d\\ude00 \\ud800x \\udc00\"");
	assert_non_null(o);
	s = json_object_get_string(o);
	fixed = text_utf8_repair(s, (size_t)json_object_get_string_len(o));
	assert_non_null(fixed);
	assert_string_equal(fixed, GRIN " " FFFD "x " FFFD);
	assert_true(text_utf8_valid(fixed, strlen(fixed)));
	free(fixed);
	json_object_put(o);
}

static void
expect_cut(const char *in, size_t units, const char *want)
{
	char buf[64];
	size_t n;

	assert_true(strlen(in) < sizeof(buf));
	memcpy(buf, in, strlen(in) + 1);
	n = text_truncate(buf, units);
	assert_string_equal(buf, want);
	assert_int_equal(n, strlen(want));
}

static void
test_truncate(void **state)
{
	expect_cut("hello", 3, "hel");
	expect_cut("hello", 5, "hello");
	expect_cut("hello", 50, "hello");
	expect_cut("hello", 0, "");
	expect_cut("hello", 1, "h");
	/* Two-byte characters at the cut. */
	expect_cut("a" E_ACUTE E_ACUTE, 2, "a" E_ACUTE);
	expect_cut(E_ACUTE, 1, E_ACUTE);
	/* Three-byte characters at the cut. */
	expect_cut("ab" EURO "c", 3, "ab" EURO);
	expect_cut("ab" EURO "c", 2, "ab");
	/* Emoji count two units: never half of one. */
	expect_cut("a" GRIN, 2, "a");
	expect_cut("a" GRIN, 3, "a" GRIN);
	expect_cut(GRIN, 1, "");
	expect_cut(GRIN GRIN, 3, GRIN);
	expect_cut(GRIN GRIN, 4, GRIN GRIN);
	expect_cut("", 0, "");
	assert_int_equal(text_utf16_len("a" E_ACUTE EURO GRIN), 5);
	assert_int_equal(text_utf16_len(""), 0);
}

static void
expect_text(char *(*fn)(char *), const char *in, const char *want)
{
	char buf[64];

	memcpy(buf, in, strlen(in) + 1);
	assert_ptr_equal(fn(buf), buf);
	assert_string_equal(buf, want);
}

static void
test_trim_and_collapse(void **state)
{
	expect_text(text_trim, "  a b \t\r\n", "a b");
	expect_text(text_trim, "   ", "");
	expect_text(text_trim, "x", "x");
	expect_text(text_collapse_space, "  a \n\n b\t c  ", "a b c");
	expect_text(text_collapse_space, "a\xC2\xA0\xC2\xA0" "b", "a b");
	expect_text(text_collapse_space, "\xC3\xA9 ", "\xC3\xA9");
	expect_text(text_collapse_space, " \n ", "");
}

static void
expect_stripped(const char *in, const char *want)
{
	char *out = text_strip_tags(in);

	assert_non_null(out);
	text_collapse_space(out);
	assert_string_equal(out, want);
	free(out);
}

static void
test_strip_tags(void **state)
{
	expect_stripped("<p>Description of Realwc T-Shirt</p>\n",
	    "Description of Realwc T-Shirt");
	expect_stripped("<p>One</p><p>Two</p>", "One Two");
	expect_stripped("Line<br />next", "Line next");
	expect_stripped("<b>bold</b>er and <a href=\"x>y\">link</a>",
	    "bolder and link");
	expect_stripped("a < b and c > d", "a < b and c > d");
	expect_stripped("x<!-- hidden <p> -->y", "xy");
	expect_stripped("<style>p{}</style>text<SCRIPT>1<2</script>",
	    "text");
	/* A tag that never closes runs to the end, as a browser shows it. */
	expect_stripped("unclosed <b", "unclosed");
	expect_stripped("x <a <a <a <a", "x");
	expect_stripped("x <script>never closed", "x");
	expect_stripped("&lt;b&gt; stays", "&lt;b&gt; stays");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_named),
		cmocka_unit_test(test_decode_numeric),
		cmocka_unit_test(test_decode_malformed),
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_utf8_repair),
		cmocka_unit_test(test_json_surrogates),
		cmocka_unit_test(test_truncate),
		cmocka_unit_test(test_trim_and_collapse),
		cmocka_unit_test(test_strip_tags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
