/*
 * The configuration parser: any bytes as wc2sf.conf through
 * config_load(), from a private directory (mode 0600, as config.c
 * demands). Relative *_file and key paths resolve there, where the
 * target keeps one small secret file and one key-shaped file to find.
 *
 * Checked, from config.h: on success the required settings are there
 * and numbers within their ranges; on failure a sentence naming the
 * file is given.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "config.h"

static char conf_path[512];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[256], path[512];

	fuzz_quiet_logs();
	FUZZ_CHECK(fuzz_tmpdir(dir, sizeof(dir)));
	snprintf(conf_path, sizeof(conf_path), "%s/wc2sf.conf", dir);
	snprintf(path, sizeof(path), "%s/secret", dir);
	FUZZ_CHECK(fuzz_write_file(path, "s3cr&amp;t\n", 11));
	snprintf(path, sizeof(path), "%s/key.pem", dir);
	FUZZ_CHECK(fuzz_write_file(path, "-----BEGIN PRIVATE KEY-----\n",
	    28));
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	char err[512];

	if (!fuzz_write_file(conf_path, data, size))
		return 0;
	memset(err, 'x', sizeof(err));
	if (config_load(&cfg, conf_path, err, sizeof(err)) == 0) {
		FUZZ_CHECK(cfg.path != NULL);
		FUZZ_CHECK(cfg.secret != NULL);
		FUZZ_CHECK(cfg.store_path != NULL);
		FUZZ_CHECK(cfg.login_url != NULL);
		FUZZ_CHECK(cfg.api_version != NULL);
		FUZZ_CHECK(cfg.max_body >= 1024 &&
		    cfg.max_body <= 64L * 1024 * 1024);
		FUZZ_CHECK(cfg.timeout >= 1 && cfg.timeout <= 600);
		FUZZ_CHECK(cfg.drain_seconds >= 0 && cfg.drain_seconds <= 60);
		FUZZ_CHECK(cfg.retention_days >= 1 &&
		    cfg.retention_days <= 3650);
		config_free(&cfg);
	} else {
		FUZZ_CHECK(strnlen(err, sizeof(err)) < sizeof(err));
		FUZZ_CHECK(err[0] != '\0');
		FUZZ_CHECK(strstr(err, conf_path) != NULL);
	}
	return 0;
}
