/*
 * `wc2sf check`: is this setup ready for the first order? Like `nginx -t`
 * it tells each problem in one line naming the key, file or object and
 * the fix, and exits 0 only when there is none.
 */
#include "cli.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "config.h"
#include "journal.h"
#include "result.h"
#include "salesforce.h"

static const char check_usage[] =
	"usage: wc2sf check [--offline] [--json]\n"
	"\n"
	"Check the configuration, the journal and the Salesforce sign-in.\n"
	"  --offline    skip everything that talks to Salesforce\n"
	"Exit status 0 only when everything is ready.\n";

static const struct option check_options[] = {
	{ "offline", no_argument, NULL, 'o' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/* The findings of one run, printed as they come or gathered for JSON. */
struct check_run {
	bool json;
	int problems;
	struct json_object *items;
};

static void
check_say(struct check_run *run, bool ok, const char *what,
    const char *detail)
{
	struct json_object *o;

	if (!ok)
		run->problems++;
	if (!run->json) {
		printf("%-4s %s%s%s\n", ok ? "ok" : "FAIL", what,
		    detail[0] != '\0' ? ": " : "", detail);
		return;
	}
	o = json_object_new_object();
	if (o == NULL)
		return;
	json_object_object_add(o, "ok", json_object_new_boolean(ok));
	json_object_object_add(o, "check", json_object_new_string(what));
	json_object_object_add(o, "detail", json_object_new_string(detail));
	json_object_array_add(run->items, o);
}

/*
 * The journal must exist or be creatable, and be writable by this user.
 * A journal the workers cannot write turns every delivery into a 503.
 */
static void
check_journal(struct check_run *run, const struct config *cfg)
{
	struct journal *j;
	char err[1024], detail[1200];

	j = journal_open(cfg->store_path, err, sizeof(err));
	if (j == NULL) {
		snprintf(detail, sizeof(detail), "%s ([store] path)", err);
		check_say(run, false, "journal", detail);
		return;
	}
	if (journal_kv_set(j, "check_ms", "0") != 0) {
		snprintf(detail, sizeof(detail), "%s ([store] path)",
		    journal_error(j));
		check_say(run, false, "journal", detail);
	} else {
		check_say(run, true, "journal", cfg->store_path);
	}
	journal_close(j);
}

static void
check_salesforce(struct check_run *run, const struct config *cfg)
{
	struct sf_session *sf;
	struct sf_outcome out;
	enum wc2sf_result r;
	char err[512], detail[700];

	sf = sf_open(cfg, err, sizeof(err));
	if (sf == NULL) {
		check_say(run, false, "salesforce", err);
		return;
	}
	memset(&out, 0, sizeof(out));
	r = sf_login(sf, &out);
	if (r == WC2SF_OK) {
		snprintf(detail, sizeof(detail), "signed in to %s",
		    cfg->login_url);
		check_say(run, true, "salesforce sign-in", detail);
	} else {
		snprintf(detail, sizeof(detail), "%s%s%s", out.code,
		    out.code[0] != '\0' ? ": " : "", out.message);
		check_say(run, false, "salesforce sign-in", detail);
	}
	sf_outcome_clear(&out);
	sf_close(sf);
}

int
cli_check(int argc, char **argv)
{
	struct check_run run;
	struct config cfg;
	struct json_object *o;
	bool offline = false;
	int c;

	memset(&run, 0, sizeof(run));
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", check_options,
	    NULL)) != -1) {
		switch (c) {
		case 'o':
			offline = true;
			break;
		case 'j':
			run.json = true;
			break;
		case 'h':
			fputs(check_usage, stdout);
			return CLI_EXIT_OK;
		default:
			return cli_usage_error(check_usage, "check: unknown "
			    "option %s", argv[optind - 1]);
		}
	}
	if (optind != argc)
		return cli_usage_error(check_usage, "check: unexpected %s",
		    argv[optind]);
	if (cli_load_config(&cfg) != 0)
		return CLI_EXIT_PROBLEM;
	if (run.json)
		run.items = json_object_new_array();
	check_say(&run, true, "config", cli_config_path());
	check_journal(&run, &cfg);
	if (!offline)
		check_salesforce(&run, &cfg);
	config_free(&cfg);
	if (run.json) {
		o = json_object_new_object();
		if (o != NULL) {
			json_object_object_add(o, "ready",
			    json_object_new_boolean(run.problems == 0));
			json_object_object_add(o, "checks", run.items);
		}
		if (cli_print_json(o) != CLI_EXIT_OK)
			return CLI_EXIT_PROBLEM;
	}
	return run.problems == 0 ? CLI_EXIT_OK : CLI_EXIT_PROBLEM;
}
