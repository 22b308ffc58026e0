#ifndef WC2SF_TEXT_H
#define WC2SF_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Text as WooCommerce sends it and Salesforce takes it. Every function
 * is pure: no logging, no global state. Functions that return a string
 * return a malloc'd, NUL-terminated one the caller frees, or NULL when
 * out of memory (or for a NULL input).
 */

/*
 * Decode HTML entities once: named ones (the HTML 4 set WordPress emits:
 * &amp; &ndash; &times; &nbsp; ..., plus &apos;), decimal &#36; and hex
 * &#x24;. "&amp;amp;" becomes "&amp;". Unknown or malformed entities,
 * and any without their closing ';', stay as they are; numeric ones that
 * are not valid code points (0, surrogates, past U+10FFFF) become U+FFFD.
 */
char *text_decode_entities(const char *in);

/* True if s[0..len) is well-formed UTF-8 (no surrogates, no overlongs). */
bool text_utf8_valid(const char *s, size_t len);

/*
 * Replace every ill-formed UTF-8 sequence in s[0..len) with U+FFFD, one
 * U+FFFD per maximal ill-formed subpart (Unicode's recommended practice).
 * A NUL byte inside s ends the result.
 */
char *text_utf8_repair(const char *s, size_t len);

/*
 * Cut valid UTF-8 s in place so that it fits a Salesforce field of
 * max_units characters, counted as UTF-16 code units (a character outside
 * the BMP, such as an emoji, counts 2), never splitting a character.
 * Returns the new length in bytes. An ill-formed byte counts as one unit
 * and is never split from nothing.
 */
size_t text_truncate(char *s, size_t max_units);

/* The length of valid UTF-8 s in UTF-16 code units. */
size_t text_utf16_len(const char *s);

/* Trim ASCII white space at both ends, in place; returns s. */
char *text_trim(char *s);

/*
 * Turn runs of white space (ASCII and U+00A0, the decoded &nbsp;) into
 * one space and trim both ends, in place; returns s.
 */
char *text_collapse_space(char *s);

/*
 * Remove HTML markup: tags, comments, and the contents of <script> and
 * <style>. A tag that breaks a line or block (<p>, <br>, <li>, <div>,
 * headings, table cells ...) leaves a space so words do not run
 * together; other tags leave nothing. A '<' that does not open a tag is
 * kept as text. Entities are left for text_decode_entities().
 */
char *text_strip_tags(const char *in);

#endif
