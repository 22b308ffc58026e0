#ifndef WC2SF_FUZZ_COMMON_H
#define WC2SF_FUZZ_COMMON_H

/*
 * What every fuzz target shares. A target checks the promises of the
 * header it exercises with FUZZ_CHECK: a broken promise stops the
 * process the way a crash does, so libFuzzer keeps the input.
 */
#include <stdbool.h>
#include <stddef.h>

#define FUZZ_CHECK(cond) do {						\
		if (!(cond))						\
			fuzz_fail(#cond, __FILE__, __LINE__);		\
	} while (0)

/* Say which check failed on standard error, then abort(). */
void fuzz_fail(const char *what, const char *file, int line)
    __attribute__((noreturn));

/* wc2sf's log to /dev/null at error level: a target prints nothing. */
void fuzz_quiet_logs(void);

/*
 * A private directory (mode 0700) for one fuzzing process, on /dev/shm
 * when it can be written (SQLite's fsync costs nothing there), else
 * under $TMPDIR or /tmp; removed with what it holds at exit. Returns
 * false when none can be made.
 */
bool fuzz_tmpdir(char *out, size_t size);

/* Write len bytes to path (created 0600, truncated); false on error. */
bool fuzz_write_file(const char *path, const void *data, size_t len);

/* A NUL-terminated malloc'd copy of len bytes; NULL if out of memory. */
char *fuzz_strndup(const unsigned char *data, size_t len);

/* A 127.0.0.1 port that refuses connections while this process lives. */
int fuzz_refusing_port(void);

#endif
