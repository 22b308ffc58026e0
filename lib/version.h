#ifndef WC2SF_VERSION_H
#define WC2SF_VERSION_H

/* The release, as `wc2sf --version` and `wc2sf.fcgi --version` print it. */
#define WC2SF_VERSION "0.1.0"

#endif
