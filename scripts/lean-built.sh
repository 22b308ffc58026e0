#!/bin/sh
# Write HEADER for `make lean`: the Debian versions of what the lean
# build carries (the libcurl built from source, named by CURL_VERSION,
# and the -dev packages whose static archives it links), as `--version`
# prints them. The file is rewritten only when a version changed, so
# the binaries relink exactly then: dpkg gives a package's files the
# times they had in the package, not the upgrade's, so the archives'
# own times would not tell make.
#
#   scripts/lean-built.sh HEADER CURL_VERSION PACKAGE...
set -eu

header=$1
curl_file=$2
shift 2
built="curl $(cat "$curl_file") (source)"
# The native architecture's (see lean-curl.sh).
arch=$(dpkg --print-architecture)
for p in "$@"; do
	v=$(dpkg-query -W -f='${Version}' "$p:$arch" 2>/dev/null) || {
		echo "wc2sf: $p is not installed (run scripts/deps.sh)" >&2
		exit 1
	}
	built="$built, $p $v"
done
tmp="$header.tmp"
{
	echo "/* scripts/lean-built.sh for make lean: what this build carries */"
	echo "#define WC2SF_LEAN_BUILT \"$built\""
} > "$tmp"
if cmp -s "$tmp" "$header"; then
	rm -f "$tmp"
else
	mv "$tmp" "$header"
fi
