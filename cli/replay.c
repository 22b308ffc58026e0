/*
 * `wc2sf replay`: send what the journal still holds, now. The same code
 * path as a worker's drain after each reply (lib/sync.c), so a replay
 * does exactly what the first attempt would have done. For cron on hosts
 * where no worker stays alive between requests, and for people after
 * they fixed the cause of a dead letter.
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
#include "result.h"
#include "sync.h"

/* A replay without --seconds runs until nothing is left. */
#define REPLAY_FOREVER (365.0 * 24 * 3600)

static const char replay_usage[] =
	"usage: wc2sf replay [--due] [--dead] [--id EVENT] [--seconds N]\n"
	"                    [--json]\n"
	"\n"
	"Send pending events to Salesforce now, oldest first and in order\n"
	"per WooCommerce resource, whatever their backoff. This lifts the\n"
	"pause that follows Salesforce's daily API limit error.\n"
	"  --due        only events whose backoff has passed, and nothing\n"
	"               while the daily-limit pause holds (for cron)\n"
	"  --dead       also retry dead letters (after fixing their cause)\n"
	"  --id EVENT   only this event (and older pending versions of the\n"
	"               same WooCommerce resource, which go first)\n"
	"  --seconds N  stop after N seconds\n"
	"A replay stops early when Salesforce is unavailable; what is left\n"
	"stays pending. Exit status 1 when it stopped early or an event\n"
	"went dead.\n";

static const struct option replay_options[] = {
	{ "due", no_argument, NULL, 'u' },
	{ "dead", no_argument, NULL, 'd' },
	{ "id", required_argument, NULL, 'i' },
	{ "seconds", required_argument, NULL, 's' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

struct replay_args {
	bool due, dead, json;
	long long id, seconds;
};

static int
replay_parse(int argc, char **argv, struct replay_args *a)
{
	int c;

	memset(a, 0, sizeof(*a));
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", replay_options,
	    NULL)) != -1) {
		switch (c) {
		case 'u':
			a->due = true;
			break;
		case 'd':
			a->dead = true;
			break;
		case 'i':
			if (cli_parse_number(optarg, 1, INT64_MAX, &a->id) != 0)
				return cli_usage_error(replay_usage, "replay: "
				    "--id wants an event number, not \"%s\"",
				    optarg);
			break;
		case 's':
			if (cli_parse_number(optarg, 1, 86400, &a->seconds)
			    != 0)
				return cli_usage_error(replay_usage, "replay: "
				    "--seconds wants 1 to 86400, not \"%s\"",
				    optarg);
			break;
		case 'j':
			a->json = true;
			break;
		case 'h':
			fputs(replay_usage, stdout);
			return -1;
		case ':':
			return cli_usage_error(replay_usage, "replay: %s needs "
			    "a value", argv[optind - 1]);
		default:
			return cli_usage_error(replay_usage, "replay: unknown "
			    "option %s", argv[optind - 1]);
		}
	}
	if (optind != argc)
		return cli_usage_error(replay_usage, "replay: unexpected %s",
		    argv[optind]);
	if (a->due && a->id != 0)
		return cli_usage_error(replay_usage, "replay: --due and --id "
		    "do not go together");
	return 0;
}

/* What the daily-limit pause was before and after a replay. */
struct pause_info {
	int64_t before;		/* its end before the replay, or 0 */
	int64_t after;		/* and after it */
	int64_t now;
};

static struct json_object *
json_when(int64_t ms)
{
	char buf[32];

	if (ms <= 0)
		return NULL;
	cli_iso_time(ms, buf, sizeof(buf));
	return json_object_new_string(buf);
}

static int
replay_report(const struct replay_args *a, int handled,
    const struct sync_stats *st, int64_t requeued, int64_t pending,
    const struct pause_info *p)
{
	struct json_object *o;
	char when[40];
	bool lifted = p->before > p->now && p->after <= p->now;
	bool paused = p->after > p->now;

	if (a->json) {
		o = json_object_new_object();
		if (o != NULL) {
			json_object_object_add(o, "handled",
			    json_object_new_int(handled));
			json_object_object_add(o, "synced",
			    json_object_new_int(st->synced));
			json_object_object_add(o, "queued",
			    json_object_new_int(st->queued));
			json_object_object_add(o, "dead",
			    json_object_new_int(st->dead));
			json_object_object_add(o, "ignored",
			    json_object_new_int(st->ignored));
			json_object_object_add(o, "requeued",
			    json_object_new_int64(requeued));
			json_object_object_add(o, "stopped",
			    json_object_new_boolean(st->stopped));
			json_object_object_add(o, "pending",
			    json_object_new_int64(pending));
			json_object_object_add(o, "pause_lifted",
			    json_object_new_boolean(lifted));
			json_object_object_add(o, "paused_until", paused ?
			    json_when(p->after) : NULL);
		}
		if (o == NULL)
			return cli_print_json(o);
		return cli_print_json(o) == CLI_EXIT_OK && !st->stopped &&
		    st->dead == 0 ? CLI_EXIT_OK : CLI_EXIT_PROBLEM;
	}
	if (lifted) {
		cli_time(p->before, when, sizeof(when));
		printf("daily-limit pause lifted (it was to last until %s)\n",
		    when);
	}
	if (requeued > 0)
		printf("%" PRId64 " dead event%s made pending again\n",
		    requeued, requeued == 1 ? "" : "s");
	printf("%d event%s sent: %d synced, %d still pending, %d dead, "
	    "%d ignored\n", handled, handled == 1 ? "" : "s", st->synced,
	    st->queued, st->dead, st->ignored);
	if (paused) {
		cli_time(p->after, when, sizeof(when));
		printf("paused until %s: Salesforce's daily API limit was "
		    "reached%s\n", when, a->due ? "; `wc2sf replay` without "
		    "--due lifts the pause" : " again");
	} else if (st->stopped) {
		printf("stopped early: Salesforce is unavailable "
		    "(see `wc2sf status`)\n");
	}
	printf("%" PRId64 " event%s pending\n", pending,
	    pending == 1 ? "" : "s");
	return st->stopped || st->dead > 0 ? CLI_EXIT_PROBLEM : CLI_EXIT_OK;
}

/* Replay one event by id; its result is told like a whole run's. */
static int
replay_one(struct sync *s, const struct replay_args *a,
    struct sync_stats *st)
{
	enum wc2sf_result r;

	if (sync_replay_one(s, a->id, &r) != 0) {
		cli_error("replay: event %lld cannot be read", a->id);
		return -1;
	}
	switch (r) {
	case WC2SF_INTERNAL:
		cli_error("replay: event %lld is not pending (see `wc2sf show "
		    "%lld`; --dead retries a dead letter)", a->id, a->id);
		return -1;
	case WC2SF_QUEUED:
		cli_error("replay: event %lld was not sent: a worker is "
		    "sending its resource, or an older version of it could "
		    "not be sent (see `wc2sf events --state pending`)", a->id);
		st->queued++;
		st->stopped = true;
		return 0;
	default:
		if (sync_stats_add(st, r))
			st->stopped = true;
		return 1;
	}
}

int
cli_replay(int argc, char **argv)
{
	struct replay_args a;
	struct config cfg;
	struct journal *j;
	struct sync *s = NULL;
	struct sync_stats st;
	struct pause_info pause;
	int64_t requeued = 0, counts[JOURNAL_NSTATES];
	double seconds;
	char err[512];
	int rc, handled;

	rc = replay_parse(argc, argv, &a);
	if (rc != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (cli_load_config(&cfg) != 0)
		return CLI_EXIT_PROBLEM;
	rc = CLI_EXIT_PROBLEM;
	memset(&st, 0, sizeof(st));
	/* Open the existing journal first: a replay never creates one. */
	memset(&pause, 0, sizeof(pause));
	j = cli_open_journal(&cfg);
	if (j == NULL)
		goto out;
	if (sync_pause_until(j, &pause.before) != 0) {
		cli_error("%s", journal_error(j));
		goto out;
	}
	if (a.dead && journal_requeue(j, a.id, &requeued) != 0) {
		cli_error("%s", journal_error(j));
		goto out;
	}
	s = sync_open(&cfg, err, sizeof(err));
	if (s == NULL) {
		cli_error("%s", err);
		goto out;
	}
	seconds = a.seconds > 0 ? (double)a.seconds : REPLAY_FOREVER;
	if (a.id != 0)
		handled = replay_one(s, &a, &st);
	else if (a.due)
		handled = sync_drain(s, seconds, &st);
	else
		handled = sync_replay(s, seconds, &st);
	if (handled < 0)
		goto out;
	if (journal_counts(j, counts) != 0 ||
	    sync_pause_until(j, &pause.after) != 0) {
		cli_error("%s", journal_error(j));
		goto out;
	}
	pause.now = cli_now_ms();
	rc = replay_report(&a, handled, &st, requeued,
	    counts[JOURNAL_PENDING], &pause);
out:
	sync_close(s);
	if (j != NULL)
		journal_close(j);
	config_free(&cfg);
	return rc;
}
