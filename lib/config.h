#ifndef WC2SF_CONFIG_H
#define WC2SF_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "log.h"

#define CONFIG_DEFAULT_PATH "/etc/wc2sf/wc2sf.conf"

enum sf_auth {
	SF_AUTH_PASSWORD = 0,
	SF_AUTH_CLIENT_CREDENTIALS,
	SF_AUTH_JWT,
	SF_AUTH_REFRESH_TOKEN
};

/*
 * The whole configuration, read once from an INI file (inih). Strings are
 * owned by the struct and freed by config_free(); a key that is absent is
 * NULL, or its default. Secrets (*_file keys) are read into the same
 * fields as their inline forms.
 */
struct config {
	char *path;			/* the file it came from */
	char **readable;		/* files holding secrets that other
					   users can read, NULL-ended; NULL
					   when none (for `wc2sf check`) */

	/* [woocommerce] */
	char *secret;			/* as WooCommerce stores it */
	size_t max_body;		/* bytes; default 1 MiB */
	char **sync_statuses;		/* order statuses synced, NULL-ended */

	/* [salesforce] */
	enum sf_auth auth;
	char *login_url;		/* https://login.salesforce.com */
	char *client_id;
	char *client_secret;
	bool client_basic;		/* client_auth = basic: id and secret
					   in an HTTP Basic header */
	char *username;
	char *password;			/* password + security token */
	char *private_key;		/* PEM path, for jwt */
	char *audience;			/* jwt aud; derived when NULL */
	char *refresh_token;		/* initial one, for refresh_token */
	char *api_version;		/* "62.0" */
	char *ca_file;			/* extra CA bundle; NULL = system */
	long timeout;			/* seconds per Salesforce request */
	bool state_picklists;		/* write *CountryCode, *StateCode */

	/* [store] */
	char *store_path;		/* SQLite file */
	long drain_seconds;		/* time a worker drains after a reply */
	long retention_days;		/* prune: synced events older */

	/* [log] */
	enum log_level log_level;
	char *log_file;			/* NULL = stderr */
};

/*
 * Load path into cfg (zeroed first, defaults applied). On any problem
 * returns -1 and writes one sentence into err naming the file, the key
 * and what is expected, e.g.
 *   /etc/wc2sf/wc2sf.conf: [woocommerce] max_body: expected a size in
 *   bytes such as 1048576 or 1M, got "lots"
 * Unknown sections and keys are errors too.
 */
int config_load(struct config *cfg, const char *path, char *err,
    size_t errlen);

/* The path to use: $WC2SF_CONFIG, else CONFIG_DEFAULT_PATH. */
const char *config_default_path(void);

void config_free(struct config *cfg);

#endif
