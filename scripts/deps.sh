#!/bin/sh
# Install the Debian packages wc2sf needs to build, test and run the demo:
# every name listed in scripts/deps/*.txt (one a line, # for comments),
# or only in the lists named (`scripts/deps.sh build lean` for make lean).
# As root it installs what is missing; otherwise it prints the exact
# apt-get line to run and fails, so make stops with a clear reason.
set -eu

here=$(dirname "$0")
lists=""
for l in "$@"; do
	if [ ! -f "$here/deps/$l.txt" ]; then
		echo "wc2sf: no package list $here/deps/$l.txt" >&2
		exit 1
	fi
	lists="$lists $here/deps/$l.txt"
done
[ -n "$lists" ] || lists=$(echo "$here"/deps/*.txt)
# shellcheck disable=SC2086
need=$(sed -e 's/#.*//' $lists | tr -s ' \t' '\n' | sort -u)

missing=""
for p in $need; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "wc2sf: missing packages; run as root:" >&2
	echo "  apt-get install -y$missing" >&2
	exit 1
fi
echo "wc2sf: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
