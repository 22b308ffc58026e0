#!/bin/sh
# Build a lean, static libcurl for `make lean` into DIR (make passes
# build/lean/curl): HTTP and HTTPS only, over OpenSSL and zlib, from
# Debian's own source package of the libcurl installed here, with
# Debian's security patches. Debian's libcurl also loads 28 libraries,
# 26 of which wc2sf never uses (LDAP, Kerberos, SSH, RTMP with GnuTLS,
# IDN, PSL, HTTP/2, brotli, zstd): about 4 MiB of every worker's memory
# (bench/README.md, "Memory").
#
# apt fetches the source with its own checks (signed Release, hashed
# Sources index, hashed files) through a private copy of this machine's
# sources turned into deb-src lines: nothing of the machine's apt state
# is changed, and no root is needed. DIR/version names what was built;
# a second run with the same version does nothing. After Debian updates
# libcurl, run `make lean` again to rebuild with its fixes. The new
# libcurl replaces the old one only once it is built: a failed fetch or
# build leaves DIR's lib and include as they were. The source and apt's
# downloads are removed after a build (about 70 MB); the logs stay.
set -eu

dir=${1:-build/curl-lean}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
# The script empties parts of DIR: only a directory it made, or an
# empty one.
mark="$dir/.wc2sf-lean-curl"
if [ ! -f "$mark" ]; then
	if [ -n "$(ls -A "$dir")" ]; then
		echo "wc2sf: $dir is not empty and not a lean libcurl's" \
		    "directory; name a new one" >&2
		exit 1
	fi
	: > "$mark"
fi
pkg=libcurl4-openssl-dev
# The native architecture's: with another's installed too, dpkg-query
# would print both versions run together.
arch=$(dpkg --print-architecture)
version=$(dpkg-query -W -f='${Version}' "$pkg:$arch" 2>/dev/null) ||
    version=""
if [ -z "$version" ]; then
	echo "wc2sf: $pkg is not installed (run scripts/deps.sh)" >&2
	exit 1
fi
if [ -f "$dir/version" ] && [ "$(cat "$dir/version")" = "$version" ] &&
    [ -f "$dir/lib/libcurl.a" ]; then
	exit 0
fi
echo "wc2sf: building a lean libcurl $version in $dir" >&2

apt="$dir/apt"
stage="$dir/stage"
rm -rf "${apt:?}" "${dir:?}/src" "${stage:?}"
# The source, apt's indexes and downloads (about 70 MB) go at the end,
# built or not; the logs stay.
trap 'rm -rf "${dir:?}/src" "${stage:?}" "${apt:?}/cache" "${apt:?}/lists"' \
    EXIT
mkdir -p "$apt/parts" "$apt/lists/partial" "$apt/cache/archives/partial" \
    "$dir/src"
# deb lines become deb-src lines, in both of apt's formats.
for f in /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] || continue
	sed 's/^Types:.*/Types: deb-src/' "$f" > "$apt/parts/$(basename "$f")"
done
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
	[ -f "$f" ] || continue
	sed -n 's/^deb[[:space:]]/deb-src /p' "$f" \
	    > "$apt/parts/$(basename "$f").list"
done
set -- -q -o Dir::Etc::SourceList=/dev/null \
    -o Dir::Etc::SourceParts="$apt/parts" \
    -o Dir::State::Lists="$apt/lists" -o Dir::Cache="$apt/cache" \
    -o Debug::NoLocking=1 -o APT::Sandbox::User="$(id -un)"
# A third-party source (Docker's, NodeSource's, ...) may publish no
# source index: its failure is not one, as long as Debian's source of
# curl comes; if it does not, both logs are shown.
apt-get "$@" update >"$apt/update.log" 2>&1 || :
indexes=0
for f in "$apt"/lists/*_Sources*; do
	[ -e "$f" ] && indexes=$((indexes + 1))
done
if [ "$indexes" -eq 0 ]; then
	cat "$apt/update.log" >&2
	echo "wc2sf: apt could read no source index through this" \
	    "machine's sources as deb-src lines (is Debian's archive" \
	    "reachable? apt's words above)" >&2
	exit 1
fi
(cd "$dir/src" && apt-get "$@" source --download-only "curl=$version") \
    >"$apt/source.log" 2>&1 || {
	cat "$apt/source.log" >&2
	echo "wc2sf: cannot fetch Debian's source of curl $version." \
	    "Debian's archive keeps only the newest source: if apt has a" \
	    "newer $pkg, install it (apt-get install --only-upgrade $pkg)" \
	    "and run make lean again" >&2
	exit 1
}
(cd "$dir/src" && dpkg-source -x ./curl_*.dsc curl) \
    >"$apt/extract.log" 2>&1 || {
	cat "$apt/extract.log" >&2
	echo "wc2sf: dpkg-source could not unpack curl $version" >&2
	exit 1
}

# Debian's patches that touch the build files (configure.ac, Makefile.am)
# concern features left out here; the shipped configure is used as it
# is, and maintainer mode off keeps make from wanting automake.
cd "$dir/src/curl"
./configure --prefix="$dir" --disable-shared --enable-static \
    --disable-maintainer-mode --disable-dependency-tracking \
    --with-openssl --with-zlib \
    --with-ca-bundle=/etc/ssl/certs/ca-certificates.crt \
    --with-ca-path=/etc/ssl/certs \
    --disable-ftp --disable-file --disable-ldap --disable-ldaps \
    --disable-rtsp --disable-dict --disable-telnet --disable-tftp \
    --disable-pop3 --disable-imap --disable-smb --disable-smtp \
    --disable-gopher --disable-mqtt --disable-manual --disable-ntlm \
    --disable-alt-svc --disable-hsts --without-libssh2 --without-libssh \
    --without-librtmp --without-libidn2 --without-libpsl \
    --without-brotli --without-zstd --without-nghttp2 --without-gssapi \
    >"$apt/configure.log" 2>&1 || {
	tail -30 "$apt/configure.log" >&2
	echo "wc2sf: configure of the lean libcurl failed" \
	    "(whole log: $apt/configure.log)" >&2
	exit 1
}
jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
{
	make -j"$jobs" -C lib &&
	    make -C lib install DESTDIR="$stage" &&
	    make -C include install DESTDIR="$stage" &&
	    make install-pkgconfigDATA DESTDIR="$stage"
} >"$apt/make.log" 2>&1 || {
	tail -30 "$apt/make.log" >&2
	echo "wc2sf: building the lean libcurl failed" \
	    "(whole log: $apt/make.log)" >&2
	exit 1
}
# Installed for --prefix=DIR under the stage: moved into place now.
rm -rf "${dir:?}/lib" "${dir:?}/include" "${dir:?}/version"
mv "$stage$dir/lib" "$stage$dir/include" "$dir/"
echo "$version" > "$dir/version"
