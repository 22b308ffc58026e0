#ifndef WC2SF_VERSION_H
#define WC2SF_VERSION_H

#include <stdio.h>

/* The release, as `wc2sf --version` and `wc2sf.fcgi --version` print it. */
#define WC2SF_VERSION "0.1.0"

/*
 * Print "PROG VERSION" and a line with the libraries' versions, as the
 * libraries loaded or linked in report them (libcurl names its TLS
 * library and zlib).
 */
void version_print(FILE *out, const char *prog);

#endif
