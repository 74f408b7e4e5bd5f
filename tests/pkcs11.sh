#!/usr/bin/env bash
# pkcs11.sh: signing with a key that never leaves a hardware module (issue 8 item 4),
# end to end with Debian's softhsm2 and OpenSSL's "pkcs11" engine (libp11):
#  - a softhsm2 token in a temporary folder (SOFTHSM2_CONF), an RSA-2048 key imported
#    into it, a certificate for that key from the test CA (tests/support/pki.sh);
#  - `settle --key 'pkcs11:token=jos;object=signer;type=private'` with the PIN from the
#    environment (--key-pass-env) and, with module-path in the URI, from a file
#    (--key-pass-file), and through p11-kit's proxy (the default module, which offers
#    softhsm2 as registered in /usr/share/p11-kit/modules): every output byte equals a
#    settle with the same key as a PEM
#    file (RSA PKCS#1 v1.5 is deterministic), made before that file was deleted, so
#    the token alone signed; the statements pass `jos-settle verify` and `xmlsec1 --verify`;
#  - a wrong or missing PIN, a PIN in the URI, an unknown object, a certificate of
#    another key, an EC key in the token (RSA only, see README) and a missing engine:
#    exit 2, a clear message, no OUT_DIR, no prompt.
# Nothing is skipped: a missing softhsm2 or engine is a failure (`make deps` installs them).
# The module is named by PKCS11_MODULE_PATH (read by libp11) except where a case says
# otherwise. The p11-kit proxy case runs without JOS_RUNNER: p11-kit 0.24.1's proxy
# loses ~460 bytes at C_Finalize (valgrind shows the same for `openssl pkeyutl -engine
# pkcs11`), which is not ours to fix.
set -u
cd "$(dirname "$0")/.."
JOS_BIN=${JOS_BIN:-$PWD/bin/jos-settle}
RUN=${JOS_RUNNER:-}
tmp=$(mktemp -d /tmp/jos-pkcs11-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
pass=0 fails=0
ok() { echo "ok      $*"; pass=$((pass + 1)); }
bad() { echo "FAILED  $*"; fails=$((fails + 1)); }
jos() { $RUN "$JOS_BIN" "$@" </dev/null; }
MODULE=/usr/lib/softhsm/libsofthsm2.so
URI='pkcs11:token=jos;object=signer;type=private'
hr=scenarios/holland-rijnland

if ! command -v softhsm2-util >/dev/null || [ ! -f "$MODULE" ]; then
	echo "FAILED  softhsm2 is not installed (make deps; Debian package softhsm2)"; exit 1
fi
engines=$(openssl version -e | sed -n 's/^ENGINESDIR: "\(.*\)"$/\1/p')
if [ ! -f "${OPENSSL_ENGINES:-$engines}/pkcs11.so" ]; then
	echo "FAILED  the OpenSSL pkcs11 engine is not installed (make deps; libengine-pkcs11-openssl)"; exit 1
fi

# the token
mkdir -p "$tmp/tokens"
cat > "$tmp/softhsm2.conf" <<CONF
directories.tokendir = $tmp/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
CONF
export SOFTHSM2_CONF=$tmp/softhsm2.conf
export PKCS11_MODULE_PATH=$MODULE
softhsm2-util --init-token --free --label jos --pin 1234 --so-pin 5678 >/dev/null ||
	{ echo "FAILED  softhsm2-util --init-token"; exit 1; }

# the key (made here, imported, then deleted) and its certificate from the test CA
bash tests/support/pki.sh "$tmp/pki" >/dev/null || { echo "FAILED  cannot make the test PKI"; exit 1; }
P=$tmp/pki
K=$tmp/hsm.key
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$K" 2>/dev/null && chmod 600 "$K" &&
	openssl pkcs8 -topk8 -nocrypt -in "$K" -out "$tmp/hsm.pk8" 2>/dev/null ||
	{ echo "FAILED  cannot make the key"; exit 1; }
softhsm2-util --import "$tmp/hsm.pk8" --token jos --label signer --id 01 --pin 1234 >/dev/null ||
	{ echo "FAILED  softhsm2-util --import"; exit 1; }
(cd "$P" && openssl req -new -key "$K" -subj "/CN=Holland Rijnland token signer/O=jos-settle tests" \
	-out hsm.csr 2>/dev/null && openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in hsm.csr \
	-out "$tmp/hsm.pem" -startdate 20200101000000Z -enddate 20400101000000Z -extensions v3_leaf -notext \
	2>/dev/null) || { echo "FAILED  cannot issue the token key's certificate"; exit 1; }

# reference: the same key as a PEM file; then the file goes, only the token has the key
if jos settle "$hr" -o "$tmp/pem" --key "$K" --cert "$tmp/hsm.pem" 2>"$tmp/err"; then
	ok "settle with the key as a PEM file"
else bad "settle with the PEM key: $(cat "$tmp/err")"; fi
rm -f "$K" "$tmp/hsm.pk8"

JOS_TEST_PIN=1234 jos settle "$hr" -o "$tmp/p11" --key "$URI" --cert "$tmp/hsm.pem" \
	--key-pass-env JOS_TEST_PIN 2>"$tmp/err"
rc=$?
if [ $rc = 0 ] && [ -f "$tmp/p11/SHA256SUMS" ]; then ok "settle --key '$URI' --key-pass-env"
else bad "settle with the token key: exit $rc, $(cat "$tmp/err")"; fi
n=$(ls "$tmp/p11/statements" 2>/dev/null | wc -l)
if [ "$n" -gt 0 ] && diff -r "$tmp/pem" "$tmp/p11" >/dev/null; then
	ok "token and PEM key give identical bytes ($n statements, summary.csv, SHA256SUMS)"
else bad "token and PEM outputs differ ($n statements): $(diff -r "$tmp/pem" "$tmp/p11" 2>&1 | head -3)"; fi
if jos verify --trust "$P/ca.pem" --data "$hr" "$tmp/p11"/statements/*.xml >"$tmp/vout" 2>&1 &&
   [ "$(grep -c ': OK$' "$tmp/vout")" = "$n" ]; then
	ok "jos-settle verify --data: $n statements OK"
else bad "jos-settle verify: $(grep -v ': OK$' "$tmp/vout" | head -3)"; fi
v=0
for f in "$tmp/p11"/statements/*.xml; do
	xmlsec1 --verify --trusted-pem "$P/ca.pem" "$f" >/dev/null 2>&1 && v=$((v + 1))
done
[ "$n" -gt 0 ] && [ "$v" = "$n" ] && ok "xmlsec1 --verify: $v of $n" || bad "xmlsec1 --verify: only $v of $n"
(cd "$tmp/p11" && sha256sum --quiet -c SHA256SUMS) && ok "SHA256SUMS" || bad "SHA256SUMS"

# the PIN from a file, the module named in the URI only (RFC 7512 module-path)
printf '1234\n' > "$tmp/pin" && chmod 600 "$tmp/pin"
PKCS11_MODULE_PATH= jos settle "$hr" -o "$tmp/p11b" --key "$URI?module-path=$MODULE" --cert "$tmp/hsm.pem" \
	--key-pass-file "$tmp/pin" 2>"$tmp/err"
rc=$?
[ $rc = 0 ] && diff -r "$tmp/pem" "$tmp/p11b" >/dev/null \
	&& ok "module-path in the URI, PIN from --key-pass-file: identical bytes" \
	|| bad "module-path / --key-pass-file: exit $rc, $(cat "$tmp/err")"

# no module named at all: p11-kit's proxy (libp11's default) finds the softhsm2 token
env -u PKCS11_MODULE_PATH JOS_TEST_PIN=1234 "$JOS_BIN" settle "$hr" -o "$tmp/p11c" --key "$URI" \
	--cert "$tmp/hsm.pem" --key-pass-env JOS_TEST_PIN </dev/null 2>"$tmp/err"
rc=$?
[ $rc = 0 ] && diff -r "$tmp/pem" "$tmp/p11c" >/dev/null \
	&& ok "through the p11-kit proxy: identical bytes" \
	|| bad "p11-kit proxy: exit $rc, $(cat "$tmp/err")"

# refusals: exit 2, a message, no OUT_DIR, and no prompt (stdin is /dev/null, a timeout guards)
refuse() { # NAME GREP ARGS...
	local name=$1 want=$2
	shift 2
	rm -rf "$tmp/no"
	timeout 60 env JOS_TEST_PIN=1234 JOS_BAD_PIN=9999 $RUN "$JOS_BIN" settle "$hr" -o "$tmp/no" "$@" \
		</dev/null >/dev/null 2>"$tmp/err"
	local rc=$?
	if [ $rc = 2 ] && grep -q -- "$want" "$tmp/err" && [ ! -e "$tmp/no" ]; then ok "$name: exit 2"
	else bad "$name: exit $rc, $(tail -2 "$tmp/err")"; fi
}
refuse "wrong PIN" "PIN incorrect" --key "$URI" --cert "$tmp/hsm.pem" --key-pass-env JOS_BAD_PIN
refuse "no PIN" "no PIN given" --key "$URI" --cert "$tmp/hsm.pem"
refuse "PIN in the URI" "not accepted" --key "$URI?pin-value=1234" --cert "$tmp/hsm.pem"
refuse "unknown object" "object not found" --key "pkcs11:token=jos;object=nobody;type=private" \
	--cert "$tmp/hsm.pem" --key-pass-env JOS_TEST_PIN
refuse "certificate of another key" "does not belong" --key "$URI" --cert "$P/signer.pem" \
	--key-pass-env JOS_TEST_PIN
refuse "unknown module" "Unable to load PKCS#11 module" --key "$URI?module-path=$tmp/none.so" \
	--cert "$tmp/hsm.pem" --key-pass-env JOS_TEST_PIN
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/ec.key" 2>/dev/null &&
	openssl pkcs8 -topk8 -nocrypt -in "$tmp/ec.key" -out "$tmp/ec.pk8" 2>/dev/null &&
	softhsm2-util --import "$tmp/ec.pk8" --token jos --label ecsigner --id 02 --pin 1234 >/dev/null ||
	bad "cannot import an EC key"
refuse "EC key in the token (RSA only)" "only RSA keys" --key "pkcs11:token=jos;object=ecsigner;type=private" \
	--cert "$P/signer-ec.pem" --key-pass-env JOS_TEST_PIN
OPENSSL_ENGINES=$tmp/none refuse "no pkcs11 engine" "libengine-pkcs11-openssl" --key "$URI" \
	--cert "$tmp/hsm.pem" --key-pass-env JOS_TEST_PIN

echo "pkcs11.sh: $pass passed, $fails failed"
[ "$fails" = 0 ]
