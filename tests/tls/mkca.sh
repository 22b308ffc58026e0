#!/bin/sh
# Make the throwaway TLS material the tests use, with the openssl CLI:
#   ca.pem, ca.key          a test certificate authority
#   server.pem, server.key  the fake Salesforce's certificate, signed by the
#                           CA, valid for IP:127.0.0.1 and DNS:localhost
#   jwt.pem, jwt.key        an RSA key pair and self-signed certificate for
#                           the OAuth JWT bearer flow
# wc2sf trusts ca.pem and nothing else, so TLS verification stays on in
# every test. Files that already exist are kept (a new CA also means a new
# server certificate). Safe to run from several tests at once: writers
# take a lock and every file appears complete, by rename.
set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 OUTDIR" >&2
	exit 2
fi
out=$1
mkdir -p "$out"
cd "$out"

if command -v flock >/dev/null 2>&1; then
	exec 9>.mkca.lock
	flock 9
fi

have() {
	for f in "$@"; do
		[ -s "$f" ] || return 1
	done
	return 0
}

have ca.pem ca.key server.pem server.key jwt.pem jwt.key && exit 0

umask 077
tmp=$(mktemp -d ./.mkca.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM

# Quiet openssl unless it fails; then show what it said.
run() {
	if ! "$@" >"$tmp/log" 2>&1; then
		cat "$tmp/log" >&2
		echo "mkca.sh: failed: $*" >&2
		exit 1
	fi
}

if ! have ca.pem ca.key; then
	run openssl req -x509 -newkey rsa:2048 -sha256 -nodes -days 3650 \
	    -keyout "$tmp/ca.key" -out "$tmp/ca.pem" \
	    -subj "/O=wc2sf tests/CN=wc2sf test CA" \
	    -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" \
	    -addext "subjectKeyIdentifier=hash"
	chmod 644 "$tmp/ca.pem"
	mv "$tmp/ca.key" ca.key
	mv "$tmp/ca.pem" ca.pem
	rm -f server.pem server.key
fi

if ! have server.pem server.key; then
	cat >"$tmp/server.ext" <<'EOF'
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
	run openssl req -new -newkey rsa:2048 -sha256 -nodes \
	    -keyout "$tmp/server.key" -out "$tmp/server.csr" \
	    -subj "/O=wc2sf tests/CN=127.0.0.1"
	run openssl x509 -req -sha256 -days 825 -in "$tmp/server.csr" \
	    -CA ca.pem -CAkey ca.key -set_serial "0x$(openssl rand -hex 8)" \
	    -extfile "$tmp/server.ext" -out "$tmp/server.pem"
	chmod 644 "$tmp/server.pem"
	mv "$tmp/server.key" server.key
	mv "$tmp/server.pem" server.pem
fi

if ! have jwt.pem jwt.key; then
	run openssl req -x509 -newkey rsa:2048 -sha256 -nodes -days 3650 \
	    -keyout "$tmp/jwt.key" -out "$tmp/jwt.pem" \
	    -subj "/O=wc2sf tests/CN=wc2sf JWT bearer"
	chmod 644 "$tmp/jwt.pem"
	mv "$tmp/jwt.key" jwt.key
	mv "$tmp/jwt.pem" jwt.pem
fi
