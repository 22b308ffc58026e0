#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum log_level log_threshold = LOG_LEVEL_INFO;

static const char *log_prog = "wc2sf";
static FILE *log_stream;

static const char *const level_names[] = {
	"error", "warn", "info", "debug"
};

void
log_init(const char *prog, enum log_level level)
{
	if (prog != NULL)
		log_prog = prog;
	log_threshold = level;
}

int
log_open(const char *path)
{
	FILE *f;

	f = fopen(path, "a");
	if (f == NULL)
		return -1;
	setvbuf(f, NULL, _IOLBF, 0);
	if (log_stream != NULL)
		fclose(log_stream);
	log_stream = f;
	return 0;
}

int
log_level_parse(const char *word)
{
	size_t i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(word, level_names[i]) == 0)
			return (int)i;
	return -1;
}

/*
 * The line is built in one buffer and written with one call, so lines of
 * several workers sharing an error log do not interleave.
 */
void
log_write(enum log_level level, const char *fmt, ...)
{
	char line[2048];
	char stamp[32];
	struct tm tm;
	time_t now;
	va_list ap;
	int n, m;
	FILE *out;

	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = snprintf(line, sizeof(line), "%s %s[%ld]: level=%s ", stamp,
	    log_prog, (long)getpid(), level_names[level]);
	if (n < 0)
		return;
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	line[n] = '\0';
	out = log_stream != NULL ? log_stream : stderr;
	fputs(line, out);
	fflush(out);
}

static int
plain_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || strchr("._:/@+-", c) != NULL;
}

const char *
log_quote(char *buf, size_t size, const char *s)
{
	const unsigned char *p;
	size_t o = 0;
	int plain = 1;

	if (size < 8) {
		if (size > 0)
			buf[0] = '\0';
		return buf;
	}
	if (s == NULL) {
		snprintf(buf, size, "-");
		return buf;
	}
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (!plain_char(*p))
			plain = 0;
	if (plain && *s != '\0') {
		snprintf(buf, size, "%s", s);
		return buf;
	}
	buf[o++] = '"';
	for (p = (const unsigned char *)s; *p != '\0' && o + 6 < size; p++) {
		if (*p == '"' || *p == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)*p;
		} else if (*p < 0x20 || *p == 0x7f) {
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", *p);
		} else {
			buf[o++] = (char)*p;
		}
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}
