#include "text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define REPLACEMENT_CP	0xFFFDu
#define ENTITY_NAME_MAX	16

/*
 * The named character references of HTML 4.01 (the 252 WordPress and
 * WooCommerce put in names and descriptions) and &apos;, sorted by
 * strcmp for bsearch. Every one is in the Basic Multilingual Plane.
 */
struct entity {
	const char *name;
	unsigned short cp;
};

static const struct entity entities[] = {
	{"AElig", 0x00C6}, {"Aacute", 0x00C1}, {"Acirc", 0x00C2},
	{"Agrave", 0x00C0}, {"Alpha", 0x0391}, {"Aring", 0x00C5},
	{"Atilde", 0x00C3}, {"Auml", 0x00C4}, {"Beta", 0x0392},
	{"Ccedil", 0x00C7}, {"Chi", 0x03A7}, {"Dagger", 0x2021},
	{"Delta", 0x0394}, {"ETH", 0x00D0}, {"Eacute", 0x00C9},
	{"Ecirc", 0x00CA}, {"Egrave", 0x00C8}, {"Epsilon", 0x0395},
	{"Eta", 0x0397}, {"Euml", 0x00CB}, {"Gamma", 0x0393},
	{"Iacute", 0x00CD}, {"Icirc", 0x00CE}, {"Igrave", 0x00CC},
	{"Iota", 0x0399}, {"Iuml", 0x00CF}, {"Kappa", 0x039A},
	{"Lambda", 0x039B}, {"Mu", 0x039C}, {"Ntilde", 0x00D1},
	{"Nu", 0x039D}, {"OElig", 0x0152}, {"Oacute", 0x00D3},
	{"Ocirc", 0x00D4}, {"Ograve", 0x00D2}, {"Omega", 0x03A9},
	{"Omicron", 0x039F}, {"Oslash", 0x00D8}, {"Otilde", 0x00D5},
	{"Ouml", 0x00D6}, {"Phi", 0x03A6}, {"Pi", 0x03A0}, {"Prime", 0x2033},
	{"Psi", 0x03A8}, {"Rho", 0x03A1}, {"Scaron", 0x0160},
	{"Sigma", 0x03A3}, {"THORN", 0x00DE}, {"Tau", 0x03A4},
	{"Theta", 0x0398}, {"Uacute", 0x00DA}, {"Ucirc", 0x00DB},
	{"Ugrave", 0x00D9}, {"Upsilon", 0x03A5}, {"Uuml", 0x00DC},
	{"Xi", 0x039E}, {"Yacute", 0x00DD}, {"Yuml", 0x0178},
	{"Zeta", 0x0396}, {"aacute", 0x00E1}, {"acirc", 0x00E2},
	{"acute", 0x00B4}, {"aelig", 0x00E6}, {"agrave", 0x00E0},
	{"alefsym", 0x2135}, {"alpha", 0x03B1}, {"amp", 0x0026},
	{"and", 0x2227}, {"ang", 0x2220}, {"apos", 0x0027}, {"aring", 0x00E5},
	{"asymp", 0x2248}, {"atilde", 0x00E3}, {"auml", 0x00E4},
	{"bdquo", 0x201E}, {"beta", 0x03B2}, {"brvbar", 0x00A6},
	{"bull", 0x2022}, {"cap", 0x2229}, {"ccedil", 0x00E7},
	{"cedil", 0x00B8}, {"cent", 0x00A2}, {"chi", 0x03C7},
	{"circ", 0x02C6}, {"clubs", 0x2663}, {"cong", 0x2245},
	{"copy", 0x00A9}, {"crarr", 0x21B5}, {"cup", 0x222A},
	{"curren", 0x00A4}, {"dArr", 0x21D3}, {"dagger", 0x2020},
	{"darr", 0x2193}, {"deg", 0x00B0}, {"delta", 0x03B4},
	{"diams", 0x2666}, {"divide", 0x00F7}, {"eacute", 0x00E9},
	{"ecirc", 0x00EA}, {"egrave", 0x00E8}, {"empty", 0x2205},
	{"emsp", 0x2003}, {"ensp", 0x2002}, {"epsilon", 0x03B5},
	{"equiv", 0x2261}, {"eta", 0x03B7}, {"eth", 0x00F0}, {"euml", 0x00EB},
	{"euro", 0x20AC}, {"exist", 0x2203}, {"fnof", 0x0192},
	{"forall", 0x2200}, {"frac12", 0x00BD}, {"frac14", 0x00BC},
	{"frac34", 0x00BE}, {"frasl", 0x2044}, {"gamma", 0x03B3},
	{"ge", 0x2265}, {"gt", 0x003E}, {"hArr", 0x21D4}, {"harr", 0x2194},
	{"hearts", 0x2665}, {"hellip", 0x2026}, {"iacute", 0x00ED},
	{"icirc", 0x00EE}, {"iexcl", 0x00A1}, {"igrave", 0x00EC},
	{"image", 0x2111}, {"infin", 0x221E}, {"int", 0x222B},
	{"iota", 0x03B9}, {"iquest", 0x00BF}, {"isin", 0x2208},
	{"iuml", 0x00EF}, {"kappa", 0x03BA}, {"lArr", 0x21D0},
	{"lambda", 0x03BB}, {"lang", 0x2329}, {"laquo", 0x00AB},
	{"larr", 0x2190}, {"lceil", 0x2308}, {"ldquo", 0x201C},
	{"le", 0x2264}, {"lfloor", 0x230A}, {"lowast", 0x2217},
	{"loz", 0x25CA}, {"lrm", 0x200E}, {"lsaquo", 0x2039},
	{"lsquo", 0x2018}, {"lt", 0x003C}, {"macr", 0x00AF},
	{"mdash", 0x2014}, {"micro", 0x00B5}, {"middot", 0x00B7},
	{"minus", 0x2212}, {"mu", 0x03BC}, {"nabla", 0x2207},
	{"nbsp", 0x00A0}, {"ndash", 0x2013}, {"ne", 0x2260}, {"ni", 0x220B},
	{"not", 0x00AC}, {"notin", 0x2209}, {"nsub", 0x2284},
	{"ntilde", 0x00F1}, {"nu", 0x03BD}, {"oacute", 0x00F3},
	{"ocirc", 0x00F4}, {"oelig", 0x0153}, {"ograve", 0x00F2},
	{"oline", 0x203E}, {"omega", 0x03C9}, {"omicron", 0x03BF},
	{"oplus", 0x2295}, {"or", 0x2228}, {"ordf", 0x00AA}, {"ordm", 0x00BA},
	{"oslash", 0x00F8}, {"otilde", 0x00F5}, {"otimes", 0x2297},
	{"ouml", 0x00F6}, {"para", 0x00B6}, {"part", 0x2202},
	{"permil", 0x2030}, {"perp", 0x22A5}, {"phi", 0x03C6}, {"pi", 0x03C0},
	{"piv", 0x03D6}, {"plusmn", 0x00B1}, {"pound", 0x00A3},
	{"prime", 0x2032}, {"prod", 0x220F}, {"prop", 0x221D},
	{"psi", 0x03C8}, {"quot", 0x0022}, {"rArr", 0x21D2},
	{"radic", 0x221A}, {"rang", 0x232A}, {"raquo", 0x00BB},
	{"rarr", 0x2192}, {"rceil", 0x2309}, {"rdquo", 0x201D},
	{"real", 0x211C}, {"reg", 0x00AE}, {"rfloor", 0x230B},
	{"rho", 0x03C1}, {"rlm", 0x200F}, {"rsaquo", 0x203A},
	{"rsquo", 0x2019}, {"sbquo", 0x201A}, {"scaron", 0x0161},
	{"sdot", 0x22C5}, {"sect", 0x00A7}, {"shy", 0x00AD},
	{"sigma", 0x03C3}, {"sigmaf", 0x03C2}, {"sim", 0x223C},
	{"spades", 0x2660}, {"sub", 0x2282}, {"sube", 0x2286},
	{"sum", 0x2211}, {"sup", 0x2283}, {"sup1", 0x00B9}, {"sup2", 0x00B2},
	{"sup3", 0x00B3}, {"supe", 0x2287}, {"szlig", 0x00DF},
	{"tau", 0x03C4}, {"there4", 0x2234}, {"theta", 0x03B8},
	{"thetasym", 0x03D1}, {"thinsp", 0x2009}, {"thorn", 0x00FE},
	{"tilde", 0x02DC}, {"times", 0x00D7}, {"trade", 0x2122},
	{"uArr", 0x21D1}, {"uacute", 0x00FA}, {"uarr", 0x2191},
	{"ucirc", 0x00FB}, {"ugrave", 0x00F9}, {"uml", 0x00A8},
	{"upsih", 0x03D2}, {"upsilon", 0x03C5}, {"uuml", 0x00FC},
	{"weierp", 0x2118}, {"xi", 0x03BE}, {"yacute", 0x00FD},
	{"yen", 0x00A5}, {"yuml", 0x00FF}, {"zeta", 0x03B6}, {"zwj", 0x200D},
	{"zwnj", 0x200C},
};

/* Tags after which a browser starts a new line or block. */
static const char *const block_tags[] = {
	"address", "article", "aside", "blockquote", "br", "caption", "dd",
	"div", "dl", "dt", "figcaption", "figure", "footer", "h1", "h2",
	"h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol",
	"p", "pre", "section", "table", "tbody", "td", "tfoot", "th",
	"thead", "tr", "ul"
};

static int
entity_cmp(const void *key, const void *elem)
{
	const struct entity *e = elem;

	return strcmp(key, e->name);
}

static int
is_ascii_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

static int
is_ascii_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
	    c == '\f' || c == '\v';
}

/* The value of digit c in base 10 or 16, or -1. */
static int
digit_value(int c, unsigned base)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (base == 16 && c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (base == 16 && c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Write code point cp (valid, not a surrogate) as UTF-8; 1 to 4 bytes. */
static size_t
utf8_put(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/*
 * Look at the sequence starting s[0] (len > 0 bytes available). Returns
 * its length when it is one well-formed character; otherwise 0, with
 * *bad set to the length of the maximal ill-formed subpart (at least 1),
 * which is what a repair replaces with one U+FFFD. The second-byte
 * bounds are what rule out overlongs, surrogates and values past
 * U+10FFFF (Unicode table 3-7).
 */
static size_t
utf8_scan(const unsigned char *s, size_t len, size_t *bad)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;
	size_t need, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		need = 1;
	else if (c == 0xE0) {
		need = 2;
		lo = 0xA0;
	} else if (c == 0xED) {
		need = 2;
		hi = 0x9F;
	} else if (c >= 0xE1 && c <= 0xEF)
		need = 2;
	else if (c == 0xF0) {
		need = 3;
		lo = 0x90;
	} else if (c == 0xF4) {
		need = 3;
		hi = 0x8F;
	} else if (c >= 0xF1 && c <= 0xF3)
		need = 3;
	else {
		*bad = 1;
		return 0;
	}
	for (i = 1; i <= need; i++) {
		if (i >= len || s[i] < lo || s[i] > hi) {
			*bad = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xBF;
	}
	return need + 1;
}

bool
text_utf8_valid(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n, bad;

	if (s == NULL)
		return len == 0;
	while (i < len) {
		n = utf8_scan(u + i, len - i, &bad);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

char *
text_utf8_repair(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, o = 0, n, bad;
	char *out;

	if (s == NULL || len > (SIZE_MAX - 1) / 3)
		return NULL;
	/* Each ill-formed byte grows to at most three. */
	out = malloc(len * 3 + 1);
	if (out == NULL)
		return NULL;
	while (i < len && u[i] != '\0') {
		n = utf8_scan(u + i, len - i, &bad);
		if (n > 0) {
			memcpy(out + o, s + i, n);
			o += n;
			i += n;
		} else {
			o += utf8_put(out + o, REPLACEMENT_CP);
			i += bad;
		}
	}
	out[o] = '\0';
	return out;
}

/*
 * Walk s character by character, stopping before the one that would
 * take the count past max_units; returns the bytes kept and sets *units.
 */
static size_t
utf16_walk(const char *s, size_t max_units, size_t *units)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len = strlen(s), i = 0, count = 0, n, bad, w;

	while (i < len) {
		n = utf8_scan(u + i, len - i, &bad);
		if (n == 0)
			n = bad;
		w = n == 4 ? 2 : 1;
		if (count + w > max_units)
			break;
		count += w;
		i += n;
	}
	*units = count;
	return i;
}

size_t
text_truncate(char *s, size_t max_units)
{
	size_t units, keep;

	if (s == NULL)
		return 0;
	keep = utf16_walk(s, max_units, &units);
	s[keep] = '\0';
	return keep;
}

size_t
text_utf16_len(const char *s)
{
	size_t units;

	if (s == NULL)
		return 0;
	utf16_walk(s, SIZE_MAX, &units);
	return units;
}

char *
text_trim(char *s)
{
	size_t start = 0, end;

	if (s == NULL)
		return NULL;
	end = strlen(s);
	while (end > 0 && is_ascii_space((unsigned char)s[end - 1]))
		end--;
	while (start < end && is_ascii_space((unsigned char)s[start]))
		start++;
	memmove(s, s + start, end - start);
	s[end - start] = '\0';
	return s;
}

char *
text_collapse_space(char *s)
{
	size_t i = 0, o = 0, n;
	bool gap = false;

	if (s == NULL)
		return NULL;
	while (s[i] != '\0') {
		n = 0;
		if (is_ascii_space((unsigned char)s[i]))
			n = 1;
		else if ((unsigned char)s[i] == 0xC2 &&
		    (unsigned char)s[i + 1] == 0xA0)
			n = 2;
		if (n > 0) {
			gap = o > 0;
			i += n;
			continue;
		}
		if (gap)
			s[o++] = ' ';
		gap = false;
		s[o++] = s[i++];
	}
	s[o] = '\0';
	return s;
}

/*
 * If p (at a '&') starts a complete entity, store its code point in *cp
 * and return its length with the '&' and ';'; otherwise return 0.
 */
static size_t
entity_at(const char *p, uint32_t *cp)
{
	char name[ENTITY_NAME_MAX + 1];
	const struct entity *e;
	unsigned base = 10;
	uint32_t v = 0;
	size_t i = 2, digits = 0;
	bool big = false;
	int d;

	if (p[1] == '#') {
		if (p[2] == 'x' || p[2] == 'X') {
			base = 16;
			i = 3;
		}
		for (; (d = digit_value((unsigned char)p[i], base)) >= 0; i++) {
			digits++;
			if (v > 0x10FFFF)
				big = true;
			else
				v = v * base + (uint32_t)d;
		}
		if (digits == 0 || p[i] != ';')
			return 0;
		if (big || v == 0 || v > 0x10FFFF ||
		    (v >= 0xD800 && v <= 0xDFFF))
			v = REPLACEMENT_CP;
		*cp = v;
		return i + 1;
	}
	for (i = 1; i <= ENTITY_NAME_MAX &&
	    is_ascii_alnum((unsigned char)p[i]); i++)
		name[i - 1] = p[i];
	if (i == 1 || p[i] != ';')
		return 0;
	name[i - 1] = '\0';
	e = bsearch(name, entities, sizeof(entities) / sizeof(entities[0]),
	    sizeof(entities[0]), entity_cmp);
	if (e == NULL)
		return 0;
	*cp = e->cp;
	return i + 1;
}

/*
 * One pass, so what an entity produces is never read again. The output
 * never outgrows the input: the shortest entity ("&lt;", "&#9;") is four
 * bytes and gives at most three, and a four-byte character needs a
 * numeric reference of at least eight.
 */
char *
text_decode_entities(const char *in)
{
	size_t len, i = 0, o = 0, n;
	uint32_t cp;
	char *out;

	if (in == NULL)
		return NULL;
	len = strlen(in);
	out = malloc(len + 1);
	if (out == NULL)
		return NULL;
	while (i < len) {
		if (in[i] == '&' && (n = entity_at(in + i, &cp)) > 0) {
			o += utf8_put(out + o, cp);
			i += n;
		} else
			out[o++] = in[i++];
	}
	out[o] = '\0';
	return out;
}

static bool
is_block_tag(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(block_tags) / sizeof(block_tags[0]); i++)
		if (strlen(block_tags[i]) == len &&
		    strncasecmp(block_tags[i], name, len) == 0)
			return true;
	return false;
}

/* The first case-insensitive occurrence of needle in s, or NULL. */
static const char *
find_nocase(const char *s, const char *needle)
{
	size_t n = strlen(needle);

	for (; *s != '\0'; s++)
		if (strncasecmp(s, needle, n) == 0)
			return s;
	return NULL;
}

/*
 * If p (at a '<') opens markup, return how many bytes of the input it
 * covers (the rest of the input when it never closes, for comments and
 * raw text) and set *block when it should leave a space; 0 when the '<'
 * is plain text.
 */
static size_t
markup_at(const char *p, bool *block)
{
	const char *q, *name;
	size_t name_len;
	char quote = 0;

	*block = false;
	if (strncmp(p, "<!--", 4) == 0) {
		q = strstr(p + 4, "-->");
		return q == NULL ? strlen(p) : (size_t)(q - p) + 3;
	}
	q = p + 1;
	if (*q == '/')
		q++;
	if (*q != '!' && *q != '?' &&
	    !((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z')))
		return 0;
	name = q;
	while (is_ascii_alnum((unsigned char)*q))
		q++;
	name_len = (size_t)(q - name);
	for (; *q != '\0'; q++) {
		if (quote != 0) {
			if (*q == quote)
				quote = 0;
		} else if (*q == '"' || *q == '\'')
			quote = *q;
		else if (*q == '>')
			break;
	}
	/*
	 * A tag that never closes runs to the end, as in HTML. Answering
	 * "no markup here" instead would make the caller try again at
	 * every later '<': quadratic on a body full of unclosed tags.
	 */
	if (*q == '\0')
		return strlen(p);
	*block = is_block_tag(name, name_len);
	if (p[1] != '/' && ((name_len == 6 &&
	    strncasecmp(name, "script", 6) == 0) ||
	    (name_len == 5 && strncasecmp(name, "style", 5) == 0))) {
		/* Raw text: skip to the end of the matching close tag. */
		const char *end = find_nocase(q + 1, name_len == 6 ?
		    "</script" : "</style");

		*block = true;
		if (end == NULL)
			return strlen(p);
		q = strchr(end, '>');
		if (q == NULL)
			return strlen(p);
	}
	return (size_t)(q - p) + 1;
}

char *
text_strip_tags(const char *in)
{
	size_t len, i = 0, o = 0, n;
	bool block;
	char *out;

	if (in == NULL)
		return NULL;
	len = strlen(in);
	out = malloc(len + 1);
	if (out == NULL)
		return NULL;
	while (i < len) {
		if (in[i] == '<' && (n = markup_at(in + i, &block)) > 0) {
			/* A tag is at least three bytes; its space is one. */
			if (block)
				out[o++] = ' ';
			i += n;
		} else
			out[o++] = in[i++];
	}
	out[o] = '\0';
	return out;
}
