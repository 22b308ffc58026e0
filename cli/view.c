/*
 * The read-only views of the journal: `wc2sf status`, `wc2sf events` and
 * `wc2sf show`. Each reads the configuration for the journal's path and
 * opens the journal as it is (never creating it); --json prints the same
 * facts as one JSON document for scripts.
 */
#include "cli.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "config.h"
#include "journal.h"
#include "sync.h"

/* The events table: fixed columns, then the last error up to column 79. */
#define LINE_COLS 79
#define ERROR_COLS (LINE_COLS - 60)
#define MAX_LIMIT 100000

static const char status_usage[] =
	"usage: wc2sf status [--json]\n"
	"\n"
	"How many events are in each state, the oldest one still pending and\n"
	"its age, the newest error of a pending or dead event, when the last\n"
	"event was synced, and whether sending is paused after Salesforce's\n"
	"daily API limit (`wc2sf replay` lifts the pause). Times are UTC.\n";

static const char events_usage[] =
	"usage: wc2sf events [--state STATE] [--topic TOPIC]\n"
	"                    [--id RESOURCE_ID] [--limit N] [--json]\n"
	"\n"
	"List events, newest first (50 unless --limit says otherwise).\n"
	"  --state STATE     pending, synced, stale, duplicate, ignored, dead\n"
	"  --topic TOPIC     e.g. order.updated\n"
	"  --id RESOURCE_ID  the WooCommerce id of the order, product, ...\n"
	"  --limit N         at most N events (1 to 100000)\n"
	"The RECEIVED column is month-day hour:minute, UTC.\n";

static const char show_usage[] =
	"usage: wc2sf show [--json] ID\n"
	"\n"
	"One event with every field and its body, pretty-printed; ID is the\n"
	"event number shown by `wc2sf events`.\n";

static const struct option view_options[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ "state", required_argument, NULL, 's' },
	{ "topic", required_argument, NULL, 't' },
	{ "id", required_argument, NULL, 'i' },
	{ "limit", required_argument, NULL, 'l' },
	{ NULL, 0, NULL, 0 }
};

/* What the command line asked of a view. */
struct view_args {
	bool json;
	bool help;
	struct journal_filter filter;
};

/*
 * Read the options a view allows (the letters in allowed). Returns 0,
 * or CLI_EXIT_USAGE after saying what is wrong.
 */
static int
view_parse(int argc, char **argv, const char *allowed, const char *usage,
    struct view_args *a)
{
	long long n;
	int c;

	memset(a, 0, sizeof(*a));
	a->filter.state = -1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", view_options, NULL)) != -1) {
		if (c == ':' && strchr(allowed, optopt) != NULL)
			return cli_usage_error(usage, "%s: %s needs a value",
			    argv[0], argv[optind - 1]);
		if (c == '?' || c == ':' || strchr(allowed, c) == NULL)
			return cli_usage_error(usage, "%s: unknown option %s",
			    argv[0], argv[optind - 1]);
		switch (c) {
		case 'j':
			a->json = true;
			break;
		case 'h':
			a->help = true;
			break;
		case 's':
			a->filter.state = journal_state_parse(optarg);
			if (a->filter.state < 0)
				return cli_usage_error(usage, "%s: no state "
				    "\"%s\"", argv[0], optarg);
			break;
		case 't':
			a->filter.topic = optarg;
			break;
		case 'i':
			a->filter.resource_id = optarg;
			break;
		case 'l':
			if (cli_parse_number(optarg, 1, MAX_LIMIT, &n) != 0)
				return cli_usage_error(usage, "%s: --limit "
				    "wants a number from 1 to %d, not \"%s\"",
				    argv[0], MAX_LIMIT, optarg);
			a->filter.limit = (size_t)n;
			break;
		}
	}
	return 0;
}

/* Load the configuration and open its journal; NULL after saying why. */
static struct journal *
view_open(struct config *cfg, char *path, size_t size)
{
	struct journal *j;

	if (cli_load_config(cfg) != 0)
		return NULL;
	snprintf(path, size, "%s", cfg->store_path);
	j = cli_open_journal(cfg);
	config_free(cfg);
	return j;
}

/* "12-03 15:31": enough for a table of recent events. */
static void
short_time(int64_t ms, char *buf, size_t size)
{
	char full[40];

	cli_iso_time(ms, full, sizeof(full));
	if (strlen(full) == 20)		/* 2026-12-03T15:31:31Z */
		snprintf(buf, size, "%.5s %.5s", full + 5, full + 11);
	else
		snprintf(buf, size, "-");
}

static struct json_object *
json_time(int64_t ms)
{
	char buf[32];

	if (ms <= 0)
		return NULL;
	cli_iso_time(ms, buf, sizeof(buf));
	return json_object_new_string(buf);
}

static struct json_object *
status_json(const char *path, const struct journal_summary *s,
    int64_t paused_until, int64_t now)
{
	struct json_object *o, *counts, *x;
	int i;

	o = json_object_new_object();
	counts = json_object_new_object();
	if (o == NULL || counts == NULL) {
		json_object_put(o);
		json_object_put(counts);
		return NULL;
	}
	json_object_object_add(o, "journal", json_object_new_string(path));
	for (i = 0; i < JOURNAL_NSTATES; i++)
		json_object_object_add(counts, journal_state_name(i),
		    json_object_new_int64(s->counts[i]));
	json_object_object_add(o, "counts", counts);
	x = NULL;
	if (s->oldest_pending_id != 0 && (x = json_object_new_object())) {
		json_object_object_add(x, "id",
		    json_object_new_int64(s->oldest_pending_id));
		json_object_object_add(x, "received",
		    json_time(s->oldest_pending_ms));
		json_object_object_add(x, "received_ms",
		    json_object_new_int64(s->oldest_pending_ms));
		json_object_object_add(x, "age_seconds",
		    json_object_new_int64((now - s->oldest_pending_ms) / 1000));
	}
	json_object_object_add(o, "oldest_pending", x);
	x = NULL;
	if (s->last_error_id != 0 && (x = json_object_new_object())) {
		json_object_object_add(x, "id",
		    json_object_new_int64(s->last_error_id));
		json_object_object_add(x, "topic",
		    json_object_new_string(s->last_error_topic));
		json_object_object_add(x, "code",
		    json_object_new_string(s->last_error_code));
		json_object_object_add(x, "message",
		    json_object_new_string(s->last_error));
		json_object_object_add(x, "at", json_time(s->last_error_ms));
		json_object_object_add(x, "at_ms",
		    json_object_new_int64(s->last_error_ms));
	}
	json_object_object_add(o, "last_error", x);
	json_object_object_add(o, "last_success", json_time(s->last_synced_ms));
	json_object_object_add(o, "last_success_ms", s->last_synced_ms == 0 ?
	    NULL : json_object_new_int64(s->last_synced_ms));
	json_object_object_add(o, "paused_until", paused_until > now ?
	    json_time(paused_until) : NULL);
	return o;
}

static void
status_text(const char *path, const struct journal_summary *s,
    int64_t paused_until, int64_t now)
{
	char when[40], age[32], text[256], full[640];
	int i;

	printf("%-13s %s\n", "journal", path);
	for (i = 0; i < JOURNAL_NSTATES; i++) {
		printf("%-13s %" PRId64, journal_state_name(i), s->counts[i]);
		if (i == JOURNAL_PENDING && s->oldest_pending_id != 0) {
			cli_time(s->oldest_pending_ms, when, sizeof(when));
			cli_age(now - s->oldest_pending_ms, age, sizeof(age));
			printf("  oldest #%" PRId64 ", %s (%s ago)",
			    s->oldest_pending_id, when, age);
		}
		putchar('\n');
	}
	if (s->last_synced_ms != 0) {
		cli_time(s->last_synced_ms, when, sizeof(when));
		cli_age(now - s->last_synced_ms, age, sizeof(age));
		printf("%-13s %s (%s ago)\n", "last success", when, age);
	} else {
		printf("%-13s %s\n", "last success", "never");
	}
	if (paused_until > now) {
		cli_time(paused_until, when, sizeof(when));
		printf("%-13s until %s: Salesforce's daily API limit was "
		    "reached;\n%-13s `wc2sf replay` lifts the pause\n",
		    "paused", when, "");
	}
	if (s->last_error_id == 0) {
		printf("%-13s %s\n", "last error", "none");
		return;
	}
	cli_time(s->last_error_ms, when, sizeof(when));
	printf("%-13s #%" PRId64 " %s, %s\n", "last error", s->last_error_id,
	    cli_cut(text, sizeof(text), s->last_error_topic, 24), when);
	snprintf(full, sizeof(full), "%s%s%s", s->last_error_code,
	    s->last_error_code[0] != '\0' ? ": " : "", s->last_error);
	printf("%-13s %s\n", "", cli_cut(text, sizeof(text), full,
	    LINE_COLS - 14));
}

int
cli_status(int argc, char **argv)
{
	struct view_args a;
	struct config cfg;
	struct journal_summary s;
	struct journal *j;
	int64_t paused_until = 0;
	char path[1024];
	int rc;

	rc = view_parse(argc, argv, "jh", status_usage, &a);
	if (rc != 0)
		return rc;
	if (a.help) {
		fputs(status_usage, stdout);
		return CLI_EXIT_OK;
	}
	if (optind != argc)
		return cli_usage_error(status_usage, "status: unexpected %s",
		    argv[optind]);
	j = view_open(&cfg, path, sizeof(path));
	if (j == NULL)
		return CLI_EXIT_PROBLEM;
	if (journal_summary(j, &s) != 0 ||
	    sync_pause_until(j, &paused_until) != 0) {
		cli_error("%s", journal_error(j));
		journal_close(j);
		return CLI_EXIT_PROBLEM;
	}
	journal_close(j);
	if (a.json)
		return cli_print_json(status_json(path, &s, paused_until,
		    cli_now_ms()));
	status_text(path, &s, paused_until, cli_now_ms());
	return CLI_EXIT_OK;
}

static struct json_object *
event_json(const struct journal_event *ev)
{
	struct json_object *o;

	o = json_object_new_object();
	if (o == NULL)
		return NULL;
	json_object_object_add(o, "id", json_object_new_int64(ev->id));
	json_object_object_add(o, "received", json_time(ev->received_ms));
	json_object_object_add(o, "received_ms",
	    json_object_new_int64(ev->received_ms));
	json_object_object_add(o, "topic", json_object_new_string(ev->topic));
	json_object_object_add(o, "resource",
	    json_object_new_string(ev->resource));
	json_object_object_add(o, "resource_id",
	    json_object_new_string(ev->resource_id));
	json_object_object_add(o, "modified_gmt",
	    json_object_new_string(ev->modified_gmt));
	json_object_object_add(o, "state",
	    json_object_new_string(journal_state_name(ev->state)));
	json_object_object_add(o, "attempts",
	    json_object_new_int(ev->attempts));
	json_object_object_add(o, "next_attempt", ev->state ==
	    JOURNAL_PENDING ? json_time(ev->next_attempt_ms) : NULL);
	json_object_object_add(o, "last_code",
	    json_object_new_string(ev->last_code));
	json_object_object_add(o, "last_error",
	    json_object_new_string(ev->last_error));
	json_object_object_add(o, "updated", json_time(ev->updated_ms));
	json_object_object_add(o, "claimed_by", ev->claimed_by == 0 ? NULL :
	    json_object_new_int64(ev->claimed_by));
	json_object_object_add(o, "body_bytes",
	    json_object_new_int64((int64_t)ev->body_len));
	return o;
}

static void
events_text(const struct journal_event *evs, size_t n)
{
	char received[32], topic[64], rid[64], err[128], both[768];
	size_t i;

	if (n == 0) {
		puts("no events");
		return;
	}
	printf("%7s %-11s %-16s %-8s %-9s %3s %s\n", "ID", "RECEIVED",
	    "TOPIC", "WC ID", "STATE", "TRY", "LAST ERROR");
	for (i = 0; i < n; i++) {
		short_time(evs[i].received_ms, received, sizeof(received));
		snprintf(both, sizeof(both), "%s%s%s", evs[i].last_code,
		    evs[i].last_code[0] != '\0' && evs[i].last_error[0] !=
		    '\0' ? ": " : "", evs[i].last_error);
		printf("%7" PRId64 " %-11s %-16s %-8s %-9s %3d%s%s\n",
		    evs[i].id, received,
		    cli_cut(topic, sizeof(topic), evs[i].topic, 16),
		    cli_cut(rid, sizeof(rid), evs[i].resource_id, 8),
		    journal_state_name(evs[i].state), evs[i].attempts,
		    both[0] != '\0' ? " " : "",
		    cli_cut(err, sizeof(err), both, ERROR_COLS));
	}
}

int
cli_events(int argc, char **argv)
{
	struct view_args a;
	struct config cfg;
	struct journal_event *evs = NULL;
	struct journal *j;
	struct json_object *arr;
	char path[1024];
	size_t n = 0, i;
	int rc;

	rc = view_parse(argc, argv, "jhstil", events_usage, &a);
	if (rc != 0)
		return rc;
	if (a.help) {
		fputs(events_usage, stdout);
		return CLI_EXIT_OK;
	}
	if (optind != argc)
		return cli_usage_error(events_usage, "events: unexpected %s",
		    argv[optind]);
	j = view_open(&cfg, path, sizeof(path));
	if (j == NULL)
		return CLI_EXIT_PROBLEM;
	if (journal_list(j, &a.filter, &evs, &n) != 0) {
		cli_error("%s", journal_error(j));
		journal_close(j);
		return CLI_EXIT_PROBLEM;
	}
	journal_close(j);
	if (a.json) {
		arr = json_object_new_array();
		for (i = 0; arr != NULL && i < n; i++)
			json_object_array_add(arr, event_json(&evs[i]));
		rc = cli_print_json(arr);
	} else {
		events_text(evs, n);
		rc = CLI_EXIT_OK;
	}
	journal_events_free(evs, n);
	return rc;
}

/*
 * The body as JSON when it is a JSON document, else NULL. The journal
 * keeps bytes as received; a body that is not JSON is shown as text.
 */
static struct json_object *
body_parse(const struct journal_event *ev)
{
	struct json_tokener *tok;
	struct json_object *obj;

	if (ev->body == NULL || ev->body_len == 0 || ev->body_len > INT32_MAX)
		return NULL;
	tok = json_tokener_new();
	if (tok == NULL)
		return NULL;
	obj = json_tokener_parse_ex(tok, (const char *)ev->body,
	    (int)ev->body_len);
	if (obj != NULL && (json_tokener_get_error(tok) !=
	    json_tokener_success ||
	    json_tokener_get_parse_end(tok) != ev->body_len)) {
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	return obj;
}

/* Text a JSON value prints as, for both outputs. */
static const char *
json_text(struct json_object *obj)
{
	return json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
	    JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* A body that is not JSON: printable ASCII as is, the rest as \xNN. */
static void
print_raw(const unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (p[i] == '\n' || (p[i] >= 0x20 && p[i] < 0x7f))
			putchar(p[i]);
		else
			printf("\\x%02x", p[i]);
	}
	putchar('\n');
}

static void
show_text(const struct journal_event *ev, struct json_object *body)
{
	char when[40];

	printf("%-13s %" PRId64 "\n", "event", ev->id);
	printf("%-13s %s\n", "topic", ev->topic);
	printf("%-13s %s %s\n", "resource", ev->resource,
	    ev->resource_id[0] != '\0' ? ev->resource_id : "(no id)");
	printf("%-13s %s\n", "modified_gmt",
	    ev->modified_gmt[0] != '\0' ? ev->modified_gmt : "-");
	cli_time(ev->received_ms, when, sizeof(when));
	printf("%-13s %s\n", "received", when);
	printf("%-13s %s\n", "state", journal_state_name(ev->state));
	printf("%-13s %d\n", "attempts", ev->attempts);
	if (ev->state == JOURNAL_PENDING) {
		cli_time(ev->next_attempt_ms, when, sizeof(when));
		printf("%-13s %s\n", "next attempt", when);
	}
	if (ev->claimed_by != 0) {
		cli_time(ev->claimed_ms, when, sizeof(when));
		printf("%-13s process %ld since %s\n", "claimed",
		    ev->claimed_by, when);
	}
	if (ev->last_code[0] != '\0')
		printf("%-13s %s\n", "last code", ev->last_code);
	if (ev->last_error[0] != '\0')
		printf("%-13s %s\n", "last error", ev->last_error);
	if (ev->sf_ids[0] != '\0')
		printf("%-13s %s\n", "salesforce", ev->sf_ids);
	cli_time(ev->updated_ms, when, sizeof(when));
	printf("%-13s %s\n", "updated", when);
	printf("%-13s %zu bytes%s\n\n", "body", ev->body_len,
	    body == NULL ? ", not JSON" : "");
	if (body != NULL)
		puts(json_text(body));
	else
		print_raw(ev->body, ev->body_len);
}

static struct json_object *
show_json(const struct journal_event *ev, struct json_object *body)
{
	struct json_object *o, *ids = NULL;

	o = event_json(ev);
	if (o == NULL)
		return NULL;
	json_object_object_add(o, "claimed", ev->claimed_by == 0 ? NULL :
	    json_time(ev->claimed_ms));
	if (ev->sf_ids[0] != '\0') {
		ids = json_tokener_parse(ev->sf_ids);
		if (ids == NULL)
			ids = json_object_new_string(ev->sf_ids);
	}
	json_object_object_add(o, "sf_ids", ids);
	/* A body that is not JSON (never from WooCommerce) is null here. */
	json_object_object_add(o, "body_is_json",
	    json_object_new_boolean(body != NULL));
	json_object_object_add(o, "body", json_object_get(body));
	return o;
}

int
cli_show(int argc, char **argv)
{
	struct view_args a;
	struct config cfg;
	struct journal_event ev;
	struct journal *j;
	struct json_object *body;
	char path[1024];
	long long id;
	bool found = false;
	int rc;

	rc = view_parse(argc, argv, "jh", show_usage, &a);
	if (rc != 0)
		return rc;
	if (a.help) {
		fputs(show_usage, stdout);
		return CLI_EXIT_OK;
	}
	if (optind + 1 != argc)
		return cli_usage_error(show_usage, "show: give one event ID");
	if (cli_parse_number(argv[optind], 1, INT64_MAX, &id) != 0)
		return cli_usage_error(show_usage, "show: \"%s\" is not an "
		    "event ID", argv[optind]);
	j = view_open(&cfg, path, sizeof(path));
	if (j == NULL)
		return CLI_EXIT_PROBLEM;
	memset(&ev, 0, sizeof(ev));
	if (journal_get(j, (int64_t)id, &ev, &found) != 0) {
		cli_error("%s", journal_error(j));
		journal_close(j);
		return CLI_EXIT_PROBLEM;
	}
	journal_close(j);
	if (!found) {
		cli_error("no event %lld in %s", id, path);
		return CLI_EXIT_PROBLEM;
	}
	body = body_parse(&ev);
	if (a.json) {
		rc = cli_print_json(show_json(&ev, body));
	} else {
		show_text(&ev, body);
		rc = CLI_EXIT_OK;
	}
	json_object_put(body);
	journal_event_clear(&ev);
	return rc;
}
