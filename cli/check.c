/*
 * `wc2sf check`: is this setup ready for the first order? Like `nginx -t`
 * it tells each problem in one line naming the key, file, object or
 * field and the fix, and exits 0 only when there is none. In order: the
 * configuration (the webhook secret too), the journal, a sign-in with
 * the configured flow, then the org: the API version, every object and
 * custom field wc2sf writes, the standard price book, and the API usage
 * Salesforce reports.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "config.h"
#include "journal.h"
#include "log.h"
#include "result.h"
#include "salesforce.h"
#include "sf_wire.h"
#include "tokens.h"

#define DEPLOY_FIX	"deploy salesforce/ (see salesforce/README.md)"
#define USAGE_WARN_PCT	90
/* WooCommerce makes 50-character secrets; a person's may be shorter. */
#define SECRET_MIN	16
/* The placeholders of wc2sf.conf.sample begin so. */
#define SAMPLE_PREFIX	"replace-with-"
#define SECRET_FIX	"put the secret WooCommerce shows for the webhook " \
	"(WooCommerce > Settings > Advanced > Webhooks) here"

static const char check_usage[] =
	"usage: wc2sf check [--offline] [--json]\n"
	"\n"
	"Check the configuration, the journal, the Salesforce sign-in and the\n"
	"org: the API version, the custom fields wc2sf writes, the standard\n"
	"price book and the API usage. Each problem is one line naming what\n"
	"is wrong and the fix.\n"
	"  --offline    skip everything that talks to Salesforce\n"
	"  --json       the findings as one JSON object\n"
	"Exit status 0 only when everything is ready.\n";

static const struct option check_options[] = {
	{ "offline", no_argument, NULL, 'o' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

enum check_level {
	CHECK_OK = 0,
	CHECK_WARN,
	CHECK_FAIL
};

static const char *const level_words[] = { "ok", "warn", "FAIL" };
static const char *const level_json[] = { "ok", "warn", "fail" };

/* What kind of Salesforce field a table needs. */
enum field_kind {
	FIELD_TEXT,		/* string (Text) */
	FIELD_LONG_TEXT,	/* textarea (Long Text Area) */
	FIELD_BOOL,		/* boolean (Checkbox) */
	FIELD_MONEY,		/* currency, or double (Number) */
	FIELD_DATETIME		/* datetime */
};

/* One custom field wc2sf writes, as salesforce/ deploys it. */
struct want_field {
	const char *sobject;
	const char *name;
	enum field_kind kind;
	long length;		/* text: at least this many characters */
	bool key;		/* an upsert key: External ID and Unique */
};

/*
 * The custom fields the mapping tables (lib/map_customer.c,
 * map_product.c, map_order.c) write, with the type and length
 * salesforce/force-app deploys; keep the three in step.
 * XXX map.h exports no list of written fields yet, so it is kept here.
 */
static const struct want_field want_fields[] = {
	{ "Account", "WC_Customer_Id__c", FIELD_TEXT, 64, true },
	{ "Account", "WC_Guest_Email__c", FIELD_TEXT, 80, true },
	{ "Account", "WC_Deleted__c", FIELD_BOOL, 0, false },
	{ "Contact", "WC_Customer_Id__c", FIELD_TEXT, 64, true },
	{ "Contact", "WC_Guest_Email__c", FIELD_TEXT, 80, true },
	{ "Contact", "WC_Deleted__c", FIELD_BOOL, 0, false },
	{ "Product2", "WC_Product_Id__c", FIELD_TEXT, 64, true },
	{ "Product2", "WC_Parent_Id__c", FIELD_TEXT, 64, false },
	{ "Product2", "WC_Type__c", FIELD_TEXT, 40, false },
	{ "Product2", "WC_Status__c", FIELD_TEXT, 40, false },
	{ "PricebookEntry", "WC_Price_Key__c", FIELD_TEXT, 80, true },
	{ "Order", "WC_Order_Id__c", FIELD_TEXT, 64, true },
	{ "Order", "WC_Number__c", FIELD_TEXT, 40, false },
	{ "Order", "WC_Status__c", FIELD_TEXT, 40, false },
	{ "Order", "WC_Currency__c", FIELD_TEXT, 3, false },
	{ "Order", "WC_Total__c", FIELD_MONEY, 0, false },
	{ "Order", "WC_Discount_Total__c", FIELD_MONEY, 0, false },
	{ "Order", "WC_Shipping_Total__c", FIELD_MONEY, 0, false },
	{ "Order", "WC_Total_Tax__c", FIELD_MONEY, 0, false },
	{ "Order", "WC_Refunded__c", FIELD_MONEY, 0, false },
	{ "Order", "WC_Payment_Method__c", FIELD_TEXT, 255, false },
	{ "Order", "WC_Customer_Note__c", FIELD_LONG_TEXT, 32000, false },
	{ "Order", "WC_Date_Paid__c", FIELD_DATETIME, 0, false },
	{ "Order", "WC_Deleted__c", FIELD_BOOL, 0, false },
	{ "OrderItem", "WC_Line_Id__c", FIELD_TEXT, 64, true },
	{ "OrderItem", "WC_Product_Id__c", FIELD_TEXT, 64, false },
	{ "OrderItem", "WC_Sku__c", FIELD_TEXT, 100, false },
	{ "OrderItem", "WC_Line_Total__c", FIELD_MONEY, 0, false },
	{ "OrderItem", "WC_Line_Tax__c", FIELD_MONEY, 0, false },
};
#define NWANT (sizeof(want_fields) / sizeof(want_fields[0]))

/* The objects the tables write, in the order a person would look. */
static const char *const want_objects[] = {
	"Account", "Contact", "Product2", "PricebookEntry", "Order",
	"OrderItem"
};
#define NOBJECTS (sizeof(want_objects) / sizeof(want_objects[0]))

/* The findings of one run, printed as they come or gathered for JSON. */
struct check_run {
	bool json;
	int problems;
	int warnings;
	struct json_object *items;
};

static void say(struct check_run *, enum check_level, const char *,
    const char *, ...) __attribute__((format(printf, 4, 5)));

/* One finding: "FAIL what: detail" on stdout, or one JSON item. */
static void
say(struct check_run *run, enum check_level level, const char *what,
    const char *fmt, ...)
{
	struct json_object *o;
	char detail[1200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (level == CHECK_FAIL)
		run->problems++;
	else if (level == CHECK_WARN)
		run->warnings++;
	if (!run->json) {
		printf("%-4s %s%s%s\n", level_words[level], what,
		    detail[0] != '\0' ? ": " : "", detail);
		return;
	}
	if ((o = json_object_new_object()) == NULL)
		return;
	json_object_object_add(o, "level",
	    json_object_new_string(level_json[level]));
	json_object_object_add(o, "ok",
	    json_object_new_boolean(level != CHECK_FAIL));
	json_object_object_add(o, "check", json_object_new_string(what));
	json_object_object_add(o, "detail", json_object_new_string(detail));
	json_object_array_add(run->items, o);
}

/*
 * The webhook secret is the only thing that tells a delivery from a
 * forgery: empty, short or still the sample's placeholder, anyone can
 * sign one. inih keeps quotes, so a quoted secret never matches the
 * one WooCommerce signs with. One line, the first problem found; the
 * secret itself is never shown.
 */
static void
check_secret(struct check_run *run, const char *secret)
{
	static const char what[] = "[woocommerce] secret";
	size_t n = secret != NULL ? strlen(secret) : 0;

	if (n == 0)
		say(run, CHECK_FAIL, what, "empty, so anyone can sign a "
		    "delivery; give the webhook a random secret of %d or more "
		    "characters and put it here", SECRET_MIN);
	else if (n >= 2 && ((secret[0] == '"' && secret[n - 1] == '"') ||
	    (secret[0] == '\'' && secret[n - 1] == '\'')))
		say(run, CHECK_FAIL, what, "in quotes, which become part of "
		    "the secret, so no delivery will match; remove the quotes");
	else if (strncmp(secret, SAMPLE_PREFIX, strlen(SAMPLE_PREFIX)) == 0)
		say(run, CHECK_FAIL, what, "still the placeholder of "
		    "wc2sf.conf.sample; " SECRET_FIX);
	else if (n < SECRET_MIN)
		say(run, CHECK_FAIL, what, "only %zu characters, easily "
		    "guessed; give the webhook a random secret of %d or more "
		    "characters and put it here", n, SECRET_MIN);
}

/*
 * The configuration, loaded as the responder loads it: every key known
 * and valid, every file present and only its owner can write (config.c
 * refuses anything else). Files holding secrets that others can read
 * are warned about. false when it cannot be loaded.
 */
static bool
check_config(struct check_run *run, struct config *cfg)
{
	char err[1024], dir[PATH_MAX];
	struct stat sb;
	size_t i;
	char *slash;

	if (config_load(cfg, cli_config_path(), err, sizeof(err)) != 0) {
		say(run, CHECK_FAIL, "config", "%s", err);
		return false;
	}
	say(run, CHECK_OK, "config", "%s", cfg->path);
	check_secret(run, cfg->secret);
	for (i = 0; cfg->readable != NULL && cfg->readable[i] != NULL; i++)
		say(run, CHECK_WARN, cfg->readable[i], "other users can read "
		    "it (mode %04o) and it holds a secret; run chmod o-r on it",
		    stat(cfg->readable[i], &sb) == 0 ?
		    (unsigned)(sb.st_mode & 07777) : 0u);
	if (cfg->log_file != NULL) {
		snprintf(dir, sizeof(dir), "%s", cfg->log_file);
		if ((slash = strrchr(dir, '/')) != NULL && slash != dir)
			*slash = '\0';
		if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
			say(run, CHECK_FAIL, "[log] file", "the folder %s does "
			    "not exist; create it or change the setting", dir);
	}
	return true;
}

/*
 * The journal must exist or be creatable, writable by this user, and
 * private: it holds the Salesforce token every worker shares. A journal
 * the workers cannot write turns every delivery into a 503. Returns the
 * open journal (for the token store) or NULL.
 */
static struct journal *
check_journal(struct check_run *run, const struct config *cfg)
{
	const char *path = cfg->store_path;
	struct journal *j;
	struct stat sb;
	char err[1024];
	bool created;

	created = stat(path, &sb) != 0 && errno == ENOENT;
	if ((j = journal_open(path, err, sizeof(err))) == NULL) {
		say(run, CHECK_FAIL, "[store] path", "%s", err);
		return NULL;
	}
	journal_set_claim_ttl(j, ((int64_t)cfg->timeout + 60) * 1000);
	if (journal_kv_set(j, "check_ms", "0") != 0) {
		say(run, CHECK_FAIL, "[store] path", "%s", journal_error(j));
		journal_close(j);
		return NULL;
	}
	if (stat(path, &sb) == 0 && (sb.st_mode & 007) != 0)
		say(run, CHECK_FAIL, path, "other users can read or write "
		    "the journal (mode %04o), which holds the Salesforce "
		    "token; run chmod 600 on it",
		    (unsigned)(sb.st_mode & 07777));
	else if (stat(path, &sb) == 0 && (sb.st_mode & 070) != 0)
		say(run, CHECK_WARN, path, "its group can use the journal "
		    "(mode %04o), which holds the Salesforce token; run "
		    "chmod 600 on it unless that is meant",
		    (unsigned)(sb.st_mode & 07777));
	if (created && geteuid() == 0)
		say(run, CHECK_WARN, path, "created it as root; chown it to "
		    "the user wc2sf.fcgi runs as");
	else
		say(run, CHECK_OK, "journal", "%s%s", path, created ?
		    " (created)" : "");
	return j;
}

/* Sign in with the configured flow, whatever token is kept. */
static bool
check_sign_in(struct check_run *run, const struct config *cfg,
    struct sf_session *sf)
{
	struct sf_outcome out;
	enum wc2sf_result r;
	bool ok;

	memset(&out, 0, sizeof(out));
	r = sf_login(sf, &out);
	ok = r == WC2SF_OK;
	if (ok)
		say(run, CHECK_OK, "salesforce sign-in", "auth = %s at %s; "
		    "instance %s", sf_auth_flow_name(cfg->auth),
		    cfg->login_url, sf_instance_url(sf));
	else	/* the message starts with Salesforce's error code */
		say(run, CHECK_FAIL, "salesforce sign-in", "%s", out.message);
	sf_outcome_clear(&out);
	return ok;
}

/*
 * Every URL names [salesforce] api_version; one the org does not serve
 * makes each request after the sign-in fail as if access were missing.
 * false when it is not served (describing the objects would only
 * repeat that). A list that cannot be had is a warning: the describes
 * that follow tell the rest.
 */
static bool
check_api_version(struct check_run *run, struct sf_session *sf)
{
	static const char what[] = "[salesforce] api_version";
	struct sf_outcome out;
	enum wc2sf_result r;
	char newest[32];
	bool served;

	memset(&out, 0, sizeof(out));
	r = sf_version_served(sf, &served, newest, sizeof(newest), &out);
	if (r != WC2SF_OK)
		say(run, CHECK_WARN, what, "cannot list the versions the org "
		    "serves: %s%s%s", out.code, out.code[0] != '\0' ? ": " :
		    "", out.message);
	else if (!served && newest[0] != '\0')
		say(run, CHECK_FAIL, what, "%s is not served by this org, "
		    "whose newest is %s; set api_version = %s",
		    sf_api_version(sf), newest, newest);
	else if (!served)
		say(run, CHECK_FAIL, what, "%s is not served by this org, "
		    "which lists no versions", sf_api_version(sf));
	else
		say(run, CHECK_OK, what, "%s (the org's newest is %s)",
		    sf_api_version(sf), newest);
	sf_outcome_clear(&out);
	return r != WC2SF_OK || served;
}

/* Describe's type words a field of this kind may have. */
static bool
type_suits(enum field_kind kind, const char *type)
{
	switch (kind) {
	case FIELD_TEXT:
		return strcmp(type, "string") == 0 ||
		    strcmp(type, "email") == 0;
	case FIELD_LONG_TEXT:
		return strcmp(type, "textarea") == 0;
	case FIELD_BOOL:
		return strcmp(type, "boolean") == 0;
	case FIELD_MONEY:
		return strcmp(type, "currency") == 0 ||
		    strcmp(type, "double") == 0;
	case FIELD_DATETIME:
		return strcmp(type, "datetime") == 0;
	}
	return false;
}

static const char *
kind_name(enum field_kind kind)
{
	static const char *const names[] = {
		[FIELD_TEXT] = "Text",
		[FIELD_LONG_TEXT] = "Long Text Area",
		[FIELD_BOOL] = "Checkbox",
		[FIELD_MONEY] = "Currency",
		[FIELD_DATETIME] = "Date/Time"
	};

	return names[kind];
}

/* The field named name in a describe answer (names ignore case). */
static struct json_object *
find_field(struct json_object *describe, const char *name)
{
	struct json_object *fields, *f, *v;
	size_t i, n;

	if (!json_object_object_get_ex(describe, "fields", &fields) ||
	    !json_object_is_type(fields, json_type_array))
		return NULL;
	n = json_object_array_length(fields);
	for (i = 0; i < n; i++) {
		f = json_object_array_get_idx(fields, i);
		if (json_object_object_get_ex(f, "name", &v) &&
		    json_object_is_type(v, json_type_string) &&
		    strcasecmp(json_object_get_string(v), name) == 0)
			return f;
	}
	return NULL;
}

static bool
flag(struct json_object *field, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(field, key, &v) &&
	    json_object_get_boolean(v);
}

/*
 * One wanted field against describe: present, a suitable type, long
 * enough, External ID and Unique when it is a key, writable. Each
 * problem is one line; returns how many.
 */
static int
check_field(struct check_run *run, const struct want_field *w,
    struct json_object *describe)
{
	struct json_object *f, *v;
	const char *type = "";
	char what[128];
	long length = 0;
	bool ext, uniq;
	int bad = 0;

	snprintf(what, sizeof(what), "%s.%s", w->sobject, w->name);
	if ((f = find_field(describe, w->name)) == NULL) {
		say(run, CHECK_FAIL, what, "missing or hidden from the "
		    "integration user; " DEPLOY_FIX);
		return 1;
	}
	if (json_object_object_get_ex(f, "type", &v))
		type = json_object_get_string(v);
	if (json_object_object_get_ex(f, "length", &v))
		length = (long)json_object_get_int64(v);
	if (!type_suits(w->kind, type)) {
		say(run, CHECK_FAIL, what, "type %s, expected %s; "
		    DEPLOY_FIX, type, kind_name(w->kind));
		bad++;
	} else if (w->length > 0 && length < w->length) {
		say(run, CHECK_FAIL, what, "length %ld, expected at least "
		    "%ld; " DEPLOY_FIX, length, w->length);
		bad++;
	}
	ext = flag(f, "externalId");
	uniq = flag(f, "unique");
	if (w->key && (!ext || !uniq)) {
		say(run, CHECK_FAIL, what, "not flagged %s; " DEPLOY_FIX,
		    !ext && !uniq ? "External ID and Unique" : !ext ?
		    "External ID" : "Unique");
		bad++;
	}
	if (!flag(f, "createable") || !flag(f, "updateable")) {
		say(run, CHECK_FAIL, what, "the integration user cannot "
		    "write it; assign the wc2sf_integration permission set "
		    "(see salesforce/README.md)");
		bad++;
	}
	return bad;
}

/*
 * With state_picklists = yes wc2sf writes BillingCountryCode and the
 * like, which exist only when the org has State and Country/Territory
 * Picklists; without, text country names may be refused by an org that
 * has them.
 */
static void
check_picklists(struct check_run *run, const struct config *cfg,
    struct json_object *account)
{
	bool have = find_field(account, "BillingCountryCode") != NULL;

	if (cfg->state_picklists && !have)
		say(run, CHECK_FAIL, "Account.BillingCountryCode", "missing: "
		    "the org has no State and Country/Territory Picklists; "
		    "enable them or set [salesforce] state_picklists = no");
	else if (!cfg->state_picklists && have)
		say(run, CHECK_WARN, "[salesforce] state_picklists", "the "
		    "org has State and Country/Territory Picklists; set "
		    "state_picklists = yes so countries and states are sent "
		    "as codes");
}

/*
 * Describe every object the tables write and check its fields. false
 * when Salesforce stopped answering (the rest is not worth asking).
 */
static bool
check_objects(struct check_run *run, const struct config *cfg,
    struct sf_session *sf)
{
	struct sf_outcome out;
	struct json_object *describe;
	enum wc2sf_result r;
	char path[128];
	size_t i, k;
	int bad, count;

	for (i = 0; i < NOBJECTS; i++) {
		memset(&out, 0, sizeof(out));
		snprintf(path, sizeof(path), "/sobjects/%s/describe",
		    want_objects[i]);
		r = sf_get(sf, path, &describe, &out);
		if (r != WC2SF_OK) {
			if (r == WC2SF_SF_REJECTED)
				say(run, CHECK_FAIL, want_objects[i], "%s%s%s; "
				    "give the integration user access to %s "
				    "(Orders must be enabled in Setup > Order "
				    "Settings)", out.code, out.code[0] != '\0' ?
				    ": " : "", out.message, want_objects[i]);
			else
				say(run, CHECK_FAIL, want_objects[i], "cannot "
				    "describe it: %s%s%s", out.code,
				    out.code[0] != '\0' ? ": " : "",
				    out.message);
			sf_outcome_clear(&out);
			if (r == WC2SF_SF_REJECTED)
				continue;
			return false;
		}
		sf_outcome_clear(&out);
		bad = count = 0;
		for (k = 0; k < NWANT; k++) {
			if (strcmp(want_fields[k].sobject,
			    want_objects[i]) != 0)
				continue;
			count++;
			bad += check_field(run, &want_fields[k], describe);
		}
		if (strcmp(want_objects[i], "Account") == 0)
			check_picklists(run, cfg, describe);
		if (bad == 0)
			say(run, CHECK_OK, want_objects[i], "%d custom "
			    "field%s ready", count, count == 1 ? "" : "s");
		json_object_put(describe);
	}
	return true;
}

/* Products and order lines need the standard price book, active. */
static void
check_pricebook(struct check_run *run, struct sf_session *sf)
{
	struct sf_outcome out;
	enum wc2sf_result r;

	memset(&out, 0, sizeof(out));
	r = sf_standard_pricebook(sf, &out);
	if (r == WC2SF_OK)
		say(run, CHECK_OK, "Pricebook2", "the standard price book "
		    "is active");
	else if (strcmp(out.code, "WC2SF_STANDARD_PRICEBOOK_INACTIVE") == 0)
		say(run, CHECK_FAIL, "Pricebook2", "the standard price book "
		    "is inactive; activate it (Setup > Price Books > "
		    "Standard Price Book > Active)");
	else if (strcmp(out.code, "WC2SF_NO_STANDARD_PRICEBOOK") == 0)
		say(run, CHECK_FAIL, "Pricebook2", "no standard price book "
		    "is visible (IsStandard = true); let the integration "
		    "user read price books (salesforce/README.md)");
	else
		say(run, CHECK_FAIL, "Pricebook2", "cannot read the standard "
		    "price book: %s%s%s", out.code, out.code[0] != '\0' ?
		    ": " : "", out.message);
	sf_outcome_clear(&out);
}

/* The daily allocation as Sforce-Limit-Info told it (reference 3.4). */
static void
check_api_usage(struct check_run *run, struct sf_session *sf,
    struct json_object *top)
{
	struct json_object *o;
	long used, max, pct;

	if (!sf_api_usage(sf, &used, &max) || max <= 0) {
		say(run, CHECK_WARN, "api usage", "Salesforce sent no "
		    "Sforce-Limit-Info header");
		return;
	}
	pct = used * 100 / max;
	if (used >= max)
		say(run, CHECK_FAIL, "api usage", "%ld of %ld API requests of "
		    "the last 24 hours used; Salesforce refuses more until "
		    "the count falls, or raise the org's allocation", used,
		    max);
	else
		say(run, pct >= USAGE_WARN_PCT ? CHECK_WARN : CHECK_OK,
		    "api usage", "%ld of %ld API requests of the last 24 "
		    "hours used (%ld%%)", used, max, pct);
	if (top != NULL && (o = json_object_new_object()) != NULL) {
		json_object_object_add(o, "used", json_object_new_int64(used));
		json_object_object_add(o, "max", json_object_new_int64(max));
		json_object_object_add(top, "api_usage", o);
	}
}

/* Sign in, then the org, on one session sharing the workers' tokens. */
static void
check_salesforce(struct check_run *run, const struct config *cfg,
    struct journal *j, struct json_object *top)
{
	struct sf_session *sf;
	char err[512];

	if ((sf = sf_open(cfg, err, sizeof(err))) == NULL) {
		say(run, CHECK_FAIL, "[salesforce]", "%s", err);
		return;
	}
	if (j != NULL) {
		(void)tokens_attach(sf, j);
	} else if (cfg->auth == SF_AUTH_REFRESH_TOKEN) {
		/* A rotation nobody could keep would end the sync. */
		say(run, CHECK_FAIL, "salesforce sign-in", "not tried: a "
		    "sign-in with auth = refresh_token may rotate the token, "
		    "and this user cannot keep it in the journal; run wc2sf "
		    "check as the user wc2sf.fcgi runs as");
		sf_close(sf);
		return;
	}
	if (check_sign_in(run, cfg, sf) && check_api_version(run, sf) &&
	    check_objects(run, cfg, sf)) {
		check_pricebook(run, sf);
		check_api_usage(run, sf, top);
	}
	sf_close(sf);
}

int
cli_check(int argc, char **argv)
{
	struct check_run run;
	struct config cfg;
	struct journal *j = NULL;
	struct json_object *top = NULL;
	bool offline = false;
	int c;

	memset(&run, 0, sizeof(run));
	memset(&cfg, 0, sizeof(cfg));
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
	/* Every finding is a line of its own; the library stays quiet. */
	log_init("wc2sf", LOG_LEVEL_ERROR);
	if (run.json && ((top = json_object_new_object()) == NULL ||
	    (run.items = json_object_new_array()) == NULL)) {
		json_object_put(top);
		cli_error("out of memory");
		return CLI_EXIT_PROBLEM;
	}
	if (check_config(&run, &cfg)) {
		j = check_journal(&run, &cfg);
		if (!offline)
			check_salesforce(&run, &cfg, j, top);
		if (j != NULL)
			journal_close(j);
	}
	config_free(&cfg);
	if (!run.json) {
		if (run.problems == 0)
			printf("wc2sf: ready%s\n", offline ?
			    " (Salesforce not checked)" : "");
		else
			printf("wc2sf: not ready: %d problem%s\n",
			    run.problems, run.problems == 1 ? "" : "s");
		return run.problems == 0 ? CLI_EXIT_OK : CLI_EXIT_PROBLEM;
	}
	json_object_object_add(top, "ready",
	    json_object_new_boolean(run.problems == 0));
	json_object_object_add(top, "problems",
	    json_object_new_int(run.problems));
	json_object_object_add(top, "warnings",
	    json_object_new_int(run.warnings));
	json_object_object_add(top, "checks", run.items);
	if (cli_print_json(top) != CLI_EXIT_OK)
		return CLI_EXIT_PROBLEM;
	return run.problems == 0 ? CLI_EXIT_OK : CLI_EXIT_PROBLEM;
}
