#!/usr/bin/env bash
# interop.sh: statements signed by jos-settle verify with independent implementations
# (the xmlsec1 command, the JDK's javax.xml.crypto.dsig, the npm package xml-crypto),
# they validate with `xmllint --schema formats/statement.xsd`, and a statement signed
# by `xmlsec1 --sign` from our template verifies with `jos-settle verify`.
# The statements are the hand-made sample of tests/support/stmt.c, signed by a tiny
# driver (tests/interop/mkstmt.c) built here against $BUILD/libjos.a, and those that
# `jos-settle settle` makes from tests/data/verify-data; the keys and certificates
# come from tests/support/pki.sh (made now, never committed).
# Env (from `make e2e`): JOS_BIN, BUILD, JOS_RUNNER. A missing javac or npm is
# reported as SKIPPED; anything else that does not verify is a failure.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
JOS_BIN=${JOS_BIN:-$PWD/bin/jos-settle}
RUN=${JOS_RUNNER:-}
tmp=$(mktemp -d /tmp/jos-interop-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0
ok() { echo "ok      $*"; }
bad() { echo "FAILED  $*"; fails=$((fails + 1)); }
skip() { echo "SKIPPED $*"; }
expect_ok() { # NAME CMD...: the command must succeed and say OK (xmllint: validates)
	local name=$1 out
	shift
	if out=$("$@" 2>&1) && grep -qE "OK|validates" <<<"$out"; then ok "$name"; else bad "$name: $out"; fi
}
expect_fail() { # NAME CMD...: the command must fail
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then bad "$name (accepted: $out)"; else ok "$name"; fi
}

bash tests/support/pki.sh "$tmp/pki" || { echo "FAILED  cannot make the test PKI"; exit 1; }
P=$tmp/pki

# the driver, with the sanitizers when libjos.a was built with them
san=
nm "$BUILD/libjos.a" 2>/dev/null | grep -q "__asan_" && san="-fsanitize=address,undefined"
pkgs="libxml-2.0 openssl xmlsec1-openssl"
# shellcheck disable=SC2046
if ! cc -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $san -I. $(pkg-config --cflags $pkgs) \
	-o "$tmp/mkstmt" tests/interop/mkstmt.c tests/support/stmt.c "$BUILD/libjos.a" \
	$(pkg-config --libs $pkgs); then
	echo "FAILED  cannot build tests/interop/mkstmt.c"
	exit 1
fi
"$tmp/mkstmt" sign "$P/signer.key" "$P/signer.pem" "$tmp/rsa.xml" || { echo "FAILED  signing (RSA)"; exit 1; }
"$tmp/mkstmt" sign "$P/signer-ec.key" "$P/signer-ec.pem" "$tmp/ec.xml" || { echo "FAILED  signing (EC)"; exit 1; }
# and statements made by `settle` from tests/data/verify-data (RSA)
settled=()
if $RUN "$JOS_BIN" settle tests/data/verify-data -o "$tmp/out" --key "$P/signer.key" --cert "$P/signer.pem" \
	>"$tmp/settle.log" 2>&1; then
	for f in "$tmp"/out/statements/*.xml; do settled+=("$f"); done
	[ ${#settled[@]} -ge 2 ] && ok "settle made ${#settled[@]} statements" || bad "settle made no statements"
else
	bad "settle tests/data/verify-data: $(cat "$tmp/settle.log")"
fi
sed 's|<Amount>1111.10</Amount>|<Amount>1011.10</Amount>|' "$tmp/rsa.xml" > "$tmp/tampered.xml"
cmp -s "$tmp/rsa.xml" "$tmp/tampered.xml" && { echo "FAILED  could not tamper"; exit 1; }

# schema
expect_ok "xmllint --schema (RSA)" xmllint --noout --schema formats/statement.xsd "$tmp/rsa.xml"
expect_ok "xmllint --schema (EC)" xmllint --noout --schema formats/statement.xsd "$tmp/ec.xml"
for f in "${settled[@]}"; do
	expect_ok "xmllint --schema (settle: ${f##*/})" xmllint --noout --schema formats/statement.xsd "$f"
done

# jos-settle itself
expect_ok "jos-settle verify (RSA, EC)" $RUN "$JOS_BIN" verify --trust "$P/trust.pem" "$tmp/rsa.xml" "$tmp/ec.xml"
if [ ${#settled[@]} -gt 0 ]; then
	expect_ok "jos-settle verify --data (settle's statements)" \
		$RUN "$JOS_BIN" verify --trust "$P/trust.pem" --data tests/data/verify-data "${settled[@]}"
fi
out=$($RUN "$JOS_BIN" verify --trust "$P/trust.pem" "$tmp/rsa.xml" "$tmp/tampered.xml" 2>&1)
rc=$?
if [ $rc -eq 1 ] && grep -q "rsa.xml: OK" <<<"$out" && grep -q "tampered.xml: FAILED: " <<<"$out"; then
	ok "jos-settle verify: tampered FAILED, exit 1"
else
	bad "jos-settle verify tampered (rc $rc): $out"
fi

# xmlsec1 command line
if command -v xmlsec1 >/dev/null; then
	expect_ok "xmlsec1 --verify (RSA)" xmlsec1 --verify --trusted-pem "$P/ca.pem" "$tmp/rsa.xml"
	expect_ok "xmlsec1 --verify (EC)" xmlsec1 --verify --trusted-pem "$P/ca.pem" "$tmp/ec.xml"
	for f in "${settled[@]}"; do
		expect_ok "xmlsec1 --verify (settle: ${f##*/})" xmlsec1 --verify --trusted-pem "$P/ca.pem" "$f"
	done
	expect_fail "xmlsec1 --verify refuses the tampered one" xmlsec1 --verify --trusted-pem "$P/ca.pem" "$tmp/tampered.xml"
	# and the other way round: xmlsec1 signs our template, jos-settle verifies
	for kind in rsa ec; do
		if [ $kind = ec ]; then key=signer-ec; else key=signer; fi
		"$tmp/mkstmt" template "$tmp/tmpl-$kind.xml" $kind
		if xmlsec1 --sign --privkey-pem "$P/$key.key,$P/$key.pem" --output "$tmp/xmlsec1-$kind.xml" \
			"$tmp/tmpl-$kind.xml" 2>"$tmp/err"; then
			expect_ok "xmlsec1 --sign ($kind) -> jos-settle verify" \
				$RUN "$JOS_BIN" verify --trust "$P/ca.pem" "$tmp/xmlsec1-$kind.xml"
		else
			bad "xmlsec1 --sign ($kind): $(cat "$tmp/err")"
		fi
	done
else
	bad "xmlsec1 is not installed (Debian package xmlsec1)"
fi

# the JDK
if command -v javac >/dev/null && command -v java >/dev/null; then
	mkdir -p "$tmp/java"
	if javac -d "$tmp/java" tests/interop/VerifyStatement.java 2>"$tmp/err"; then
		expect_ok "JDK javax.xml.crypto (RSA)" java -cp "$tmp/java" VerifyStatement "$P/trust.pem" "$tmp/rsa.xml"
		expect_ok "JDK javax.xml.crypto (EC)" java -cp "$tmp/java" VerifyStatement "$P/trust.pem" "$tmp/ec.xml"
		for f in "${settled[@]}"; do
			expect_ok "JDK javax.xml.crypto (settle: ${f##*/})" java -cp "$tmp/java" VerifyStatement "$P/trust.pem" "$f"
		done
		expect_fail "JDK refuses the tampered one" java -cp "$tmp/java" VerifyStatement "$P/trust.pem" "$tmp/tampered.xml"
		expect_fail "JDK refuses an untrusted CA" java -cp "$tmp/java" VerifyStatement "$P/other-ca.pem" "$tmp/rsa.xml"
	else
		bad "javac: $(cat "$tmp/err")"
	fi
else
	skip "JDK (javac/java not installed: Debian package openjdk-17-jdk-headless)"
fi

# xml-crypto (RSA only: xml-crypto has no ECDSA)
if command -v npm >/dev/null && command -v node >/dev/null; then
	nm_dir=tests/interop/node_modules
	if [ ! -f "$nm_dir/.package-lock.json" ] || [ tests/interop/package-lock.json -nt "$nm_dir/.package-lock.json" ]; then
		(cd tests/interop && npm ci --no-audit --no-fund --ignore-scripts >"$tmp/npm.log" 2>&1) ||
			bad "npm ci in tests/interop: $(tail -5 "$tmp/npm.log")"
	fi
	if [ -d "$nm_dir/xml-crypto" ]; then
		expect_ok "xml-crypto (RSA)" node tests/interop/verify.js "$P/trust.pem" "$tmp/rsa.xml"
		for f in "${settled[@]}"; do
			expect_ok "xml-crypto (settle: ${f##*/})" node tests/interop/verify.js "$P/trust.pem" "$f"
		done
		expect_fail "xml-crypto refuses the tampered one" node tests/interop/verify.js "$P/trust.pem" "$tmp/tampered.xml"
		expect_fail "xml-crypto path refuses an untrusted CA" node tests/interop/verify.js "$P/other-ca.pem" "$tmp/rsa.xml"
	fi
else
	skip "xml-crypto (node/npm not installed)"
fi

if [ $fails -ne 0 ]; then
	echo "interop: $fails failure(s)"
	exit 1
fi
echo "interop: all passed"
