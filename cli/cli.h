#ifndef WC2SF_CLI_H
#define WC2SF_CLI_H

#include <stddef.h>
#include <stdint.h>

/*
 * The wc2sf command: main.c reads the global options (-c CONFIG) and
 * calls one command. A command gets argv[0] = its own name and its
 * options after it, with getopt's state reset, and returns an exit code.
 * Every command answers --help with its usage on stdout and exit 0;
 * `wc2sf help NAME` runs `NAME --help`. Results go to stdout (JSON with
 * --json), errors to stderr through cli_error().
 */
struct config;
struct journal;
struct json_object;

#define CLI_EXIT_OK 0
#define CLI_EXIT_PROBLEM 1
#define CLI_EXIT_USAGE 2

/* cli/view.c */
int cli_status(int argc, char **argv);
int cli_events(int argc, char **argv);
int cli_show(int argc, char **argv);

/* cli/prune.c */
int cli_prune(int argc, char **argv);

/* cli/replay.c and cli/check.c */
int cli_replay(int argc, char **argv);
int cli_check(int argc, char **argv);

/* "wc2sf: <message>" and a newline on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * A usage mistake: the message, then usage (the command's usage text)
 * on stderr. Returns CLI_EXIT_USAGE for the command to return.
 */
int cli_usage_error(const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The file -c named, else $WC2SF_CONFIG, else the default. */
void cli_set_config_path(const char *path);
const char *cli_config_path(void);

/*
 * Load the configuration with config_load(); on failure print why and
 * return -1 (cfg is then already freed). Log lines of the library go to
 * stderr at level warn and above: a person is watching.
 */
int cli_load_config(struct config *cfg);

/*
 * Open the journal the configuration names, which must exist already
 * (a command never creates it with its own user's ownership). The claim
 * TTL follows the Salesforce timeout. NULL after printing why.
 */
struct journal *cli_open_journal(const struct config *cfg);

/* Now, in ms since the epoch. */
int64_t cli_now_ms(void);

/* "2026-12-03 15:31:31 UTC" ("-" for 0), and "2026-12-03T15:31:31Z". */
void cli_time(int64_t ms, char *buf, size_t size);
void cli_iso_time(int64_t ms, char *buf, size_t size);

/* An age for people: "45s", "12m 5s", "3h 2m", "2d 4h". */
void cli_age(int64_t ms, char *buf, size_t size);

/*
 * Copy s into buf for a terminal: control characters become spaces,
 * stray UTF-8 bytes "?", and at most cols characters, the last three
 * "..." when it had to be cut. Returns buf.
 */
char *cli_cut(char *buf, size_t size, const char *s, size_t cols);

/* A whole decimal number in [min, max]; 0, or -1 if s is not one. */
int cli_parse_number(const char *s, long long min, long long max,
    long long *out);

/*
 * Print obj as pretty JSON and a newline on stdout, then release it.
 * Returns CLI_EXIT_OK, or CLI_EXIT_PROBLEM if obj is NULL (out of
 * memory building it).
 */
int cli_print_json(struct json_object *obj);

#endif
