/*
 * What every wc2sf command shares: where the configuration is, opening
 * the journal, error output, and formatting times and text for a
 * terminal.
 */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "config.h"
#include "journal.h"
#include "log.h"

static const char *config_path;

void
cli_error(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("wc2sf: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
cli_usage_error(const char *usage, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("wc2sf: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fputs(usage, stderr);
	return CLI_EXIT_USAGE;
}

void
cli_set_config_path(const char *path)
{
	config_path = path;
}

const char *
cli_config_path(void)
{
	if (config_path != NULL)
		return config_path;
	return config_default_path();
}

int
cli_load_config(struct config *cfg)
{
	char err[1024];

	log_init("wc2sf", LOG_LEVEL_WARN);
	if (config_load(cfg, cli_config_path(), err, sizeof(err)) != 0) {
		cli_error("%s", err);
		config_free(cfg);
		return -1;
	}
	return 0;
}

struct journal *
cli_open_journal(const struct config *cfg)
{
	struct journal *j;
	char err[1024];

	j = journal_open_existing(cfg->store_path, err, sizeof(err));
	if (j == NULL) {
		cli_error("%s", err);
		return NULL;
	}
	journal_set_claim_ttl(j, ((int64_t)cfg->timeout + 60) * 1000);
	return j;
}

int64_t
cli_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Formats for format_time(). */
enum time_form {
	TIME_HUMAN,		/* 2026-12-03 15:31:31 UTC */
	TIME_ISO		/* 2026-12-03T15:31:31Z */
};

static void
format_time(int64_t ms, enum time_form form, char *buf, size_t size)
{
	struct tm tm;
	time_t t;
	size_t n;

	if (ms <= 0) {
		snprintf(buf, size, "-");
		return;
	}
	t = (time_t)(ms / 1000);
	if (gmtime_r(&t, &tm) == NULL)
		n = 0;
	else if (form == TIME_ISO)
		n = strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
	else
		n = strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm);
	if (n == 0)
		snprintf(buf, size, "%lld", (long long)ms);
}

void
cli_time(int64_t ms, char *buf, size_t size)
{
	format_time(ms, TIME_HUMAN, buf, size);
}

void
cli_iso_time(int64_t ms, char *buf, size_t size)
{
	format_time(ms, TIME_ISO, buf, size);
}

void
cli_age(int64_t ms, char *buf, size_t size)
{
	long long s = ms < 0 ? 0 : ms / 1000;

	if (s < 60)
		snprintf(buf, size, "%llds", s);
	else if (s < 3600)
		snprintf(buf, size, "%lldm %llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, size, "%lldh %lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, size, "%lldd %lldh", s / 86400,
		    s % 86400 / 3600);
}

/* Bytes in the UTF-8 sequence starting at p, or 0 if it is not one. */
static size_t
utf8_len(const unsigned char *p)
{
	size_t n, i;

	if (*p < 0x80)
		return 1;
	if (*p >= 0xc2 && *p <= 0xdf)
		n = 2;
	else if (*p >= 0xe0 && *p <= 0xef)
		n = 3;
	else if (*p >= 0xf0 && *p <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/*
 * Two passes: count the characters, then copy, keeping room for "..."
 * when they do not all fit in cols (or in buf).
 */
char *
cli_cut(char *buf, size_t size, const char *s, size_t cols)
{
	const unsigned char *p;
	size_t total = 0, keep, used = 0, o = 0, n;
	bool cut;

	if (size == 0)
		return buf;
	if (s == NULL)
		s = "";
	for (p = (const unsigned char *)s; *p != '\0'; total++) {
		n = utf8_len(p);
		p += n == 0 ? 1 : n;
	}
	cut = total > cols;
	keep = cut ? (cols > 3 ? cols - 3 : cols) : total;
	for (p = (const unsigned char *)s; *p != '\0' && used < keep;
	    used++) {
		n = utf8_len(p);
		if (o + (n == 0 ? 1 : n) + 4 > size) {
			cut = true;
			break;
		}
		if (n == 0) {
			buf[o++] = '?';
			p++;
		} else if (n == 1) {
			buf[o++] = *p < 0x20 || *p == 0x7f ? ' ' : (char)*p;
			p++;
		} else {
			memcpy(buf + o, p, n);
			o += n;
			p += n;
		}
	}
	if (cut && cols > 3) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

int
cli_parse_number(const char *s, long long min, long long max,
    long long *out)
{
	char *end;
	long long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
cli_print_json(struct json_object *obj)
{
	const char *text;

	if (obj == NULL) {
		cli_error("out of memory");
		return CLI_EXIT_PROBLEM;
	}
	text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
	    JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (text == NULL) {
		json_object_put(obj);
		cli_error("out of memory");
		return CLI_EXIT_PROBLEM;
	}
	puts(text);
	json_object_put(obj);
	return CLI_EXIT_OK;
}
