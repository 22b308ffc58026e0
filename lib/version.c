/*
 * What `--version` prints: the release, the libraries this binary runs
 * with, and for a lean build (mk/lean.mk), which carries its own
 * OpenSSL, SQLite, libcurl and the rest, the Debian versions of those:
 * how an admin sees whether it still has what apt has since patched.
 */
#include "version.h"

#include <curl/curl.h>
#include <json.h>
#include <sqlite3.h>

#ifdef WC2SF_LEAN
#include "lean_built.h"
#endif

/* The versions as the running code reports them, not the headers. */
void
version_print(FILE *out, const char *prog)
{
	fprintf(out, "%s %s\n", prog, WC2SF_VERSION);
	fprintf(out, "%s SQLite/%s json-c/%s\n", curl_version(),
	    sqlite3_libversion(), json_c_version());
#ifdef WC2SF_LEAN_BUILT
	/* Debian's fixes keep the upstream numbers above: these tell. */
	fprintf(out, "static (make lean): %s\n", WC2SF_LEAN_BUILT);
#endif
}
