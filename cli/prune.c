/*
 * `wc2sf prune`: keep the journal from growing without end. Only events
 * whose story is over go (synced, duplicate, stale, ignored); pending
 * and dead events stay whatever their age, and so do the versions the
 * journal still compares new deliveries with (see journal_prune()).
 */
#include "cli.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "config.h"
#include "journal.h"

#define DAY_MS (24 * 3600 * 1000LL)
#define MAX_DAYS 36500

static const char prune_usage[] =
	"usage: wc2sf prune [--days N] [--json]\n"
	"\n"
	"Delete synced, duplicate, stale and ignored events last changed more\n"
	"than N days ago (default: retention_days of the configuration).\n"
	"Pending and dead events are never deleted.\n";

static const struct option prune_options[] = {
	{ "days", required_argument, NULL, 'd' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static int
prune_report(bool json, int64_t removed, long long days, int64_t before)
{
	struct json_object *o;
	char when[40];

	if (json) {
		o = json_object_new_object();
		if (o != NULL) {
			json_object_object_add(o, "pruned",
			    json_object_new_int64(removed));
			json_object_object_add(o, "days",
			    json_object_new_int64(days));
			cli_iso_time(before, when, sizeof(when));
			json_object_object_add(o, "before",
			    json_object_new_string(when));
			json_object_object_add(o, "before_ms",
			    json_object_new_int64(before));
		}
		return cli_print_json(o);
	}
	cli_time(before, when, sizeof(when));
	printf("pruned %" PRId64 " event%s last changed before %s "
	    "(%lld day%s ago)\n", removed, removed == 1 ? "" : "s", when,
	    days, days == 1 ? "" : "s");
	return CLI_EXIT_OK;
}

int
cli_prune(int argc, char **argv)
{
	struct config cfg;
	struct journal *j;
	long long days = -1;
	int64_t before, removed = 0;
	bool json = false;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", prune_options, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (cli_parse_number(optarg, 0, MAX_DAYS, &days) != 0)
				return cli_usage_error(prune_usage, "prune: "
				    "--days wants a number from 0 to %d, not "
				    "\"%s\"", MAX_DAYS, optarg);
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(prune_usage, stdout);
			return CLI_EXIT_OK;
		case ':':
			return cli_usage_error(prune_usage, "prune: %s needs "
			    "a value", argv[optind - 1]);
		default:
			return cli_usage_error(prune_usage, "prune: unknown "
			    "option %s", argv[optind - 1]);
		}
	}
	if (optind != argc)
		return cli_usage_error(prune_usage, "prune: unexpected %s",
		    argv[optind]);
	if (cli_load_config(&cfg) != 0)
		return CLI_EXIT_PROBLEM;
	if (days < 0)
		days = cfg.retention_days;
	j = cli_open_journal(&cfg);
	config_free(&cfg);
	if (j == NULL)
		return CLI_EXIT_PROBLEM;
	before = cli_now_ms() - days * DAY_MS;
	if (journal_prune(j, before, &removed) != 0) {
		cli_error("%s", journal_error(j));
		journal_close(j);
		return CLI_EXIT_PROBLEM;
	}
	journal_close(j);
	return prune_report(json, removed, days, before);
}
