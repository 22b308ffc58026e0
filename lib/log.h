#ifndef WC2SF_LOG_H
#define WC2SF_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * One line per event, key=value pairs, to stderr (the web server's error
 * log) unless log_open() names a file. Levels are checked before any
 * formatting. Never pass a secret, token or whole body.
 *
 *   log_info("topic=%s id=%s result=%s sf_ms=%ld", ...);
 *
 * Strings that may hold spaces or quotes go through log_quote() first.
 */
enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG
};

extern enum log_level log_threshold;

/* Program name shown in each line; level threshold. */
void log_init(const char *prog, enum log_level level);

/* Append lines to path instead of stderr; 0 or -1 (errno set). */
int log_open(const char *path);

/* "error", "warn", "info", "debug" to a level; -1 if none. */
int log_level_parse(const char *word);

void log_write(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_at(lvl, ...) do {						\
		if ((lvl) <= log_threshold)				\
			log_write((lvl), __VA_ARGS__);			\
	} while (0)
#define log_error(...)	log_at(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)	log_at(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)	log_at(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)	log_at(LOG_LEVEL_DEBUG, __VA_ARGS__)

/*
 * Make s safe as one log value: wrapped in double quotes when it holds
 * anything but [A-Za-z0-9._:/@+-], with quotes, backslashes and control
 * bytes escaped, cut to fit buf. Returns buf. A NULL s gives "-".
 */
const char *log_quote(char *buf, size_t size, const char *s);

#endif
