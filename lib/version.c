/*
 * What `--version` prints: the release, and the libraries this binary
 * runs with. A lean build carries its own OpenSSL, SQLite and libcurl,
 * so this line is how an admin sees whether it still has the versions
 * apt has since patched (compare with `openssl version`).
 */
#include "version.h"

#include <curl/curl.h>
#include <json.h>
#include <sqlite3.h>

/* The versions as the running code reports them, not the headers. */
void
version_print(FILE *out, const char *prog)
{
	fprintf(out, "%s %s\n", prog, WC2SF_VERSION);
	fprintf(out, "%s SQLite/%s json-c/%s\n", curl_version(),
	    sqlite3_libversion(), json_c_version());
}
